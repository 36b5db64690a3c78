//! Test harness: an in-memory [`Backend`] over a real `LiveWatchlists` in a temporary
//! directory, a server on `127.0.0.1:0` running in its own runtime, a small blocking HTTP
//! client, and a log capture.

#![allow(dead_code)] // each test binary uses a different part of the harness

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::{broadcast, oneshot};
use vigil_http::{
    AlertQuery, ApiError, ApiSettings, ApiToken, Backend, BoxNorm, Caller, CameraCounters, CameraDetections,
    CameraInfo, HttpError, Readiness, ReadinessCheck, ReloadOutcome, Secret, TrackBox,
};
use vigil_watchlist::{ImportOptions, LiveWatchlists, MatchConfig};

pub const OPS_SECRET: &str = "ops-secret-0123456789abcdef";
pub const CONSOLE_SECRET: &str = "console-secret-fedcba9876543210";

/// One recorded query: (token name, source, what).
pub type Query = (String, String, String);

pub struct TestBackend {
    pub cameras: Vec<CameraInfo>,
    pub alerts: Vec<Value>,
    pub tx: broadcast::Sender<Arc<Value>>,
    pub live: LiveWatchlists,
    pub queries: Mutex<Vec<Query>>,
    pub audit_fails: AtomicBool,
    pub ready: AtomicBool,
    pub alert_calls: AtomicUsize,
    pub reloads: Mutex<Vec<String>>,
    /// The latest frame of `gate-1`: a real JPEG, so a browser can decode it.
    pub frame_jpeg: Vec<u8>,
    /// Per camera, its rules document as the daemon serialises a `vigil_rules::RulesConfig`.
    pub rules: Mutex<Value>,
    /// Every accepted `PUT /cameras/{id}/rules`: (camera, document, token name).
    pub rule_changes: Mutex<Vec<(String, Value, String)>>,
    /// Alerts sent with [`TestBackend::publish`] (history + stream).
    pub published: Mutex<Vec<Value>>,
    /// Acknowledgements by alert id: `{"by", "at", "note"}`.
    pub acks: Mutex<BTreeMap<String, Value>>,
    /// When set, `replace_camera_rules` rejects every document with this error message.
    pub reject_rules: Mutex<Option<String>>,
    /// What `camera_detections("gate-1")` answers ([`test_detections`] at first).
    pub detections: Mutex<CameraDetections>,
    _dir: tempfile::TempDir,
}

/// Width and height of the test camera's frame.
pub const FRAME_SIZE: (u32, u32) = (320, 180);

/// A small JPEG with a recognisable picture: a road, a lane marking and a "car".
pub fn test_jpeg() -> Vec<u8> {
    let (w, h) = FRAME_SIZE;
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        if (140..200).contains(&x) && (90..130).contains(&y) {
            image::Rgb([200, 30, 30]) // the car
        } else if y > h / 2 && x.abs_diff(w / 2) < 3 && (y / 10) % 2 == 0 {
            image::Rgb([240, 240, 240]) // lane marking
        } else if y > h / 3 {
            image::Rgb([70, 70, 75]) // road
        } else {
            image::Rgb([120, (150 + y) as u8, 220]) // sky
        }
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg)
        .expect("encode jpeg");
    out.into_inner()
}

/// The tracks of gate-1's latest frame: a person on the lane and the "car" of [`test_jpeg`],
/// whose plate is on a watchlist.
pub fn test_detections() -> CameraDetections {
    let (w, h) = FRAME_SIZE;
    let track = |id: u64, label: &str, score: f32, px: [f32; 4], plate: Option<&str>| TrackBox {
        track_id: id,
        label: label.into(),
        score,
        box_norm: BoxNorm::from_px(px[0], px[1], px[2], px[3], w, h).expect("box in the frame"),
        plate: plate.map(Into::into),
    };
    CameraDetections {
        camera: "gate-1".into(),
        time: "2026-01-01T12:00:00Z".parse().expect("time"),
        frame_seq: 41,
        frame_width_px: w,
        frame_height_px: h,
        tracks_total: 2,
        tracks: vec![
            track(4, "person", 0.81, [40.0, 100.0, 70.0, 170.0], None),
            track(9, "car", 0.93, [140.0, 90.0, 200.0, 130.0], Some("京A12345")),
        ],
    }
}

