//! API request bodies, through the real router in process: the watchlist entry body
//! (`POST …/entries`), list uploads as JSON and CSV (`PUT /api/v1/watchlists/{name}`), the
//! acknowledgement body, a camera's rules as JSON, plus fuzzed query strings and path
//! segments. The backend is a small in-memory one over a real `LiveWatchlists` store (under
//! `fuzz/target/api_bodies-store/`), so uploads go through the same import code as production.
//!
//! Checks: no panic; never a 500 for a client's input; every error answer is the documented
//! JSON `{"error": {"code", "message"}}`.
//!
//! Input layout: byte 0 picks the request; for requests with a fuzzed path or query, the text
//! up to the first 0xFF byte is that part and the rest the body.
//!
//! The store keeps what earlier inputs added, so a crash may depend on its predecessors:
//! replay the artifact alone (a fresh store) before filing it, and keep only inputs that fail
//! on their own in `fuzz/regressions/`.
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};

use axum::body::Body;
use axum::http::{Method, Request, header};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use tokio::sync::broadcast;
use tower::ServiceExt;
use vigil_http::{
    AlertQuery, ApiError, ApiSettings, ApiToken, Backend, Caller, CameraCounters, CameraInfo, Readiness,
    ReloadOutcome, Router, Secret, StatusCode,
};
use vigil_watchlist::{ImportOptions, LiveWatchlists, MatchConfig};

const SECRET: &str = "fuzz-secret-0123456789abcdef";

/// An in-memory daemon: one camera, one alert, a real watchlist store.
struct FuzzBackend {
    live: LiveWatchlists,
    tx: broadcast::Sender<Arc<Value>>,
}

impl Backend for FuzzBackend {
    fn cameras(&self) -> Vec<CameraInfo> {
        vec![CameraInfo {
            id: "gate".into(),
            name: "Gate".into(),
            location: None,
            state: "streaming".into(),
            counters: CameraCounters::default(),
            fps_analysed: 5.0,
            last_error: None,
        }]
    }
    fn camera_snapshot_jpeg(&self, id: &str) -> Result<Vec<u8>, ApiError> {
        Err(ApiError::not_found(
            "camera_not_found",
            format!("no camera {id:?}"),
        ))
    }
    fn rules(&self) -> Value {
        json!([])
    }
    fn alerts(&self, _query: &AlertQuery) -> Result<Vec<Value>, ApiError> {
        Ok(vec![alert()])
    }
    fn alert(&self, id: &str) -> Result<Value, ApiError> {
        if id == "a1" {
            Ok(alert())
        } else {
            Err(ApiError::not_found("alert_not_found", format!("no alert {id:?}")))
        }
    }
    fn alert_snapshot_jpeg(&self, id: &str) -> Result<Vec<u8>, ApiError> {
        Err(ApiError::not_found(
            "no_snapshot",
            format!("alert {id:?} has no snapshot"),
        ))
    }
    fn subscribe_alerts(&self) -> broadcast::Receiver<Arc<Value>> {
        self.tx.subscribe()
    }
    fn watchlists(&self) -> &LiveWatchlists {
        &self.live
    }
    fn reload(&self, _caller: &Caller) -> Result<ReloadOutcome, ApiError> {
        Ok(ReloadOutcome::default())
    }
    fn readiness(&self) -> Readiness {
        Readiness {
            ready: true,
            checks: Vec::new(),
        }
    }
    fn metrics_text(&self) -> String {
        String::new()
    }
    fn audit_query(&self, _caller: &Caller, _what: &str) -> Result<(), ApiError> {
        Ok(())
    }
    fn ack_alert(&self, id: &str, caller: &Caller, note: Option<&str>) -> Result<Value, ApiError> {
        let mut a = self.alert(id)?;
        a["ack"] = json!({"by": caller.token, "note": note});
        Ok(a)
    }
    fn replace_camera_rules(
        &self,
        camera: &str,
        rules: Value,
        _caller: &Caller,
    ) -> Result<ReloadOutcome, ApiError> {
        if camera != "gate" {
            return Err(ApiError::not_found(
                "camera_not_found",
                format!("no camera {camera:?}"),
            ));
        }
        // What the daemon does: the same parse and validation as `vigil check`.
        let cfg: vigil_rules::RulesConfig = serde_json::from_value(rules)
            .map_err(|e| ApiError::unprocessable("invalid_config", e.to_string()))?;
        let frame = vigil_rules::FrameSize {
            width: 1920,
            height: 1080,
        };
        vigil_rules::validate(&cfg, camera, frame)
            .map_err(|e| ApiError::unprocessable("invalid_config", e.to_string()))?;
        Ok(ReloadOutcome::default())
    }
}

