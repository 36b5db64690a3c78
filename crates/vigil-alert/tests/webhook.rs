//! The webhook sink against a real HTTP/1.1 server in the test (tokio `TcpListener`, minimal
//! hand-written request parsing): order, HMAC signatures checked independently of the sink's
//! own code, retries through 500s until the outbox drains, and no secret in Debug or errors.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use hmac::{KeyInit, Mac};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::watch;
use vigil_alert::sink::webhook::{SIGNATURE_HEADER, WebhookConfig, WebhookSink};
use vigil_alert::{CircuitState, CloudEvent, Outbox, OutboxConfig, RouteConfig, Sink, delivery};

const SECRET: &str = "whsec-4f1c2d9e-not-for-logs";
const URL_PASSWORD: &str = "url-pass-83b1";

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// Status the server answered with.
    status: u16,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A receiver that answers 500 to the first `fail_first` requests and 200 after, recording
/// every request. Connections are kept alive (ureq reuses them) until the client closes.
async fn serve(fail_first: usize) -> (String, Arc<Mutex<Vec<Request>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!(
        "http://127.0.0.1:{}/hook",
        listener.local_addr().expect("addr").port()
    );
    let seen: Arc<Mutex<Vec<Request>>> = Arc::default();
    let log = seen.clone();
    tokio::spawn(async move {
        loop {
            let (socket, _) = listener.accept().await.expect("accept");
            let log = log.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut reader = BufReader::new(read);
                while let Some(mut req) = read_request(&mut reader).await {
                    let reply = {
                        let mut log = log.lock().unwrap();
                        req.status = if log.len() < fail_first { 500 } else { 200 };
                        let reply = format!(
                            "HTTP/1.1 {} {}\r\nContent-Length: 0\r\n\r\n",
                            req.status,
                            if req.status == 200 {
                                "OK"
                            } else {
                                "Internal Server Error"
                            }
                        );
                        log.push(req);
                        reply
                    };
                    if write.write_all(reply.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, seen)
}

/// Reads one request (request line, headers, `Content-Length` body); `None` at EOF.
async fn read_request<R: AsyncBufReadExt + Unpin>(reader: &mut R) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).await.ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).await.ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.push((k.trim().to_owned(), v.trim().to_owned()));
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .map_or(0, |(_, v)| v.parse().expect("content-length"));
    let mut body = vec![0; len];
    reader.read_exact(&mut body).await.ok()?;
    Some(Request {
        method,
        path,
        headers,
        body,
        status: 0,
    })
}

/// What a receiver does: HMAC-SHA256 over the raw body with the shared key, hex, `sha256=`.
fn expected_signature(body: &[u8]) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).expect("key");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn secret_file(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("webhook-secret");
    std::fs::write(&path, format!("{SECRET}\n")).expect("write secret");
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_delivers_in_order_signed_through_500s() {
    const N: u32 = 12;
    // Each publish tries twice inside the sink, so 5 failures = 2 failed publishes (retried by
    // the delivery loop) plus one in-sink retry of the third.
    const FAIL_FIRST: usize = 5;
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("tmp");
    let (url, seen) = serve(FAIL_FIRST).await;
    let mut config = WebhookConfig::with_url(&url);
    config.secret_file = Some(secret_file(dir.path()));
    config.attempts = 2;
    config.backoff_ms = 20;
    config.timeout_ms = 2000;
    let sink = WebhookSink::new("hook", config).expect("sink");
    assert!(!format!("{sink:?}").contains(SECRET), "Debug shows the secret");

    let ob = Outbox::open(
        dir.path().join("outbox.redb"),
        OutboxConfig::default().with_sink("hook", RouteConfig::default()),
    )
    .expect("outbox");
    let sent = alerts(&["gate-1", "gate-2", "yard"], N);
    for a in &sent {
        ob.enqueue(a).expect("enqueue").expect("routed");
    }
    let (stop, shutdown) = watch::channel(false);
    let d = delivery::spawn(ob.clone(), "hook", sink, fast_retry(), shutdown);
    assert!(
        eventually(Duration::from_secs(30), || ob.is_empty()).await,
        "outbox did not drain: {} left",
        ob.len()
    );
    let status = d.status();
    assert_eq!(status.published(), u64::from(N));
    assert_eq!(status.failed(), 2, "two publishes failed (2 × 500 each)");
    assert!(status.retried() >= 2);
    assert_eq!((status.state(), status.depth()), (CircuitState::Up, 0));
    stop.send_replace(true);
    assert!(d.join(Duration::from_secs(5)).await);

    let requests = seen.lock().unwrap().clone();
    assert_eq!(requests.len(), N as usize + FAIL_FIRST);
    let validator = schema();
    for r in &requests {
        assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/hook"));
        assert_eq!(r.header("content-type"), Some("application/cloudevents+json"));
        assert_eq!(
            r.header(SIGNATURE_HEADER),
            Some(expected_signature(&r.body).as_str()),
            "signature does not verify"
        );
        let ev = check_event(&validator, &r.body);
        assert_eq!(r.header("idempotency-key"), Some(ev.id.as_str()));
    }
    // Every failed request was for the first alert, with the same bytes as its final success.
    let first = &requests[FAIL_FIRST];
    assert!(
        requests[..FAIL_FIRST]
            .iter()
            .all(|r| r.body == first.body && r.status == 500)
    );
    let ok: Vec<CloudEvent> = requests
        .iter()
        .filter(|r| r.status == 200)
        .map(|r| serde_json::from_slice(&r.body).expect("event"))
        .collect();
    let ids: Vec<&str> = ok.iter().map(|e| e.id.as_str()).collect();
    let want: Vec<&str> = sent.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, want, "exactly the alerts, in enqueue order");
    eprintln!("webhook test took {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_secret_never_in_debug_or_errors() {
    let dir = tempfile::tempdir().expect("tmp");
    // A port nobody listens on: bind, note, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let mut config = WebhookConfig::with_url(format!("http://alice:{URL_PASSWORD}@127.0.0.1:{port}/hook"));
    config.secret_file = Some(secret_file(dir.path()));
    config.attempts = 2;
    config.backoff_ms = 10;
    config.timeout_ms = 1000;
    let mut sink = WebhookSink::new("hook", config.clone()).expect("sink");
    let debug = format!("{sink:?}");
    assert!(
        !debug.contains(SECRET) && !debug.contains(URL_PASSWORD),
        "{debug}"
    );
    assert!(debug.contains("signed: true"), "{debug}");

    let ob = Outbox::open(
        dir.path().join("outbox.redb"),
        OutboxConfig::default().with_sink("hook", RouteConfig::default()),
    )
    .expect("outbox");
    ob.enqueue(&alerts(&["gate-1"], 1)[0]).expect("enqueue");
    let event = ob.next_for("hook", 0).expect("read").expect("entry");
    let err = sink.publish(&event).await.expect_err("nobody listens");
    for text in [err.to_string(), format!("{err:?}")] {
        assert!(!text.contains(SECRET) && !text.contains(URL_PASSWORD), "{text}");
    }

    // A 4xx answer is a rejection; its message must not carry the secret either.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!(
        "http://127.0.0.1:{}/hook",
        listener.local_addr().expect("addr").port()
    );
    tokio::spawn(async move {
        let (socket, _) = listener.accept().await.expect("accept");
        let (read, mut write) = socket.into_split();
        let mut reader = BufReader::new(read);
        if read_request(&mut reader).await.is_some() {
            let _ = write
                .write_all(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n")
                .await;
        }
    });
    config.url = url;
    let mut sink = WebhookSink::new("hook", config).expect("sink");
    let err = sink.publish(&event).await.expect_err("401");
    assert!(
        matches!(err, vigil_alert::SinkError::Rejected { .. }),
        "401 is a rejection: {err}"
    );
    assert!(!format!("{err} {err:?}").contains(SECRET));

    // A missing secret file names the file, not a value.
    let mut missing = WebhookConfig::with_url("http://127.0.0.1:9/hook");
    missing.secret_file = Some(dir.path().join("nope"));
    let err = WebhookSink::new("hook", missing).expect_err("missing file");
    assert!(err.to_string().contains("nope"), "{err}");
}
