//! Faults survived by the whole daemon, on real parts.
//!
//! `kill -9` with alerts pending: `vigil run` analyses vtest.avi from camsim and raises alerts
//! while its NATS JetStream sink has no server to talk to (a private nats-server on a free port,
//! not yet started), so every alert waits in the outbox. The process is killed with SIGKILL; a
//! NATS server comes up; `vigil run` starts again on the same data directory: every alert of
//! the first run reaches the JetStream stream, each exactly once (the alert id is the
//! `Nats-Msg-Id`, so the broker drops a resend).

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{Kill, camsim, free_port, root};

const NATS_SERVER: &str = "/usr/sbin/nats-server";

fn ids_in(jsonl: &Path) -> Vec<String> {
    std::fs::read_to_string(jsonl)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["id"].as_str().map(str::to_string))
        .collect()
}

fn vigil_run(file: &Path, seconds: u64) -> Child {
    Command::new(env!("CARGO_BIN_EXE_vigil"))
        .current_dir(root())
        .args(["run", "--seconds", &seconds.to_string()])
        .arg(file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("vigil run")
}

#[test]
fn kill_9_with_alerts_pending_then_restart_delivers_every_alert_once() {
    assert!(
        Path::new(NATS_SERVER).exists(),
        "{NATS_SERVER} is needed (make setup installs it)"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let (_camsim, url) = camsim("/campus", &vigil_testkit::testdata().join("vtest.avi"), 0);
    let port = free_port();
    let jsonl = d.join("alerts.jsonl");
    let file = d.join("p.toml");
    std::fs::write(
        &file,
        format!(
            r#"
[node]
id = "fault"
data_dir = "{data}"

[detector]
intra_threads = 1

[[camera]]
id = "campus"
uri = "{url}"
analysis_fps = 5

[[camera.rules.zone]]
id = "all"
points = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]

[[camera.rules.rule]]
id = "anyone"
kind = "zone_intrusion"
zone = "all"
classes = ["person"]
min_inside_s = 0.2

[[sink]]
name = "jsonl"
[sink.sink.file]
path = "{jsonl}"

[[sink]]
name = "bus"
[sink.retry]
initial_backoff_ms = 100
max_backoff_ms = 1000
[sink.sink.nats]
url = "nats://127.0.0.1:{port}"
subject = "fault.{{camera}}.{{kind}}"
[sink.sink.nats.stream]
name = "VIGIL_FAULT"
subjects = ["fault.>"]
"#,
            data = d.join("data").display(),
            jsonl = jsonl.display(),
        ),
    )
    .expect("write pipeline");

    // Run 1: alerts pile up for the unreachable bus; then SIGKILL.
    let mut first = Kill(vigil_run(&file, 300));
    let deadline = Instant::now() + Duration::from_secs(120);
    while ids_in(&jsonl).len() < 4 {
        assert!(Instant::now() < deadline, "no alerts from the first run");
        assert!(first.0.try_wait().expect("wait").is_none(), "vigil exited early");
        std::thread::sleep(Duration::from_millis(300));
    }
    first.0.kill().expect("kill -9");
    let _ = first.0.wait();
    let before: HashSet<String> = ids_in(&jsonl).into_iter().collect();

    // The broker comes up; run 2 on the same data directory.
    let store = d.join("nats");
    let nats = Kill(
        Command::new(NATS_SERVER)
            .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
            .arg(&store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server"),
    );
    let mut second = Kill(vigil_run(&file, 25));
    let status = second.0.wait().expect("second run");
    assert!(status.success(), "second run failed: {status:?}");

    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let in_stream: Vec<String> = rt.block_on(async {
        let client = async_nats::connect(format!("nats://127.0.0.1:{port}"))
            .await
            .expect("connect");
        let js = async_nats::jetstream::new(client);
        let mut stream = js
            .get_stream("VIGIL_FAULT")
            .await
            .expect("the sink created its stream");
        let info = stream.info().await.expect("info").clone();
        let mut ids = Vec::new();
        for seq in info.state.first_sequence..=info.state.last_sequence {
            let msg = stream.get_raw_message(seq).await.expect("message");
            let ev: serde_json::Value = serde_json::from_slice(&msg.payload).expect("CloudEvent JSON");
            ids.push(ev["id"].as_str().expect("id").to_string());
        }
        ids
    });
    drop(nats);
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for id in &in_stream {
        *counts.entry(id).or_default() += 1;
    }
    let dupes: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(dupes.is_empty(), "duplicates at the consumer: {dupes:?}");
    let missing: Vec<_> = before
        .iter()
        .filter(|id| !counts.contains_key(id.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} alerts raised before kill -9 never reached the bus: {missing:?}",
        missing.len(),
        before.len()
    );
}

/// (state, frames analysed) per camera id.
type CameraView = HashMap<String, (String, u64)>;

/// (state, frames analysed) of each camera, from the API.
fn cameras(api: &str) -> CameraView {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    let Ok(mut resp) = agent.get(format!("{api}/api/v1/cameras")).call() else {
        return HashMap::new();
    };
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    v.as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            (
                c["id"].as_str().unwrap_or_default().to_string(),
                (
                    c["state"].as_str().unwrap_or_default().to_string(),
                    c["counters"]["frames_analysed"].as_u64().unwrap_or(0),
                ),
            )
        })
        .collect()
}