/// The rules documents the test backend starts with: one normalised zone and one pixel line
/// on `gate-1`, one zone on `yard`.
pub fn initial_rules() -> Value {
    json!({"cameras": {
        "gate-1": {
            "zone": [{"id": "lane", "coords": "normalized",
                      "points": [[0.1, 0.5], [0.9, 0.5], [0.9, 0.95], [0.1, 0.95]]}],
            "line": [{"id": "stop", "coords": "pixels", "a": [20, 150], "b": [300, 150]}],
            "rule": [{"id": "lane-intrusion", "kind": "zone_intrusion", "zone": "lane", "classes": ["person"]},
                     {"id": "stop-crossing", "kind": "line_crossing", "line": "stop", "direction": "any"}]
        },
        "yard": {
            "timezone": "Europe/Paris",
            "zone": [{"id": "fence", "points": [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]]}],
            "rule": [{"id": "intrusion", "kind": "zone_intrusion", "zone": "fence"}]
        }
    }})
}

/// Errors a minimal validator finds in a camera's rules document (the daemon uses
/// `vigil check`'s validator; this one checks enough for the console's tests).
fn validate_rules(doc: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    let arr = |k: &str| doc[k].as_array().cloned().unwrap_or_default();
    let ids = |k: &str| -> Vec<String> {
        arr(k)
            .iter()
            .filter_map(|v| v["id"].as_str().map(str::to_owned))
            .collect()
    };
    for z in arr("zone") {
        let n = z["points"].as_array().map_or(0, Vec::len);
        if n < 3 {
            errors.push(format!(
                "zone {}: a polygon needs at least 3 points, got {n}",
                z["id"]
            ));
        }
    }
    for r in arr("rule") {
        if let Some(zone) = r["zone"].as_str()
            && !ids("zone").iter().any(|z| z == zone)
        {
            errors.push(format!("rule {}: no zone {zone:?}", r["id"]));
        }
        if let Some(line) = r["line"].as_str()
            && !ids("line").iter().any(|l| l == line)
        {
            errors.push(format!("rule {}: no line {line:?}", r["id"]));
        }
    }
    errors
}

pub fn alert(id: &str, time: &str, camera: &str, rule: &str) -> Value {
    json!({
        "id": id,
        "time": time,
        "camera": {"id": camera, "name": camera},
        "rule": {"id": rule, "kind": "zone"},
        "severity": "high",
    })
}

impl TestBackend {
    pub fn new() -> Arc<Self> {
        let dir = tempfile::tempdir().expect("tempdir");
        let live = LiveWatchlists::open(dir.path(), ImportOptions::default(), MatchConfig::default())
            .expect("open watchlists");
        let camera = |id: &str, state: &str, err: Option<&str>| CameraInfo {
            id: id.into(),
            name: format!("Camera {id}"),
            location: Some("north gate".into()),
            state: state.into(),
            counters: CameraCounters {
                frames_in: 1000,
                frames_analysed: 500,
                frames_dropped: 3,
                frames_dropped_ingest: 1,
                frames_dropped_detector: 2,
                plate_jobs_dropped: 0,
                reconnects: 1,
                decode_errors: 0,
            },
            fps_analysed: 5.0,
            last_error: err.map(Into::into),
        };
        let (tx, _) = broadcast::channel(16);
        Arc::new(Self {
            cameras: vec![
                camera("gate-1", "streaming", None),
                camera(
                    "yard",
                    "reconnecting",
                    Some("rtsp://admin:***@10.0.0.9/stream: timeout"),
                ),
            ],
            alerts: vec![
                alert("a1", "2025-01-31T08:00:00Z", "gate-1", "hotlist"),
                alert("a2", "2025-01-31T09:00:00Z", "yard", "intrusion"),
                alert("a3", "2025-01-31T10:00:00Z", "gate-1", "intrusion"),
            ],
            tx,
            live,
            queries: Mutex::new(Vec::new()),
            audit_fails: AtomicBool::new(false),
            ready: AtomicBool::new(true),
            alert_calls: AtomicUsize::new(0),
            reloads: Mutex::new(Vec::new()),
            frame_jpeg: test_jpeg(),
            rules: Mutex::new(initial_rules()),
            rule_changes: Mutex::new(Vec::new()),
            published: Mutex::new(Vec::new()),
            acks: Mutex::new(BTreeMap::new()),
            reject_rules: Mutex::new(None),
            detections: Mutex::new(test_detections()),
            _dir: dir,
        })
    }

