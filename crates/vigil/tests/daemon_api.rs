//! The daemon on real parts: `vigil camsim` serves vtest.avi, `vigil run` analyses it with the
//! HTTP API on; the test talks to the API over HTTP: auth, cameras and their live snapshot,
//! alerts from the history with their snapshot, the metrics scrape, the query audit log, and
//! reloads (SIGHUP with a changed zone; a broken file refused while the old pipeline keeps
//! running).

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{
    Kill, Reply, camsim, free_port, request, secret_file, signal, spawn_logged, vigil, vigil_run, wait_for,
};

const TOKEN: &str = "daemon-test-token-0123456789";

/// Metric families the daemon must export.
const FAMILIES: [&str; 23] = [
    "vigil_camera_up",
    "vigil_camera_drops_total",
    "vigil_camera_state",
    "vigil_camera_frames_in_total",
    "vigil_camera_frames_analysed_total",
    "vigil_camera_frames_dropped_total",
    "vigil_camera_reconnects_total",
    "vigil_camera_decode_errors_total",
    "vigil_detector_frames_total",
    "vigil_detector_inference_seconds",
    "vigil_detector_queue_wait_seconds",
    "vigil_detector_batches_total",
    "vigil_rule_alerts_total",
    "vigil_rule_suppressed_total",
    "vigil_sink_published_total",
    "vigil_sink_failed_total",
    "vigil_sink_state",
    "vigil_outbox_pending",
    "vigil_sink_oldest_pending_seconds",
    "vigil_process_resident_memory_bytes",
    "vigil_process_threads",
    "vigil_history_alerts",
    "vigil_history_bytes",
];

fn call(method: &str, url: &str, token: Option<&str>) -> Reply {
    send(method, url, token, None)
}

fn send(method: &str, url: &str, token: Option<&str>, json: Option<&serde_json::Value>) -> Reply {
    request(method, url, token, json, Duration::from_secs(20))
}

fn pipeline_text(data: &Path, url: &str, port: u16, rule_id: &str, zone: &str) -> String {
    format!(
        r#"
[node]
id = "api-test"
data_dir = "{data}"

[detector]
intra_threads = 1

[api]
bind = "127.0.0.1:{port}"
[[api.tokens]]
name = "ops"
secret_env = "VIGIL_TEST_API_TOKEN"

[[camera]]
id = "campus"
name = "Campus"
uri = "{url}"
analysis_fps = 5

# Privacy: the top-left quarter is never shown or analysed.
[[camera.privacy_mask]]
points = [[0.0, 0.0], [0.5, 0.0], [0.5, 0.5], [0.0, 0.5]]

[[camera.rules.zone]]
id = "lawn"
points = {zone}

[[camera.rules.rule]]
id = "{rule_id}"
kind = "zone_intrusion"
zone = "lawn"
classes = ["person"]
min_inside_s = 0.5

[[sink]]
name = "jsonl"
[sink.sink.file]
path = "{data}/alerts.jsonl"
"#,
        data = data.display()
    )
}

/// Each sample line of the text format: `name{{labels}} value` with a parseable value.
fn parse_exposition(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            names.push(rest.split_whitespace().next().expect("family name").to_string());
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("bad sample line: {line}"));
        assert!(
            value.parse::<f64>().is_ok() || value == "+Inf",
            "bad value in: {line}"
        );
        let name_end = series.find('{').unwrap_or(series.len());
        assert!(
            series[..name_end]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "bad metric name in: {line}"
        );
        if name_end < series.len() {
            assert!(series.ends_with('}'), "unterminated labels in: {line}");
        }
    }
    names
}

