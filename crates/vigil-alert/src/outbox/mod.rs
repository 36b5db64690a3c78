//! The on-disk outbox: alerts wait here, durably, until every sink that must carry them has
//! acknowledged them.
//!
//! Storage is a single redb file with four tables:
//!
//! | table     | key         | value                                              |
//! |-----------|-------------|----------------------------------------------------|
//! | `headers` | seq (u64)   | JSON [`Header`]: meta, enqueue time, pending sinks |
//! | `bodies`  | seq (u64)   | CloudEvent JSON bytes                              |
//! | `cursors` | sink name   | last seq the sink acknowledged                     |
//! | `meta`    | `next_seq`  | next sequence number (survives an empty outbox)    |
//!
//! Every write commits with [`Durability::Immediate`] (fsync) before returning, so an
//! `enqueue` that returned `Ok` survives `kill -9` and power loss — while the file can be
//! written. When it cannot (disk full, I/O error) the outbox keeps accepted alerts in memory,
//! bounded, reopens the file and writes them once it works again ([`health`] has the details;
//! [`Outbox::health`] reports it). Each sink delivers in sequence order and acknowledges one
//! entry at a time, so order per camera is kept, also across restarts. An ack removes the sink
//! from the entry's pending list; the entry is deleted when the list is empty. Entries pending
//! for a sink that is no longer configured are kept (and reported at open) until
//! [`Outbox::forget_sink`] is called: a renamed sink in a config must not silently drop alerts.
//!
//! At open the whole file is verified (see [`store`]); a 0-byte file is initialised as a new
//! outbox with a warning ([`FileAtOpen::Empty`]), and files an earlier `vigil outbox recover`
//! moved aside are reported ([`Outbox::moved_aside`]).
//!
//! Calls block on disk I/O; async callers wrap them in `spawn_blocking` (the delivery loop
//! does). All writers serialise on one mutex, which also keeps the in-memory counters exact.

mod config;
mod health;
mod recover;
mod store;
mod txn;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use redb::{Database, ReadableDatabase, TableDefinition};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

pub use config::{Admission, OutboxConfig, SinkRoute, admit};
pub use health::OutboxHealth;
pub use recover::{MovedAside, Recovered, moved_aside, recover};
pub use store::FileAtOpen;

use crate::error::OutboxError;
use crate::event::{CloudEvent, Event};
use crate::meta::AlertMeta;
use health::{Held, StorageState};
use store::{Opener, is_storage_failure, storage};
use txn::{AckError, AckOutcome, ReadError, ack_txn, closed_error, create_tables, read_next, write_entries};

/// Position of an entry in the outbox; increases with every stored alert, never reused.
pub type Seq = u64;

const HEADERS: TableDefinition<u64, &[u8]> = TableDefinition::new("headers");
const BODIES: TableDefinition<u64, &[u8]> = TableDefinition::new("bodies");
const CURSORS: TableDefinition<&str, u64> = TableDefinition::new("cursors");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const NEXT_SEQ: &str = "next_seq";

/// What is stored beside each body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    meta: AlertMeta,
    enqueued_at_ms: u64,
    body_len: u64,
    /// Sinks that still have to acknowledge this entry.
    sinks: Vec<String>,
}

/// Handle to an open outbox; cheap to clone, shareable across threads.
#[derive(Clone)]
pub struct Outbox {
    inner: Arc<Inner>,
}

struct Inner {
    /// `None` while the file is closed after an I/O error and could not be reopened yet.
    /// Readers hold the read lock for the length of their transaction, so a reopen (write
    /// lock) never closes the file under them.
    db: RwLock<Option<Database>>,
    opener: Opener,
    path: PathBuf,
    config: OutboxConfig,
    state: Mutex<State>,
    /// Last stored seq; delivery loops wait on it instead of polling.
    tail: watch::Sender<Seq>,
    refused: AtomicU64,
    unrouted: AtomicU64,
    /// Mirrors [`StorageState::degraded`] so readers can skip the lock when all is well.
    degraded: AtomicBool,
    file_at_open: FileAtOpen,
    moved_aside: Vec<MovedAside>,
}

