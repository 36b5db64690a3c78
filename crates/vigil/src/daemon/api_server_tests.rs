//! [`ApiServer`] on real sockets with a minimal backend: tokens swapped on an open connection,
//! limits changed on the same socket, a move to a new address, a move to a taken address, and
//! the API switched off.

use super::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use serde_json::Value;
use vigil_http::{AlertQuery, ApiError, Caller, CameraInfo, Readiness, ReloadOutcome, TokenConfig};
use vigil_watchlist::LiveWatchlists;

struct Minimal {
    lists: LiveWatchlists,
    alerts: tokio::sync::broadcast::Sender<Arc<Value>>,
}

impl Backend for Minimal {
    fn cameras(&self) -> Vec<CameraInfo> {
        Vec::new()
    }
    fn camera_snapshot_jpeg(&self, id: &str) -> Result<Vec<u8>, ApiError> {
        Err(ApiError::not_found("no_such_camera", id.to_owned()))
    }
    fn rules(&self) -> Value {
        Value::Null
    }
    fn alerts(&self, _: &AlertQuery) -> Result<Vec<Value>, ApiError> {
        Ok(Vec::new())
    }
    fn alert(&self, id: &str) -> Result<Value, ApiError> {
        Err(ApiError::not_found("no_such_alert", id.to_owned()))
    }
    fn alert_snapshot_jpeg(&self, id: &str) -> Result<Vec<u8>, ApiError> {
        Err(ApiError::not_found("no_such_alert", id.to_owned()))
    }
    fn subscribe_alerts(&self) -> tokio::sync::broadcast::Receiver<Arc<Value>> {
        self.alerts.subscribe()
    }
    fn watchlists(&self) -> &LiveWatchlists {
        &self.lists
    }
    fn reload(&self, _: &Caller) -> Result<ReloadOutcome, ApiError> {
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
    fn audit_query(&self, _: &Caller, _: &str) -> Result<(), ApiError> {
        Ok(())
    }
}

fn secret_file(dir: &Path, name: &str, secret: &str) -> TokenConfig {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, secret).expect("write secret");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    TokenConfig {
        name: name.into(),
        secret_env: None,
        secret_file: Some(path),
    }
}

fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
}

/// One keep-alive request on `conn`; the status code.
fn get(conn: &mut BufReader<TcpStream>, secret: &str) -> u16 {
    let req = format!("GET /api/v1/cameras HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {secret}\r\n\r\n");
    conn.get_mut().write_all(req.as_bytes()).expect("send");
    let mut status = String::new();
    conn.read_line(&mut status).expect("status line");
    let mut len = 0usize;
    loop {
        let mut h = String::new();
        conn.read_line(&mut h).expect("header");
        if h == "\r\n" || h.is_empty() {
            break;
        }
        if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().expect("length");
        }
    }
    let mut body = vec![0u8; len];
    conn.read_exact(&mut body).expect("body");
    status
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status:?}"))
}

fn connect(addr: SocketAddr) -> BufReader<TcpStream> {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    BufReader::new(s)
}

/// A request on a fresh connection, retried for a moment: a connection the old server accepted
/// in the instant of a restart is closed unanswered (clients retry), never refused.
fn get_fresh(addr: SocketAddr, secret: &str) -> u16 {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let attempt = std::panic::catch_unwind(|| get(&mut connect(addr), secret));
        match attempt {
            Ok(code) => return code,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => std::panic::resume_unwind(e),
        }
    }
}

