//! The API over real HTTP on loopback: every endpoint, auth, limits, error shapes, watchlist
//! changes (atomic, audited, concurrent), the alert stream and graceful shutdown.

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};
use vigil_http::routes::ROUTES;
use vigil_http::{ApiConfig, ApiSettings, ConfigError, HttpError};
use vigil_watchlist::{ListKind, ListName, Plate, Timestamp, Watchlist, WatchlistEntry, csv_io};

const T: Option<&str> = Some(OPS_SECRET);

fn csv_of(name: &str, plates: &[&str]) -> Vec<u8> {
    let list_name = ListName::parse(name).expect("name");
    let entries = plates
        .iter()
        .map(|p| {
            WatchlistEntry::new(
                Plate::parse(p).expect("plate"),
                list_name.clone(),
                ListKind::Hotlist,
            )
        })
        .collect();
    let list = Watchlist::new(list_name, ListKind::Hotlist, entries).expect("list");
    let mut out = Vec::new();
    csv_io::write_csv(&mut out, [&list]).expect("csv");
    out
}

fn put_csv(s: &Server, name: &str, kind: Option<&str>, body: &[u8]) -> Reply {
    let q = kind.map(|k| format!("?kind={k}")).unwrap_or_default();
    request(
        "PUT",
        &s.url(&format!("/api/v1/watchlists/{name}{q}")),
        T,
        Some("text/csv"),
        Some(body),
    )
}

#[test]
fn cameras_rules_health_metrics_reload_and_openapi() {
    let backend = TestBackend::new();
    let s = Server::start(settings(), backend.clone());

    let r = get(&s.url("/api/v1/cameras"), T);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let cams = r.json();
    assert_eq!(cams.as_array().map(Vec::len), Some(2));
    assert_eq!(cams[0]["id"], "gate-1");
    assert_eq!(cams[0]["counters"]["frames_in"], 1000);
    assert_eq!(cams[1]["state"], "reconnecting");

    let r = get(&s.url("/api/v1/cameras/yard"), T);
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json()["last_error"],
        "rtsp://admin:***@10.0.0.9/stream: timeout"
    );
    let r = get(&s.url("/api/v1/cameras/nope"), T);
    assert_eq!((r.status, r.error_code().as_str()), (404, "camera_not_found"));

    let r = get(&s.url("/api/v1/cameras/gate-1/snapshot.jpg"), T);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("image/jpeg"));
    assert_eq!(r.body, backend.frame_jpeg);
    assert_eq!(&r.body[..2], &[0xFF, 0xD8]);
    let r = get(&s.url("/api/v1/cameras/yard/snapshot.jpg"), T);
    assert_eq!((r.status, r.error_code().as_str()), (503, "no_frame"));

    let r = get(&s.url("/api/v1/rules"), T);
    assert_eq!(r.json()["cameras"]["yard"]["rule"][0]["id"], "intrusion");

    let r = get(&s.url("/healthz"), None);
    assert_eq!((r.status, r.json()), (200, json!({"status": "ok"})));
    let r = get(&s.url("/readyz"), None);
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["checks"][0]["name"], "outbox");
    assert_eq!(r.json()["checks"][0]["required"], true);
    backend.ready.store(false, Ordering::SeqCst);
    let r = get(&s.url("/readyz"), None);
    assert_eq!(r.status, 503);
    assert_eq!(r.json()["ready"], false);
    assert_eq!(r.json()["checks"][0]["detail"], "no space left on device");

    let r = get(&s.url("/metrics"), None);
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    assert!(r.text().contains("vigil_frames_in_total{camera=\"gate-1\"} 1000"));

    let r = request("POST", &s.url("/api/v1/reload"), Some(CONSOLE_SECRET), None, None);
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["applied"], true);
    assert_eq!(r.json()["cameras_restarted"], json!(["yard"]));
    assert_eq!(*backend.reloads.lock().expect("lock"), vec!["console".to_owned()]);

    // The document served is the one the route table is checked against, and lists them all.
    let r = get(&s.url("/api/v1/openapi.json"), T);
    assert_eq!(r.status, 200);
    let doc = r.json();
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(p, item)| {
            item.as_object()
                .expect("item")
                .keys()
                .map(move |m| (m.to_uppercase(), p.clone()))
        })
        .collect();
    let served: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|r| (r.method.to_owned(), r.path.to_owned()))
        .collect();
    assert_eq!(documented, served);
}

