//! What the outbox does while its file cannot be written (disk full, I/O error), and how it
//! reports that.
//!
//! redb latches an I/O error: after one failed write every later operation on that handle
//! fails with "Previous I/O error occurred. Please close and re-open the database". So after a
//! failed write the outbox closes the file and reopens it on the next attempt, and the alerts
//! accepted meanwhile wait in memory, in order, bounded by
//! [`OutboxConfig::held_max_entries`](super::OutboxConfig::held_max_entries) and
//! [`held_max_bytes`](super::OutboxConfig::held_max_bytes). Once a write works again they are
//! written in their order before any newer alert. An alert that does not fit in memory is lost
//! and counted ([`OutboxHealth::dropped_total`]); deliveries whose acknowledgement could not be
//! written are kept too and written later (until then the entry counts as pending).
//!
//! Attempts to reopen back off (1 s doubling to 30 s), since each reopen reads the whole file;
//! [`Outbox::retry_storage`](super::Outbox::retry_storage) forces one.

use std::collections::VecDeque;
use std::sync::PoisonError;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::store::{self, storage};
use super::txn::{AckError, AckOutcome, ack_txn, closed_error, create_tables, write_entries_ref};
use super::{Outbox, Seq, State, account, apply_ack};
use crate::error::OutboxError;

/// First wait before reopening the file again after a failed attempt.
pub(super) const RETRY_FIRST: Duration = Duration::from_secs(1);
/// Longest wait between reopen attempts.
pub(super) const RETRY_MAX: Duration = Duration::from_secs(30);
/// Held entries written per transaction when storage returns.
pub(super) const FLUSH_CHUNK: usize = 256;

/// State of the outbox's storage, for `/readyz`, metrics and the exit summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxHealth {
    /// False from a failed write until the file works again and nothing waits in memory.
    pub storage_ok: bool,
    /// The storage error that made it fail (while `storage_ok` is false).
    pub last_error: Option<String>,
    /// Alerts accepted but not yet written to the file (kept in memory; lost on a crash).
    pub pending_in_memory: usize,
    /// Deliveries whose acknowledgement is not yet written (re-sent after a crash).
    pub acks_in_memory: usize,
    /// Writes that failed since open.
    pub write_failures_total: u64,
    /// Alerts lost since open because storage failed and the in-memory queue was full.
    pub dropped_total: u64,
    /// Times the file was reopened after a failure since open.
    pub reopens_total: u64,
}

/// An accepted alert, ready to write.
pub(super) struct Held {
    pub seq: Seq,
    pub sinks: Vec<String>,
    pub header: Vec<u8>,
    pub body: Vec<u8>,
}

impl Held {
    /// Bytes it takes in the file (and in the outbox's size accounting).
    pub fn size(&self) -> u64 {
        (self.header.len() + self.body.len()) as u64
    }
}

/// The storage part of the outbox state (under the outbox's lock).
#[derive(Default)]
pub(super) struct StorageState {
    /// False after a failed write or read until the next successful retry.
    pub writable: bool,
    /// The file must be closed and opened again before the next write.
    pub needs_reopen: bool,
    pub last_error: Option<String>,
    /// Accepted alerts not yet written, in seq order.
    pub held: VecDeque<Held>,
    pub held_bytes: u64,
    /// Deliveries not yet recorded, in the order they happened.
    pub acks: Vec<(String, Seq)>,
    pub write_failures: u64,
    pub dropped: u64,
    pub reopens: u64,
    /// Failed retries in a row (for the backoff).
    pub failed_retries: u32,
    /// No retry before this.
    pub next_retry: Option<Instant>,
    /// Alerts lost in this episode (reported when it ends).
    pub dropped_in_episode: u64,
}

impl StorageState {
    pub fn new() -> Self {
        Self {
            writable: true,
            ..Default::default()
        }
    }

    /// Anything that a retry has to do.
    pub fn degraded(&self) -> bool {
        !self.writable || self.needs_reopen || !self.held.is_empty() || !self.acks.is_empty()
    }

    /// Whether a retry is due at `now`.
    pub fn retry_due(&self, now: Instant) -> bool {
        self.next_retry.is_none_or(|t| now >= t)
    }