    pub fn queries(&self) -> Vec<Query> {
        self.queries.lock().expect("lock").clone()
    }

    /// Adds `alert` to the history and broadcasts it on the stream; the number of streams
    /// that received it.
    pub fn publish(&self, alert: Value) -> usize {
        self.published.lock().expect("lock").push(alert.clone());
        self.tx.send(Arc::new(alert)).unwrap_or(0)
    }

    /// The alert with its acknowledgement, if any.
    fn with_ack(&self, mut a: Value) -> Value {
        if let Some(ack) = a["id"]
            .as_str()
            .and_then(|id| self.acks.lock().expect("lock").get(id).cloned())
        {
            a["ack"] = ack;
        }
        a
    }

    fn find_alert(&self, id: &str) -> Result<Value, ApiError> {
        let published = self.published.lock().expect("lock").clone();
        self.alerts
            .iter()
            .chain(published.iter())
            .find(|a| a["id"] == id)
            .map(|a| self.with_ack(a.clone()))
            .ok_or_else(|| ApiError::not_found("alert_not_found", format!("no alert {id:?}")))
    }
}

impl Backend for TestBackend {
    fn cameras(&self) -> Vec<CameraInfo> {
        self.cameras.clone()
    }

    fn camera_snapshot_jpeg(&self, id: &str) -> Result<Vec<u8>, ApiError> {
        match id {
            "gate-1" => Ok(self.frame_jpeg.clone()),
            "yard" => Err(ApiError::unavailable("no_frame", "camera yard has no frame yet")),
            _ => Err(ApiError::not_found(
                "camera_not_found",
                format!("no camera {id:?}"),
            )),
        }
    }

    fn camera_detections(&self, id: &str) -> Result<CameraDetections, ApiError> {
        match id {
            "gate-1" => Ok(self.detections.lock().expect("lock").clone()),
            "yard" => Err(ApiError::unavailable("no_frame", "camera yard has no frame yet")),
            _ => Err(ApiError::not_found(
                "camera_not_found",
                format!("no camera {id:?}"),
            )),
        }
    }

    fn rules(&self) -> Value {
        self.rules.lock().expect("lock").clone()
    }

    fn alerts(&self, q: &AlertQuery) -> Result<Vec<Value>, ApiError> {
        self.alert_calls.fetch_add(1, Ordering::SeqCst);
        let at = |a: &Value| {
            a["time"]
                .as_str()
                .and_then(|t| t.parse::<jiff::Timestamp>().ok())
                .expect("test alert time")
        };
        let published = self.published.lock().expect("lock").clone();
        let mut out: Vec<Value> = self
            .alerts
            .iter()
            .chain(published.iter())
            .map(|a| self.with_ack(a.clone()))
            .filter(|a| q.camera.as_ref().is_none_or(|c| a["camera"]["id"] == c.as_str()))
            .filter(|a| q.rule.as_ref().is_none_or(|r| a["rule"]["id"] == r.as_str()))
            .filter(|a| q.since.is_none_or(|s| at(a) >= s))
            .filter(|a| q.until.is_none_or(|u| at(a) < u))
            .collect();
        out.sort_by_key(|a| std::cmp::Reverse(at(a)));
        // Deliberately ignores the limit: the API must enforce it.
        Ok(out)
    }

