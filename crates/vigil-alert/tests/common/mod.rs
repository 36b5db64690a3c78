//! Helpers shared by the integration tests: alerts, the JSON Schema, broker checks, outboxes,
//! consumers.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::{BTreeMap, HashMap};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};
use vigil_alert::{CloudEvent, Outbox, OutboxConfig, RouteConfig};
use vigil_core::alert::{
    Alert, AlertCamera, AlertContext, AlertDetection, AlertKind, AlertMatch, AlertPlate, AlertRule,
    MatchKind, Severity,
};
use vigil_core::geometry::BoxPx;
use vigil_core::track::TrackId;

/// An alert of `kind` on `camera`; `i` makes it distinguishable.
pub fn alert(camera: &str, kind: AlertKind, severity: Severity, i: u32) -> Alert {
    let plate = matches!(kind, AlertKind::PlateHotlist | AlertKind::PlateUnknownVehicle);
    Alert {
        id: uuid::Uuid::now_v7().to_string(),
        time: jiff::Timestamp::now().to_string(),
        camera: AlertCamera {
            id: camera.into(),
            name: format!("Camera {camera}"),
            location: "Block 3".into(),
        },
        rule: AlertRule {
            id: format!("rule-{i}"),
            kind,
        },
        severity,
        detection: AlertDetection {
            label: if plate { "car" } else { "person" }.into(),
            box_px: BoxPx::new(10.0, 20.0, 110.0 + i as f32, 220.0),
            track_id: Some(TrackId(u64::from(i))),
            frame_size_px: None,
        },
        plate: plate.then(|| AlertPlate {
            text: "京A12345".into(),
            confidence: 0.93,
            char_confidences: vec![0.9; 7],
        }),
        watch_match: (kind == AlertKind::PlateHotlist).then(|| AlertMatch {
            list: "stolen".into(),
            entry: "京A12845".into(),
            kind: MatchKind::Fuzzy,
            distance: 1.0,
        }),
        context: AlertContext {
            zone: Some("yard".into()),
            dwell_s: Some(f64::from(i)),
            ..Default::default()
        },
        snapshot: Some(vec![0xFF, 0xD8, 0xFF, 0xE0, i as u8]),
        versions: BTreeMap::from([("pipeline".to_string(), "3".to_string())]),
    }
}

/// `n` alerts round-robin over `cameras`, alternating kinds and severities.
pub fn alerts(cameras: &[&str], n: u32) -> Vec<Alert> {
    (0..n)
        .map(|i| {
            let kind = AlertKind::ALL[i as usize % AlertKind::ALL.len()];
            let sev = [Severity::Medium, Severity::High, Severity::Critical][i as usize % 3];
            alert(cameras[i as usize % cameras.len()], kind, sev, i)
        })
        .collect()
}

/// The published JSON Schema of CloudEvent `data`.
pub fn schema() -> jsonschema::Validator {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/schemas/alert.schema.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let value: serde_json::Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::options()
        .should_validate_formats(true)
        .build(&value)
        .expect("schema compiles")
}

/// Panics with every schema error of `data`.
pub fn assert_schema_valid(validator: &jsonschema::Validator, data: &serde_json::Value) {
    let errors: Vec<String> = validator
        .iter_errors(data)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "data does not match alert.schema.json: {errors:?}\n{data}"
    );
}

/// Checks a received body against what was sent: CloudEvent envelope, schema-valid data.
pub fn check_event(validator: &jsonschema::Validator, body: &[u8]) -> CloudEvent {
    let ev: CloudEvent = serde_json::from_slice(body).expect("body is a CloudEvent");
    assert_eq!(ev.specversion, "1.0");
    assert_eq!(ev.datacontenttype, "application/json");
    assert_eq!(ev.data["id"], ev.id.as_str());
    assert_eq!(ev.subject, ev.data["camera"]["id"].as_str().expect("camera id"));
    assert_eq!(
        ev.event_type,
        format!("vigil.alert.{}", ev.data["rule"]["kind"].as_str().expect("kind"))
    );
    assert_schema_valid(validator, &ev.data);
    ev
}