#[test]
fn a_camera_lost_for_10_s_recovers_and_the_other_is_unaffected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let video = vigil_testkit::testdata().join("vtest.avi");
    let (pa, pb, api_port) = (free_port(), free_port(), free_port());
    let mut cam_a = camsim("/cam", &video, pa).0;
    let _cam_b = camsim("/cam", &video, pb).0;
    let file = d.join("p.toml");
    std::fs::write(
        &file,
        format!(
            r#"
[node]
id = "lost"
data_dir = "{data}"

[detector]
intra_threads = 1

[api]
bind = "127.0.0.1:{api_port}"

[[camera]]
id = "a"
uri = "rtsp://127.0.0.1:{pa}/cam"
analysis_fps = 3

[[camera]]
id = "b"
uri = "rtsp://127.0.0.1:{pb}/cam"
analysis_fps = 3
"#,
            data = d.join("data").display(),
        ),
    )
    .expect("write");
    let _vigil = Kill(vigil_run(&file, 120));
    let api = format!("http://127.0.0.1:{api_port}");
    let wait = |what: &str, secs: u64, f: &dyn Fn(&CameraView) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let c = cameras(&api);
            if f(&c) {
                return c;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}: {c:?}");
            std::thread::sleep(Duration::from_millis(300));
        }
    };
    let both = |c: &CameraView| {
        ["a", "b"]
            .iter()
            .all(|k| c.get(*k).is_some_and(|(s, n)| s == "streaming" && *n > 0))
    };
    wait("both cameras streaming", 60, &both);

    // Camera a's server goes away for 10 s.
    drop(cam_a.0.kill());
    let _ = cam_a.0.wait();
    let lost = wait("camera a to notice", 30, &|c| {
        c.get("a").is_some_and(|(s, _)| s != "streaming")
    });
    let b_at_loss = lost["b"].1;
    std::thread::sleep(Duration::from_secs(10));
    let during = cameras(&api);
    assert_ne!(
        during["a"].0, "streaming",
        "camera a cannot stream without its server"
    );
    assert_eq!(during["b"].0, "streaming", "camera b is unaffected");
    assert!(
        during["b"].1 >= b_at_loss + 10,
        "camera b kept being analysed: {b_at_loss} → {}",
        during["b"].1
    );

    // The server returns on the same address: camera a reconnects by itself.
    let a_before = during["a"].1;
    cam_a = camsim("/cam", &video, pa).0;
    let back = wait("camera a to recover", 60, &|c| {
        c.get("a")
            .is_some_and(|(s, n)| s == "streaming" && *n > a_before + 5)
    });
    assert_eq!(back["b"].0, "streaming");
    drop(cam_a);
}