#[test]
fn every_route_in_the_table_is_served() {
    let s = Server::start(settings(), TestBackend::new());
    for r in ROUTES {
        let path = r
            .path
            .replace("{id}", "x")
            .replace("{name}", "x")
            .replace("{plate}", "x");
        if r.path.ends_with("/stream") {
            continue; // never ends by itself; covered by the stream test
        }
        let reply = request(r.method, &s.url(&path), T, None, None);
        // Any answer but "no such route" / "wrong method" shows the route is wired.
        let code = if reply.status >= 400 {
            reply.error_code()
        } else {
            String::new()
        };
        assert!(
            code != "not_found" && code != "method_not_allowed",
            "{r:?}: {} {code}",
            reply.status
        );
    }
}

#[test]
fn alert_history_filters_limits_and_audits_every_query() {
    let backend = TestBackend::new();
    let s = Server::start(settings(), backend.clone());

    let r = get(&s.url("/api/v1/alerts"), T);
    assert_eq!(r.status, 200);
    let ids: Vec<Value> = r
        .json()
        .as_array()
        .expect("array")
        .iter()
        .map(|a| a["id"].clone())
        .collect();
    assert_eq!(ids, vec![json!("a3"), json!("a2"), json!("a1")], "newest first");

    let r = get(&s.url("/api/v1/alerts?camera=gate-1&limit=1"), T);
    assert_eq!(r.json(), json!([backend.alerts[2]]), "limit enforced by the API");
    let r = get(
        &s.url("/api/v1/alerts?rule=intrusion&since=2025-01-31T08:30:00Z&until=2025-01-31T09:30:00%2B00:00"),
        T,
    );
    assert_eq!(r.json(), json!([backend.alerts[1]]));

    for bad in [
        "limit=abc",
        "limit=1001",
        "limit=0",
        "since=yesterday",
        "since=2025-01-31T10:00:00Z&until=2025-01-31T09:00:00Z",
        "camra=gate-1",
    ] {
        let r = get(&s.url(&format!("/api/v1/alerts?{bad}")), T);
        assert_eq!((r.status, r.error_code().as_str()), (400, "bad_query"), "{bad}");
    }

    let r = get(&s.url("/api/v1/alerts/a2"), T);
    assert_eq!(r.json()["camera"]["id"], "yard");
    let r = get(&s.url("/api/v1/alerts/zzz"), T);
    assert_eq!((r.status, r.error_code().as_str()), (404, "alert_not_found"));
    let r = get(&s.url("/api/v1/alerts/a1/snapshot.jpg"), T);
    assert_eq!(r.header("content-type"), Some("image/jpeg"));
    assert_eq!(r.body, b"jpeg-of-a1");

    let q = backend.queries();
    assert!(
        q.iter()
            .all(|(who, source, _)| who == "ops" && source.starts_with("127.0.0.1:")),
        "{q:?}"
    );
    let whats: Vec<&str> = q.iter().map(|(_, _, w)| w.as_str()).collect();
    assert!(
        whats.contains(&"GET /api/v1/alerts?camera=gate-1&limit=1"),
        "{whats:?}"
    );
    assert!(whats.contains(&"GET /api/v1/alerts/a2"), "{whats:?}");
    assert!(whats.contains(&"GET /api/v1/alerts/a1/snapshot.jpg"), "{whats:?}");
    assert!(
        !whats.iter().any(|w| w.contains("limit=abc")),
        "rejected queries answer nothing"
    );

    // An audit log that cannot be written refuses the query before the backend is asked.
    backend.audit_fails.store(true, Ordering::SeqCst);
    let calls = backend.alert_calls.load(Ordering::SeqCst);
    let r = get(&s.url("/api/v1/alerts"), T);
    assert_eq!((r.status, r.error_code().as_str()), (503, "audit_unavailable"));
    assert_eq!(backend.alert_calls.load(Ordering::SeqCst), calls);
    let r = get(&s.url("/api/v1/watchlists"), T);
    assert_eq!(r.status, 503);
}

