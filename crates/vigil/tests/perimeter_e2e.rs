//! Perimeter, end to end on real parts: camsim serves vtest.avi over RTSP; `vigil run` watches a
//! zone over part of the walkway with a person-intrusion rule and sends alerts to a JSONL file
//! and to the machine's NATS JetStream (127.0.0.1:4222, a stream unique to this run, deleted at
//! the end). A JetStream consumer in the test receives the alerts and checks what an operator
//! relies on:
//!
//! - at least one intrusion, and exactly the alerts the file received, each once;
//! - one alert per person track (not one per frame), each inside the zone;
//! - every event a CloudEvent whose `data` matches `docs/schemas/alert.schema.json`, with the
//!   `Nats-Msg-Id` the broker dedupes on;
//! - the snapshot is a JPEG of the whole frame, and the real YOLOX detector finds a person on it
//!   where the alert's box says (IoU ≥ 0.5).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use base64::Engine as _;
use vigil_core::BoxPx;
use vigil_infer::{DetectParams, Detector, ImageView, SessionOptions};

mod common;
use common::jetstream::{DeleteStream, Reader, require_shared_nats, unique};
use common::{camsim, read_jsonl, root, spawn_logged, tail, vigil_run, wait_exit};

/// vtest.avi's frame size.
const FRAME_W_PX: u32 = 768;
const FRAME_H_PX: u32 = 576;
/// The zone, normalised: the middle and right of the asphalt walkway, where people walk
/// throughout the clip (the lawn below and the buildings above are outside).
const ZONE: [[f64; 2]; 4] = [[0.20, 0.30], [0.95, 0.30], [0.95, 0.72], [0.20, 0.72]];
/// How long vigil analyses; people are on the walkway from the first frame.
const RUN_S: u64 = 25;
/// Overlap needed between the alert's box and a person found on the snapshot. Boxes of
/// tracks matched on that frame overlap their person by 0.6–0.96 (Kalman-filtered box vs a
/// fresh detection on the JPEG); a box with no person under it scores near 0.
const MIN_IOU: f32 = 0.5;

