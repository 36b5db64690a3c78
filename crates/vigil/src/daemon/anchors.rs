//! Audit anchors: the heads of the audit hash chains, written to the daemon's log.
//!
//! A hash chain shows that no line was edited, but someone who can write the file can also
//! rewrite the whole chain from some line on, or cut it short. The daemon therefore logs each
//! chain's head (`SEQ:SHA256`) at start, every hour and at stop. The log leaves the host
//! (journald forwarding, a log collector), so the anchors live outside the file; `vigil
//! audit-verify FILE --anchor SEQ:SHA256` then proves the file still holds that exact history.

use super::query_audit::{ChainHead, QueryAudit};
use std::time::Duration;
use vigil_watchlist::LiveWatchlists;

/// How often the anchors are logged besides start and stop.
pub const ANCHOR_EVERY: Duration = Duration::from_secs(3600);

/// Logs one `audit anchor` line per audit log.
pub fn log_anchors(queries: &QueryAudit, watchlists: &LiveWatchlists) {
    let q = queries.head();
    tracing::info!(log = "api-queries", file = %queries.path().display(), anchor = %q, "audit anchor");
    let (path, w) = watchlists.with_store(|s| {
        let a = s.audit();
        (
            a.path().to_path_buf(),
            ChainHead {
                records: a.records(),
                sha256: a.head().to_string(),
            },
        )
    });
    tracing::info!(log = "watchlists", file = %path.display(), anchor = %w, "audit anchor");
}