/// Asserts `received` holds exactly the ids of `sent`, each once, and per camera in sent order.
pub fn assert_same_per_camera_order(sent: &[Alert], received: &[CloudEvent]) {
    let mut want: HashMap<&str, Vec<&str>> = HashMap::new();
    for a in sent {
        want.entry(a.camera.id.as_str()).or_default().push(a.id.as_str());
    }
    let mut got: HashMap<&str, Vec<&str>> = HashMap::new();
    for e in received {
        got.entry(e.subject.as_str()).or_default().push(e.id.as_str());
    }
    assert_eq!(
        received.len(),
        sent.len(),
        "received {} events, sent {}",
        received.len(),
        sent.len()
    );
    assert_eq!(got, want, "per-camera order or membership differs");
}

/// Makes sure a broker listens on `addr`; starts the services once if not; panics clearly.
pub fn require_broker(addr: &str, what: &str) {
    let up = || TcpStream::connect_timeout(&addr.parse().expect("addr"), Duration::from_secs(1)).is_ok();
    if up() {
        return;
    }
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/services.sh");
    let _ = std::process::Command::new("bash").arg(&script).status();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if up() {
            return;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    panic!(
        "{what} is not reachable on {addr} (tried `bash {}`); start it and rerun",
        script.display()
    );
}

/// Polls `cond` every 20 ms until it holds or `limit` passes; returns whether it held.
pub async fn eventually(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cond()
}

/// Short retry settings so failure tests stay fast.
pub fn fast_retry() -> vigil_alert::RetryConfig {
    vigil_alert::RetryConfig {
        initial_backoff_ms: 50,
        max_backoff_ms: 500,
        publish_timeout_ms: 5000,
        down_after_failures: 3,
    }
}

/// A unique token for names of streams, topics, exchanges.
pub fn unique() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_string()
}

/// A TCP port free right now on 127.0.0.1 (for a private broker).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port()
}

/// An outbox in `dir` (node `test-node`) routing everything to the one sink `sink`.
pub fn outbox(dir: &Path, sink: &str) -> Outbox {
    let config = OutboxConfig {
        node: "test-node".into(),
        ..Default::default()
    }
    .with_sink(sink, RouteConfig::default());
    Outbox::open(dir.join("outbox.redb"), config).expect("open outbox")
}

/// Every message of a JetStream stream, in stream order, checked against the schema, with its
/// `Nats-Msg-Id` header (empty when missing).
pub async fn stream_events(js: &async_nats::jetstream::Context, name: &str) -> Vec<(CloudEvent, String)> {
    let mut stream = js.get_stream(name).await.expect("stream");
    let info = stream.info().await.expect("info").clone();
    let validator = schema();
    let mut out = Vec::new();
    for seq in info.state.first_sequence..=info.state.last_sequence {
        let msg = stream.get_raw_message(seq).await.expect("message");
        let ev = check_event(&validator, &msg.payload);
        let msg_id = msg
            .headers
            .get("Nats-Msg-Id")
            .map(|v| v.as_str().to_owned())
            .unwrap_or_default();
        out.push((ev, msg_id));
    }
    out
}

/// What [`forward_mqtt`] gives: every PUBLISH as (topic, payload), the first SUBACK, the task.
pub type MqttForward = (
    mpsc::UnboundedReceiver<(String, Vec<u8>)>,
    oneshot::Receiver<()>,
    tokio::task::JoinHandle<()>,
);

/// Drives a subscribed MQTT client's event loop in a task: signals the first SUBACK and
/// forwards every PUBLISH as (topic, payload); a connection error fails the task, naming `what`.
pub fn forward_mqtt(mut el: rumqttc::EventLoop, what: &'static str) -> MqttForward {
    let (tx, rx) = mpsc::unbounded_channel();
    let (sub_tx, sub_rx) = oneshot::channel();
    let task = tokio::spawn(async move {
        let mut sub_tx = Some(sub_tx);
        loop {
            match el.poll().await {
                Ok(rumqttc::Event::Incoming(rumqttc::Packet::SubAck(_))) => {
                    if let Some(t) = sub_tx.take() {
                        let _ = t.send(());
                    }
                }
                Ok(rumqttc::Event::Incoming(rumqttc::Packet::Publish(p))) => {
                    let _ = tx.send((p.topic.clone(), p.payload.to_vec()));
                }
                Ok(_) => {}
                Err(e) => panic!("{what} failed: {e}"),
            }
        }
    });
    (rx, sub_rx, task)
}
