//! Per-sink counters and circuit state: plain atomics, cheap to read from a metrics exporter.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::backoff::CircuitState;

/// Cheap, cloneable view of one sink's delivery state.
#[derive(Debug, Clone)]
pub struct SinkStatus(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    name: String,
    published: AtomicU64,
    failed: AtomicU64,
    retried: AtomicU64,
    consecutive_failures: AtomicU32,
    state: AtomicU8,
    depth: AtomicU64,
    /// Enqueue time (ms since epoch) of the entry being delivered; 0 when idle.
    head_enqueued_ms: AtomicU64,
}

impl SinkStatus {
    pub(crate) fn new(name: &str) -> Self {
        Self(Arc::new(Inner {
            name: name.into(),
            published: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            retried: AtomicU64::new(0),
            consecutive_failures: AtomicU32::new(0),
            state: AtomicU8::new(CircuitState::Up.as_u8()),
            depth: AtomicU64::new(0),
            head_enqueued_ms: AtomicU64::new(0),
        }))
    }

    /// Sink name.
    pub fn name(&self) -> &str {
        &self.0.name
    }
    /// Events acknowledged by the receiver.
    pub fn published(&self) -> u64 {
        self.0.published.load(Ordering::Relaxed)
    }
    /// Failed publish attempts.
    pub fn failed(&self) -> u64 {
        self.0.failed.load(Ordering::Relaxed)
    }
    /// Retries started after a failure.
    pub fn retried(&self) -> u64 {
        self.0.retried.load(Ordering::Relaxed)
    }
    /// Circuit state.
    pub fn state(&self) -> CircuitState {
        CircuitState::from_u8(self.0.state.load(Ordering::Relaxed))
    }
    /// Entries this sink still has to deliver (as of the loop's last look).
    pub fn depth(&self) -> u64 {
        self.0.depth.load(Ordering::Relaxed)
    }
    /// How long the oldest entry this sink is working on has waited; zero when idle.
    pub fn oldest_pending_age(&self) -> Duration {
        match self.0.head_enqueued_ms.load(Ordering::Relaxed) {
            0 => Duration::ZERO,
            t => {
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis() as u64);
                Duration::from_millis(now.saturating_sub(t))
            }
        }
    }

    pub(crate) fn on_success(&self) {
        self.0.published.fetch_add(1, Ordering::Relaxed);
        self.0.consecutive_failures.store(0, Ordering::Relaxed);
        self.0.state.store(CircuitState::Up.as_u8(), Ordering::Relaxed);
    }
    pub(crate) fn on_failure(&self, down_after: u32) -> CircuitState {
        self.0.failed.fetch_add(1, Ordering::Relaxed);
        let n = self
            .0
            .consecutive_failures
            .fetch_add(1, Ordering::Relaxed)
            .saturating_add(1);
        let state = CircuitState::from_failures(n, down_after);
        self.0.state.store(state.as_u8(), Ordering::Relaxed);
        state
    }
    pub(crate) fn on_retry(&self) {
        self.0.retried.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn set_depth(&self, depth: u64) {
        self.0.depth.store(depth, Ordering::Relaxed);
    }
    pub(crate) fn set_head(&self, enqueued_at_ms: u64) {
        self.0.head_enqueued_ms.store(enqueued_at_ms, Ordering::Relaxed);
    }
}