fn alert() -> Value {
    json!({"id": "a1", "time": "2025-01-31T08:00:00Z", "camera": {"id": "gate"}, "rule": {"id": "r"}})
}

struct Harness {
    rt: tokio::runtime::Runtime,
    router: Router,
}

/// Where the store lives: under the fuzz crate's (ignored) build directory, one per process,
/// emptied at start. Not a `TempDir`: libFuzzer ends the process without running destructors,
/// so a temporary directory would be left behind in /tmp by every run.
fn store_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/api_bodies-store")
        .join(std::process::id().to_string());
    // A leftover from an earlier process with the same id; absent is the normal case.
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the fuzz crate's target directory is writable");
    dir
}

static HARNESS: LazyLock<Harness> = LazyLock::new(|| {
    let dir = store_dir();
    let live = LiveWatchlists::open(&dir, ImportOptions { max_entries: 64 }, MatchConfig::default())
        .expect("an empty store opens");
    let (tx, _) = broadcast::channel(4);
    let backend = Arc::new(FuzzBackend { live, tx });
    let token = ApiToken {
        name: "fuzz".into(),
        secret: Secret::new(SECRET),
    };
    let mut settings = ApiSettings::new(([127, 0, 0, 1], 0).into(), vec![token]);
    // Small, so the 413 path is reached too.
    settings.max_body_bytes = 16 * 1024;
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    Harness {
        rt,
        router: vigil_http::router(&settings, backend),
    }
});

/// Percent-encodes everything but unreserved characters, so any text makes a valid URI.
fn encode(text: &[u8]) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for &b in text {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Like [`encode`] but keeps `=` and `&`, so the fuzzer can write query pairs.
fn encode_query(text: &[u8]) -> String {
    let mut out = String::new();
    for part in text.split(|&b| b == b'&') {
        if !out.is_empty() {
            out.push('&');
        }
        let mut kv = part.splitn(2, |&b| b == b'=');
        out.push_str(&encode(kv.next().unwrap_or_default()));
        if let Some(v) = kv.next() {
            out.push('=');
            out.push_str(&encode(v));
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let (head, body) = match rest.iter().position(|&b| b == 0xFF) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (&[][..], rest),
    };
    let json = "application/json";
    let (method, uri, content_type, body) = match which % 8 {
        0 => (
            Method::POST,
            "/api/v1/watchlists/fuzz/entries?kind=hotlist".to_owned(),
            json,
            body,
        ),
        1 => (Method::PUT, "/api/v1/watchlists/fuzz".to_owned(), json, body),
        2 => (
            Method::PUT,
            "/api/v1/watchlists/fuzz?kind=hotlist".to_owned(),
            "text/csv",
            body,
        ),
        3 => (Method::POST, "/api/v1/alerts/a1/ack".to_owned(), json, body),
        4 => (Method::PUT, "/api/v1/cameras/gate/rules".to_owned(), json, body),
        5 => (
            Method::GET,
            format!("/api/v1/alerts?{}", encode_query(rest)),
            json,
            &[][..],
        ),
        6 => (
            Method::DELETE,
            format!("/api/v1/watchlists/fuzz/entries/{}", encode(rest)),
            json,
            &[][..],
        ),
        _ => (
            Method::POST,
            format!(
                "/api/v1/watchlists/{}/entries?{}",
                encode(head),
                encode_query(body)
            ),
            json,
            r#"{"plate": "京A12345"}"#.as_bytes(),
        ),
    };
    let req = Request::builder()
        .method(method)
        .uri(&uri)
        .header(header::AUTHORIZATION, format!("Bearer {SECRET}"))
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body.to_vec()))
        .expect("a valid request");
    let h = &*HARNESS;
    let (status, bytes) = h.rt.block_on(async {
        let resp = h
            .router
            .clone()
            .oneshot(req)
            .await
            .expect("the router is infallible");
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .expect("the answer is small");
        (status, bytes)
    });
    assert_ne!(
        status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{uri}: 500 for a client's input: {}",
        String::from_utf8_lossy(&bytes)
    );
    if status.is_client_error() || status.is_server_error() {
        let v: Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            panic!(
                "{uri}: {status} answer is not JSON ({e}): {}",
                String::from_utf8_lossy(&bytes)
            )
        });
        assert!(
            v["error"]["code"].is_string() && v["error"]["message"].is_string(),
            "{uri}: {status} answer is not the error shape: {v}"
        );
    }
});