    /// Records a failed write or read; returns true when it starts an episode (to log once).
    pub fn on_failure(&mut self, error: String, now: Instant) -> bool {
        let first = self.writable && self.held.is_empty() && self.acks.is_empty();
        self.writable = false;
        self.needs_reopen = true;
        self.last_error = Some(error);
        // A failure while a retry is already scheduled (a delivery loop's read of the closed
        // file) must not postpone it.
        if self.next_retry.is_none_or(|t| t <= now) {
            let wait = RETRY_FIRST
                .saturating_mul(1u32 << self.failed_retries.min(5))
                .min(RETRY_MAX);
            self.next_retry = Some(now + wait);
        }
        first
    }

    /// Records that everything held was written.
    pub fn on_recovered(&mut self) {
        self.writable = true;
        self.last_error = None;
        self.failed_retries = 0;
        self.next_retry = None;
        self.dropped_in_episode = 0;
    }

    pub fn health(&self) -> OutboxHealth {
        OutboxHealth {
            storage_ok: !self.degraded(),
            last_error: self.last_error.clone(),
            pending_in_memory: self.held.len(),
            acks_in_memory: self.acks.len(),
            write_failures_total: self.write_failures,
            dropped_total: self.dropped,
            reopens_total: self.reopens,
        }
    }
}

impl Outbox {
    /// A retry from a reader's side (the delivery loops call `next_for` at least every few
    /// seconds), so held alerts reach the file even when no new alert comes.
    pub(super) fn retry_if_due(&self) {
        if !self.inner.degraded.load(Ordering::Relaxed) {
            return;
        }
        let mut state = self.lock();
        if state.storage.degraded() && state.storage.retry_due(Instant::now()) {
            let _ = self.retry_locked(&mut state);
        }
    }

    /// Records a failed write (`write`) or read and schedules the reopen.
    pub(super) fn on_failure(&self, state: &mut State, e: &redb::Error, write: bool) {
        if write {
            state.storage.write_failures += 1;
        }
        let c = &self.inner.config;
        if state.storage.on_failure(e.to_string(), Instant::now()) {
            tracing::error!(
                outbox = %self.inner.path.display(), error = %e,
                held_max_entries = c.held_max_entries, held_max_bytes = c.held_max_bytes,
                "outbox file cannot be used: keeping accepted alerts in memory and reopening the file \
                 until it works (logged once until then)"
            );
        }
        self.inner.degraded.store(true, Ordering::Relaxed);
    }

    /// Keeps an accepted alert in memory, or counts it lost when the queue is full.
    pub(super) fn hold(&self, state: &mut State, entry: Held, id: &str) -> Result<Option<Seq>, OutboxError> {
        let c = &self.inner.config;
        let s = &mut state.storage;
        if s.held.len() >= c.held_max_entries || s.held_bytes.saturating_add(entry.size()) > c.held_max_bytes
        {
            s.dropped += 1;
            s.dropped_in_episode += 1;
            if s.dropped_in_episode == 1 {
                tracing::error!(
                    outbox = %self.inner.path.display(), held = s.held.len(), held_bytes = s.held_bytes,
                    "outbox file cannot be written and the in-memory queue is full: alerts are being lost \
                     (counted; logged once until the file works again)"
                );
            }
            return Err(OutboxError::Unavailable {
                path: self.inner.path.clone(),
                id: id.to_owned(),
                detail: s.last_error.clone().unwrap_or_default(),
                held: s.held.len(),
            });
        }
        let seq = entry.seq;
        account(state, &entry);
        state.storage.held_bytes += entry.size();
        state.storage.held.push_back(entry);
        self.inner.degraded.store(true, Ordering::Relaxed);
        Ok(Some(seq))
    }

