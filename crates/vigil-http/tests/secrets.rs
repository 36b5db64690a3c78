//! Token secrets never reach the logs, and neither does plate text from request paths.
//!
//! Its own test binary because it installs a global log subscriber.

mod common;

use common::*;

#[test]
fn logs_and_errors_never_show_secrets_or_path_plates() {
    let capture = Capture::default();
    tracing::subscriber::set_global_default(capture.subscriber(tracing::Level::DEBUG))
        .expect("first subscriber in this binary");

    let backend = TestBackend::new();
    let s = Server::start(settings(), backend.clone());
    let near_miss = format!("{}X", &OPS_SECRET[..OPS_SECRET.len() - 1]);
    let mut bodies = Vec::new();
    for token in [Some(near_miss.as_str()), Some("short"), None] {
        let r = get(&s.url("/api/v1/alerts?camera=gate-1"), token);
        assert_eq!(r.status, 401);
        bodies.push(r.text());
    }
    let body = "plate,list,kind\n京A12345,stolen,hotlist\n";
    let r = request(
        "PUT",
        &s.url("/api/v1/watchlists/stolen?kind=hotlist"),
        Some(OPS_SECRET),
        Some("text/csv"),
        Some(body.as_bytes()),
    );
    assert_eq!(r.status, 200);
    let r = request(
        "DELETE",
        &s.url(&format!("/api/v1/watchlists/stolen/entries/{}", seg("京A12345"))),
        Some(CONSOLE_SECRET),
        None,
        None,
    );
    assert_eq!(r.status, 200);
    // A refused request with a plate in its path: the refusal is logged by route, not by path.
    let r = request(
        "DELETE",
        &s.url(&format!("/api/v1/watchlists/stolen/entries/{}", seg("京A12345"))),
        Some(near_miss.as_str()),
        None,
        None,
    );
    assert_eq!(r.status, 401);
    // The alert stream's query-string token (for EventSource), right and wrong.
    let stream = s.url(&format!(
        "/api/v1/alerts/stream?camera=gate-1&access_token={CONSOLE_SECRET}"
    ));
    let resp = agent().get(&stream).call().expect("stream");
    assert_eq!(resp.status().as_u16(), 200);
    drop(resp);
    let r = get(
        &s.url(&format!("/api/v1/alerts/stream?access_token={near_miss}")),
        None,
    );
    assert_eq!(r.status, 401);
    bodies.push(r.text());
    let audited: Vec<String> = backend.queries().into_iter().map(|q| q.2).collect();
    assert!(
        audited
            .iter()
            .any(|w| w == "GET /api/v1/alerts/stream?camera=gate-1"),
        "the stream is audited without its token: {audited:?}"
    );
    assert!(audited.iter().all(|w| !w.contains("access_token")), "{audited:?}");
    drop(s); // shutdown flushes the last lines

    let logs = capture.text();
    assert!(logs.contains("API request refused"), "{logs}");
    assert!(
        logs.contains("peer=127.0.0.1:"),
        "auth failures name the peer: {logs}"
    );
    assert!(logs.contains("path=/api/v1/alerts"), "and the route: {logs}");
    assert!(
        logs.contains("path=/api/v1/watchlists/{name}/entries/{plate}"),
        "refusals are logged by route template: {logs}"
    );
    assert!(
        logs.contains("route=/api/v1/watchlists/{name}/entries/{plate}"),
        "requests are logged by route template: {logs}"
    );
    assert!(logs.contains("caller=console"), "{logs}");
    for secret in [OPS_SECRET, CONSOLE_SECRET, near_miss.as_str()] {
        assert!(!logs.contains(secret), "{secret:?} in logs:\n{logs}");
        assert!(
            bodies.iter().all(|b| !b.contains(secret)),
            "{secret:?} in {bodies:?}"
        );
    }
    assert!(
        !logs.contains("Bearer"),
        "an Authorization header in logs:\n{logs}"
    );
    assert!(!logs.contains("京A12345"), "plate from a path in logs:\n{logs}");
    assert!(!logs.contains("%E4%BA%AC"), "encoded plate in logs:\n{logs}");
}