#[test]
fn auth_is_required_except_on_health_and_metrics() {
    let s = Server::start(settings(), TestBackend::new());
    let r = get(&s.url("/api/v1/cameras"), None);
    assert_eq!((r.status, r.error_code().as_str()), (401, "unauthorized"));
    assert_eq!(r.header("www-authenticate"), Some("Bearer realm=\"vigil\""));
    let r = get(&s.url("/api/v1/cameras"), Some("ops-secret-0123456789abcdeX"));
    assert_eq!(r.status, 401);
    let r = request("POST", &s.url("/api/v1/reload"), Some("nope"), None, None);
    assert_eq!(r.status, 401);
    let r = get(&s.url("/api/v1/openapi.json"), None);
    assert_eq!(r.status, 401);
    for open in ["/healthz", "/readyz", "/metrics"] {
        assert_eq!(get(&s.url(open), None).status, 200, "{open}");
    }
    assert_eq!(get(&s.url("/api/v1/cameras"), Some(CONSOLE_SECRET)).status, 200);

    let strict = ApiSettings {
        auth_metrics: true,
        ..settings()
    };
    let s2 = Server::start(strict, TestBackend::new());
    assert_eq!(get(&s2.url("/metrics"), None).status, 401);
    assert_eq!(get(&s2.url("/metrics"), T).status, 200);
    assert_eq!(get(&s2.url("/healthz"), None).status, 200);
}

#[test]
fn without_tokens_on_loopback_callers_are_anonymous() {
    let backend = TestBackend::new();
    let open = ApiSettings::new("127.0.0.1:0".parse().expect("addr"), Vec::new());
    let s = Server::start(open, backend.clone());
    assert_eq!(get(&s.url("/api/v1/watchlists"), None).status, 200);
    assert_eq!(backend.queries()[0].0, "anonymous");
}

#[test]
fn unknown_routes_methods_and_malformed_bodies_get_json_errors() {
    let s = Server::start(settings(), TestBackend::new());
    let r = get(&s.url("/api/v2/cameras"), T);
    assert_eq!((r.status, r.error_code().as_str()), (404, "not_found"));
    let r = get(&s.url("/nothing"), None);
    assert_eq!((r.status, r.error_code().as_str()), (404, "not_found"));
    let r = request("DELETE", &s.url("/api/v1/cameras"), T, None, None);
    assert_eq!((r.status, r.error_code().as_str()), (405, "method_not_allowed"));

    let entries = s.url("/api/v1/watchlists/hot/entries?kind=hotlist");
    let r = request(
        "POST",
        &entries,
        T,
        Some("application/json"),
        Some(b"{\"plate\": "),
    );
    assert_eq!((r.status, r.error_code().as_str()), (400, "malformed_json"));
    assert!(r.json()["error"]["detail"]["line"].is_number());
    let r = request(
        "POST",
        &entries,
        T,
        Some("application/json"),
        Some(b"{\"plate\": 5}"),
    );
    assert_eq!((r.status, r.error_code().as_str()), (422, "invalid_body"));
    let r = request(
        "POST",
        &entries,
        T,
        Some("application/json"),
        Some(b"{\"plate\": \"A1\", \"colour\": 1}"),
    );
    assert_eq!((r.status, r.error_code().as_str()), (422, "invalid_body"));
    let r = request(
        "POST",
        &entries,
        T,
        Some("application/json"),
        Some("{\"plate\": \"京?\"}".as_bytes()),
    );
    assert_eq!((r.status, r.error_code().as_str()), (422, "invalid_body"));

    let put = s.url("/api/v1/watchlists/hot?kind=hotlist");
    let r = request("PUT", &put, T, Some("application/xml"), Some(b"<x/>"));
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (415, "unsupported_media_type")
    );
    let r = request(
        "PUT",
        &put,
        T,
        Some("application/json"),
        Some(b"{\"name\": \"hot\","),
    );
    assert_eq!((r.status, r.error_code().as_str()), (400, "malformed_json"));
    let r = request(
        "PUT",
        &s.url("/api/v1/watchlists/hot?kind=purple"),
        T,
        Some("text/csv"),
        Some(b"plate,list,kind\n"),
    );
    assert_eq!((r.status, r.error_code().as_str()), (400, "bad_query"));
    let r = request(
        "PUT",
        &s.url("/api/v1/watchlists/a%2Fb?kind=hotlist"),
        T,
        Some("text/csv"),
        Some(b"plate,list,kind\n"),
    );
    assert_eq!((r.status, r.error_code().as_str()), (400, "bad_list_name"));
    let r = request(
        "PUT",
        &s.url("/api/v1/watchlists/newlist"),
        T,
        Some("text/csv"),
        Some(b"plate,list,kind\n"),
    );
    assert_eq!((r.status, r.error_code().as_str()), (400, "kind_required"));
}