    /// Keeps a delivery whose acknowledgement could not be written.
    pub(super) fn hold_ack(&self, state: &mut State, sink: &str, seq: Seq) -> Result<(), OutboxError> {
        let acks = &mut state.storage.acks;
        if !acks.iter().any(|(s, q)| s == sink && *q == seq) {
            if acks.len() >= self.inner.config.held_max_entries {
                // Delivered but not recorded: sent again after a restart (at least once).
                return Err(OutboxError::Unavailable {
                    path: self.inner.path.clone(),
                    id: format!("delivery of entry {seq} to {sink}"),
                    detail: state.storage.last_error.clone().unwrap_or_default(),
                    held: acks.len(),
                });
            }
            acks.push((sink.to_owned(), seq));
        }
        self.inner.degraded.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// Reopens the file if needed, then writes the held acks and alerts in order. On failure
    /// everything not written stays held and the next retry is scheduled.
    pub(super) fn retry_locked(&self, state: &mut State) -> Result<(), OutboxError> {
        let inner = &*self.inner;
        let result = self.try_flush(state);
        match &result {
            Ok((alerts, acks)) => {
                if *alerts > 0 || *acks > 0 || !state.storage.writable {
                    tracing::info!(
                        outbox = %inner.path.display(), written = alerts, acks,
                        lost = state.storage.dropped_in_episode,
                        "outbox file works again: alerts held in memory are written"
                    );
                }
                state.storage.on_recovered();
                inner.degraded.store(false, Ordering::Relaxed);
            }
            Err(e) => {
                state.storage.failed_retries = state.storage.failed_retries.saturating_add(1);
                self.on_failure(state, e, true);
            }
        }
        result.map(|_| ()).map_err(|e| storage(&inner.path, e))
    }

    /// Returns (alerts written, acks written).
    pub(super) fn try_flush(&self, state: &mut State) -> Result<(usize, usize), redb::Error> {
        let inner = &*self.inner;
        if state.storage.needs_reopen {
            self.reopen(state)?;
        }
        let db = inner.db.read().unwrap_or_else(PoisonError::into_inner);
        let db = db.as_ref().ok_or_else(closed_error)?;
        let mut acks = 0;
        while let Some((sink, seq)) = state.storage.acks.first().cloned() {
            let outcome = match ack_txn(db, &inner.path, &sink, seq) {
                Ok(o) => o,
                Err(AckError::Storage(e)) => return Err(e),
                // The entry is unreadable; the error surfaces on the delivery loop's next read.
                Err(AckError::Outbox(e)) => {
                    tracing::error!(outbox = %inner.path.display(), sink, seq, error = %e, "held delivery record dropped");
                    AckOutcome::default()
                }
            };
            apply_ack(state, &sink, &outcome);
            state.storage.acks.remove(0);
            acks += 1;
        }
        let mut alerts = 0;
        while !state.storage.held.is_empty() {
            let n = state.storage.held.len().min(FLUSH_CHUNK);
            let chunk: Vec<&Held> = state.storage.held.iter().take(n).collect();
            write_entries_ref(db, &chunk)?;
            let mut last = 0;
            for h in state.storage.held.drain(..n) {
                state.storage.held_bytes -= h.size();
                last = h.seq;
            }
            // Wake the delivery loops: these entries are readable now.
            inner.tail.send_replace(last);
            alerts += n;
        }
        Ok((alerts, acks))
    }

    /// Closes the file and opens it again (redb needs that after an I/O error), then rebuilds
    /// the counters from it plus what is still held.
    pub(super) fn reopen(&self, state: &mut State) -> Result<(), redb::Error> {
        let inner = &*self.inner;
        let mut slot = inner.db.write().unwrap_or_else(PoisonError::into_inner);
        // Closing first releases the file lock the new handle needs.
        drop(slot.take());
        let opened = (inner.opener)().map_err(redb::Error::from)?;
        create_tables(&opened.db)?;
        let loaded =
            store::load(&opened.db, &inner.path).map_err(|e| redb::Error::Corrupted(e.to_string()))?;
        // A commit that reported failure may have reached the disk after all: those entries are
        // in the file now and must not be written twice or counted twice.
        let landed = store::stored(&opened.db, state.storage.held.iter().map(|h| h.seq))?;
        if !landed.is_empty() {
            let s = &mut state.storage;
            s.held.retain(|h| !landed.contains(&h.seq));
            s.held_bytes = s.held.iter().map(Held::size).sum();
        }
        state.entries = loaded.entries + state.storage.held.len() as u64;
        state.bytes = loaded.bytes + state.storage.held_bytes;
        state.pending = loaded.pending;
        for h in &state.storage.held {
            for sink in &h.sinks {
                *state.pending.entry(sink.clone()).or_default() += 1;
            }
        }
        state.next_seq = state.next_seq.max(loaded.next_seq);
        *slot = Some(opened.db);
        state.storage.needs_reopen = false;
        state.storage.reopens += 1;
        tracing::info!(outbox = %inner.path.display(), entries = loaded.entries, "outbox file reopened");
        Ok(())
    }
}
