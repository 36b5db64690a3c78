//! Graceful shutdown under load (issue 8): `vigil run` analyses two cameras from camsim at the
//! source's full frame rate — more than the one-thread detector keeps up with, so frames are
//! dropped and the detector queue is never empty — with a rule that alerts on every person, to
//! a JSON Lines sink. SIGTERM arrives mid-stream. The daemon must exit 0 within 15 s, and no
//! alert raised before the stop may be lost: every alert it printed (the `ALERT` line comes
//! after the alert is durably in the outbox) and counted in its summary is in the sink's file,
//! exactly once — delivered before exit or, if the stop's grace ran out, by the next start.

use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

mod common;
use common::{Kill, camsim, free_port, signal, vigil_run};

/// The bound the test holds the daemon to (docs/operations.md gives the worst case).
const STOP_BOUND: Duration = Duration::from_secs(15);

/// Frames the detector pool dropped because it was behind (drop-oldest per camera): load is
/// only reached once this counts.
const DETECTOR_DROPPED: &str = "vigil_detector_frames_dropped_total";

fn pipeline(data: &Path, jsonl: &Path, url: &str, port: u16, cameras: &[&str]) -> String {
    let mut t = format!(
        r#"
[node]
id = "load"
data_dir = "{data}"

[detector]
intra_threads = 1
queue_per_camera = 2

[api]
bind = "127.0.0.1:{port}"

[[sink]]
name = "jsonl"
[sink.sink.file]
path = "{jsonl}"
"#,
        data = data.display(),
        jsonl = jsonl.display()
    );
    for id in cameras {
        t += &format!(
            r#"
[[camera]]
id = "{id}"
uri = "{url}"
analysis_fps = 30

[[camera.rules.zone]]
id = "all"
points = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]

[[camera.rules.rule]]
id = "anyone"
kind = "zone_intrusion"
zone = "all"
classes = ["person"]
"#
        );
    }
    t
}

/// (camera, track) of each alert in the sink's file, and how many lines it has.
fn delivered(jsonl: &Path) -> (Vec<(String, u64)>, usize) {
    let text = std::fs::read_to_string(jsonl).unwrap_or_default();
    let mut ids = HashMap::new();
    let mut keys = Vec::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("JSONL line");
        let id = v["id"].as_str().expect("id").to_owned();
        *ids.entry(id).or_insert(0usize) += 1;
        // One CloudEvent per line; the alert is its `data`.
        let a = &v["data"];
        keys.push((
            a["camera"]["id"].as_str().expect("camera").to_owned(),
            a["detection"]["track_id"].as_u64().expect("track"),
        ));
    }
    assert!(ids.values().all(|&n| n == 1), "an alert was delivered twice");
    keys.sort();
    (keys, text.lines().count())
}

/// (camera, track) of each `ALERT` line the daemon printed.
fn printed(stdout: &str) -> Vec<(String, u64)> {
    let mut keys: Vec<(String, u64)> = stdout
        .lines()
        .filter(|l| l.starts_with("ALERT "))
        .map(|l| {
            let camera = l
                .split_whitespace()
                .find_map(|w| w.strip_prefix("camera="))
                .expect("camera=");
            let track = l
                .split(" track ")
                .nth(1)
                .and_then(|r| r.split_whitespace().next())
                .and_then(|t| t.parse().ok())
                .expect("track");
            (camera.to_owned(), track)
        })
        .collect();
    keys.sort();
    keys
}

/// Sum of a counter family over its label sets in a Prometheus text scrape.
fn sum_of(metrics: &str, family: &str) -> f64 {
    metrics
        .lines()
        .filter(|l| l.starts_with(family) && !l.starts_with('#'))
        .filter_map(|l| l.rsplit_once(' ').and_then(|(_, v)| v.parse::<f64>().ok()))
        .sum()
}

fn get(url: &str) -> Option<String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .into();
    agent.get(url).call().ok()?.into_body().read_to_string().ok()
}

