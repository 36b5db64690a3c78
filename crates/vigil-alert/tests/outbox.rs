//! Outbox behaviour through the public API: crash safety (SIGKILL of a child process), the
//! full-outbox policy, corrupt files and their recovery, the wire schema and snapshot cap, and
//! delivery to the JSONL file sink.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use tokio::sync::watch;
use vigil_alert::sink::file::{FileConfig, FileSink};
use vigil_alert::{CloudEvent, Outbox, OutboxConfig, OutboxError, RouteConfig, delivery, recover};
use vigil_core::alert::{AlertKind, Severity};

/// Env var telling the (ignored) child test where its outbox is.
const CHILD_ENV: &str = "VIGIL_ALERT_CRASH_CHILD_OUTBOX";
/// Alerts the child enqueues before it is killed.
const CHILD_ALERTS: u32 = 25;

fn config() -> OutboxConfig {
    OutboxConfig::default().with_sink("file", RouteConfig::default())
}

fn read_jsonl(path: &Path) -> Vec<CloudEvent> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("line is a CloudEvent"))
        .collect()
}

/// Runs delivery to a JSONL file until the outbox is empty; returns the file's events.
async fn deliver_to_file(ob: &Outbox, file: PathBuf) -> Vec<CloudEvent> {
    let (stop, shutdown) = watch::channel(false);
    let sink = FileSink::new("file", FileConfig::with_path(&file)).expect("sink");
    let d = delivery::spawn(ob.clone(), "file", sink, fast_retry(), shutdown);
    assert!(
        eventually(Duration::from_secs(20), || ob.is_empty()).await,
        "outbox not drained: {}",
        ob.len()
    );
    stop.send_replace(true);
    assert!(
        d.join(Duration::from_secs(5)).await,
        "delivery did not stop in time"
    );
    read_jsonl(&file)
}

/// The child half of `kill_9_before_delivery_loses_nothing`: enqueues, reports each id on
/// stdout, then waits to be killed. Ignored in normal runs; a no-op without its env var.
#[test]
#[ignore = "run only as the crash child of kill_9_before_delivery_loses_nothing"]
fn crash_child() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let ob = Outbox::open(&path, config()).expect("child opens outbox");
    for a in alerts(&["gate-1", "gate-2"], CHILD_ALERTS) {
        ob.enqueue(&a).expect("child enqueue");
        // Only printed after the commit returned: the parent may kill us at any point after.
        println!("ENQUEUED {} {}", a.id, a.camera.id);
    }
    println!("DONE");
    std::thread::sleep(Duration::from_secs(600));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_before_delivery_loses_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("outbox.redb");
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "crash_child",
            "--ignored",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(CHILD_ENV, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn child");
    let stdout = child.stdout.take().expect("stdout");
    let mut acknowledged = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("read child");
        // libtest may print "test crash_child ... " on the same line as the first output.
        if let Some(rest) = line.split_once("ENQUEUED ").map(|(_, r)| r) {
            let mut parts = rest.split(' ');
            acknowledged.push((parts.next().unwrap().to_owned(), parts.next().unwrap().to_owned()));
        }
        if line.ends_with("DONE") {
            break;
        }
    }
    child.kill().expect("SIGKILL child");
    child.wait().expect("reap child");
    assert_eq!(
        acknowledged.len(),
        CHILD_ALERTS as usize,
        "child did not finish enqueuing"
    );

    let ob = Outbox::open(&path, config()).expect("reopen after kill -9");
    assert_eq!(ob.len(), u64::from(CHILD_ALERTS));
    let got = deliver_to_file(&ob, dir.path().join("alerts.jsonl")).await;
    let got_ids: Vec<(String, String)> = got.iter().map(|e| (e.id.clone(), e.subject.clone())).collect();
    assert_eq!(
        got_ids, acknowledged,
        "every acknowledged alert, in enqueue order"
    );
}

#[test]
fn full_outbox_refuses_low_severity_then_everything_at_the_hard_cap() {
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = OutboxConfig {
        max_entries: 5,
        hard_max_entries: 8,
        ..config()
    };
    let ob = Outbox::open(dir.path().join("o.redb"), cfg).expect("open");
    let low = |i| alert("c1", AlertKind::Loitering, Severity::Low, i);
    let high = |i| alert("c1", AlertKind::PlateHotlist, Severity::High, i);
    for i in 0..5 {
        ob.enqueue(&low(i))
            .expect("below the soft limit")
            .expect("routed");
    }
    let err = ob.enqueue(&low(5)).expect_err("soft limit refuses low");
    assert!(
        matches!(
            err,
            OutboxError::Full {
                severity: Severity::Low,
                entries: 5,
                ..
            }
        ),
        "{err}"
    );
    for i in 0..3 {
        ob.enqueue(&high(i)).expect("high passes the soft limit");
    }
    let crit = alert("c1", AlertKind::ZoneIntrusion, Severity::Critical, 9);
    assert!(
        matches!(ob.enqueue(&crit), Err(OutboxError::Full { .. })),
        "hard cap refuses critical too"
    );
    assert_eq!((ob.len(), ob.refused()), (8, 2));

    // Draining below the soft limit lets low alerts in again.
    let mut after = 0;
    for _ in 0..4 {
        let ev = ob.next_for("file", after).expect("next").expect("entry");
        ob.ack("file", ev.seq).expect("ack");
        after = ev.seq;
    }
    ob.enqueue(&low(6)).expect("accepted after draining");
}

