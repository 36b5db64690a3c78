//! The outbox while its disk fails: a storage backend under redb that answers writes with
//! ENOSPC on demand (the real file otherwise), so a write failure and its recovery can be
//! placed exactly. The same behaviour on a real full filesystem is tested in
//! `tests/outbox_storage.rs` (a small tmpfs, where mounting is permitted).

use std::fs::{File, OpenOptions};
use std::ops::Bound;
use std::sync::atomic::{AtomicBool, Ordering};

use redb::backends::FileBackend;
use redb::{BackendError, StorageBackend};

use super::*;
use crate::meta::Severity;
use crate::route::RouteConfig;

/// ENOSPC, as the kernel reports a full disk.
fn enospc() -> std::io::Error {
    std::io::Error::from_raw_os_error(28)
}

/// A file backend whose writes fail while `full` is set.
#[derive(Debug)]
struct FullDisk {
    inner: FileBackend,
    full: Arc<AtomicBool>,
}

impl StorageBackend for FullDisk {
    fn len(&self) -> Result<u64, std::io::Error> {
        self.inner.len()
    }
    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), std::io::Error> {
        self.inner.read(offset, out)
    }
    fn set_len(&self, len: u64) -> Result<(), std::io::Error> {
        if self.full.load(Ordering::Relaxed) && len > self.inner.len()? {
            return Err(enospc());
        }
        self.inner.set_len(len)
    }
    fn sync_data(&self) -> Result<(), std::io::Error> {
        self.inner.sync_data()
    }
    fn write(&self, offset: u64, data: &[u8]) -> Result<(), std::io::Error> {
        if self.full.load(Ordering::Relaxed) {
            return Err(enospc());
        }
        self.inner.write(offset, data)
    }
    fn close(&self) -> Result<(), std::io::Error> {
        self.inner.close()
    }
    fn try_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.inner.try_lock_range(start, end)
    }
    fn try_lock_shared_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.inner.try_lock_shared_range(start, end)
    }
    fn lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.inner.lock_range(start, end)
    }
    fn lock_shared_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.inner.lock_shared_range(start, end)
    }
    fn unlock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.inner.unlock_range(start, end)
    }
    fn query_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.inner.query_lock_range(start, end)
    }
}

fn open_file(path: &Path) -> File {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .expect("open outbox file")
}

/// An outbox on `path` whose disk is full while the returned flag is set.
fn outbox_on_flaky_disk(path: &Path, config: OutboxConfig) -> (Outbox, Arc<AtomicBool>) {
    let full = Arc::new(AtomicBool::new(false));
    let flag = full.clone();
    let file_path = path.to_path_buf();
    let opener: Opener = Box::new(move || {
        let (builder, rolled_back) = store::builder();
        let backend = FullDisk {
            inner: FileBackend::new(open_file(&file_path))?,
            full: flag.clone(),
        };
        let db = builder.create_with_backend(backend)?;
        Ok(store::Opened {
            db,
            rolled_back: rolled_back.load(Ordering::Relaxed),
        })
    });
    let ob = Outbox::open_with(path.to_path_buf(), config, opener).expect("open outbox");
    (ob, full)
}

fn meta(i: u32) -> AlertMeta {
    let mut m = AlertMeta::for_test("gate-1", "zone.intrusion", Severity::High);
    m.id = format!("alert-{i:03}");
    m
}

fn enqueue(ob: &Outbox, i: u32) -> Result<Option<Seq>, OutboxError> {
    ob.enqueue_json(meta(i), serde_json::json!({ "i": i }))
}

/// Ids of the entries `sink` has to deliver, in delivery order.
fn ids_in_file(ob: &Outbox, sink: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut after = 0;
    while let Some(ev) = ob.next_for(sink, after).expect("read") {
        out.push(ev.meta.id);
        after = ev.seq;
    }
    out
}

fn config(held_max_entries: usize) -> OutboxConfig {
    OutboxConfig {
        held_max_entries,
        ..OutboxConfig::default().with_sink("bus", RouteConfig::default())
    }
}

