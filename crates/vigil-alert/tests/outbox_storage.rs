//! The outbox against real storage trouble: a disk that fills up and grows again (a small
//! tmpfs, where mounting is permitted), a byte flipped in the file, a file truncated to 0
//! bytes, and `recover` on files that must not be moved (in use by another process, healthy).
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use vigil_alert::{FileAtOpen, Outbox, OutboxConfig, OutboxError, RouteConfig, recover};

/// Env var telling the (ignored) holder child where its outbox is.
const HOLDER_ENV: &str = "VIGIL_ALERT_HOLDER_CHILD_OUTBOX";

fn config() -> OutboxConfig {
    OutboxConfig::default().with_sink("file", RouteConfig::default())
}

/// Ids `sink` still has to deliver, in order.
fn pending_ids(ob: &Outbox) -> Vec<String> {
    let mut out = Vec::new();
    let mut after = 0;
    while let Some(ev) = ob.next_for("file", after).expect("read") {
        out.push(ev.meta.id);
        after = ev.seq;
    }
    out
}

/// Runs `f` with the log captured; returns its result and the log.
fn logged<T>(f: impl FnOnce() -> T) -> (T, String) {
    vigil_testkit::logs::logged(tracing::Level::INFO, f)
}

/// A private tmpfs of a given size, unmounted on drop.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Result<Self, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "vigil-test",
            ])
            .arg(dir.path())
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_owned());
        }
        Ok(Self { dir })
    }

    fn resize(&self, size: &str) {
        let out = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(self.dir.path())
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "remount: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

#[test]
fn alerts_survive_a_full_disk_and_reach_the_file_once_it_has_room() {
    let fs = match Tmpfs::mount("3m") {
        Ok(fs) => fs,
        Err(e) => {
            eprintln!(
                "SKIPPED: cannot mount a small tmpfs here ({e}); run the tests as root to check a real full disk"
            );
            return;
        }
    };
    let path = fs.path().join("outbox.redb");
    let ob = Outbox::open(&path, config()).expect("open on the small disk");
    // 76 alerts with 64 KiB snapshots: about 6 MiB of events for a 3 MiB disk.
    let mut sent = alerts(&["gate-1", "gate-2"], 76);
    for (i, a) in sent.iter_mut().enumerate() {
        a.snapshot = Some(vec![i as u8; 64 * 1024]);
    }
    let mut first_held = None;
    for (i, a) in sent.iter().enumerate() {
        ob.enqueue(a)
            .unwrap_or_else(|e| panic!("alert {i} refused: {e}"))
            .expect("routed");
        if first_held.is_none() && !ob.health().storage_ok {
            first_held = Some(i);
        }
    }
    let h = ob.health();
    assert!(
        first_held.is_some() && !h.storage_ok,
        "the disk never filled: {h:?}"
    );
    assert!(h.pending_in_memory > 0 && h.write_failures_total >= 1, "{h:?}");
    assert_eq!(h.dropped_total, 0, "{h:?}");
    assert!(
        h.last_error
            .as_deref()
            .is_some_and(|e| e.contains("No space left")),
        "{h:?}"
    );
    assert_eq!(ob.len(), 76);

    fs.resize("64m");
    let h = ob.retry_storage();
    assert!(h.storage_ok, "{h:?}");
    assert_eq!(h.pending_in_memory, 0);
    let want: Vec<String> = sent.iter().map(|a| a.id.clone()).collect();
    assert_eq!(pending_ids(&ob), want, "all 76, in order");
    drop(ob);
    let again = Outbox::open(&path, config()).expect("reopen");
    assert_eq!(pending_ids(&again), want, "on disk, not just in memory");
}

#[test]
fn a_flipped_byte_is_detected_at_open_and_recover_moves_the_file() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("outbox.redb");
    let marker = "flip-target-zone-0123456789";
    {
        let ob = Outbox::open(&path, config()).expect("open");
        for (i, mut a) in alerts(&["gate-1"], 12).into_iter().enumerate() {
            a.snapshot = Some(vec![i as u8; 8 * 1024]);
            if i == 0 {
                a.context.zone = Some(marker.into());
            }
            ob.enqueue(&a).expect("enqueue");
        }
    }
    let mut bytes = std::fs::read(&path).expect("read");
    let mut flipped = 0;
    let mut at = 0;
    // Every copy: a copy-on-write file may also hold stale ones in free pages.
    while let Some(pos) = bytes[at..]
        .windows(marker.len())
        .position(|w| w == marker.as_bytes())
    {
        bytes[at + pos + 5] ^= 0x01;
        flipped += 1;
        at += pos + marker.len();
    }
    assert!(flipped > 0, "marker not found in the file");
    std::fs::write(&path, &bytes).expect("write");

    let err = Outbox::open(&path, config()).expect_err("a damaged page must not open");
    let text = err.to_string();
    assert!(matches!(err, OutboxError::Corrupt { .. }), "{text}");
    assert!(
        text.contains(&path.display().to_string()) && text.contains("vigil outbox recover"),
        "{text}"
    );
    let done = recover(&path, false).expect("a damaged file is moved");
    assert_eq!(
        std::fs::read(&done.moved_to).expect("kept"),
        bytes,
        "moved unaltered"
    );
    assert!(!path.exists());
    let ob = Outbox::open(&path, config()).expect("fresh outbox");
    assert_eq!(ob.moved_aside().len(), 1, "the moved file is reported at start");
    assert_eq!(ob.moved_aside()[0].path, done.moved_to);
}