#[test]
fn bodies_over_the_limit_are_refused_with_413_and_at_the_limit_accepted() {
    const LIMIT: usize = 64 * 1024;
    let backend = TestBackend::new();
    let s = Server::start(
        ApiSettings {
            max_body_bytes: LIMIT,
            ..settings()
        },
        backend.clone(),
    );
    let head = "plate,list,kind,note\n京A12345,big,hotlist,";
    let pad = LIMIT - head.len() - 1;
    let exact = format!("{head}{}\n", "x".repeat(pad));
    assert_eq!(exact.len(), LIMIT);
    let over = format!("{head}{}\n", "x".repeat(pad + 1));
    let r = put_csv(&s, "big", Some("hotlist"), over.as_bytes());
    assert_eq!((r.status, r.error_code().as_str()), (413, "body_too_large"));
    assert!(
        backend.live.list_names().expect("names").is_empty(),
        "nothing stored"
    );
    let r = put_csv(&s, "big", Some("hotlist"), exact.as_bytes());
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["after"], 1);
}

#[test]
fn watchlist_upload_export_entry_changes_and_audit() {
    let backend = TestBackend::new();
    let s = Server::start(settings(), backend.clone());
    let upload = csv_of("stolen", &["京A12345", "沪B67890"]);
    let r = put_csv(&s, "stolen", Some("hotlist"), &upload);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json(),
        json!({"list": "stolen", "before": 0, "after": 2, "added": 2, "removed": 0})
    );

    let r = get(&s.url("/api/v1/watchlists"), T);
    assert_eq!(
        r.json(),
        json!([{"name": "stolen", "kind": "hotlist", "entries": 2}])
    );
    let r = get(&s.url("/api/v1/watchlists/stolen?format=csv"), T);
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
    assert_eq!(r.body, upload, "CSV export equals the upload");
    let doc = get(&s.url("/api/v1/watchlists/stolen"), T);
    assert_eq!(doc.json()["kind"], "hotlist");
    assert_eq!(doc.json()["entries"][1]["plate"], "沪B67890");
    assert_eq!(get(&s.url("/api/v1/watchlists/stolen?format=xml"), T).status, 400);
    let r = get(&s.url("/api/v1/watchlists/ghost"), T);
    assert_eq!((r.status, r.error_code().as_str()), (404, "watchlist_not_found"));

    // The JSON export is accepted back (round trip), and must name the list in the URL.
    let r = request(
        "PUT",
        &s.url("/api/v1/watchlists/stolen"),
        T,
        Some("application/json"),
        Some(&doc.body),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        (r.json()["added"].clone(), r.json()["removed"].clone()),
        (json!(0), json!(0))
    );
    let r = request(
        "PUT",
        &s.url("/api/v1/watchlists/other"),
        T,
        Some("application/json"),
        Some(&doc.body),
    );
    assert_eq!((r.status, r.error_code().as_str()), (422, "name_mismatch"));
    let r = request(
        "PUT",
        &s.url("/api/v1/watchlists/stolen?kind=allowlist"),
        T,
        Some("application/json"),
        Some(&doc.body),
    );
    assert_eq!((r.status, r.error_code().as_str()), (422, "kind_mismatch"));

    let entries = s.url("/api/v1/watchlists/stolen/entries");
    let body = json!({"plate": "粤C11111", "priority": "high", "reason": "case 7"}).to_string();
    let r = request(
        "POST",
        &entries,
        T,
        Some("application/json"),
        Some(body.as_bytes()),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["after"], 3);
    let now = Timestamp::now();
    assert!(
        !backend.live.index().lookup("粤C11111", now).is_empty(),
        "index follows"
    );
    let r = request(
        "POST",
        &entries,
        T,
        Some("application/json"),
        Some(body.as_bytes()),
    );
    assert_eq!((r.status, r.error_code().as_str()), (409, "invalid_change"));
    let r = request(
        "POST",
        &s.url("/api/v1/watchlists/fresh/entries"),
        T,
        Some("application/json"),
        Some(body.as_bytes()),
    );
    assert_eq!((r.status, r.error_code().as_str()), (404, "watchlist_not_found"));
    let r = request(
        "POST",
        &s.url("/api/v1/watchlists/fresh/entries?kind=allowlist"),
        T,
        Some("application/json"),
        Some(body.as_bytes()),
    );
    assert_eq!(r.status, 201, "created with ?kind");

    // Any spelling with the same matching key removes the entry.
    let r = request(
        "DELETE",
        &s.url(&format!("/api/v1/watchlists/stolen/entries/{}", seg("京A·12345"))),
        T,
        None,
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["removed"], 1);
    assert!(
        backend
            .live
            .index()
            .lookup("京A12345", now)
            .in_list("stolen")
            .next()
            .is_none()
    );
    let r = request(
        "DELETE",
        &s.url(&format!("/api/v1/watchlists/stolen/entries/{}", seg("京A12345"))),
        T,
        None,
        None,
    );
    assert_eq!((r.status, r.error_code().as_str()), (404, "plate_not_found"));

    // Every change is in the hash-chained log with the token's name and the peer address.
    let r = get(&s.url("/api/v1/audit/watchlists?limit=3"), Some(CONSOLE_SECRET));
    assert_eq!(r.status, 200);
    let a = r.json();
    let recs = a["records"].as_array().expect("records");
    assert_eq!(recs.len(), 3);
    assert_eq!(recs[2]["action"], "remove_entry");
    assert_eq!(recs[2]["plate"], "京A12345");
    assert_eq!(recs[2]["who"], "ops");
    assert!(
        recs[2]["source"]
            .as_str()
            .is_some_and(|s| s.starts_with("127.0.0.1:"))
    );
    assert_eq!(a["head"].as_str().map(str::len), Some(64));
    let all = get(&s.url("/api/v1/audit/watchlists"), T).json();
    // replace, replace (round trip), add, add (new list), remove; refused changes left no line.
    assert_eq!(all["records"].as_array().map(Vec::len), Some(5));
    assert_eq!(all["records"][0]["seq"], 1);
    assert_eq!(get(&s.url("/api/v1/audit/watchlists?limit=5000"), T).status, 400);
    let q = backend.queries();
    assert!(
        q.iter()
            .any(|(who, _, w)| who == "console" && w == "GET /api/v1/audit/watchlists?limit=3")
    );
    assert!(
        q.iter()
            .any(|(_, _, w)| w == "GET /api/v1/watchlists/stolen?format=csv")
    );
}