#[test]
fn sigterm_under_load_exits_0_in_bounded_time_and_loses_no_alert() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (data, jsonl) = (dir.path().join("data"), dir.path().join("alerts.jsonl"));
    let (_camsim, url) = camsim("/campus", &vigil_testkit::testdata().join("vtest.avi"), 0);
    let port = free_port();
    let file = dir.path().join("p.toml");
    std::fs::write(&file, pipeline(&data, &jsonl, &url, port, &["cam-a", "cam-b"])).expect("write");
    let (out_path, err_path) = (dir.path().join("stdout"), dir.path().join("stderr"));
    let run = |file: &Path, seconds: u64| {
        vigil_run(file, seconds)
            .stdout(std::fs::File::create(&out_path).expect("stdout file"))
            .stderr(std::fs::File::create(&err_path).expect("stderr file"))
            .stdin(Stdio::null())
            .spawn()
            .expect("vigil run")
    };
    let mut daemon = Kill(run(&file, 300));

    // Load: both cameras streaming, alerts reaching the sink, the detector behind.
    let metrics_url = format!("http://127.0.0.1:{port}/metrics");
    let deadline = Instant::now() + Duration::from_secs(90);
    let metrics = loop {
        assert!(daemon.0.try_wait().expect("wait").is_none(), "vigil exited early");
        assert!(Instant::now() < deadline, "no load reached within 90 s");
        std::thread::sleep(Duration::from_millis(500));
        let Some(m) = get(&metrics_url) else { continue };
        let up = sum_of(&m, "vigil_camera_up{");
        // Steady state, not the start-up burst: a few seconds of frames through the detector.
        let analysed = sum_of(&m, "vigil_camera_frames_analysed_total");
        if up == 2.0 && analysed >= 60.0 && delivered(&jsonl).1 >= 6 && sum_of(&m, DETECTOR_DROPPED) > 0.0 {
            break m;
        }
    };
    let analysed = sum_of(&metrics, "vigil_camera_frames_analysed_total");
    let dropped = sum_of(&metrics, DETECTOR_DROPPED);
    eprintln!("at stop: {analysed} frames analysed, {dropped} dropped");

    let stopped = Instant::now();
    assert!(signal(daemon.0.id(), "-TERM"));
    let status = loop {
        if let Some(s) = daemon.0.try_wait().expect("wait") {
            break s;
        }
        assert!(
            stopped.elapsed() < STOP_BOUND,
            "still running {} s after SIGTERM",
            STOP_BOUND.as_secs()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let took = stopped.elapsed();
    eprintln!("stopped in {:.2} s", took.as_secs_f64());
    assert!(status.success(), "exit status {status:?}");

    let stdout = std::fs::read_to_string(&out_path).expect("stdout");
    let stderr = std::fs::read_to_string(&err_path).expect("stderr");
    let raised = printed(&stdout);
    let summary: usize = stderr
        .lines()
        .find_map(|l| l.strip_prefix("[vigil] frames analysed: "))
        .and_then(|l| l.rsplit_once("alerts: "))
        .and_then(|(_, n)| n.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no summary line:\n{stderr}"));
    assert!(
        stderr.contains("(lost: 0, unwritten at exit: 0)"),
        "the exit summary counts no lost alert:\n{stderr}"
    );
    assert_eq!(raised.len(), summary, "every alert counted was printed");
    assert!(summary >= 4, "alerts were flowing: {summary}");

    // Whatever the stop's grace did not deliver waits in the outbox: a restart without cameras
    // (same node, data directory and sink) delivers it.
    let (mut got, _) = delivered(&jsonl);
    if got.len() < raised.len() {
        eprintln!(
            "{} alert(s) left in the outbox; restarting to deliver",
            raised.len() - got.len()
        );
        let drain = dir.path().join("drain.toml");
        std::fs::write(&drain, pipeline(&data, &jsonl, &url, free_port(), &[])).expect("write");
        let status = Kill(run(&drain, 5)).0.wait().expect("drain run");
        assert!(status.success(), "drain run: {status:?}");
        got = delivered(&jsonl).0;
    }
    assert_eq!(got, raised, "the alerts in the sink are exactly those raised");
}
