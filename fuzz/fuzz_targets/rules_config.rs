//! Pipeline rules config: arbitrary text → `RulesConfig` (TOML, as in a `[camera.rules]`
//! table) → `validate` and `CameraRules::new` at a fixed frame size. Must never panic; the
//! engine must accept exactly what `validate` accepts (`vigil check` promises that); and an
//! accepted config must survive a scripted run of frames with extreme times (pts jumps and
//! restarts, the first and last representable wall times) and boxes inside, across and
//! outside the frame — a config that validates is one the daemon will run.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_core::BoxPx;
use vigil_core::track::TrackId;
use vigil_rules::{
    AlertCamera, CameraRules, FrameSize, FrameTime, RulesConfig, Timestamp, TrackObservation, validate,
};

const FRAME: FrameSize = FrameSize {
    width: 1920,
    height: 1080,
};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(cfg) = toml::from_str::<RulesConfig>(text) else {
        return;
    };
    let checked = validate(&cfg, "cam-fuzz", FRAME);
    let camera = AlertCamera {
        id: "cam-fuzz".into(),
        name: "Fuzz".into(),
        location: String::new(),
    };
    let built = CameraRules::new(camera, &cfg, FRAME);
    assert_eq!(
        checked.is_ok(),
        built.is_ok(),
        "validate and CameraRules::new disagree on {cfg:?}"
    );
    // Error messages are shown to operators; formatting them must not panic either.
    if let Err(e) = checked {
        let _ = e.to_string();
    }
    if let Ok(mut rules) = built {
        run_frames(&mut rules);
    }
});

/// Two tracks walking through the frame while time does odd things.
fn run_frames(rules: &mut CameraRules) {
    let walls = [
        Timestamp::UNIX_EPOCH,
        Timestamp::MIN,
        Timestamp::MAX,
        Timestamp::from_second(1_738_281_600).unwrap_or(Timestamp::UNIX_EPOCH),
    ];
    let pts = [
        0,
        1_000_000_000,
        60_000_000_000,
        u64::MAX / 2,
        0,
        u64::MAX,
        u64::MAX,
        5,
    ];
    let boxes = [
        BoxPx::new(900.0, 500.0, 1000.0, 700.0),
        BoxPx::new(-50.0, -50.0, 10.0, 10.0),
        BoxPx::new(1800.0, 900.0, 2500.0, 1500.0),
        BoxPx::new(0.0, 0.0, 1920.0, 1080.0),
        BoxPx::new(f32::NAN, 0.0, f32::INFINITY, 1080.0),
        BoxPx::new(300.0, 300.0, 400.0, 900.0),
        BoxPx::new(1500.0, 200.0, 1600.0, 400.0),
        BoxPx::new(960.0, 540.0, 960.0, 540.0),
    ];
    for (i, (&pts_ns, bbox)) in pts.iter().zip(boxes).enumerate() {
        let frame = FrameTime {
            wall: walls[i % walls.len()],
            pts_ns,
        };
        let tracks = [
            TrackObservation {
                track_id: TrackId(1),
                label: "person",
                bbox,
            },
            TrackObservation {
                track_id: TrackId(2),
                label: "car",
                bbox: boxes[(i + 3) % boxes.len()],
            },
        ];
        let ended = if i == 5 { vec![TrackId(1)] } else { Vec::new() };
        for alert in rules.evaluate(frame, &tracks, &ended, &[]) {
            assert!(!alert.rule.id.is_empty(), "alert without a rule: {alert:?}");
        }
    }
    let _ = rules.stats().count();
}