#[test]
fn csv_with_one_bad_row_is_rejected_naming_the_row_and_changes_nothing() {
    let backend = TestBackend::new();
    let s = Server::start(settings(), backend.clone());
    let good = csv_of("stolen", &["京A12345"]);
    assert_eq!(put_csv(&s, "stolen", Some("hotlist"), &good).status, 200);
    let before_file =
        std::fs::read(backend.live.with_store(|st| st.dir().join("stolen.json"))).expect("file");
    let before_audit = get(&s.url("/api/v1/audit/watchlists"), T).json();

    let bad = "plate,list,kind\n沪B00001,stolen,hotlist\n粤C0000!,stolen,hotlist\n京D22222,stolen,hotlist\n";
    let r = put_csv(&s, "stolen", Some("hotlist"), bad.as_bytes());
    assert_eq!((r.status, r.error_code().as_str()), (422, "invalid_import"));
    let e = r.json();
    assert_eq!(e["error"]["detail"]["row"], 3, "{e}");
    assert_eq!(e["error"]["detail"]["column"], "plate", "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("row 3")),
        "{e}"
    );

    let after_file = std::fs::read(backend.live.with_store(|st| st.dir().join("stolen.json"))).expect("file");
    assert_eq!(before_file, after_file, "list file unchanged");
    assert_eq!(get(&s.url("/api/v1/watchlists/stolen?format=csv"), T).body, good);
    assert!(
        backend
            .live
            .index()
            .lookup("沪B00001", Timestamp::now())
            .is_empty(),
        "index unchanged"
    );
    assert_eq!(
        get(&s.url("/api/v1/audit/watchlists"), T).json(),
        before_audit,
        "no audit line"
    );
}

