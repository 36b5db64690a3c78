//! Connection limits over real TCP on loopback (issues 11 and 16): health probes answer during
//! a flood of idle connections, connections without a request header are closed after the
//! header timeout, stalled bodies after the idle timeout, busy connections are never closed to
//! make room, and a new connection is refused with 503 only when every one is busy.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use vigil_http::ApiSettings;
use vigil_http::config::DEFAULT_MAX_CONNECTIONS;

fn addr(s: &Server) -> String {
    s.base.trim_start_matches("http://").to_owned()
}

/// Reads until the server closes the connection; how long that took from `since`. Panics if
/// it is still open after `within`.
fn closed_within(conn: &mut TcpStream, since: Instant, within: Duration) -> Duration {
    let mut buf = [0u8; 1024];
    loop {
        let left = within.saturating_sub(since.elapsed());
        assert!(!left.is_zero(), "connection still open after {within:?}");
        conn.set_read_timeout(Some(left)).expect("timeout");
        match conn.read(&mut buf) {
            Ok(0) => return since.elapsed(),
            Ok(_) => {} // an error response before the close is fine
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                panic!("connection still open after {within:?}")
            }
            Err(_) => return since.elapsed(), // reset
        }
    }
}

/// A GET that must be answered within `within`: (status, time taken).
fn timed_get(url: &str, within: Duration) -> (u16, Duration) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(within))
        .build()
        .into();
    let started = Instant::now();
    let r = agent
        .get(url)
        .call()
        .unwrap_or_else(|e| panic!("GET {url} not answered within {within:?}: {e}"));
    (r.status().as_u16(), started.elapsed())
}

/// Issue 16: 300 idle TCP connections used to take every slot (the limit was taken before
/// `accept`), so `/healthz` waited for the 60 s idle timeout.
#[test]
fn health_probes_answer_during_a_flood_of_idle_connections() {
    let s = Server::start(settings(), TestBackend::new());
    let flood: Vec<TcpStream> = (0..DEFAULT_MAX_CONNECTIONS + 44)
        .map(|_| TcpStream::connect(addr(&s)).expect("connect"))
        .collect();
    std::thread::sleep(Duration::from_millis(300)); // let the server accept them all

    for path in ["/healthz", "/readyz"] {
        let (status, took) = timed_get(&s.url(path), Duration::from_secs(10));
        assert_eq!(status, 200, "{path}");
        assert!(
            took < Duration::from_secs(2),
            "{path} took {took:?} under the flood"
        );
    }
    // The room came from the longest-idle connections: the first ones are closed.
    let started = Instant::now();
    let mut first = flood.into_iter().next().expect("one");
    closed_within(&mut first, started, Duration::from_secs(3));
}

#[test]
fn a_connection_without_a_request_header_is_closed_after_the_header_timeout() {
    let header = Duration::from_millis(1000);
    let s = Server::start(
        ApiSettings {
            header_timeout: header,
            idle_timeout: Duration::from_secs(60),
            ..settings()
        },
        TestBackend::new(),
    );
    // Silent from the start.
    let opened = Instant::now();
    let mut silent = TcpStream::connect(addr(&s)).expect("connect");
    let took = closed_within(&mut silent, opened, Duration::from_secs(5));
    assert!(took >= header, "closed after {took:?}, before the header timeout");

    // Trickling a header a byte at a time (each byte would reset the idle timer) does not help.
    let opened = Instant::now();
    let mut slow = TcpStream::connect(addr(&s)).expect("connect");
    let trickle = std::thread::spawn({
        let mut w = slow.try_clone().expect("clone");
        move || {
            for b in b"GET /healthz HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" {
                if w.write_all(&[*b]).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    });
    let took = closed_within(&mut slow, opened, Duration::from_secs(4));
    assert!(took >= header, "closed after {took:?}");
    let _ = trickle.join();

    // A keep-alive connection idle *between* requests is governed by the idle timeout: it
    // still serves a request after more than the header timeout.
    let mut conn = TcpStream::connect(addr(&s)).expect("connect");
    let mut reader = BufReader::new(conn.try_clone().expect("clone"));
    for round in 0..2 {
        conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .expect("send");
        let mut status = String::new();
        reader.read_line(&mut status).expect("status line");
        assert!(status.starts_with("HTTP/1.1 200"), "round {round}: {status:?}");
        let mut len = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).expect("header");
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().expect("length");
            }
            if line == "\r\n" {
                break;
            }
        }
        let mut body = vec![0; len];
        reader.read_exact(&mut body).expect("body");
        std::thread::sleep(header + Duration::from_millis(500));
    }
}

