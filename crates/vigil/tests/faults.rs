//! Faults survived by the whole daemon, on real parts.
//!
//! `kill -9` with alerts pending: `vigil run` analyses vtest.avi from camsim and raises alerts
//! while its NATS JetStream sink has no server to talk to (a private nats-server on a free port,
//! not yet started), so every alert waits in the outbox. The process is killed with SIGKILL; a
//! NATS server comes up; `vigil run` starts again on the same data directory: every alert of
//! the first run reaches the JetStream stream, each exactly once (the alert id is the
//! `Nats-Msg-Id`, so the broker drops a resend).
//!
//! NATS down for 30 s: the private server is stopped mid-run while alerts keep being raised,
//! then started again on the same port and store; every alert reaches a JetStream consumer
//! exactly once.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{Kill, campus_anyone, camsim, free_port, spawn_logged, tail, terminate, vigil_run};

const NATS_SERVER: &str = "/usr/sbin/nats-server";

/// The alert ids in the JSONL file so far (a line still being written is skipped).
fn ids_in(jsonl: &Path) -> Vec<String> {
    std::fs::read_to_string(jsonl)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["id"].as_str().map(str::to_string))
        .collect()
}

/// `vigil run` with its output discarded.
fn run_quiet(file: &Path, seconds: u64) -> Child {
    vigil_run(file, seconds)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("vigil run")
}