#[test]
fn concurrent_replaces_leave_exactly_one_upload() {
    let backend = TestBackend::new();
    let s = Server::start(settings(), backend.clone());
    let a_plates = ["京A11111", "京A22222", "京A33333"];
    let b_plates = ["沪B44444", "沪B55555"];
    let a = csv_of("hot", &a_plates);
    let b = csv_of("hot", &b_plates);
    const ROUNDS: usize = 15;
    std::thread::scope(|scope| {
        for body in [&a, &b] {
            let s = &s;
            scope.spawn(move || {
                for _ in 0..ROUNDS {
                    let r = put_csv(s, "hot", Some("hotlist"), body);
                    assert_eq!(r.status, 200, "{}", r.text());
                }
            });
        }
    });
    let export = get(&s.url("/api/v1/watchlists/hot?format=csv"), T).body;
    let (winner, loser): (&[&str], &[&str]) = if export == a {
        (&a_plates, &b_plates)
    } else {
        assert_eq!(export, b, "the list is exactly one of the uploads");
        (&b_plates, &a_plates)
    };
    let index = backend.live.index();
    let now = Timestamp::now();
    assert_eq!(index.len(), winner.len(), "index holds the same list as the file");
    assert!(winner.iter().all(|p| !index.lookup(p, now).is_empty()));
    assert!(loser.iter().all(|p| index.lookup(p, now).is_empty()));
    let audit = get(&s.url("/api/v1/audit/watchlists?limit=1000"), T).json();
    assert_eq!(
        audit["records"].as_array().map(Vec::len),
        Some(2 * ROUNDS),
        "one line per replace"
    );
}

/// Reads SSE lines until an event of `kind` arrives; returns its data.
fn next_event(lines: &mut impl Iterator<Item = std::io::Result<String>>, kind: &str) -> Value {
    let mut current = String::new();
    for line in lines {
        let line = line.expect("stream line");
        if let Some(ev) = line.strip_prefix("event: ") {
            current = ev.to_owned();
        } else if let Some(data) = line.strip_prefix("data: ")
            && current == kind
        {
            return serde_json::from_str(data).expect("event data is JSON");
        }
    }
    panic!("stream ended before a {kind} event");
}

#[test]
fn alert_stream_delivers_broadcasts_and_ends_on_shutdown() {
    let backend = TestBackend::new();
    let mut s = Server::start(settings(), backend.clone());
    let resp = agent()
        .get(s.url("/api/v1/alerts/stream"))
        .header("Authorization", format!("Bearer {OPS_SECRET}"))
        .call()
        .expect("stream");
    assert_eq!(resp.status().as_u16(), 200);
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    assert_eq!(ct.as_deref(), Some("text/event-stream"));
    assert!(
        backend
            .queries()
            .iter()
            .any(|(_, _, w)| w == "GET /api/v1/alerts/stream"),
        "audited"
    );

    // The handler subscribed before the response headers were sent.
    let sent = alert("live-1", "2025-02-01T00:00:00Z", "gate-1", "intrusion");
    assert_eq!(backend.tx.send(Arc::new(sent.clone())).expect("a subscriber"), 1);
    let mut lines = BufReader::new(resp.into_body().into_reader()).lines();
    assert_eq!(next_event(&mut lines, "alert"), sent);

    // A client that falls behind is told how many it missed.
    for i in 0..40 {
        let _ = backend.tx.send(Arc::new(alert(
            &format!("x{i}"),
            "2025-02-01T00:00:01Z",
            "yard",
            "r",
        )));
    }
    let missed = next_event(&mut lines, "lagged");
    // 40 sent into a 16-slot channel: at least 24 minus what the stream took during the burst.
    let missed = missed["missed"].as_u64().expect("missed count");
    assert!((1..=24).contains(&missed), "{missed}");

    // Shutdown ends the open stream and the server returns well within the grace period.
    let started = Instant::now();
    s.shutdown(Duration::from_secs(10)).expect("clean shutdown");
    assert!(
        started.elapsed() < vigil_http::SHUTDOWN_GRACE,
        "{:?}",
        started.elapsed()
    );
    // What is left is at most the alerts already queued before shutdown, then a clean end
    // of stream (a read error here would mean the stream was cut or hung until the timeout).
    let rest: Vec<String> = lines
        .map(|l| l.unwrap_or_else(|e| panic!("stream did not end cleanly: {e}")))
        .collect();
    assert!(
        started.elapsed() < vigil_http::SHUTDOWN_GRACE,
        "{:?}",
        started.elapsed()
    );
    let ids: Vec<&str> = rest.iter().filter_map(|l| l.strip_prefix("id: ")).collect();
    assert!(ids.iter().all(|id| id.starts_with('x')), "{ids:?}");
}