#[test]
fn a_stalled_request_body_is_closed_after_the_idle_timeout() {
    let idle = Duration::from_millis(500);
    let s = Server::start(
        ApiSettings {
            idle_timeout: idle,
            ..settings()
        },
        TestBackend::new(),
    );
    let mut conn = TcpStream::connect(addr(&s)).expect("connect");
    let head = format!(
        "PUT /api/v1/watchlists/stolen?kind=hotlist HTTP/1.1\r\nHost: x\r\n\
         Authorization: Bearer {OPS_SECRET}\r\nContent-Type: text/csv\r\nContent-Length: 100\r\n\r\nplate,li"
    );
    conn.write_all(head.as_bytes()).expect("send");
    let sent = Instant::now();
    let took = closed_within(&mut conn, sent, Duration::from_secs(4));
    assert!(took >= idle - Duration::from_millis(50), "closed after {took:?}");
}

/// At the limit, only idle connections make room: an alert stream (a response in progress)
/// survives any number of newcomers, and when every connection is busy a newcomer is told so.
#[test]
fn busy_connections_are_kept_and_newcomers_refused_only_when_all_are_busy() {
    let backend = TestBackend::new();
    let s = Server::start(
        ApiSettings {
            max_connections: 2,
            ..settings()
        },
        backend.clone(),
    );
    let stream = agent()
        .get(s.url("/api/v1/alerts/stream"))
        .header("Authorization", format!("Bearer {OPS_SECRET}"))
        .call()
        .expect("stream");
    assert_eq!(stream.status().as_u16(), 200);

    let idle: Vec<TcpStream> = (0..10)
        .map(|_| TcpStream::connect(addr(&s)).expect("connect"))
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let (status, took) = timed_get(&s.url("/healthz"), Duration::from_secs(10));
    assert_eq!(status, 200);
    assert!(took < Duration::from_secs(2), "{took:?}");
    drop(idle);

    let sent = alert("during-flood", "2025-02-01T00:00:00Z", "gate-1", "intrusion");
    assert_eq!(backend.publish(sent.clone()), 1, "the stream is still subscribed");
    let mut lines = BufReader::new(stream.into_body().into_reader()).lines();
    let data = loop {
        let line = lines.next().expect("stream open").expect("line");
        if let Some(d) = line.strip_prefix("data:") {
            break d.trim().to_owned();
        }
    };
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&data).expect("json"),
        sent
    );

    // Both slots busy: the stream above and a second one.
    let second = agent()
        .get(s.url("/api/v1/alerts/stream"))
        .header("Authorization", format!("Bearer {OPS_SECRET}"))
        .call()
        .expect("second stream");
    assert_eq!(second.status().as_u16(), 200);
    let r = get(&s.url("/healthz"), None);
    assert_eq!((r.status, r.error_code().as_str()), (503, "too_many_connections"));
    assert_eq!(r.header("retry-after"), Some("1"));
    drop(second);
    drop(lines);

    // The server notices the closed streams on their next write; then there is room again.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let _ = backend
            .tx
            .send(Arc::new(alert("ping", "2025-02-01T00:00:00Z", "gate-1", "r")));
        std::thread::sleep(Duration::from_millis(50));
        if get(&s.url("/healthz"), None).status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "slots never freed");
    }
}
