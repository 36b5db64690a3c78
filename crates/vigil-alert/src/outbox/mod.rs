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
//! `enqueue` that returned `Ok` survives `kill -9` and power loss. Each sink delivers in
//! sequence order and acknowledges one entry at a time, so order per camera is kept, also
//! across restarts. An ack removes the sink from the entry's pending list; the entry is
//! deleted when the list is empty. Entries pending for a sink that is no longer configured are
//! kept (and reported at open) until [`Outbox::forget_sink`] is called: a renamed sink in a
//! config must not silently drop alerts.
//!
//! Calls block on disk I/O; async callers wrap them in `spawn_blocking` (the delivery loop
//! does). All writers serialise on one mutex, which also keeps the in-memory counters exact.

mod config;
mod recover;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use redb::{Database, DatabaseError, Durability, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

pub use config::{Admission, OutboxConfig, SinkRoute, admit};
pub use recover::recover;

use crate::error::OutboxError;
use crate::event::{CloudEvent, Event};
use crate::meta::AlertMeta;

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
    db: Database,
    path: PathBuf,
    config: OutboxConfig,
    state: Mutex<State>,
    /// Last stored seq; delivery loops wait on it instead of polling.
    tail: watch::Sender<Seq>,
    refused: AtomicU64,
    unrouted: AtomicU64,
}

struct State {
    next_seq: Seq,
    entries: u64,
    bytes: u64,
    pending: HashMap<String, u64>,
    /// True from the first refusal until the outbox is below its soft limits again, so a full
    /// outbox logs once per episode instead of once per alert.
    full_episode: bool,
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
    /// A file that is not a valid outbox yields [`OutboxError::Corrupt`], whose message names
    /// the file and the recovery command ([`recover`]); nothing is ever dropped silently.
    pub fn open(path: impl AsRef<Path>, config: OutboxConfig) -> Result<Self, OutboxError> {
        let path = path.as_ref().to_path_buf();
        config.validate().map_err(|e| OutboxError::Storage {
            path: path.clone(),
            detail: e.to_string(),
        })?;
        let db = Database::builder()
            .set_cache_size(crate::REDB_CACHE_BYTES)
            .create(&path)
            .map_err(|e| classify_open_error(&path, e))?;
        let st = |e: redb::Error| storage(&path, e);
        let txn = db.begin_write().map_err(|e| st(e.into()))?;
        let mut state = State {
            next_seq: 1,
            entries: 0,
            bytes: 0,
            pending: HashMap::new(),
            full_episode: false,
        };
        {
            let headers = txn.open_table(HEADERS).map_err(|e| st(e.into()))?;
            txn.open_table(BODIES).map_err(|e| st(e.into()))?;
            txn.open_table(CURSORS).map_err(|e| st(e.into()))?;
            let meta = txn.open_table(META).map_err(|e| st(e.into()))?;
            if let Some(next) = meta.get(NEXT_SEQ).map_err(|e| st(e.into()))? {
                state.next_seq = next.value();
            }
            for row in headers.iter().map_err(|e| st(e.into()))? {
                let (seq, value) = row.map_err(|e| st(e.into()))?;
                let header = parse_header(&path, seq.value(), value.value())?;
                state.entries += 1;
                state.bytes += value.value().len() as u64 + header.body_len;
                state.next_seq = state.next_seq.max(seq.value() + 1);
                for sink in header.sinks {
                    *state.pending.entry(sink).or_default() += 1;
                }
            }
        }
        txn.commit().map_err(|e| st(e.into()))?;
        for (sink, n) in &state.pending {
            if !config.sinks.iter().any(|s| &s.name == sink) {
                tracing::warn!(
                    outbox = %path.display(), sink, pending = n,
                    "outbox holds alerts for a sink that is not configured; they are kept until the sink \
                     is configured again or forgotten explicitly"
                );
            }
        }
        let last = state.next_seq - 1;
        Ok(Self {
            inner: Arc::new(Inner {
                db,
                path,
                config,
                state: Mutex::new(state),
                tail: watch::Sender::new(last),
                refused: AtomicU64::new(0),
                unrouted: AtomicU64::new(0),
            }),
        })
    }