fn wait_refused(addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(addr).is_ok() {
        assert!(Instant::now() < deadline, "{addr} still accepts connections");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_reload_swaps_tokens_in_place_moves_and_restarts_the_listener() {
    let dir = tempfile::tempdir().expect("tmp");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let backend: Arc<dyn Backend> = Arc::new(Minimal {
        lists: LiveWatchlists::open(&dir.path().join("lists"), Default::default(), Default::default())
            .expect("store"),
        alerts: tokio::sync::broadcast::channel(4).0,
    });
    let api = ApiServer::new(rt.handle().clone());
    api.attach(Arc::downgrade(&backend));
    let (old_secret, new_secret) = ("old-secret-0123456789", "new-secret-0123456789");
    let first = ApiConfig {
        bind: free_addr(),
        tokens: vec![secret_file(dir.path(), "ops", old_secret)],
        ..ApiConfig::default()
    };
    api.start(Prepared::new(Some(&first)).expect("prepare"))
        .expect("start");
    let mut conn = connect(first.bind);
    assert_eq!(get(&mut conn, old_secret), 200);
    assert_eq!(get(&mut conn, new_secret), 401);

    // Rotation: the same connection, the next request sees the new set.
    let rotated = ApiConfig {
        tokens: vec![secret_file(dir.path(), "ops2", new_secret)],
        ..first.clone()
    };
    let out = api.apply(Prepared::new(Some(&rotated)).expect("prepare"));
    assert_eq!(out.listener, "unchanged");
    assert_eq!(
        (out.tokens_added, out.tokens_removed),
        (vec!["ops2".to_owned()], vec!["ops".to_owned()])
    );
    assert_eq!(get(&mut conn, old_secret), 401);
    assert_eq!(get(&mut conn, new_secret), 200);

    // Other limits: restarted on the same socket, new connections are served at once.
    let limits = ApiConfig {
        max_body_bytes: 4096,
        ..rotated.clone()
    };
    let out = api.apply(Prepared::new(Some(&limits)).expect("prepare"));
    assert_eq!(out.listener, "restarted");
    assert!(out.tokens_added.is_empty() && out.error.is_none(), "{out:?}");
    assert_eq!(get_fresh(first.bind, new_secret), 200);

    // A new address: bound, served, the old one let go.
    let moved = ApiConfig {
        bind: free_addr(),
        ..limits.clone()
    };
    let out = api.apply(Prepared::new(Some(&moved)).expect("prepare"));
    assert_eq!(
        (out.listener.as_str(), out.bind.clone()),
        ("moved", Some(moved.bind.to_string()))
    );
    assert_eq!(get_fresh(moved.bind, new_secret), 200);
    wait_refused(first.bind);

    // A taken address: the old listener keeps serving and the outcome says why.
    let squatter = std::net::TcpListener::bind("127.0.0.1:0").expect("squat");
    let taken = ApiConfig {
        bind: squatter.local_addr().expect("addr"),
        ..moved.clone()
    };
    let out = api.apply(Prepared::new(Some(&taken)).expect("prepare"));
    assert_eq!(out.listener, "kept");
    let e = out.error.clone().unwrap_or_default();
    assert!(
        e.contains(&taken.bind.to_string()) && e.contains("cannot listen"),
        "{e}"
    );
    assert_eq!(get_fresh(moved.bind, new_secret), 200);
    assert!(summary(&out).is_some_and(|s| s.contains("kept")), "{out:?}");
    assert!(!format!("{out:?}").contains(new_secret));

    // `[api]` removed: stopped.
    let out = api.apply(Prepared::new(None).expect("prepare"));
    assert_eq!(out.listener, "stopped");
    wait_refused(moved.bind);
    api.shutdown(Duration::from_secs(10));
    assert!(!api.failed());
}

#[test]
fn a_secret_that_cannot_be_read_refuses_before_anything_changes() {
    let cfg = ApiConfig {
        tokens: vec![TokenConfig {
            name: "ops".into(),
            secret_env: None,
            secret_file: Some("/nonexistent/vigil-token".into()),
        }],
        ..ApiConfig::default()
    };
    let e = Prepared::new(Some(&cfg)).err().unwrap_or_default();
    assert!(
        e.starts_with("[api] api token \"ops\": cannot read secret_file"),
        "{e}"
    );
}

#[test]
fn a_certificate_renewed_in_place_changes_the_fingerprint() {
    let dir = tempfile::tempdir().expect("tmp");
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, "cert one").expect("cert");
    std::fs::write(&key, "key").expect("key");
    let cfg = ApiConfig {
        tls_cert: Some(cert.clone()),
        tls_key: Some(key),
        ..ApiConfig::default()
    };
    assert_eq!(
        tls_fingerprint(&ApiConfig::default()),
        None,
        "no TLS, nothing to compare"
    );
    let before = tls_fingerprint(&cfg);
    assert!(before.is_some());
    assert_eq!(tls_fingerprint(&cfg), before, "same files, same fingerprint");
    std::fs::write(&cert, "cert two").expect("renew");
    assert_ne!(
        tls_fingerprint(&cfg),
        before,
        "same path, new contents: a restart"
    );
}