/// The pipeline of the NATS fault tests: the campus camera alerting on everyone (see
/// [`campus_anyone`]), delivering to `d/alerts.jsonl` (the reference of what was raised) and to
/// the JetStream stream `stream` on the private server at `port`, on subjects
/// `NODE.camera.kind`. `node_extra` goes at the end of the `[node]` table.
fn nats_pipeline(d: &Path, node: &str, node_extra: &str, url: &str, port: u16, stream: &str) -> String {
    format!(
        r#"
[node]
id = "{node}"
data_dir = "{data}"
{node_extra}
[detector]
intra_threads = 1
{camera}
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
subject = "{node}.{{camera}}.{{kind}}"
[sink.sink.nats.stream]
name = "{stream}"
subjects = ["{node}.>"]
"#,
        data = d.join("data").display(),
        jsonl = d.join("alerts.jsonl").display(),
        camera = campus_anyone(url),
    )
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
    std::fs::write(&file, nats_pipeline(d, "fault", "", &url, port, "VIGIL_FAULT")).expect("write pipeline");

    // Run 1: alerts pile up for the unreachable bus; then SIGKILL.
    let mut first = Kill(run_quiet(&file, 300));
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
    let nats = nats_server(port, &store);
    let mut second = Kill(run_quiet(&file, 25));
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
    let _vigil = Kill(run_quiet(&file, 120));
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

/// Starts a private JetStream server on `port` storing in `store`, and waits until it listens.
fn nats_server(port: u16, store: &Path) -> Kill {
    let server = Kill(
        Command::new(NATS_SERVER)
            .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
            .arg(store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nats-server"),
    );
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + Duration::from_secs(15);
    while std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_err() {
        assert!(
            Instant::now() < deadline,
            "nats-server did not listen on {port} within 15 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    server
}

/// NATS stopped for 30 s mid-run: `vigil run` analyses vtest.avi (camsim) with a zone over the
/// whole view, so every person who appears raises an alert (about one every 3 s on this clip),
/// delivering to a JSONL file (the reference of what was raised) and to a private JetStream
/// server. Once the bus has alerts, the server is stopped
/// (SIGTERM) for 30 s while alerts keep being raised, then started again on the same port and
/// store. Every alert of the file must reach a JetStream consumer exactly once, soon after.
#[test]
fn nats_down_for_30_s_mid_run_then_every_alert_arrives_once() {
    use common::jetstream::Reader;
    const OUTAGE: Duration = Duration::from_secs(30);
    const STREAM: &str = "VIGIL_OUTAGE";
    assert!(
        Path::new(NATS_SERVER).exists(),
        "{NATS_SERVER} is needed (make setup installs it)"
    );
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let (_camsim, url) = camsim("/campus", &vigil_testkit::testdata().join("vtest.avi"), 0);
    let port = free_port();
    let store = d.join("nats");
    let mut nats = nats_server(port, &store);
    let jsonl = d.join("alerts.jsonl");
    let file = d.join("p.toml");
    let no_snapshots = "# Not needed here, and JPEG encoding is CPU the loaded test machine lacks.\nsnapshot_max_bytes = 0\n";
    std::fs::write(
        &file,
        nats_pipeline(d, "outage", no_snapshots, &url, port, STREAM),
    )
    .expect("write pipeline");
    let log = d.join("vigil.log");
    let mut vigil = spawn_logged(&mut vigil_run(&file, 300), &log);
    let alive = |vigil: &mut Kill, when: &str| {
        assert!(
            vigil.0.try_wait().expect("wait").is_none(),
            "vigil exited {when}:\n{}",
            tail(&log, 30)
        );
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let nats_url = format!("nats://127.0.0.1:{port}");

    // Running normally: alerts reach the bus.
    rt.block_on(async {
        let js = async_nats::jetstream::new(async_nats::connect(&nats_url).await.expect("connect"));
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(mut s) = js.get_stream(STREAM).await
                && s.info().await.is_ok_and(|i| i.state.messages >= 1)
            {
                break;
            }
            assert!(Instant::now() < deadline, "no alert reached the bus in 60 s");
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    });
    alive(&mut vigil, "before the outage");

    // The outage.
    assert!(
        terminate(&mut nats, Duration::from_secs(10)).is_some(),
        "nats-server ignored SIGTERM"
    );
    let at_stop: HashSet<String> = ids_in(&jsonl).into_iter().collect();
    let outage_end = Instant::now() + OUTAGE;
    while Instant::now() < outage_end {
        std::thread::sleep(Duration::from_millis(500));
        alive(&mut vigil, "during the NATS outage");
    }
    let at_restart: HashSet<String> = ids_in(&jsonl).into_iter().collect();
    let raised_meanwhile = at_restart.difference(&at_stop).count();
    assert!(
        raised_meanwhile > 0,
        "no alert was raised during the outage: the test proves nothing"
    );

    // The server returns on the same port and store; everything arrives, once.
    let _nats = nats_server(port, &store);
    let back = Instant::now();
    let mut reader = rt.block_on(async {
        let js = async_nats::jetstream::new(async_nats::connect(&nats_url).await.expect("reconnect"));
        let mut r = Reader::open(&js, STREAM).await;
        let ok = r
            .until(Duration::from_secs(30), |got| {
                let seen: HashSet<&str> = got.iter().map(|d| d.id()).collect();
                at_restart.iter().all(|id| seen.contains(id.as_str()))
            })
            .await;
        assert!(
            ok,
            "{} of {} alerts raised before the server returned did not arrive within 30 s",
            at_restart.len() - r.counts().keys().filter(|k| at_restart.contains(*k)).count(),
            at_restart.len()
        );
        r
    });
    let recovered_in = back.elapsed();

    // Stop vigil; whatever it raised until then arrives too.
    let status = terminate(&mut vigil, Duration::from_secs(30));
    assert!(
        status.is_some_and(|s| s.success()),
        "vigil did not stop cleanly on SIGTERM ({status:?}):\n{}",
        tail(&log, 30)
    );
    let all: HashSet<String> = ids_in(&jsonl).into_iter().collect();
    rt.block_on(async {
        let ok = reader
            .until(Duration::from_secs(15), |got| {
                let seen: HashSet<&str> = got.iter().map(|d| d.id()).collect();
                all.iter().all(|id| seen.contains(id.as_str()))
            })
            .await;
        assert!(ok, "alerts raised before vigil stopped never arrived");
        // Anything stored beyond that would be a duplicate or a stray: read it too.
        let stored = reader.stored().await;
        reader
            .until(Duration::from_secs(5), |got| got.len() as u64 >= stored)
            .await;
    });
    // The broker drops a resend only when it carries the alert id as `Nats-Msg-Id`.
    for d in &reader.got {
        assert_eq!(d.msg_id.as_deref(), Some(d.id()), "Nats-Msg-Id is the alert id");
    }
    let counts = reader.counts();
    let dupes: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(dupes.is_empty(), "duplicates at the consumer: {dupes:?}");
    let got: HashSet<String> = counts.into_keys().collect();
    assert_eq!(
        got, all,
        "the consumer received exactly the alerts that were raised"
    );
    eprintln!(
        "outage: {} alerts ({} raised during the {} s outage) delivered once each; all raised \
         by then arrived {:.1} s after the server returned; total {:.1} s",
        all.len(),
        raised_meanwhile,
        OUTAGE.as_secs(),
        recovered_in.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}
