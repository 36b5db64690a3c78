//! The delivery loop: one tokio task per sink.
//!
//! The loop reads the next entry for its sink after its cursor, publishes it, and acks it in
//! the outbox; on failure it retries the *same* entry with capped exponential backoff (head of
//! line blocking is the price of per-camera order). It sleeps on the outbox's tail watch when
//! there is nothing to do. Every await is raced against the shutdown signal (`biased`, shutdown
//! first): on shutdown an in-flight publish is abandoned — the entry stays in the outbox and is
//! sent again after restart, which receivers dedupe by event id — so stopping takes bounded
//! time. [`Delivery::join`] waits a grace period and then aborts.

mod backoff;
mod status;

use std::future::Future;
use std::time::{Duration, SystemTime};

use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use backoff::{CircuitState, RetryConfig, backoff};
pub use status::SinkStatus;

use crate::error::OutboxError;
use crate::outbox::Outbox;
use crate::sink::Sink;

/// How often an idle loop looks at the outbox even without a wake-up (safety net only).
const IDLE_RECHECK: Duration = Duration::from_secs(5);

/// A running delivery loop.
#[derive(Debug)]
pub struct Delivery {
    status: SinkStatus,
    task: JoinHandle<()>,
}

impl Delivery {
    /// Counters and circuit state of this sink.
    pub fn status(&self) -> SinkStatus {
        self.status.clone()
    }

    /// Waits up to `grace` for the loop to end after shutdown was signalled, then aborts it.
    /// Returns true when it ended by itself.
    pub async fn join(self, grace: Duration) -> bool {
        let abort = self.task.abort_handle();
        match tokio::time::timeout(grace, self.task).await {
            Ok(_) => true,
            Err(_) => {
                abort.abort();
                tracing::warn!(sink = %self.status.name(), "delivery loop did not stop in time; aborted");
                false
            }
        }
    }
}

/// Starts the delivery loop of `sink` (named `name`, as in the outbox config) on the current
/// tokio runtime. It runs until `shutdown` holds `true` or its sender is dropped.
pub fn spawn<S: Sink + 'static>(
    outbox: Outbox,
    name: impl Into<String>,
    sink: S,
    retry: RetryConfig,
    shutdown: watch::Receiver<bool>,
) -> Delivery {
    let name = name.into();
    let status = SinkStatus::new(&name);
    let task = tokio::spawn(run(outbox, name, sink, retry, shutdown, status.clone()));
    Delivery { status, task }
}

/// Resolves when shutdown is requested (value `true` or sender gone).
async fn shutdown_requested(rx: &mut watch::Receiver<bool>) {
    loop {
        if *rx.borrow_and_update() {
            return;
        }
        if rx.changed().await.is_err() {
            return;
        }
    }
}

/// Runs `f` on the blocking pool (outbox calls fsync).
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, OutboxError> + Send + 'static,
) -> Result<T, OutboxError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| OutboxError::Join(e.to_string()))?
}

/// A number in 0..1 for backoff jitter; quality does not matter.
fn jitter_unit() -> f64 {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    f64::from(nanos % 1000) / 1000.0
}

/// Sleeps `d` unless shutdown comes first; returns false on shutdown.
async fn pause(d: Duration, shutdown: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        biased;
        () = shutdown_requested(shutdown) => false,
        () = tokio::time::sleep(d) => true,
    }
}

/// Races `fut` against shutdown; `None` on shutdown.
async fn or_shutdown<T>(fut: impl Future<Output = T>, shutdown: &mut watch::Receiver<bool>) -> Option<T> {
    tokio::select! {
        biased;
        () = shutdown_requested(shutdown) => None,
        v = fut => Some(v),
    }
}