    fn alert(&self, id: &str) -> Result<Value, ApiError> {
        self.find_alert(id)
    }

    fn alert_snapshot_jpeg(&self, id: &str) -> Result<Vec<u8>, ApiError> {
        self.find_alert(id)?;
        if self.alerts.iter().any(|a| a["id"] == id) {
            return Ok(format!("jpeg-of-{id}").into_bytes());
        }
        Ok(self.frame_jpeg.clone())
    }

    fn ack_alert(&self, id: &str, caller: &Caller, note: Option<&str>) -> Result<Value, ApiError> {
        self.find_alert(id)?;
        let mut acks = self.acks.lock().expect("lock");
        if let Some(prev) = acks.get(id) {
            return Err(ApiError::conflict(
                "already_acknowledged",
                format!("alert {id:?} was acknowledged by {} already", prev["by"]),
            ));
        }
        let at = jiff::Timestamp::now().to_string();
        acks.insert(id.to_owned(), json!({"by": caller.token, "at": at, "note": note}));
        drop(acks);
        self.find_alert(id)
    }

    fn replace_camera_rules(
        &self,
        camera: &str,
        rules: Value,
        caller: &Caller,
    ) -> Result<ReloadOutcome, ApiError> {
        if !self.cameras.iter().any(|c| c.id == camera) {
            return Err(ApiError::not_found(
                "camera_not_found",
                format!("no camera {camera:?}"),
            ));
        }
        let mut errors = validate_rules(&rules);
        if let Some(e) = self.reject_rules.lock().expect("lock").clone() {
            errors.push(e);
        }
        if !errors.is_empty() {
            let detail = json!({"errors": errors.iter().map(|m| json!({"message": m})).collect::<Vec<_>>()});
            return Err(ApiError::unprocessable(
                "invalid_config",
                format!(
                    "the rules of camera {camera} are not valid: {}",
                    errors.join("; ")
                ),
            )
            .with_detail(detail));
        }
        self.rules.lock().expect("lock")["cameras"][camera] = rules.clone();
        self.rule_changes
            .lock()
            .expect("lock")
            .push((camera.to_owned(), rules, caller.token.clone()));
        Ok(ReloadOutcome {
            applied: true,
            message: format!("rules of {camera} replaced"),
            cameras_restarted: vec![camera.to_owned()],
            ..ReloadOutcome::default()
        })
    }

    fn subscribe_alerts(&self) -> broadcast::Receiver<Arc<Value>> {
        self.tx.subscribe()
    }

    fn watchlists(&self) -> &LiveWatchlists {
        &self.live
    }

    fn reload(&self, caller: &Caller) -> Result<ReloadOutcome, ApiError> {
        self.reloads.lock().expect("lock").push(caller.token.clone());
        Ok(ReloadOutcome {
            applied: true,
            message: "1 camera restarted".into(),
            cameras_restarted: vec!["yard".into()],
            ..ReloadOutcome::default()
        })
    }

    fn readiness(&self) -> Readiness {
        let ok = self.ready.load(Ordering::SeqCst);
        Readiness {
            ready: ok,
            checks: vec![ReadinessCheck {
                name: "outbox".into(),
                ok,
                required: true,
                detail: if ok {
                    "accepting alerts".into()
                } else {
                    "no space left on device".into()
                },
            }],
        }
    }

    fn metrics_text(&self) -> String {
        "# TYPE vigil_frames_in_total counter\nvigil_frames_in_total{camera=\"gate-1\"} 1000\n".into()
    }