    /// Stores one alert given as envelope fields plus JSON `data`; returns its seq after the
    /// commit is on disk. Alerts no sink carries are counted ([`Outbox::unrouted`]) and not
    /// stored (`Ok(None)`).
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
        let size = (header_bytes.len() + body.len()) as u64;

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
        let seq = state.next_seq;
        let st = |e: redb::Error| storage(&inner.path, e);
        let mut txn = inner.db.begin_write().map_err(|e| st(e.into()))?;
        txn.set_durability(Durability::Immediate)
            .map_err(|e| st(e.into()))?;
        {
            let mut headers = txn.open_table(HEADERS).map_err(|e| st(e.into()))?;
            headers
                .insert(seq, header_bytes.as_slice())
                .map_err(|e| st(e.into()))?;
            let mut bodies = txn.open_table(BODIES).map_err(|e| st(e.into()))?;
            bodies.insert(seq, body.as_slice()).map_err(|e| st(e.into()))?;
            let mut meta_table = txn.open_table(META).map_err(|e| st(e.into()))?;
            meta_table.insert(NEXT_SEQ, seq + 1).map_err(|e| st(e.into()))?;
        }
        txn.commit().map_err(|e| st(e.into()))?;
        state.next_seq = seq + 1;
        state.entries += 1;
        state.bytes += size;
        for sink in &header.sinks {
            *state.pending.entry(sink.clone()).or_default() += 1;
        }
        self.update_episode(&mut state);
        drop(state);
        inner.tail.send_replace(seq);
        Ok(Some(seq))
    }

    /// The first entry after `after` that `sink` still has to deliver, if any.
    pub fn next_for(&self, sink: &str, after: Seq) -> Result<Option<Event>, OutboxError> {
        let path = &self.inner.path;
        let st = |e: redb::Error| storage(path, e);
        let txn = self.inner.db.begin_read().map_err(|e| st(e.into()))?;
        let headers = txn.open_table(HEADERS).map_err(|e| st(e.into()))?;
        for row in headers
            .range(after.saturating_add(1)..)
            .map_err(|e| st(e.into()))?
        {
            let (seq, value) = row.map_err(|e| st(e.into()))?;
            let header = parse_header(path, seq.value(), value.value())?;
            if !header.sinks.iter().any(|s| s == sink) {
                continue;
            }
            let bodies = txn.open_table(BODIES).map_err(|e| st(e.into()))?;
            let body = bodies
                .get(seq.value())
                .map_err(|e| st(e.into()))?
                .ok_or_else(|| OutboxError::Corrupt {
                    path: path.clone(),
                    detail: format!("entry {} has a header but no body", seq.value()),
                })?;
            return Ok(Some(Event {
                seq: seq.value(),
                meta: header.meta,
                enqueued_at_ms: header.enqueued_at_ms,
                body: body.value().to_vec(),
            }));
        }
        Ok(None)
    }

    /// Records that `sink` has delivered entry `seq` (durably); deletes the entry when no other
    /// sink still has to carry it. Acking an unknown or already-acked entry is a no-op.
    pub fn ack(&self, sink: &str, seq: Seq) -> Result<(), OutboxError> {
        let inner = &*self.inner;
        let st = |e: redb::Error| storage(&inner.path, e);
        let mut state = self.lock();
        let mut txn = inner.db.begin_write().map_err(|e| st(e.into()))?;
        txn.set_durability(Durability::Immediate)
            .map_err(|e| st(e.into()))?;
        // Bytes the entry no longer takes: all of it when deleted, the shorter header otherwise.
        let mut freed = 0u64;
        let mut deleted = false;
        let mut was_pending = false;
        {
            let mut headers = txn.open_table(HEADERS).map_err(|e| st(e.into()))?;
            let header = match headers.get(seq).map_err(|e| st(e.into()))? {
                Some(v) => Some((parse_header(&inner.path, seq, v.value())?, v.value().len() as u64)),
                None => None,
            };
            if let Some((mut header, header_len)) = header {
                let before = header.sinks.len();
                header.sinks.retain(|s| s != sink);
                was_pending = header.sinks.len() < before;
                if header.sinks.is_empty() {
                    headers.remove(seq).map_err(|e| st(e.into()))?;
                    txn.open_table(BODIES)
                        .map_err(|e| st(e.into()))?
                        .remove(seq)
                        .map_err(|e| st(e.into()))?;
                    freed = header_len + header.body_len;
                    deleted = true;
                } else if was_pending {
                    let bytes = serde_json::to_vec(&header).map_err(|e| OutboxError::Encode {
                        id: header.meta.id.clone(),
                        detail: e.to_string(),
                    })?;
                    headers.insert(seq, bytes.as_slice()).map_err(|e| st(e.into()))?;
                    freed = header_len.saturating_sub(bytes.len() as u64);
                }
            }
            let mut cursors = txn.open_table(CURSORS).map_err(|e| st(e.into()))?;
            let current = cursors
                .get(sink)
                .map_err(|e| st(e.into()))?
                .map_or(0, |v| v.value());
            if seq > current {
                cursors.insert(sink, seq).map_err(|e| st(e.into()))?;
            }
        }
        txn.commit().map_err(|e| st(e.into()))?;
        if was_pending && let Some(n) = state.pending.get_mut(sink) {
            *n = n.saturating_sub(1);
        }
        if deleted {
            state.entries -= 1;
        }
        state.bytes = state.bytes.saturating_sub(freed);
        self.update_episode(&mut state);
        Ok(())
    }

    /// Last seq `sink` acknowledged (0 if none); where its delivery resumes after a restart.
    pub fn cursor(&self, sink: &str) -> Result<Seq, OutboxError> {
        let st = |e: redb::Error| storage(&self.inner.path, e);
        let txn = self.inner.db.begin_read().map_err(|e| st(e.into()))?;
        let cursors = txn.open_table(CURSORS).map_err(|e| st(e.into()))?;
        Ok(cursors
            .get(sink)
            .map_err(|e| st(e.into()))?
            .map_or(0, |v| v.value()))
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

    /// Entries stored.
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

    /// Watch of the last stored seq; changes on every enqueue.
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

    fn update_episode(&self, state: &mut State) {
        let c = &self.inner.config;
        if state.full_episode && state.entries < c.max_entries && state.bytes < c.max_bytes {
            state.full_episode = false;
            tracing::info!(outbox = %self.inner.path.display(), entries = state.entries, "outbox below its limits again");
        }
    }
}