/// The masked quarter is black (JPEG noise aside) and the rest of the view is not.
fn assert_masked(img: &image::DynamicImage) {
    let rgb = img.to_rgb8();
    let mean = |x0: u32, y0: u32, x1: u32, y1: u32| {
        let mut sum = 0u64;
        let mut n = 0u64;
        for y in y0..y1 {
            for x in x0..x1 {
                sum += rgb.get_pixel(x, y).0.iter().map(|&v| u64::from(v)).sum::<u64>();
                n += 3;
            }
        }
        sum as f64 / n as f64
    };
    let inside = mean(8, 8, 376, 280);
    let outside = mean(392, 296, 760, 568);
    assert!(inside < 4.0, "masked area must be black, mean {inside}");
    assert!(
        outside > 40.0,
        "the rest of the frame is not masked, mean {outside}"
    );
}

#[test]
fn api_metrics_and_reload_on_a_running_daemon() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let video = vigil_testkit::testdata().join("vtest.avi");
    let (_camsim, url) = camsim("/campus", &video, 0);

    let port = free_port();
    let file = dir.path().join("p.toml");
    let big = "[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]";
    std::fs::write(&file, pipeline_text(&data, &url, port, "everywhere", big)).expect("write");
    let daemon = vigil_run(&file, 90)
        .env("VIGIL_TEST_API_TOKEN", TOKEN)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("vigil run");
    let pid = daemon.id();
    let mut daemon = Kill(daemon);
    let api = format!("http://127.0.0.1:{port}");

    // Health without a token; everything else needs one.
    wait_for("healthz", 30, || {
        (call("GET", &format!("{api}/healthz"), None).status == 200).then_some(())
    });
    assert_eq!(call("GET", &format!("{api}/api/v1/cameras"), None).status, 401);
    assert_eq!(
        call(
            "GET",
            &format!("{api}/api/v1/cameras"),
            Some("wrong-token-0123456789")
        )
        .status,
        401
    );
    assert_eq!(call("GET", &format!("{api}/readyz"), None).status, 200);

    // The camera streams and has a live snapshot.
    wait_for("camera streaming", 60, || {
        let cams = call("GET", &format!("{api}/api/v1/cameras"), Some(TOKEN)).json();
        (cams[0]["state"] == "streaming" && cams[0]["counters"]["frames_analysed"].as_u64() > Some(0))
            .then_some(())
    });
    let snap = call(
        "GET",
        &format!("{api}/api/v1/cameras/campus/snapshot.jpg"),
        Some(TOKEN),
    );
    assert_eq!(snap.status, 200);
    let img = image::load_from_memory(&snap.body).expect("camera snapshot is a JPEG");
    assert_eq!((img.width(), img.height()), (768, 576));
    assert_masked(&img);

    // Alerts land in the history with their snapshot.
    let alert = wait_for("an alert in the history", 60, || {
        let list = call(
            "GET",
            &format!("{api}/api/v1/alerts?camera=campus&limit=5"),
            Some(TOKEN),
        )
        .json();
        list.as_array().and_then(|a| a.first().cloned())
    });
    assert_eq!(alert["rule"]["id"], "everywhere");
    assert_eq!(alert["has_snapshot"], true);
    assert!(
        alert.get("snapshot_base64").is_none(),
        "snapshot bytes are not inlined in listings"
    );
    let id = alert["id"].as_str().expect("id");
    let one = call(
        "GET",
        &format!("{api}/api/v1/alerts/{id}/snapshot.jpg"),
        Some(TOKEN),
    );
    assert_eq!(one.status, 200);
    let shot = image::load_from_memory(&one.body).expect("alert snapshot is an image");
    assert_masked(&shot);
    // No detection from inside the mask raised an alert.
    let b = &alert["detection"]["box_px"];
    let cx = (b["x1"].as_f64().expect("x1") + b["x2"].as_f64().expect("x2")) / 2.0;
    let cy = (b["y1"].as_f64().expect("y1") + b["y2"].as_f64().expect("y2")) / 2.0;
    assert!(
        !(cx < 384.0 && cy < 288.0),
        "alert from inside the privacy mask: {b}"
    );

    // Acknowledgement: recorded once, visible on the alert.
    let ack = send(
        "POST",
        &format!("{api}/api/v1/alerts/{id}/ack"),
        Some(TOKEN),
        Some(&serde_json::json!({"note": "seen"})),
    );
    assert_eq!(ack.status, 200, "{}", String::from_utf8_lossy(&ack.body));
    let again = send(
        "POST",
        &format!("{api}/api/v1/alerts/{id}/ack"),
        Some(TOKEN),
        None,
    );
    assert_eq!(again.status, 409);
    let got = call("GET", &format!("{api}/api/v1/alerts/{id}"), Some(TOKEN)).json();
    assert_eq!(got["ack"]["by"], "ops");
    assert_eq!(got["ack"]["note"], "seen");

    // Metrics: parseable text with the families listed in docs/operations.md.
    let m = call("GET", &format!("{api}/metrics"), None);
    assert_eq!(m.status, 200);
    let text = String::from_utf8(m.body).expect("utf-8");
    let names = parse_exposition(&text);
    for f in FAMILIES {
        assert!(
            names.iter().any(|n| n == f),
            "family {f} missing from the scrape:\n{text}"
        );
    }
    assert!(text.contains("vigil_camera_up{camera=\"campus\"} 1"), "{text}");
    // The history file exists (redb pre-allocates): its size is reported, not the -1/0 of a
    // failed read.
    let history_bytes: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("vigil_history_bytes "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("vigil_history_bytes has no value:\n{text}"));
    assert!(history_bytes > 0, "{text}");
    assert!(!text.contains(TOKEN));

    // Reload by SIGHUP: a new rule id on a smaller zone is live without restarting.
    let small = "[[0.4, 0.4], [0.6, 0.4], [0.6, 0.6], [0.4, 0.6]]";
    std::fs::write(&file, pipeline_text(&data, &url, port, "middle-only", small)).expect("rewrite");
    assert!(signal(pid, "-HUP"));
    wait_for("the reloaded rule", 30, || {
        let rules = call("GET", &format!("{api}/api/v1/rules"), Some(TOKEN)).json();
        (rules["cameras"]["campus"]["rule"][0]["id"] == "middle-only").then_some(())
    });
    let cams = call("GET", &format!("{api}/api/v1/cameras"), Some(TOKEN)).json();
    assert_eq!(
        cams[0]["counters"]["reconnects"], 0,
        "a rules-only change does not restart the stream"
    );
    // Every drop shows in the camera's own figures: the total is ingest + detector.
    let k = &cams[0]["counters"];
    let n = |key: &str| k[key].as_u64().unwrap_or_else(|| panic!("{key} missing: {k}"));
    assert_eq!(
        n("frames_dropped"),
        n("frames_dropped_ingest") + n("frames_dropped_detector"),
        "{k}"
    );
    n("plate_jobs_dropped");

    // The zone editor's save: invalid rules are refused and nothing is written; valid ones are
    // applied and kept in the overlay next to the pipeline file.
    let overlay = dir.path().join("p.rules-overlay.toml");
    let mut rules =
        call("GET", &format!("{api}/api/v1/rules"), Some(TOKEN)).json()["cameras"]["campus"].clone();
    rules["zone"][0]["points"] = serde_json::json!([[0.1, 0.1], [0.2, 0.2]]);
    let bad = send(
        "PUT",
        &format!("{api}/api/v1/cameras/campus/rules"),
        Some(TOKEN),
        Some(&rules),
    );
    assert_eq!(bad.status, 422, "{}", String::from_utf8_lossy(&bad.body));
    assert!(!overlay.exists(), "a refused edit writes nothing");
    rules["zone"][0]["points"] = serde_json::json!([[0.1, 0.1], [0.9, 0.1], [0.9, 0.9]]);
    rules["rule"][0]["id"] = serde_json::json!("edited-in-console");
    let ok = send(
        "PUT",
        &format!("{api}/api/v1/cameras/campus/rules"),
        Some(TOKEN),
        Some(&rules),
    );
    assert_eq!(ok.status, 200, "{}", String::from_utf8_lossy(&ok.body));
    let live = call("GET", &format!("{api}/api/v1/rules"), Some(TOKEN)).json();
    assert_eq!(live["cameras"]["campus"]["rule"][0]["id"], "edited-in-console");
    let check = vigil(&["check"], &file);
    assert!(
        check.status.success(),
        "the overlay keeps the file valid: {}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(
        std::fs::read_to_string(&overlay)
            .expect("overlay written")
            .contains("edited-in-console")
    );

    // Counters stay monotonic across a zone-editor save that keeps the rule (issue #16): the
    // rule's engine is rebuilt and counts from 0, the exported counter does not.
    let rule_alerts = || {
        let text = String::from_utf8(call("GET", &format!("{api}/metrics"), None).body).expect("utf-8");
        text.lines()
            .filter(|l| l.starts_with("vigil_rule_alerts_total{") && l.contains("rule=\"edited-in-console\""))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum::<u64>()
    };
    let before = wait_for("an alert of the edited rule", 60, || {
        let n = rule_alerts();
        (n > 0).then_some(n)
    });
    rules["zone"][0]["points"] = serde_json::json!([[0.1, 0.1], [0.9, 0.1], [0.9, 0.95]]);
    let ok = send(
        "PUT",
        &format!("{api}/api/v1/cameras/campus/rules"),
        Some(TOKEN),
        Some(&rules),
    );
    assert_eq!(ok.status, 200, "{}", String::from_utf8_lossy(&ok.body));
    std::thread::sleep(Duration::from_secs(2));
    let after = rule_alerts();
    assert!(
        after >= before,
        "vigil_rule_alerts_total went back from {before} to {after}"
    );
    std::fs::remove_file(&overlay).expect("remove overlay");

    // A broken file is refused through the API and the running pipeline keeps its rules.
    std::fs::write(&file, "[node]\nid = 3\n").expect("break");
    let r = call("POST", &format!("{api}/api/v1/reload"), Some(TOKEN));
    assert_eq!(r.status, 422, "{}", String::from_utf8_lossy(&r.body));
    assert!(
        String::from_utf8_lossy(&r.body).contains("p.toml:2"),
        "error names file:line"
    );
    let rules = call("GET", &format!("{api}/api/v1/rules"), Some(TOKEN)).json();
    assert_eq!(
        rules["cameras"]["campus"]["rule"][0]["id"], "edited-in-console",
        "the running rules are untouched by the refused reload"
    );

    // Queries of the alert history were audited under the token's name; the chain verifies.
    let audit = data.join("api-audit.jsonl");
    let log = std::fs::read_to_string(&audit).expect("audit log");
    assert!(
        log.lines()
            .any(|l| l.contains("\"who\":\"ops\"") && l.contains("/api/v1/alerts")),
        "{log}"
    );
    assert!(!log.contains(TOKEN));
    let v = vigil(&["audit-verify"], &audit);
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));

    // Graceful stop on SIGTERM, within bounds.
    let stopped = Instant::now();
    signal(pid, "-TERM");
    let status = wait_for("exit after SIGTERM", 40, || daemon.0.try_wait().ok().flatten());
    assert!(status.success(), "exit status {status:?}");
    assert!(stopped.elapsed() < Duration::from_secs(40));
    let mut err = String::new();
    if let Some(mut e) = daemon.0.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    assert!(!err.contains(TOKEN), "the token leaked into the log");
    assert!(
        err.contains("reload applied"),
        "the SIGHUP reload is logged:\n{err}"
    );

    // The audit chains' heads were logged at stop (the external anchor); the API query log
    // verifies against the last one, and a forged anchor is refused.
    let anchor = err
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["fields"]["message"] == "audit anchor" && v["fields"]["log"] == "api-queries")
        .filter_map(|v| v["fields"]["anchor"].as_str().map(String::from))
        .next_back()
        .unwrap_or_else(|| panic!("no audit anchor logged:\n{err}"));
    let verify = |anchor: &str| {
        Command::new(env!("CARGO_BIN_EXE_vigil"))
            .arg("audit-verify")
            .arg(&audit)
            .args(["--anchor", anchor])
            .output()
            .expect("verify")
    };
    let v = verify(&anchor);
    assert!(
        v.status.success(),
        "{anchor}: {}",
        String::from_utf8_lossy(&v.stderr)
    );
    assert!(String::from_utf8_lossy(&v.stdout).contains(&format!("head {anchor}")));
    let (seq, _) = anchor.split_once(':').expect("SEQ:SHA256");
    let forged = format!("{seq}:{}", "ab".repeat(32));
    assert!(!verify(&forged).status.success(), "a wrong anchor must fail");
}