#[test]
fn corrupt_file_gives_a_clear_error_and_recover_moves_it_aside() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("outbox.redb");
    let garbage: Vec<u8> = (0..64 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&path, &garbage).expect("write garbage");

    let err = Outbox::open(&path, config()).expect_err("garbage must not open");
    let text = err.to_string();
    assert!(matches!(err, OutboxError::Corrupt { .. }), "{text}");
    assert!(
        text.contains(&path.display().to_string()) && text.contains("vigil outbox recover"),
        "{text}"
    );

    let moved = recover(&path, false).expect("recover").moved_to;
    assert!(!path.exists());
    assert_eq!(
        std::fs::read(&moved).expect("moved file kept"),
        garbage,
        "recovery must not alter the file"
    );
    assert!(
        moved
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("outbox.redb.corrupt-")
    );
    let ob = Outbox::open(&path, config()).expect("fresh outbox after recovery");
    assert!(ob.is_empty());
    drop(ob);
    // A second recovery in the same second must not overwrite the first.
    let second = recover(&path, true)
        .expect("recover again (a fresh outbox needs --force)")
        .moved_to;
    assert_ne!(second, moved);
    assert!(moved.exists());
}

#[test]
fn truncated_outbox_file_is_reported_as_corrupt() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("outbox.redb");
    {
        let ob = Outbox::open(&path, config()).expect("open");
        for a in alerts(&["c1"], 5) {
            ob.enqueue(&a).expect("enqueue");
        }
    }
    let len = std::fs::metadata(&path).expect("meta").len();
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .expect("open file");
    f.set_len(len / 3).expect("truncate");
    drop(f);
    match Outbox::open(&path, config()) {
        Err(OutboxError::Corrupt { .. } | OutboxError::Storage { .. }) => {}
        Err(other) => panic!("unexpected error kind: {other}"),
        Ok(ob) => panic!("truncated outbox opened with {} entries", ob.len()),
    }
}

#[test]
fn every_alert_kind_matches_the_schema_and_snapshots_are_capped() {
    let validator = schema();
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = OutboxConfig {
        snapshot_cap_bytes: 1024,
        ..config()
    };
    let ob = Outbox::open(dir.path().join("o.redb"), cfg).expect("open");
    for (i, kind) in AlertKind::ALL.into_iter().enumerate() {
        let mut a = alert("cam", kind, Severity::Medium, i as u32);
        if i % 2 == 1 {
            a.snapshot = Some(vec![7; 4096]); // over the 1 KiB cap
        }
        let seq = ob.enqueue(&a).expect("enqueue").expect("routed");
        let ev = ob.next_for("file", seq - 1).expect("read").expect("entry");
        let ce = check_event(&validator, &ev.body);
        if i % 2 == 1 {
            assert_eq!(ce.data["snapshot_truncated"], true);
            assert!(ce.data.get("snapshot_base64").is_none());
            assert!(ev.body.len() < 2048, "over-cap snapshot must not be in the body");
        } else {
            use base64::Engine as _;
            let b64 = ce.data["snapshot_base64"].as_str().expect("snapshot embedded");
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .expect("base64");
            assert_eq!(Some(bytes), a.snapshot);
        }
    }
    // The validator really checks: a wrong severity and an unknown field are caught.
    let mut bad = serde_json::to_value(alert("cam", AlertKind::Crowding, Severity::Low, 0)).expect("json");
    bad["severity"] = "urgent".into();
    assert!(!validator.is_valid(&bad));
    let mut bad = serde_json::to_value(alert("cam", AlertKind::Crowding, Severity::Low, 0)).expect("json");
    bad["plate_text"] = "X".into();
    assert!(!validator.is_valid(&bad));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_sink_receives_everything_in_order_and_routes_apply() {
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = OutboxConfig::default().with_sink(
        "file",
        RouteConfig {
            kinds: vec!["plate.*".into()],
            ..Default::default()
        },
    );
    let ob = Outbox::open(dir.path().join("o.redb"), cfg).expect("open");
    let all = alerts(&["a", "b"], 24);
    let plate: Vec<_> = all
        .iter()
        .filter(|a| a.rule.kind.as_str().starts_with("plate."))
        .cloned()
        .collect();
    for a in &all {
        ob.enqueue(a).expect("enqueue");
    }
    assert_eq!(ob.unrouted(), (all.len() - plate.len()) as u64);
    let got = deliver_to_file(&ob, dir.path().join("alerts.jsonl")).await;
    assert_same_per_camera_order(&plate, &got);
}