async fn run<S: Sink>(
    outbox: Outbox,
    name: String,
    mut sink: S,
    retry: RetryConfig,
    mut shutdown: watch::Receiver<bool>,
    status: SinkStatus,
) {
    let mut tail = outbox.subscribe();
    let mut storage_failures = 0u32;
    let mut after = loop {
        let (o, n) = (outbox.clone(), name.clone());
        match or_shutdown(blocking(move || o.cursor(&n)), &mut shutdown).await {
            None => return,
            Some(Ok(c)) => break c,
            Some(Err(e)) => {
                tracing::error!(sink = %name, error = %e, "cannot read delivery cursor; retrying");
                storage_failures += 1;
                if !pause(backoff(storage_failures, &retry, jitter_unit()), &mut shutdown).await {
                    return;
                }
            }
        }
    };
    tracing::info!(sink = %name, after, "delivery started");
    let publish_timeout = Duration::from_millis(retry.publish_timeout_ms.max(1));
    loop {
        // Mark the tail seen *before* reading, so an enqueue racing with the read still wakes us.
        tail.borrow_and_update();
        let (o, n) = (outbox.clone(), name.clone());
        let next = match or_shutdown(blocking(move || o.next_for(&n, after)), &mut shutdown).await {
            None => return,
            Some(next) => next,
        };
        status.set_depth(outbox.pending_for(&name));
        let event = match next {
            Ok(Some(event)) => event,
            Ok(None) => {
                status.set_head(0);
                tokio::select! {
                    biased;
                    () = shutdown_requested(&mut shutdown) => return,
                    _ = tail.changed() => {}
                    () = tokio::time::sleep(IDLE_RECHECK) => {}
                }
                continue;
            }
            Err(e) => {
                storage_failures += 1;
                tracing::error!(sink = %name, error = %e, "cannot read outbox; retrying");
                if !pause(backoff(storage_failures, &retry, jitter_unit()), &mut shutdown).await {
                    return;
                }
                continue;
            }
        };
        storage_failures = 0;
        status.set_head(event.enqueued_at_ms);
        let mut attempt = 0u32;
        loop {
            let outcome = match or_shutdown(
                tokio::time::timeout(publish_timeout, sink.publish(&event)),
                &mut shutdown,
            )
            .await
            {
                None => return,
                Some(Ok(r)) => r.map_err(|e| e.to_string()),
                Some(Err(_)) => Err(format!(
                    "sink {name:?}: publish took longer than {publish_timeout:?}"
                )),
            };
            match outcome {
                Ok(()) => break,
                Err(detail) => {
                    let state = status.on_failure(retry.down_after_failures);
                    // Alerts keep arriving while the head is stuck: keep the depth gauge live.
                    status.set_depth(outbox.pending_for(&name));
                    let wait = backoff(attempt, &retry, jitter_unit());
                    // Log the first failure and every state change loudly, the rest quietly.
                    if attempt == 0 || state == CircuitState::Down && attempt + 1 == retry.down_after_failures
                    {
                        tracing::warn!(sink = %name, seq = event.seq, ?state, error = %detail, retry_in = ?wait, "publish failed");
                    } else {
                        tracing::debug!(sink = %name, seq = event.seq, ?state, error = %detail, "publish failed again");
                    }
                    attempt = attempt.saturating_add(1);
                    if !pause(wait, &mut shutdown).await {
                        return;
                    }
                    status.on_retry();
                }
            }
        }
        if attempt > 0 {
            tracing::info!(sink = %name, attempts = attempt + 1, "sink recovered");
        }
        status.on_success();
        let (o, n, seq) = (outbox.clone(), name.clone(), event.seq);
        // The ack must land even during shutdown (the receiver already has the event), so it
        // is not raced; it is one short fsync.
        if let Err(e) = blocking(move || o.ack(&n, seq)).await {
            // Delivered but not recorded: it will be sent again after a restart (at least once).
            tracing::error!(sink = %name, seq, error = %e, "cannot record delivery in the outbox");
        }
        after = event.seq;
        status.set_depth(outbox.pending_for(&name));
    }
}