#[test]
fn alerts_accepted_while_the_disk_is_full_are_written_in_order_once_it_has_room() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("outbox.redb");
    let (ob, full) = outbox_on_flaky_disk(&path, config(6));
    for i in 0..3 {
        enqueue(&ob, i).expect("disk has room").expect("routed");
    }
    assert!(ob.health().storage_ok);

    full.store(true, Ordering::Relaxed);
    // Every alert up to the in-memory bound is accepted; the one past it is lost, and says so.
    for i in 3..9 {
        enqueue(&ob, i)
            .unwrap_or_else(|e| panic!("alert {i} refused while the disk is full: {e}"))
            .expect("routed");
    }
    let err = enqueue(&ob, 9).expect_err("the in-memory queue holds 6");
    assert!(matches!(err, OutboxError::Unavailable { held: 6, .. }), "{err}");
    assert!(err.to_string().contains(&path.display().to_string()), "{err}");
    let h = ob.health();
    assert!(!h.storage_ok);
    assert_eq!((h.pending_in_memory, h.dropped_total), (6, 1));
    assert!(h.write_failures_total >= 1);
    assert!(
        h.last_error
            .as_deref()
            .is_some_and(|e| e.contains("No space left")),
        "{h:?}"
    );
    assert_eq!(ob.len(), 9, "held alerts count as accepted");
    assert_eq!(ob.pending_for("bus"), 9);

    // Still full: a retry fails and keeps everything.
    assert!(!ob.retry_storage().storage_ok);
    assert_eq!(ob.health().pending_in_memory, 6);

    full.store(false, Ordering::Relaxed);
    let h = ob.retry_storage();
    assert!(h.storage_ok, "{h:?}");
    assert_eq!(h.pending_in_memory, 0);
    assert!(
        h.reopens_total >= 1,
        "the latched redb handle must be replaced: {h:?}"
    );
    enqueue(&ob, 10).expect("works again").expect("routed");

    let want: Vec<String> = [0, 1, 2, 3, 4, 5, 6, 7, 8, 10]
        .iter()
        .map(|i| format!("alert-{i:03}"))
        .collect();
    assert_eq!(
        ids_in_file(&ob, "bus"),
        want,
        "nothing lost but the counted one, order kept"
    );
    assert_eq!(ob.len(), 10);
    drop(ob);
    // And it is really on disk.
    let again = Outbox::open(&path, config(6)).expect("reopen from disk");
    assert_eq!(ids_in_file(&again, "bus"), want);
}

#[test]
fn new_alerts_queue_behind_held_ones_and_the_outbox_retries_by_itself() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("outbox.redb");
    let (ob, full) = outbox_on_flaky_disk(&path, config(100));
    full.store(true, Ordering::Relaxed);
    enqueue(&ob, 0).expect("held").expect("routed");
    full.store(false, Ordering::Relaxed);
    // Within the backoff, the next alert joins the queue instead of overtaking it.
    ob.lock().storage.next_retry = Some(Instant::now() + std::time::Duration::from_secs(3600));
    enqueue(&ob, 1).expect("held").expect("routed");
    assert_eq!(ob.health().pending_in_memory, 2);
    // Once the backoff has passed, any call retries; no explicit retry_storage needed.
    ob.lock().storage.next_retry = Some(Instant::now());
    assert_eq!(ids_in_file(&ob, "bus"), ["alert-000", "alert-001"]);
    assert!(ob.health().storage_ok);
}

#[test]
fn deliveries_acknowledged_while_the_disk_is_full_are_recorded_later() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("outbox.redb");
    let (ob, full) = outbox_on_flaky_disk(&path, config(100));
    let a = enqueue(&ob, 0).expect("enq").expect("routed");
    let b = enqueue(&ob, 1).expect("enq").expect("routed");
    full.store(true, Ordering::Relaxed);
    ob.ack("bus", a).expect("ack kept in memory");
    let h = ob.health();
    assert_eq!((h.storage_ok, h.acks_in_memory), (false, 1));
    full.store(false, Ordering::Relaxed);
    assert!(ob.retry_storage().storage_ok);
    assert_eq!(ob.len(), 1);
    assert_eq!(ob.cursor("bus").expect("cursor"), a);
    assert_eq!(ids_in_file(&ob, "bus"), ["alert-001"]);
    ob.ack("bus", b).expect("ack");
    assert!(ob.is_empty());
}
