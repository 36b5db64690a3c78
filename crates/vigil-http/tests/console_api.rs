//! The API additions the operator console needs, over real HTTP: the console's own files
//! (no token, strict headers), the alert stream's `?access_token=`, acknowledging alerts,
//! replacing a camera's rules, the latest frame's tracks, and the 501 a backend without those
//! methods answers.

mod common;

use std::sync::Arc;

use common::*;
use serde_json::{Value, json};
use tokio::sync::broadcast;
use vigil_http::{
    AlertQuery, ApiError, Backend, BoxNorm, Caller, CameraDetections, CameraInfo, Readiness, ReloadOutcome,
    TrackBox,
};
use vigil_watchlist::LiveWatchlists;

const T: Option<&str> = Some(OPS_SECRET);

#[test]
fn the_console_is_served_without_a_token_and_its_data_is_not() {
    let s = Server::start(settings(), TestBackend::new());
    for page in [
        "/",
        "/ui",
        "/ui/",
        "/ui/cameras",
        "/ui/cameras/gate-1",
        "/ui/editor/gate-1",
        "/ui/alerts",
    ] {
        let r = get(&s.url(page), None);
        assert_eq!(r.status, 200, "{page}");
        assert_eq!(
            r.header("content-type"),
            Some("text/html; charset=utf-8"),
            "{page}"
        );
        assert!(r.text().contains("/ui/assets/app.js"), "{page}");
        let csp = r.header("content-security-policy").expect("CSP");
        assert!(
            csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
            "{csp}"
        );
        assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
    }
    let r = get(&s.url("/ui/assets/app.js"), None);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/javascript; charset=utf-8"));
    let etag = r.header("etag").expect("etag").to_owned();
    // Revalidation is a 304 without a body.
    let b = ureq::http::Request::builder()
        .uri(s.url("/ui/assets/app.js"))
        .header("If-None-Match", &etag)
        .body(())
        .expect("request");
    let resp = agent().run(b).expect("revalidate");
    assert_eq!(resp.status().as_u16(), 304);
    assert_eq!(
        get(&s.url("/ui/assets/app.css"), None).header("content-type"),
        Some("text/css; charset=utf-8")
    );
    let r = get(&s.url("/ui/assets/nope.js"), None);
    assert_eq!((r.status, r.error_code().as_str()), (404, "not_found"));
    // The page is public; what it shows is not.
    assert_eq!(get(&s.url("/api/v1/cameras"), None).status, 401);
    assert_eq!(
        get(&s.url("/api/v1/cameras/gate-1/snapshot.jpg"), None).status,
        401
    );
    // ?access_token= is accepted on the alert stream only.
    let r = get(
        &s.url(&format!("/api/v1/cameras?access_token={OPS_SECRET}")),
        None,
    );
    assert_eq!(r.status, 401);
    let r = get(&s.url(&format!("/api/v1/alerts?access_token={OPS_SECRET}")), None);
    assert_eq!(r.status, 401);
}

#[test]
fn the_alert_stream_takes_the_token_from_the_query_and_the_header_wins() {
    let backend = TestBackend::new();
    let s = Server::start(settings(), backend.clone());
    let r = get(&s.url("/api/v1/alerts/stream"), None);
    assert_eq!(r.status, 401);
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("access_token"))
    );
    let r = get(&s.url("/api/v1/alerts/stream?access_token=wrong"), None);
    assert_eq!(r.status, 401);
    // A wrong header is not rescued by a right query token.
    let r = get(
        &s.url(&format!("/api/v1/alerts/stream?access_token={OPS_SECRET}")),
        Some("wrong-token"),
    );
    assert_eq!(r.status, 401);

    let url = s.url(&format!(
        "/api/v1/alerts/stream?access_token={}",
        seg(CONSOLE_SECRET)
    ));
    let resp = agent().get(&url).call().expect("stream");
    assert_eq!(resp.status().as_u16(), 200);
    let sent = alert("live-9", "2025-02-01T00:00:00Z", "gate-1", "lane-intrusion");
    assert_eq!(backend.publish(sent.clone()), 1);
    let mut body = resp.into_body();
    let mut reader = std::io::BufReader::new(body.as_reader());
    let mut line = String::new();
    let mut got = None;
    while std::io::BufRead::read_line(&mut reader, &mut line).expect("line") > 0 {
        if let Some(data) = line.trim_end().strip_prefix("data: ") {
            got = Some(serde_json::from_str::<Value>(data).expect("json"));
            break;
        }
        line.clear();
    }
    assert_eq!(got, Some(sent));
    let q = backend.queries();
    let last = q.last().expect("audited");
    assert_eq!(
        (last.0.as_str(), last.2.as_str()),
        ("console", "GET /api/v1/alerts/stream")
    );
}