    fn audit_query(&self, caller: &Caller, what: &str) -> Result<(), ApiError> {
        if self.audit_fails.load(Ordering::SeqCst) {
            return Err(ApiError::unavailable("audit_unavailable", "audit log disk full"));
        }
        self.queries
            .lock()
            .expect("lock")
            .push((caller.token.clone(), caller.source(), what.to_owned()));
        Ok(())
    }
}

pub fn tokens() -> Vec<ApiToken> {
    vec![
        ApiToken {
            name: "ops".into(),
            secret: Secret::new(OPS_SECRET),
        },
        ApiToken {
            name: "console".into(),
            secret: Secret::new(CONSOLE_SECRET),
        },
    ]
}

pub fn settings() -> ApiSettings {
    ApiSettings::new("127.0.0.1:0".parse().expect("addr"), tokens())
}

/// A running server; dropping it shuts the server down.
pub struct Server {
    pub base: String,
    stop: Option<oneshot::Sender<()>>,
    done: Mutex<mpsc::Receiver<Result<(), HttpError>>>,
    rt: tokio::runtime::Runtime,
}

impl Server {
    pub fn start(settings: ApiSettings, backend: Arc<TestBackend>) -> Self {
        Self::start_on("127.0.0.1:0".parse().expect("addr"), settings, backend)
    }

    /// As [`Server::start`], on a given address (the example server of `make schemathesis`).
    pub fn start_on(bind: std::net::SocketAddr, settings: ApiSettings, backend: Arc<TestBackend>) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let listener = rt.block_on(tokio::net::TcpListener::bind(bind)).expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let (done_tx, done) = mpsc::channel();
        let backend: Arc<dyn Backend> = backend;
        rt.spawn(async move {
            let r = vigil_http::serve_on(listener, settings, backend, async {
                let _ = stopped.await;
            })
            .await;
            let _ = done_tx.send(r);
        });
        Self {
            base: format!("http://{addr}"),
            stop: Some(stop),
            done: Mutex::new(done),
            rt,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Signals shutdown and waits (bounded) for `serve_on` to return.
    pub fn shutdown(&mut self, within: Duration) -> Result<(), HttpError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.done
            .lock()
            .expect("lock")
            .recv_timeout(within)
            .expect("server returned in time")
    }

    pub fn runtime(&self) -> &tokio::runtime::Runtime {
        &self.rt
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("utf-8 body")
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("JSON body expected ({e}): {:?}", self.text()))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    /// Asserts the API's error shape and returns the code.
    pub fn error_code(&self) -> String {
        let v = self.json();
        let e = &v["error"];
        assert!(e["message"].is_string(), "error message missing: {v}");
        e["code"].as_str().expect("error code").to_owned()
    }
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into()
}

/// Percent-encodes a path segment (plates are not ASCII).
pub fn seg(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

pub fn request(
    method: &str,
    url: &str,
    token: Option<&str>,
    content_type: Option<&str>,
    body: Option<&[u8]>,
) -> Reply {
    let mut b = ureq::http::Request::builder().method(method).uri(url);
    if let Some(t) = token {
        b = b.header("Authorization", format!("Bearer {t}"));
    }
    if let Some(ct) = content_type {
        b = b.header("Content-Type", ct);
    }
    let agent = agent();
    let resp = match body {
        Some(body) => agent.run(b.body(body.to_vec()).expect("request")),
        None => agent.run(b.body(()).expect("request")),
    }
    .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("?").to_owned()))
        .collect();
    let mut body = Vec::new();
    resp.into_body()
        .into_reader()
        .read_to_end(&mut body)
        .expect("read body");
    Reply {
        status,
        headers,
        body,
    }
}

pub fn get(url: &str, token: Option<&str>) -> Reply {
    request("GET", url, token, None, None)
}

// Not every test binary that shares this module captures logs.
#[allow(unused_imports)]
pub use vigil_testkit::logs::Capture;