#[test]
fn non_loopback_without_token_is_refused_and_busy_port_is_reported() {
    let cfg = ApiConfig {
        bind: "0.0.0.0:8480".parse().expect("addr"),
        ..ApiConfig::default()
    };
    let err = cfg.resolve().expect_err("refused");
    assert!(matches!(err, ConfigError::OpenNonLoopback { .. }));
    assert!(err.to_string().contains("api.insecure"), "{err}");

    let s = Server::start(settings(), TestBackend::new());
    let taken: std::net::SocketAddr = s.base.trim_start_matches("http://").parse().expect("addr");
    let backend: Arc<dyn vigil_http::Backend> = TestBackend::new();
    let settings = ApiSettings::new(taken, tokens());
    let r = s
        .runtime()
        .block_on(vigil_http::serve(settings, backend, std::future::pending()));
    assert!(matches!(r, Err(HttpError::Bind { .. })), "{r:?}");
}

#[test]
fn alert_streams_are_bounded_and_a_closed_one_frees_its_slot() {
    let backend = TestBackend::new();
    let s = Server::start(
        ApiSettings {
            max_alert_streams: 1,
            ..settings()
        },
        backend.clone(),
    );
    let open = || {
        agent()
            .get(s.url("/api/v1/alerts/stream"))
            .header("Authorization", format!("Bearer {OPS_SECRET}"))
            .call()
            .expect("stream request")
    };
    let first = open();
    assert_eq!(first.status().as_u16(), 200);
    let second = get(&s.url("/api/v1/alerts/stream"), T);
    assert_eq!(
        (second.status, second.error_code().as_str()),
        (503, "too_many_streams")
    );
    let audited = |b: &TestBackend| {
        b.queries()
            .iter()
            .filter(|(_, _, w)| w == "GET /api/v1/alerts/stream")
            .count()
    };
    assert_eq!(audited(&backend), 1, "a refused stream is not a query");

    // The server notices the closed client on its next write; then the slot is free again.
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let _ = backend
            .tx
            .send(Arc::new(alert("ping", "2025-02-01T00:00:00Z", "gate-1", "r")));
        std::thread::sleep(Duration::from_millis(50));
        let r = open();
        if r.status().as_u16() == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "slot never freed");
    }
}

// Connection limits (cap, header and idle timeouts, floods): tests/connections.rs.

#[test]
fn an_alert_stream_outlives_the_idle_timeout() {
    let backend = TestBackend::new();
    let s = Server::start(
        ApiSettings {
            idle_timeout: Duration::from_millis(600),
            ..settings()
        },
        backend.clone(),
    );
    let resp = agent()
        .get(s.url("/api/v1/alerts/stream"))
        .header("Authorization", format!("Bearer {OPS_SECRET}"))
        .call()
        .expect("stream");
    std::thread::sleep(Duration::from_millis(2000)); // > 3 idle timeouts, only keep-alives
    let sent = alert("late", "2025-02-01T00:00:00Z", "gate-1", "intrusion");
    assert_eq!(
        backend.tx.send(Arc::new(sent.clone())).expect("still subscribed"),
        1
    );
    let mut lines = BufReader::new(resp.into_body().into_reader()).lines();
    assert_eq!(next_event(&mut lines, "alert"), sent);
}

