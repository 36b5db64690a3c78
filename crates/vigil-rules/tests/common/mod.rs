//! Test harness: an engine on a 100 × 100 px camera, fed one frame per call with tracks given
//! by their bottom-centre point, so positions in tests read as plain coordinates.

#![allow(dead_code)] // each test file uses a different part

use vigil_core::BoxPx;
use vigil_core::track::TrackId;
use vigil_rules::{
    Alert, AlertCamera, CameraRules, FrameSize, FrameTime, PlateEvent, RulesConfig, Timestamp,
    TrackObservation,
};

/// Frame size of every test camera.
pub const FRAME: FrameSize = FrameSize {
    width: 100,
    height: 100,
};

/// Zones and lines every test config starts with (normalised):
/// - zone `left`: the left half of the frame, x in 0..50;
/// - zone `box`: 20..40 × 20..40;
/// - line `mid`: vertical at x = 50, A at the top, B at the bottom. Walking east (x growing)
///   crosses it right-to-left as seen from A looking at B (down the screen).
pub const SHAPES: &str = r#"
[[zone]]
id = "left"
points = [[0.0, 0.0], [0.5, 0.0], [0.5, 1.0], [0.0, 1.0]]

[[zone]]
id = "box"
coords = "pixels"
points = [[20, 20], [40, 20], [40, 40], [20, 40]]

[[line]]
id = "mid"
a = [0.5, 0.0]
b = [0.5, 1.0]
"#;

pub fn camera() -> AlertCamera {
    AlertCamera {
        id: "cam-1".into(),
        name: "Yard".into(),
        location: "Block 3".into(),
    }
}

pub fn config(rules_toml: &str) -> RulesConfig {
    let text = format!("timezone = \"Asia/Shanghai\"\n{SHAPES}\n{rules_toml}");
    toml::from_str(&text).unwrap_or_else(|e| panic!("test config does not parse: {e}\n{text}"))
}

/// A 10 × 20 px box standing on `(x, y)`.
pub fn standing_at(x: f32, y: f32) -> BoxPx {
    BoxPx::new(x - 5.0, y - 20.0, x + 5.0, y)
}

/// An engine plus the time of the next frame.
pub struct Sim {
    pub rules: CameraRules,
    /// Wall time of pts 0.
    pub start: Timestamp,
}

impl Sim {
    pub fn new(rules_toml: &str) -> Self {
        Self::at(rules_toml, "2024-05-06T04:00:00Z") // Monday 12:00 in Shanghai
    }

    pub fn at(rules_toml: &str, start: &str) -> Self {
        let rules = CameraRules::new(camera(), &config(rules_toml), FRAME)
            .unwrap_or_else(|e| panic!("test config is invalid:\n{e}"));
        Self {
            rules,
            start: start.parse().expect("start time"),
        }
    }

    pub fn time(&self, t_s: f64) -> FrameTime {
        let ns = (t_s * 1e9).round() as i64;
        FrameTime {
            wall: self
                .start
                .checked_add(jiff::SignedDuration::from_nanos(ns))
                .expect("time in range"),
            pts_ns: ns as u64,
        }
    }

    /// One frame at `t_s` seconds with tracks `(id, label, x, y)`; `ended` ids are removed in it.
    pub fn step_full(
        &mut self,
        t_s: f64,
        tracks: &[(u64, &str, f32, f32)],
        ended: &[u64],
        plates: &[PlateEvent],
    ) -> Vec<Alert> {
        let obs: Vec<TrackObservation<'_>> = tracks
            .iter()
            .map(|&(id, label, x, y)| TrackObservation {
                track_id: TrackId(id),
                label,
                bbox: standing_at(x, y),
            })
            .collect();
        let ended: Vec<TrackId> = ended.iter().map(|&i| TrackId(i)).collect();
        let time = self.time(t_s);
        self.rules.evaluate(time, &obs, &ended, plates)
    }

    pub fn step(&mut self, t_s: f64, tracks: &[(u64, &str, f32, f32)]) -> Vec<Alert> {
        self.step_full(t_s, tracks, &[], &[])
    }

    /// Counters of the only (or first) rule: (alerts, suppressed).
    pub fn counters(&self) -> (u64, u64) {
        let s = self.rules.stats().next().expect("a rule");
        (s.counters.alerts, s.counters.suppressed)
    }
}

/// Runs a script of one track (`id` 1, `label`) at one position per second, 0.5 s apart frames
/// in between repeating the same position, and returns the seconds at which alerts fired.
pub fn alert_times(sim: &mut Sim, label: &str, positions: &[(f32, f32)]) -> Vec<f64> {
    let mut times = Vec::new();
    for (i, &(x, y)) in positions.iter().enumerate() {
        for half in [0.0, 0.5] {
            let t = i as f64 + half;
            if !sim.step(t, &[(1, label, x, y)]).is_empty() {
                times.push(t);
            }
        }
    }
    times
}