#[test]
fn acknowledging_an_alert_is_recorded_and_shown_to_everyone() {
    let backend = TestBackend::new();
    let s = Server::start(settings(), backend.clone());
    let ack = |id: &str, token: &str, body: Option<&[u8]>| {
        request(
            "POST",
            &s.url(&format!("/api/v1/alerts/{id}/ack")),
            Some(token),
            body.map(|_| "application/json"),
            body,
        )
    };
    let r = ack("a2", CONSOLE_SECRET, Some(br#"{"note": "  patrol sent  "}"#));
    assert_eq!(r.status, 200, "{}", r.text());
    let a = r.json();
    assert_eq!(a["id"], "a2");
    assert_eq!(
        (a["ack"]["by"].as_str(), a["ack"]["note"].as_str()),
        (Some("console"), Some("patrol sent"))
    );
    // Another operator sees it, in the alert and in the history.
    let seen = get(&s.url("/api/v1/alerts/a2"), T).json();
    assert_eq!(seen["ack"]["by"], "console");
    let list = get(&s.url("/api/v1/alerts?camera=yard"), T).json();
    assert_eq!(list[0]["ack"]["note"], "patrol sent");
    assert!(
        backend
            .queries()
            .iter()
            .any(|q| q.0 == "console" && q.2 == "POST /api/v1/alerts/a2/ack")
    );

    let r = ack("a2", OPS_SECRET, None);
    assert_eq!((r.status, r.error_code().as_str()), (409, "already_acknowledged"));
    let r = ack("a1", OPS_SECRET, None); // no body at all: no note
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["ack"]["note"], Value::Null);
    let r = ack("nope", OPS_SECRET, None);
    assert_eq!((r.status, r.error_code().as_str()), (404, "alert_not_found"));
    let r = ack("a3", OPS_SECRET, Some(br#"{"note": "x", "by": "someone else"}"#));
    assert_eq!((r.status, r.error_code().as_str()), (422, "invalid_body"));
    let long = json!({ "note": "n".repeat(2001) }).to_string();
    let r = ack("a3", OPS_SECRET, Some(long.as_bytes()));
    assert_eq!((r.status, r.error_code().as_str()), (422, "invalid_body"));
    assert_eq!(
        request("POST", &s.url("/api/v1/alerts/a3/ack"), None, None, None).status,
        401
    );
    assert!(
        backend.acks.lock().expect("lock").get("a3").is_none(),
        "refused acks change nothing"
    );
}

#[test]
fn replacing_a_cameras_rules_is_validated_by_the_backend_and_reported() {
    let backend = TestBackend::new();
    let s = Server::start(settings(), backend.clone());
    let put = |cam: &str, body: &Value, token: Option<&str>| {
        request(
            "PUT",
            &s.url(&format!("/api/v1/cameras/{cam}/rules")),
            token,
            Some("application/json"),
            Some(body.to_string().as_bytes()),
        )
    };
    let doc = json!({
        "zone": [{"id": "door", "coords": "normalized", "points": [[0.1, 0.1], [0.5, 0.1], [0.3, 0.6]]}],
        "rule": [{"id": "door-loitering", "kind": "loitering", "zone": "door", "dwell_s": 30.0, "classes": ["person"]}]
    });
    let r = put("gate-1", &doc, Some(CONSOLE_SECRET));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["applied"], true);
    assert_eq!(r.json()["cameras_restarted"], json!(["gate-1"]));
    let changes = backend.rule_changes.lock().expect("lock").clone();
    assert_eq!(
        changes,
        vec![("gate-1".to_owned(), doc.clone(), "console".to_owned())]
    );
    assert_eq!(get(&s.url("/api/v1/rules"), T).json()["cameras"]["gate-1"], doc);

    let bad = json!({"zone": [{"id": "tiny", "points": [[0.1, 0.1], [0.2, 0.2]]}]});
    let r = put("gate-1", &bad, T);
    assert_eq!((r.status, r.error_code().as_str()), (422, "invalid_config"));
    assert!(
        r.json()["error"]["detail"]["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("3 points"))
    );
    assert_eq!(
        get(&s.url("/api/v1/rules"), T).json()["cameras"]["gate-1"],
        doc,
        "unchanged"
    );

    let r = put("nope", &doc, T);
    assert_eq!((r.status, r.error_code().as_str()), (404, "camera_not_found"));
    let r = put("gate-1", &json!([1, 2]), T);
    assert_eq!((r.status, r.error_code().as_str()), (422, "invalid_body"));
    let r = request(
        "PUT",
        &s.url("/api/v1/cameras/gate-1/rules"),
        T,
        Some("application/json"),
        Some(b"{"),
    );
    assert_eq!((r.status, r.error_code().as_str()), (400, "malformed_json"));
    assert_eq!(put("gate-1", &doc, None).status, 401);
    assert_eq!(backend.rule_changes.lock().expect("lock").len(), 1);
}

#[test]
fn the_latest_frames_tracks_are_served_normalised_bounded_and_behind_the_token() {
    let backend = TestBackend::new();
    let s = Server::start(settings(), backend.clone());
    let url = s.url("/api/v1/cameras/gate-1/detections");
    assert_eq!(get(&url, None).status, 401);
    assert_eq!(get(&url, Some("wrong-token")).status, 401);

    let r = get(&url, Some(CONSOLE_SECRET));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let v = r.json();
    let (w, h) = FRAME_SIZE;
    assert_eq!(
        (
            &v["camera"],
            &v["frame_width_px"],
            &v["frame_height_px"],
            &v["frame_seq"]
        ),
        (&json!("gate-1"), &json!(w), &json!(h), &json!(41))
    );
    assert_eq!(v["time"], "2026-01-01T12:00:00Z");
    // Most confident first; pixel boxes arrive as fractions of the frame.
    let ids: Vec<u64> = v["tracks"]
        .as_array()
        .expect("tracks")
        .iter()
        .filter_map(|t| t["track_id"].as_u64())
        .collect();
    assert_eq!(ids, vec![9, 4]);
    let car = &v["tracks"][0];
    assert_eq!(
        (car["label"].as_str(), car["plate"].as_str()),
        (Some("car"), Some("京A12345"))
    );
    let b = &car["box_norm"];
    let near = |k: &str, want: f64| (b[k].as_f64().expect(k) - want).abs() < 1e-6;
    assert!(
        near("x1", 140.0 / 320.0)
            && near("y1", 0.5)
            && near("x2", 200.0 / 320.0)
            && near("y2", 130.0 / 180.0),
        "{b}"
    );
    assert!(
        v["tracks"][1].get("plate").is_none(),
        "no plate key without a hit"
    );

    // However many tracks the backend hands over, the answer is bounded and says so.
    {
        let mut d = backend.detections.lock().expect("lock");
        let one = d.tracks[1].clone();
        d.tracks = (0..1000)
            .map(|i| TrackBox {
                track_id: i,
                score: (i % 97) as f32 / 100.0,
                ..one.clone()
            })
            .collect();
        d.tracks.push(TrackBox {
            track_id: 5000,
            box_norm: BoxNorm {
                x1: f32::NAN,
                ..one.box_norm
            },
            ..one
        });
        d.tracks_total = 3;
    }
    let v = get(&url, T).json();
    let tracks = v["tracks"].as_array().expect("tracks");
    assert_eq!(tracks.len(), CameraDetections::MAX_TRACKS);
    assert_eq!(v["tracks_total"], 1001);
    assert!(
        tracks.iter().all(|t| t["track_id"] != 5000),
        "unusable box dropped"
    );
    assert!((tracks[0]["score"].as_f64().expect("score") - 0.96).abs() < 1e-6);

    let r = get(&s.url("/api/v1/cameras/yard/detections"), T);
    assert_eq!((r.status, r.error_code().as_str()), (503, "no_frame"));
    let r = get(&s.url("/api/v1/cameras/nope/detections"), T);
    assert_eq!((r.status, r.error_code().as_str()), (404, "camera_not_found"));
}

/// A backend that implements only the required methods (by delegating), so the new ones keep
/// their defaults.
struct Minimal(Arc<TestBackend>);

impl Backend for Minimal {
    fn cameras(&self) -> Vec<CameraInfo> {
        self.0.cameras()
    }
    fn camera_snapshot_jpeg(&self, id: &str) -> Result<Vec<u8>, ApiError> {
        self.0.camera_snapshot_jpeg(id)
    }
    fn rules(&self) -> Value {
        self.0.rules()
    }
    fn alerts(&self, query: &AlertQuery) -> Result<Vec<Value>, ApiError> {
        self.0.alerts(query)
    }
    fn alert(&self, id: &str) -> Result<Value, ApiError> {
        self.0.alert(id)
    }
    fn alert_snapshot_jpeg(&self, id: &str) -> Result<Vec<u8>, ApiError> {
        self.0.alert_snapshot_jpeg(id)
    }
    fn subscribe_alerts(&self) -> broadcast::Receiver<Arc<Value>> {
        self.0.subscribe_alerts()
    }
    fn watchlists(&self) -> &LiveWatchlists {
        self.0.watchlists()
    }
    fn reload(&self, caller: &Caller) -> Result<ReloadOutcome, ApiError> {
        self.0.reload(caller)
    }
    fn readiness(&self) -> Readiness {
        self.0.readiness()
    }
    fn metrics_text(&self) -> String {
        self.0.metrics_text()
    }
    fn audit_query(&self, caller: &Caller, what: &str) -> Result<(), ApiError> {
        self.0.audit_query(caller, what)
    }
}

#[test]
fn a_backend_without_the_new_methods_answers_501() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let backend: Arc<dyn Backend> = Arc::new(Minimal(TestBackend::new()));
    rt.spawn(vigil_http::serve_on(
        listener,
        settings(),
        backend,
        std::future::pending(),
    ));
    let r = request("POST", &format!("{base}/api/v1/alerts/a1/ack"), T, None, None);
    assert_eq!((r.status, r.error_code().as_str()), (501, "not_implemented"));
    let r = request(
        "PUT",
        &format!("{base}/api/v1/cameras/gate-1/rules"),
        T,
        Some("application/json"),
        Some(b"{}"),
    );
    assert_eq!((r.status, r.error_code().as_str()), (501, "not_implemented"));
    let r = request(
        "GET",
        &format!("{base}/api/v1/cameras/gate-1/detections"),
        T,
        None,
        None,
    );
    assert_eq!((r.status, r.error_code().as_str()), (501, "not_implemented"));
    rt.shutdown_background();
}