fn parse_header(path: &Path, seq: u64, bytes: &[u8]) -> Result<Header, OutboxError> {
    serde_json::from_slice(bytes).map_err(|e| OutboxError::Corrupt {
        path: path.to_path_buf(),
        detail: format!("entry {seq}: unreadable header: {e}"),
    })
}

fn storage(path: &Path, e: redb::Error) -> OutboxError {
    match e {
        redb::Error::Corrupted(detail) => OutboxError::Corrupt {
            path: path.to_path_buf(),
            detail,
        },
        other => OutboxError::Storage {
            path: path.to_path_buf(),
            detail: other.to_string(),
        },
    }
}

/// Sorts open failures into "locked", "corrupt" (recoverable by moving the file aside) and
/// other storage errors (permissions, disk), which moving the file would not fix.
fn classify_open_error(path: &Path, e: DatabaseError) -> OutboxError {
    let path = path.to_path_buf();
    match e {
        DatabaseError::DatabaseAlreadyOpen => OutboxError::Locked { path },
        DatabaseError::UpgradeRequired(v) => OutboxError::Corrupt {
            path,
            detail: format!("file format version {v} is not supported"),
        },
        DatabaseError::RepairAborted => OutboxError::Corrupt {
            path,
            detail: "repair aborted".into(),
        },
        DatabaseError::Storage(redb::StorageError::Corrupted(detail)) => {
            OutboxError::Corrupt { path, detail }
        }
        DatabaseError::Storage(redb::StorageError::Io(io))
            if matches!(
                io.kind(),
                std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof
            ) =>
        {
            OutboxError::Corrupt {
                path,
                detail: io.to_string(),
            }
        }
        other => OutboxError::Storage {
            path,
            detail: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests;