struct State {
    next_seq: Seq,
    /// Accepted entries not yet acknowledged by all their sinks: in the file or held in memory.
    entries: u64,
    /// Their bytes (headers and bodies).
    bytes: u64,
    pending: HashMap<String, u64>,
    /// True from the first refusal until the outbox is below its soft limits again, so a full
    /// outbox logs once per episode instead of once per alert.
    full_episode: bool,
    storage: StorageState,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl Outbox {
    /// Opens (or creates) the outbox at `path`.
    ///
    /// A file that is not a valid outbox, or fails verification, yields
    /// [`OutboxError::Corrupt`], whose message names the file and the recovery command
    /// ([`recover`]); nothing is ever dropped silently. A 0-byte file is initialised as a new
    /// outbox with a warning; see [`Outbox::file_at_open`].
    pub fn open(path: impl AsRef<Path>, config: OutboxConfig) -> Result<Self, OutboxError> {
        let path = path.as_ref().to_path_buf();
        let opener = store::file_opener(&path);
        Self::open_with(path, config, opener)
    }

    fn open_with(path: PathBuf, config: OutboxConfig, opener: Opener) -> Result<Self, OutboxError> {
        config.validate().map_err(|e| OutboxError::Storage {
            path: path.clone(),
            detail: e.to_string(),
        })?;
        let file_at_open = FileAtOpen::probe(&path);
        if file_at_open == FileAtOpen::Empty {
            tracing::warn!(
                outbox = %path.display(),
                "outbox file is empty (0 bytes): initialising it as a new outbox; if it held alerts \
                 before, they are gone (the file was truncated outside vigil)"
            );
        }
        let opened = opener().map_err(|e| store::classify_open_error(&path, e))?;
        if opened.rolled_back {
            tracing::warn!(
                outbox = %path.display(),
                "the newest transaction in the outbox file failed verification and was rolled back to \
                 the one before: expected after a crash during a write; otherwise the file was damaged \
                 and the newest alert or delivery record may be missing"
            );
        }
        let db = opened.db;
        create_tables(&db).map_err(|e| storage(&path, e))?;
        let loaded = store::load(&db, &path)?;
        for (sink, n) in &loaded.pending {
            if !config.sinks.iter().any(|s| &s.name == sink) {
                tracing::warn!(
                    outbox = %path.display(), sink, pending = n,
                    "outbox holds alerts for a sink that is not configured; they are kept until the sink \
                     is configured again or forgotten explicitly"
                );
            }
        }
        let moved_aside = moved_aside(&path);
        for m in &moved_aside {
            match m.entries {
                Some(n) => tracing::warn!(
                    outbox = %path.display(), moved_aside = %m.path.display(), bytes = m.bytes, undelivered = n,
                    "an outbox file moved aside by `vigil outbox recover` is still here; its alerts are not \
                     delivered (inspect it, then delete it)"
                ),
                None => tracing::warn!(
                    outbox = %path.display(), moved_aside = %m.path.display(), bytes = m.bytes,
                    "an outbox file moved aside by `vigil outbox recover` is still here (unreadable, so its \
                     alerts cannot be counted); they are not delivered (inspect it, then delete it)"
                ),
            }
        }
        let last = loaded.next_seq - 1;
        Ok(Self {
            inner: Arc::new(Inner {
                db: RwLock::new(Some(db)),
                opener,
                path,
                config,
                state: Mutex::new(State {
                    next_seq: loaded.next_seq,
                    entries: loaded.entries,
                    bytes: loaded.bytes,
                    pending: loaded.pending,
                    full_episode: false,
                    storage: StorageState::new(),
                }),
                tail: watch::Sender::new(last),
                refused: AtomicU64::new(0),
                unrouted: AtomicU64::new(0),
                degraded: AtomicBool::new(false),
                file_at_open,
                moved_aside,
            }),
        })
    }

    /// Stores one alert given as envelope fields plus JSON `data`; returns its seq once the
    /// commit is on disk, or, while the file cannot be written, once it waits in memory for
    /// the file to work again ([`Outbox::health`] tells which). Alerts no sink carries are
    /// counted ([`Outbox::unrouted`]) and not stored (`Ok(None)`).
    pub fn enqueue_json(&self, meta: AlertMeta, data: serde_json::Value) -> Result<Option<Seq>, OutboxError> {
        let inner = &*self.inner;
        let sinks: Vec<String> = inner
            .config
            .sinks
            .iter()
            .filter(|s| s.route.matches(&meta))
            .map(|s| s.name.clone())
            .collect();
        if sinks.is_empty() {
            inner.unrouted.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(id = %meta.id, kind = %meta.kind, "no sink carries this alert");
            return Ok(None);
        }
        let encode = |e: serde_json::Error| OutboxError::Encode {
            id: meta.id.clone(),
            detail: e.to_string(),
        };
        let body = serde_json::to_vec(&CloudEvent::new(&inner.config.node, &meta, data)).map_err(encode)?;
        let header = Header {
            meta: meta.clone(),
            enqueued_at_ms: now_ms(),
            body_len: body.len() as u64,
            sinks,
        };
        let header_bytes = serde_json::to_vec(&header).map_err(encode)?;
        let mut entry = Held {
            seq: 0,
            sinks: header.sinks,
            header: header_bytes,
            body,
        };
        let size = entry.size();

        let mut state = self.lock();
        match admit(&inner.config, state.entries, state.bytes, size, meta.severity) {
            Admission::Accept => {}
            refusal => {
                inner.refused.fetch_add(1, Ordering::Relaxed);
                if !state.full_episode {
                    state.full_episode = true;
                    tracing::error!(
                        outbox = %inner.path.display(), entries = state.entries, bytes = state.bytes,
                        hard = (refusal == Admission::RefuseHard),
                        "outbox full: refusing alerts (logged once until it drains)"
                    );
                }
                return Err(OutboxError::Full {
                    id: meta.id,
                    severity: meta.severity,
                    entries: state.entries,
                    bytes: state.bytes,
                });
            }
        }
        if state.storage.degraded() && state.storage.retry_due(Instant::now()) {
            // Best effort: on failure the alert simply joins the queue below.
            let _ = self.retry_locked(&mut state);
        }
        entry.seq = state.next_seq;
        state.next_seq += 1;
        // Behind alerts already waiting in memory: written after them, never before.
        if state.storage.degraded() {
            return self.hold(&mut state, entry, &meta.id);
        }
        let written = match inner.db.read().unwrap_or_else(PoisonError::into_inner).as_ref() {
            Some(db) => write_entries(db, std::slice::from_ref(&entry)),
            None => Err(closed_error()),
        };
        match written {
            Ok(()) => {
                let seq = entry.seq;
                account(&mut state, &entry);
                self.update_episode(&mut state);
                drop(state);
                inner.tail.send_replace(seq);
                Ok(Some(seq))
            }
            Err(e) if is_storage_failure(&e) => {
                self.on_failure(&mut state, &e, true);
                self.hold(&mut state, entry, &meta.id)
            }
            Err(e) => Err(storage(&inner.path, e)),
        }
    }

    /// The first entry after `after` that `sink` still has to deliver, if any.
    pub fn next_for(&self, sink: &str, after: Seq) -> Result<Option<Event>, OutboxError> {
        self.retry_if_due();
        self.read(|db| read_next(db, &self.inner.path, sink, after))
    }

    /// Records that `sink` has delivered entry `seq` (durably); deletes the entry when no other
    /// sink still has to carry it. Acking an unknown or already-acked entry is a no-op. While
    /// the file cannot be written the acknowledgement waits in memory and is written with the
    /// held alerts (until then the entry still counts as pending).
    pub fn ack(&self, sink: &str, seq: Seq) -> Result<(), OutboxError> {
        let inner = &*self.inner;
        let mut state = self.lock();
        if state.storage.degraded() && state.storage.retry_due(Instant::now()) {
            let _ = self.retry_locked(&mut state);
        }
        if !state.storage.writable {
            return self.hold_ack(&mut state, sink, seq);
        }
        let done = match inner.db.read().unwrap_or_else(PoisonError::into_inner).as_ref() {
            Some(db) => ack_txn(db, &inner.path, sink, seq),
            None => Err(AckError::Storage(closed_error())),
        };
        match done {
            Ok(outcome) => {
                apply_ack(&mut state, sink, &outcome);
                self.update_episode(&mut state);
                Ok(())
            }
            Err(AckError::Storage(e)) if is_storage_failure(&e) => {
                self.on_failure(&mut state, &e, true);
                self.hold_ack(&mut state, sink, seq)
            }
            Err(AckError::Storage(e)) => Err(storage(&inner.path, e)),
            Err(AckError::Outbox(e)) => Err(e),
        }
    }

    /// Last seq `sink` acknowledged (0 if none); where its delivery resumes after a restart.
    pub fn cursor(&self, sink: &str) -> Result<Seq, OutboxError> {
        self.retry_if_due();
        self.read(|db| {
            let txn = db.begin_read()?;
            let cursors = txn.open_table(CURSORS)?;
            Ok(cursors.get(sink)?.map_or(0, |v| v.value()))
        })
    }

    /// Removes `sink` from every pending list (deleting entries nobody else needs); for a sink
    /// removed from the config on purpose. Returns how many entries it had pending.
    pub fn forget_sink(&self, sink: &str) -> Result<u64, OutboxError> {
        let mut n = 0;
        let mut after = 0;
        while let Some(ev) = self.next_for(sink, after)? {
            self.ack(sink, ev.seq)?;
            after = ev.seq;
            n += 1;
        }
        tracing::warn!(outbox = %self.inner.path.display(), sink, entries = n, "sink forgotten");
        Ok(n)
    }

    /// Entries accepted and not yet delivered to all their sinks (in the file or, while it
    /// cannot be written, in memory).
    pub fn len(&self) -> u64 {
        self.lock().entries
    }

    /// True when nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes stored (headers and bodies).
    pub fn bytes(&self) -> u64 {
        self.lock().bytes
    }

    /// Entries `sink` still has to deliver (its outbox depth).
    pub fn pending_for(&self, sink: &str) -> u64 {
        self.lock().pending.get(sink).copied().unwrap_or(0)
    }

    /// Alerts refused by the full-outbox policy since open.
    pub fn refused(&self) -> u64 {
        self.inner.refused.load(Ordering::Relaxed)
    }

    /// Alerts no configured sink carries (not stored) since open.
    pub fn unrouted(&self) -> u64 {
        self.inner.unrouted.load(Ordering::Relaxed)
    }

    /// Whether the file can be written, what waits in memory, and what was lost.
    pub fn health(&self) -> OutboxHealth {
        self.lock().storage.health()
    }

    /// Reopens the file (if a write failed) and writes what waits in memory now, without
    /// waiting for the backoff; returns the resulting health. The outbox also retries by
    /// itself on enqueues, acks and the delivery loops' reads.
    pub fn retry_storage(&self) -> OutboxHealth {
        let mut state = self.lock();
        if state.storage.degraded() {
            let _ = self.retry_locked(&mut state);
        }
        state.storage.health()
    }

    /// What the file was when the outbox opened (created, existing, or empty and initialised).
    pub fn file_at_open(&self) -> FileAtOpen {
        self.inner.file_at_open
    }

    /// Files `vigil outbox recover` moved aside next to this outbox, found at open (and
    /// logged as warnings then).
    pub fn moved_aside(&self) -> &[MovedAside] {
        &self.inner.moved_aside
    }

    /// Watch of the last stored seq; changes whenever entries reach the file.
    pub fn subscribe(&self) -> watch::Receiver<Seq> {
        self.inner.tail.subscribe()
    }

    /// The outbox file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The settings it was opened with.
    pub fn config(&self) -> &OutboxConfig {
        &self.inner.config
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the file inconsistent (redb transactions
        // are atomic), so the counters are still usable.
        self.inner.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs a read against the open file; a storage failure marks the file for reopening.
    fn read<T>(&self, f: impl FnOnce(&Database) -> Result<T, ReadError>) -> Result<T, OutboxError> {
        let path = &self.inner.path;
        let result = match self
            .inner
            .db
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
        {
            Some(db) => f(db),
            None => Err(ReadError::Storage(closed_error())),
        };
        match result {
            Ok(v) => Ok(v),
            Err(ReadError::Storage(e)) => {
                if is_storage_failure(&e) {
                    let mut state = self.lock();
                    self.on_failure(&mut state, &e, false);
                }
                Err(storage(path, e))
            }
            Err(ReadError::Outbox(e)) => Err(e),
        }
    }

    fn update_episode(&self, state: &mut State) {
        let c = &self.inner.config;
        if state.full_episode && state.entries < c.max_entries && state.bytes < c.max_bytes {
            state.full_episode = false;
            tracing::info!(outbox = %self.inner.path.display(), entries = state.entries, "outbox below its limits again");
        }
    }
}

/// Counts an accepted entry.
fn account(state: &mut State, entry: &Held) {
    state.entries += 1;
    state.bytes += entry.size();
    for sink in &entry.sinks {
        *state.pending.entry(sink.clone()).or_default() += 1;
    }
}

fn apply_ack(state: &mut State, sink: &str, outcome: &AckOutcome) {
    if outcome.was_pending
        && let Some(n) = state.pending.get_mut(sink)
    {
        *n = n.saturating_sub(1);
    }
    if outcome.deleted {
        state.entries = state.entries.saturating_sub(1);
    }
    state.bytes = state.bytes.saturating_sub(outcome.freed);
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod fault_tests;