/// The published schema of CloudEvent `data`.
fn schema() -> jsonschema::Validator {
    let path = root().join("docs/schemas/alert.schema.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let value: serde_json::Value = serde_json::from_str(&text).expect("the schema is JSON");
    jsonschema::options()
        .should_validate_formats(true)
        .build(&value)
        .expect("the schema compiles")
}

/// Whether a normalised point is inside the (axis-aligned) zone.
fn in_zone(x: f64, y: f64) -> bool {
    let eps = 1e-3;
    (ZONE[0][0] - eps..=ZONE[1][0] + eps).contains(&x) && (ZONE[0][1] - eps..=ZONE[2][1] + eps).contains(&y)
}

#[test]
fn perimeter_intrusions_reach_jetstream_once_per_track_with_a_person_in_the_snapshot() {
    require_shared_nats();
    let run = unique();
    let (stream, subject_root) = (format!("VIGIL_E2E_PERIM_{run}"), format!("vigile2e.perim.{run}"));
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let js = rt.block_on(async {
        let client = async_nats::connect("nats://127.0.0.1:4222")
            .await
            .expect("connect to NATS");
        async_nats::jetstream::new(client)
    });
    // Before vigil starts: on any failure vigil is killed first, then the stream goes.
    let _cleanup = DeleteStream {
        rt: rt.handle().clone(),
        js: js.clone(),
        name: stream.clone(),
    };

    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let (_camsim, url) = camsim("/campus", &vigil_testkit::testdata().join("vtest.avi"), 0);
    let jsonl = d.join("alerts.jsonl");
    let file = d.join("perimeter.toml");
    let zone = ZONE.map(|[x, y]| format!("[{x}, {y}]")).join(", ");
    std::fs::write(
        &file,
        format!(
            r#"
[node]
id = "perimeter"
data_dir = "{data}"

[detector]
intra_threads = 1

[[camera]]
id = "campus"
name = "Campus walkway"
uri = "{url}"
analysis_fps = 5

[[camera.rules.zone]]
id = "walkway"
points = [{zone}]

[[camera.rules.rule]]
id = "walkway-intrusion"
kind = "zone_intrusion"
zone = "walkway"
classes = ["person"]
min_inside_s = 0.5
severity = "high"

[[sink]]
name = "file"
[sink.sink.file]
path = "{jsonl}"

[[sink]]
name = "bus"
[sink.sink.nats]
url = "nats://127.0.0.1:4222"
subject = "{subject_root}.{{camera}}.{{kind}}"
[sink.sink.nats.stream]
name = "{stream}"
subjects = ["{subject_root}.>"]
max_age_s = 3600
"#,
            data = d.join("data").display(),
            jsonl = jsonl.display(),
        ),
    )
    .expect("write the pipeline");

    let started = Instant::now();
    let log = d.join("vigil.log");
    let mut vigil = spawn_logged(&mut vigil_run(&file, RUN_S), &log);
    // RUN_S plus model load, RTSP connect and a graceful stop, with room for a loaded machine.
    let deadline = started + Duration::from_secs(RUN_S + 60);
    let status = wait_exit(&mut vigil, deadline.saturating_duration_since(Instant::now()))
        .unwrap_or_else(|| panic!("vigil run did not stop after {RUN_S} s:\n{}", tail(&log, 40)));
    assert!(
        status.success(),
        "vigil run failed ({status:?}):\n{}",
        tail(&log, 40)
    );

    let from_file = read_jsonl(&jsonl);
    assert!(
        !from_file.is_empty(),
        "no intrusion in {RUN_S} s of people walking through the zone:\n{}",
        tail(&log, 40)
    );
    let want: HashSet<String> = from_file
        .iter()
        .map(|e| e["id"].as_str().expect("id").to_string())
        .collect();
    assert_eq!(want.len(), from_file.len(), "the file holds each alert once");

    // The consumer: the whole stream, until it has delivered every stored message.
    let mut reader = rt.block_on(async {
        let mut r = Reader::open(&js, &stream).await;
        let delivered = r
            .until(Duration::from_secs(20), |got| {
                got.iter().filter(|d| want.contains(d.id())).count() >= want.len()
            })
            .await;
        assert!(delivered, "not every alert of the file reached JetStream in 20 s");
        let stored = r.stored().await;
        r.until(Duration::from_secs(10), |got| got.len() as u64 >= stored)
            .await;
        r
    });
    let counts = reader.counts();
    let dupes: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(dupes.is_empty(), "delivered more than once: {dupes:?}");
    let got: HashSet<String> = counts.keys().cloned().collect();
    assert_eq!(
        got, want,
        "JetStream carries exactly the alerts the file received"
    );

    let validator = schema();
    let mut detector = Detector::new(
        vigil_testkit::manifest("yolox-nano"),
        &vigil_testkit::model_dir(),
        &SessionOptions::default(),
    )
    .expect("load YOLOX-Nano");
    // A lower score than the pipeline's: this asks "is there a person here", and a JPEG
    // round trip may move a borderline score just below the pipeline's threshold.
    let params = DetectParams {
        thresholds: vigil_infer::decode::ScoreThresholds::uniform(0.25),
        classes: vec!["person".into()],
        ..Default::default()
    };
    let evidence = std::env::temp_dir().join(format!("vigil-perimeter-e2e-{run}"));
    let mut per_track: HashMap<u64, usize> = HashMap::new();
    let mut ious = Vec::new();
    for delivery in std::mem::take(&mut reader.got) {
        let ev = &delivery.event;
        let id = delivery.id().to_string();
        // The CloudEvent envelope and the broker's dedupe key.
        assert_eq!(ev["specversion"], "1.0", "{ev}");
        assert_eq!(ev["type"], "vigil.alert.zone.intrusion");
        assert_eq!(ev["source"], "vigil/perimeter/campus");
        assert_eq!(ev["subject"], "campus");
        assert_eq!(ev["datacontenttype"], "application/json");
        assert_eq!(
            delivery.msg_id.as_deref(),
            Some(id.as_str()),
            "Nats-Msg-Id is the alert id"
        );
        assert!(
            delivery.subject.starts_with(&format!("{subject_root}.campus.")),
            "subject from the template: {}",
            delivery.subject
        );

        // The data: schema-valid, then the facts this pipeline fixes.
        let data = &ev["data"];
        let errors: Vec<String> = validator
            .iter_errors(data)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "data does not match alert.schema.json: {errors:?}"
        );
        assert_eq!(data["id"].as_str(), Some(id.as_str()));
        data["time"]
            .as_str()
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
            .unwrap_or_else(|| panic!("time is RFC 3339: {}", data["time"]));
        assert_eq!(data["camera"]["id"], "campus");
        assert_eq!(data["camera"]["name"], "Campus walkway");
        assert_eq!(data["rule"]["id"], "walkway-intrusion");
        assert_eq!(data["rule"]["kind"], "zone.intrusion");
        assert_eq!(data["severity"], "high");
        assert_eq!(data["context"]["zone"], "walkway");
        let det = &data["detection"];
        assert_eq!(det["label"], "person");
        let track = det["track_id"].as_u64().expect("a person alert names its track");
        *per_track.entry(track).or_default() += 1;
        let b: BoxPx = serde_json::from_value(det["box_px"].clone()).expect("box_px");
        assert!(
            b.is_finite()
                && 0.0 <= b.x1
                && b.x1 < b.x2
                && b.x2 <= FRAME_W_PX as f32
                && 0.0 <= b.y1
                && b.y1 < b.y2
                && b.y2 <= FRAME_H_PX as f32,
            "box outside the {FRAME_W_PX}×{FRAME_H_PX} frame: {b:?}"
        );
        // Rules test the bottom-centre of the box (the feet).
        let feet = b.bottom_center();
        assert!(
            in_zone(
                f64::from(feet.x) / f64::from(FRAME_W_PX),
                f64::from(feet.y) / f64::from(FRAME_H_PX)
            ),
            "alert for a person outside the zone: {b:?}"
        );

        // The snapshot: the whole frame, with a person where the box says.
        let jpeg = base64::engine::general_purpose::STANDARD
            .decode(data["snapshot_base64"].as_str().unwrap_or_else(|| {
                panic!(
                    "a 768×576 frame fits the default snapshot cap: {}",
                    data["snapshot_truncated"]
                )
            }))
            .expect("snapshot is base64");
        let img = image::load_from_memory_with_format(&jpeg, image::ImageFormat::Jpeg)
            .expect("snapshot is a JPEG")
            .to_rgb8();
        assert_eq!(
            img.dimensions(),
            (FRAME_W_PX, FRAME_H_PX),
            "snapshot is the whole frame"
        );
        let view = ImageView {
            width: img.width(),
            height: img.height(),
            stride: img.width() as usize * 3,
            color: vigil_core::model::ColorOrder::Rgb,
            data: img.as_raw(),
        };
        let persons = detector.detect(view, &params).expect("detect on the snapshot");
        let best = persons.iter().map(|p| p.bbox.iou(&b)).fold(0.0f32, f32::max);
        if best < MIN_IOU {
            // Evidence for whoever investigates: the frame and what the detector saw on it.
            let _ = std::fs::create_dir_all(&evidence);
            let _ = std::fs::write(evidence.join(format!("track-{track}.jpg")), &jpeg);
            let seen: Vec<_> = persons.iter().map(|p| (p.bbox, p.score)).collect();
            let _ = std::fs::write(
                evidence.join(format!("track-{track}.txt")),
                format!("alert box {b:?}\nperson detections {seen:?}\n"),
            );
        }
        ious.push((track, best));
    }
    let twice: Vec<_> = per_track.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "one alert per (rule, track), not per frame; tracks alerted more than once: {twice:?}"
    );
    let weak: Vec<_> = ious.iter().filter(|(_, iou)| *iou < MIN_IOU).collect();
    assert!(
        weak.is_empty(),
        "no person on the snapshot where the alert's box is (IoU < {MIN_IOU}; track, best IoU): {weak:?}; all: \
         {ious:?}; snapshots and detections kept in {}",
        evidence.display()
    );
    eprintln!(
        "perimeter: {} alerts from {} tracks in {:.1} s; snapshot IoUs {ious:?}",
        want.len(),
        per_track.len(),
        started.elapsed().as_secs_f64()
    );
}