/// One request on an open keep-alive connection; the status code.
fn keep_alive_get(conn: &mut std::io::BufReader<std::net::TcpStream>, path: &str, token: &str) -> u16 {
    use std::io::{BufRead, Write};
    let req = format!("GET {path} HTTP/1.1\r\nHost: vigil\r\nAuthorization: Bearer {token}\r\n\r\n");
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
            len = v.trim().parse().expect("content-length");
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

/// A camera-less pipeline with `[log]` and `[api]` (one token from a file).
fn api_only_text(data: &Path, port: u16, token: &str, secret_file: &Path, level: &str) -> String {
    format!(
        r#"
[node]
id = "api-reload"
data_dir = "{data}"

[detector]
intra_threads = 1

[log]
level = "{level}"
format = "text"

[api]
bind = "127.0.0.1:{port}"
[[api.tokens]]
name = "{token}"
secret_file = "{secret}"
"#,
        data = data.display(),
        secret = secret_file.display()
    )
}

/// `[api]` and `[log]` follow a reload of a running daemon: a rotated token (SIGHUP) is refused
/// from the next request on the same keep-alive connection — the listener is not restarted —
/// while the new one is accepted; a new bind address (`POST /api/v1/reload`) moves the listener
/// and the reply says so; a taken address keeps the old listener and the reply says why; the
/// log level from the file applies at start (debug request lines) and again on reload (none
/// after), in the text format the file asked for.
#[test]
fn api_tokens_bind_and_log_level_follow_a_reload() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let (old, new) = ("reload-old-token-0123456789", "reload-new-token-0123456789");
    let (old_file, new_file) = (
        secret_file(dir.path(), "old.tok", old),
        secret_file(dir.path(), "new.tok", new),
    );
    let (port1, port2) = (free_port(), free_port());
    let file = dir.path().join("p.toml");
    // Vigil's info lines (the reload lines) and the API's debug request lines.
    let debug = "warn,vigil=info,vigil_http=debug";
    std::fs::write(&file, api_only_text(&data, port1, "ops", &old_file, debug)).expect("write");
    let log_path = dir.path().join("stderr.log");
    let mut daemon = spawn_logged(&mut vigil_run(&file, 120), &log_path);
    let pid = daemon.0.id();
    let api1 = format!("http://127.0.0.1:{port1}");
    wait_for("healthz", 60, || {
        (call("GET", &format!("{api1}/healthz"), None).status == 200).then_some(())
    });

    // One keep-alive connection, used before and after the SIGHUP rotation.
    let stream = std::net::TcpStream::connect(("127.0.0.1", port1)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut conn = std::io::BufReader::new(stream);
    assert_eq!(keep_alive_get(&mut conn, "/api/v1/cameras", old), 200);
    assert_eq!(keep_alive_get(&mut conn, "/api/v1/cameras", new), 401);
    std::fs::write(
        &file,
        api_only_text(&data, port1, "ops2", &new_file, "warn,vigil=info"),
    )
    .expect("rewrite");
    assert!(signal(pid, "-HUP"));
    wait_for("the new token on the open connection", 30, || {
        (keep_alive_get(&mut conn, "/api/v1/cameras", new) == 200).then_some(())
    });
    assert_eq!(
        keep_alive_get(&mut conn, "/api/v1/cameras", old),
        401,
        "the removed token is refused"
    );
    drop(conn);
    // Requests only made after the level went back to info: their debug lines must not appear.
    std::thread::sleep(Duration::from_millis(500));
    for _ in 0..3 {
        assert_eq!(
            call("GET", &format!("{api1}/api/v1/rules"), Some(new)).status,
            200
        );
    }

    // A new address through the API: the reply comes back on the old listener and says "moved".
    std::fs::write(
        &file,
        api_only_text(&data, port2, "ops2", &new_file, "warn,vigil=info"),
    )
    .expect("rewrite");
    let r = call("POST", &format!("{api1}/api/v1/reload"), Some(new));
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let out = r.json();
    assert_eq!(out["api"]["listener"], "moved", "{out}");
    assert_eq!(out["api"]["bind"], format!("127.0.0.1:{port2}"), "{out}");
    assert_eq!(out["applied"], true, "{out}");
    let api2 = format!("http://127.0.0.1:{port2}");
    assert_eq!(
        call("GET", &format!("{api2}/api/v1/cameras"), Some(new)).status,
        200
    );
    wait_for("the old address released", 15, || {
        (call("GET", &format!("{api1}/healthz"), None).status == 0).then_some(())
    });

    // A taken address: refused with a reason, the current listener keeps serving.
    let squatter = std::net::TcpListener::bind("127.0.0.1:0").expect("squat");
    let port3 = squatter.local_addr().expect("addr").port();
    std::fs::write(
        &file,
        api_only_text(&data, port3, "ops2", &new_file, "warn,vigil=info"),
    )
    .expect("rewrite");
    let out = call("POST", &format!("{api2}/api/v1/reload"), Some(new)).json();
    assert_eq!(out["api"]["listener"], "kept", "{out}");
    let why = out["api"]["error"].as_str().unwrap_or_default();
    assert!(why.contains(&format!("127.0.0.1:{port3}")), "{out}");
    assert_eq!(
        call("GET", &format!("{api2}/api/v1/cameras"), Some(new)).status,
        200
    );
    drop(squatter);

    assert!(signal(pid, "-TERM"));
    let status = wait_for("exit after SIGTERM", 30, || daemon.0.try_wait().ok().flatten());
    assert!(status.success(), "exit status {status:?}");
    let log = std::fs::read_to_string(&log_path).expect("log");
    assert!(
        !log.contains(old) && !log.contains(new),
        "a secret leaked into the log"
    );
    let events: Vec<&str> = log.lines().filter(|l| l.contains("vigil")).collect();
    assert!(
        events.iter().all(|l| !l.trim_start().starts_with('{')),
        "format = \"text\" gives no JSON lines:\n{log}"
    );
    assert!(
        log.lines()
            .any(|l| l.contains("DEBUG") && l.contains("API request") && l.contains("/api/v1/cameras")),
        "level from the file at start (vigil_http=debug):\n{log}"
    );
    assert!(
        !log.lines()
            .any(|l| l.contains("API request") && l.contains("/api/v1/rules")),
        "the reloaded level (info) drops the debug request lines:\n{log}"
    );
    let reloads: Vec<&str> = log.lines().filter(|l| l.contains("reload applied")).collect();
    assert_eq!(reloads.len(), 3, "one line per reload:\n{log}");
    assert!(
        reloads[0].contains("tokens added: ops2") && reloads[0].contains("tokens removed: ops"),
        "{log}"
    );
    assert!(reloads[1].contains("listener moved"), "{log}");
    assert!(reloads[2].contains("listener kept"), "{log}");
}