/// Issue 16, from a schemathesis run: what the document says is what the server does.
#[test]
fn server_keeps_to_the_documented_constraints() {
    let backend = TestBackend::new();
    let s = Server::start(settings(), backend.clone());

    // `note` is a string: null is refused, and nothing is acknowledged.
    let ack = |body: &[u8]| {
        request(
            "POST",
            &s.url("/api/v1/alerts/a1/ack"),
            T,
            Some("application/json"),
            Some(body),
        )
    };
    let r = ack(br#"{"note": null}"#);
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (422, "invalid_body"),
        "{}",
        r.text()
    );
    assert!(backend.acks.lock().expect("lock").is_empty());
    assert_eq!(ack(b"{}").status, 200);

    // List names in URLs are exact: no spaces around them (the document's pattern).
    let r = get(&s.url("/api/v1/watchlists/%20stolen"), T);
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (400, "bad_list_name"),
        "{}",
        r.text()
    );
    let r = request(
        "DELETE",
        &s.url("/api/v1/watchlists/a%20b/entries/X1"),
        T,
        None,
        None,
    );
    assert_eq!((r.status, r.error_code().as_str()), (400, "bad_list_name"));

    // Messages name lists as text, never as a Rust debug dump (`ListName("fresh")`).
    let r = put_csv(&s, "fresh", None, &csv_of("fresh", &["京A12345"]));
    assert_eq!((r.status, r.error_code().as_str()), (400, "kind_required"));
    let entry = br#"{"plate": "A12345"}"#;
    let r2 = request(
        "POST",
        &s.url("/api/v1/watchlists/fresh/entries"),
        T,
        Some("application/json"),
        Some(entry),
    );
    assert_eq!(r2.status, 404);
    for r in [&r, &r2] {
        let message = r.json()["error"]["message"].as_str().expect("message").to_owned();
        assert!(message.contains("list \"fresh\""), "{message}");
        assert!(!message.contains("ListName"), "{message}");
    }

    // since must be before until; the 400 names both.
    let r = get(
        &s.url("/api/v1/alerts?since=2025-01-31T08:00:00Z&until=2025-01-31T08:00:00Z"),
        T,
    );
    assert_eq!((r.status, r.error_code().as_str()), (400, "bad_query"));
    let message = r.json()["error"]["message"].as_str().expect("message").to_owned();
    assert!(
        message.contains("since") && message.contains("until"),
        "{message}"
    );
}

/// Issue 16: the CSV download is safe to open in a spreadsheet and uploads back unchanged.
#[test]
fn csv_download_defuses_formulas_and_uploads_back_unchanged() {
    let s = Server::start(settings(), TestBackend::new());
    let formula = "=HYPERLINK(\"http://evil.example\",\"open\")";
    let body = json!({"plate": "-A12345", "reason": "+cmd|' /C calc'!A0", "note": formula});
    let r = request(
        "POST",
        &s.url("/api/v1/watchlists/suspects/entries?kind=hotlist"),
        T,
        Some("application/json"),
        Some(body.to_string().as_bytes()),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let csv = get(&s.url("/api/v1/watchlists/suspects?format=csv"), T).text();
    let row = csv.lines().nth(1).expect("one row");
    assert!(row.starts_with("'-A12345,suspects,hotlist,"), "{row}");
    assert!(row.contains("'+cmd|"), "{row}");
    assert!(row.contains("\"'=HYPERLINK("), "{row}");

    let r = put_csv(&s, "suspects", None, csv.as_bytes());
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        (r.json()["added"].clone(), r.json()["removed"].clone()),
        (json!(0), json!(0))
    );
    let doc = get(&s.url("/api/v1/watchlists/suspects"), T).json();
    let e = &doc["entries"][0];
    assert_eq!(
        (&e["plate"], &e["reason"], &e["note"]),
        (&body["plate"], &body["reason"], &body["note"])
    );
}