#[test]
fn an_empty_outbox_file_is_started_as_new_with_a_warning() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("outbox.redb");
    std::fs::write(&path, b"").expect("truncate to 0 bytes");
    let (ob, log) = logged(|| Outbox::open(&path, config()).expect("open"));
    assert_eq!(ob.file_at_open(), FileAtOpen::Empty);
    assert!(ob.is_empty());
    assert!(
        log.contains("WARN") && log.contains("0 bytes") && log.contains(&path.display().to_string()),
        "{log}"
    );
    drop(ob);
    let ob = Outbox::open(&path, config()).expect("reopen");
    assert_eq!(ob.file_at_open(), FileAtOpen::Existing);
    let fresh = Outbox::open(dir.path().join("other.redb"), config()).expect("new");
    assert_eq!(fresh.file_at_open(), FileAtOpen::Created);
}

/// The child half of `recover_refuses_a_file_in_use_and_a_healthy_one`: opens the outbox,
/// stores alerts, says so and waits to be killed. Ignored in normal runs.
#[test]
#[ignore = "run only as the holder child of recover_refuses_a_file_in_use_and_a_healthy_one"]
fn holder_child() {
    let Ok(path) = std::env::var(HOLDER_ENV) else {
        return;
    };
    let ob = Outbox::open(&path, config()).expect("child opens outbox");
    for a in alerts(&["gate-1"], 3) {
        ob.enqueue(&a).expect("child enqueue");
    }
    println!("HOLDING");
    std::thread::sleep(Duration::from_secs(600));
}

fn refusal(err: &OutboxError) -> String {
    assert!(matches!(err, OutboxError::RecoverRefused { .. }), "{err}");
    err.to_string()
}

#[test]
fn recover_refuses_a_file_in_use_and_a_healthy_one() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("outbox.redb");
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "holder_child",
            "--ignored",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(HOLDER_ENV, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn child");
    let stdout = child.stdout.take().expect("stdout");
    let ready = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .any(|l| l.ends_with("HOLDING"));
    assert!(ready, "child did not open the outbox");

    // In use: refused, with or without --force, and the file stays.
    for force in [false, true] {
        let text = refusal(&recover(&path, force).expect_err("in use"));
        assert!(
            text.contains(&path.display().to_string()) && text.contains("open in another process"),
            "{text}"
        );
    }
    assert!(path.exists());
    child.kill().expect("kill child");
    child.wait().expect("reap child");

    // Healthy (even after kill -9): refused without --force, naming what it holds.
    let text = refusal(&recover(&path, false).expect_err("healthy"));
    assert!(
        text.contains("opens cleanly") && text.contains("3 undelivered") && text.contains("--force"),
        "{text}"
    );
    assert!(path.exists());
    let leftovers: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p != &path)
        .collect();
    assert!(
        leftovers.is_empty(),
        "the check leaves nothing behind: {leftovers:?}"
    );

    let done = recover(&path, true).expect("--force moves it");
    assert!(!path.exists() && done.moved_to.exists());
    let (ob, log) = logged(|| Outbox::open(&path, config()).expect("fresh outbox"));
    let moved = ob.moved_aside();
    assert_eq!(moved.len(), 1);
    assert_eq!(
        (moved[0].path.clone(), moved[0].entries),
        (done.moved_to.clone(), Some(3))
    );
    assert!(
        log.contains("moved aside")
            && log.contains(&done.moved_to.display().to_string())
            && log.contains("undelivered=3"),
        "{log}"
    );
}

#[test]
fn recover_names_a_missing_file() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("outbox.redb");
    let text = refusal(&recover(&path, true).expect_err("missing"));
    assert!(
        text.contains(&path.display().to_string()) && text.contains("cannot read it"),
        "{text}"
    );
}
