//! Alert history: every alert the node raised, queryable by camera, rule and time, for the HTTP
//! API ("what happened at gate-1 last night?").
//!
//! The outbox forgets an alert once every sink has it; the history keeps it until retention
//! removes it. It lives in its own redb file (`<data_dir>/history.redb`) so that pruning or
//! losing it never touches the outbox, and a corrupt history never blocks delivery.
//!
//! | table             | key                          | value                                   |
//! |-------------------|------------------------------|-----------------------------------------|
//! | `history_index`   | (event time µs, alert id)    | JSON [`Row`]: camera, rule, kind, severity, seq |
//! | `history_alerts`  | (event time µs, alert id)    | the alert's JSON (snapshot capped)      |
//! | `history_ids`     | alert id                     | event time µs (for [`History::get`])    |
//! | `history_order`   | seq (order of recording)     | (event time µs, alert id, JSON [`Row`]) |
//!
//! **Order.** Queries list alerts in the order the node recorded them, newest first, not by
//! their event time: after the wall clock was set back, alerts stamped during the jump carry
//! future times and would otherwise stay above every live alert until the clock caught up.
//! Time filters (`since`, `until`) still apply to the event time. `history_order` is scanned
//! newest first and the alert JSON is read only for matches, so a filtered query does not
//! parse snapshots it will not return. Files written before `history_order` existed get it at
//! open, in event-time order.
//!
//! **Retention and clock jumps.** Age is measured against a trusted now that advances with the
//! monotonic clock ([`clock`]); a pass that sees the wall clock jump logs a warning, counts it
//! ([`History::clock_jumps`]) and prunes by count only. Count-based pruning removes the
//! earliest recorded alerts first.
//!
//! **Durability.** [`History::append`] commits with [`Durability::None`] (no fsync), except
//! that one append per [`DURABLE_EVERY`] commits with [`Durability::Immediate`], which makes it
//! and every earlier commit durable. The outbox already fsyncs each alert before it is
//! accepted; the history is a convenience copy, so a crash may lose at most the last second of
//! history rows (never an alert) in exchange for an append that costs no second fsync on the
//! alert path. Pruning and dropping the last handle commit durably.

mod clock;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use redb::{
    Database, DatabaseError, Durability, ReadableDatabase, ReadableTable, ReadableTableMetadata,
    TableDefinition,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use vigil_core::alert::Alert;

use crate::alert::data_of;
use crate::error::HistoryError;
use crate::meta::Severity;
pub use clock::{ClockGuard, ClockStep};

/// Key of a row: event time in microseconds since the epoch, then the alert id (tie-break).
type Key<'a> = (i64, &'a str);

const INDEX: TableDefinition<Key, &[u8]> = TableDefinition::new("history_index");
const ALERTS: TableDefinition<Key, &[u8]> = TableDefinition::new("history_alerts");
const IDS: TableDefinition<&str, i64> = TableDefinition::new("history_ids");
const ORDER: TableDefinition<u64, (i64, &str, &[u8])> = TableDefinition::new("history_order");

/// At most this long between durable commits of appended rows.
pub const DURABLE_EVERY: Duration = Duration::from_secs(1);

/// Settings of the alert history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryConfig {
    /// Largest snapshot (before base64) kept with an alert; larger ones are left out and the
    /// alert is flagged `snapshot_truncated`. Default 64 KiB (smaller than the outbox's cap:
    /// the history keeps many more alerts for much longer).
    #[serde(default = "default_snapshot_cap")]
    pub snapshot_cap_bytes: usize,
    /// Retention: rows whose event time is older than this are removed by
    /// [`History::prune_per_config`]. Default 30 days.
    #[serde(default = "default_max_age_s")]
    pub max_age_s: u64,
    /// Retention: at most this many rows are kept (the oldest go first). Default 100 000.
    #[serde(default = "default_max_count")]
    pub max_count: u64,
}

fn default_snapshot_cap() -> usize {
    64 * 1024
}
fn default_max_age_s() -> u64 {
    30 * 24 * 3600
}
fn default_max_count() -> u64 {
    100_000
}

impl Default for HistoryConfig {
    fn default() -> Self {
        Self {
            snapshot_cap_bytes: default_snapshot_cap(),
            max_age_s: default_max_age_s(),
            max_count: default_max_count(),
        }
    }
}

/// Filters of [`History::query`]; `Default` = the 100 most recently recorded alerts of any
/// camera and rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryQuery {
    /// Only this camera id.
    pub camera: Option<String>,
    /// Only this rule id (`AlertRule::id`).
    pub rule: Option<String>,
    /// Only this rule kind, e.g. `zone.enter`.
    pub kind: Option<String>,
    /// Event time at or after this.
    pub since: Option<Timestamp>,
    /// Event time strictly before this.
    pub until: Option<Timestamp>,
    /// Most rows returned.
    pub limit: usize,
}

impl Default for HistoryQuery {
    fn default() -> Self {
        Self {
            camera: None,
            rule: None,
            kind: None,
            since: None,
            until: None,
            limit: 100,
        }
    }
}

/// One alert as stored in the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// Alert id.
    pub id: String,
    /// Event time.
    pub time: Timestamp,
    /// Camera id.
    pub camera: String,
    /// Rule id.
    pub rule: String,
    /// Rule kind, dotted.
    pub kind: String,
    /// Severity.
    pub severity: Severity,
    /// The full alert JSON (as in CloudEvent `data`, snapshot base64 under the history's cap).
    pub alert: Value,
}

/// What the index keeps per alert: enough to filter without reading the alert JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Row {
    camera: String,
    rule: String,
    kind: String,
    severity: Severity,
    /// Key in `history_order`; absent (0) in rows written before it existed.
    #[serde(default)]
    seq: u64,
}

/// Handle to an open history; cheap to clone, shareable across threads.
#[derive(Clone)]
pub struct History {
    inner: Arc<Inner>,
}

struct Inner {
    db: Database,
    path: PathBuf,
    config: HistoryConfig,
    /// When the last durable commit happened; appends after [`DURABLE_EVERY`] fsync.
    last_durable: Mutex<Instant>,
    /// The clocks at the last prune pass.
    clock: Mutex<ClockGuard>,
    clock_jumps: AtomicU64,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Make the non-durable tail of appends durable on a clean shutdown.
        if let Err(e) = durable_noop(&self.db) {
            tracing::warn!(history = %self.path.display(), error = %e, "cannot flush alert history on close");
        }
    }
}

fn durable_noop(db: &Database) -> Result<(), redb::Error> {
    let mut txn = db.begin_write()?;
    txn.set_durability(Durability::Immediate)?;
    txn.commit()?;
    Ok(())
}

impl std::fmt::Debug for History {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("History")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

/// Microseconds since the epoch, the key's time part.
fn micros(t: Timestamp) -> i64 {
    t.as_microsecond()
}

impl History {
    /// Opens (or creates) the history at `path`, e.g. `<data_dir>/history.redb`.
    pub fn open(path: impl AsRef<Path>, config: HistoryConfig) -> Result<Self, HistoryError> {
        let path = path.as_ref().to_path_buf();
        let db = Database::builder()
            .set_cache_size(crate::REDB_CACHE_BYTES)
            .create(&path)
            .map_err(|e| open_error(&path, e))?;
        let st = |e: redb::Error| storage(&path, e);
        let txn = db.begin_write().map_err(|e| st(e.into()))?;
        txn.open_table(ALERTS).map_err(|e| st(e.into()))?;
        txn.open_table(IDS).map_err(|e| st(e.into()))?;
        let rebuilt = {
            let mut index = txn.open_table(INDEX).map_err(|e| st(e.into()))?;
            let mut order = txn.open_table(ORDER).map_err(|e| st(e.into()))?;
            rebuild_order_if_needed(&path, &mut index, &mut order)?
        };
        txn.commit().map_err(|e| st(e.into()))?;
        if let Some(n) = rebuilt {
            tracing::info!(history = %path.display(), rows = n, "alert history: recording order rebuilt from event times");
        }
        Ok(Self {
            inner: Arc::new(Inner {
                db,
                path,
                config,
                last_durable: Mutex::new(Instant::now()),
                clock: Mutex::new(ClockGuard::new(Timestamp::now(), Instant::now())),
                clock_jumps: AtomicU64::new(0),
            }),
        })
    }

    /// Records `alert` (call it right after the outbox accepted it). Appending an id that is
    /// already present replaces that row. Blocks on disk I/O only once per [`DURABLE_EVERY`].
    pub fn append(&self, alert: &Alert) -> Result<(), HistoryError> {
        let time: Timestamp = alert.time.parse().map_err(|_| HistoryError::Time {
            id: alert.id.clone(),
            time: alert.time.clone(),
        })?;
        let encode = |detail: String| HistoryError::Encode {
            id: alert.id.clone(),
            detail,
        };
        let data = data_of(alert, self.inner.config.snapshot_cap_bytes).map_err(|e| encode(e.to_string()))?;
        let body = serde_json::to_vec(&data).map_err(|e| encode(e.to_string()))?;
        let mut row = Row {
            camera: alert.camera.id.clone(),
            rule: alert.rule.id.clone(),
            kind: alert.rule.kind.as_str().into(),
            severity: alert.severity,
            seq: 0,
        };
        let t = micros(time);
        let inner = &*self.inner;
        let st = |e: redb::Error| storage(&inner.path, e);
        // The lock serialises appends, so the "once per second" decision is exact.
        let mut last = inner.last_durable.lock().unwrap_or_else(PoisonError::into_inner);
        let durable = last.elapsed() >= DURABLE_EVERY;
        let mut txn = inner.db.begin_write().map_err(|e| st(e.into()))?;
        txn.set_durability(if durable {
            Durability::Immediate
        } else {
            Durability::None
        })
        .map_err(|e| st(e.into()))?;
        {
            let mut ids = txn.open_table(IDS).map_err(|e| st(e.into()))?;
            let mut index = txn.open_table(INDEX).map_err(|e| st(e.into()))?;
            let mut alerts = txn.open_table(ALERTS).map_err(|e| st(e.into()))?;
            let mut order = txn.open_table(ORDER).map_err(|e| st(e.into()))?;
            let id = alert.id.as_str();
            let previous = ids.insert(id, t).map_err(|e| st(e.into()))?.map(|v| v.value());
            if let Some(old) = previous {
                // A replaced row is recorded anew: it leaves its old place in the order.
                let old_seq = match index.remove((old, id)).map_err(|e| st(e.into()))? {
                    Some(v) => Some(parse_row(&inner.path, id, v.value())?.seq),
                    None => None,
                };
                if let Some(old_seq) = old_seq {
                    order.remove(old_seq).map_err(|e| st(e.into()))?;
                }
                alerts.remove((old, id)).map_err(|e| st(e.into()))?;
            }
            row.seq = order
                .last()
                .map_err(|e| st(e.into()))?
                .map_or(1, |(k, _)| k.value() + 1);
            let row_bytes = serde_json::to_vec(&row).map_err(|e| encode(e.to_string()))?;
            index
                .insert((t, id), row_bytes.as_slice())
                .map_err(|e| st(e.into()))?;
            alerts
                .insert((t, id), body.as_slice())
                .map_err(|e| st(e.into()))?;
            order
                .insert(row.seq, (t, id, row_bytes.as_slice()))
                .map_err(|e| st(e.into()))?;
        }
        txn.commit().map_err(|e| st(e.into()))?;
        if durable {
            *last = Instant::now();
        }
        Ok(())
    }

    /// Alerts matching `q`, most recently recorded first, at most `q.limit`.
    pub fn query(&self, q: &HistoryQuery) -> Result<Vec<HistoryEntry>, HistoryError> {
        let path = &self.inner.path;
        let st = |e: redb::Error| storage(path, e);
        let mut out = Vec::new();
        if q.limit == 0 {
            return Ok(out);
        }
        let lo = q.since.map_or(i64::MIN, micros);
        let hi = q.until.map_or(i64::MAX, micros);
        if lo >= hi {
            return Ok(out);
        }
        let txn = self.inner.db.begin_read().map_err(|e| st(e.into()))?;
        let order = txn.open_table(ORDER).map_err(|e| st(e.into()))?;
        let alerts = txn.open_table(ALERTS).map_err(|e| st(e.into()))?;
        for row in order.iter().map_err(|e| st(e.into()))?.rev() {
            let (_, value) = row.map_err(|e| st(e.into()))?;
            let (t, id, row) = value.value();
            if t < lo || t >= hi {
                continue;
            }
            let meta = parse_row(path, id, row)?;
            let wanted = q.camera.as_ref().is_none_or(|c| *c == meta.camera)
                && q.rule.as_ref().is_none_or(|r| *r == meta.rule)
                && q.kind.as_ref().is_none_or(|k| *k == meta.kind);
            if !wanted {
                continue;
            }
            let body =
                alerts
                    .get((t, id))
                    .map_err(|e| st(e.into()))?
                    .ok_or_else(|| HistoryError::Corrupt {
                        path: path.clone(),
                        detail: format!("alert {id} is indexed but has no body"),
                    })?;
            out.push(entry(path, t, id, meta, body.value())?);
            if out.len() >= q.limit {
                break;
            }
        }
        Ok(out)
    }

    /// The alert with this id, if the history still has it.
    pub fn get(&self, id: &str) -> Result<Option<HistoryEntry>, HistoryError> {
        let path = &self.inner.path;
        let st = |e: redb::Error| storage(path, e);
        let txn = self.inner.db.begin_read().map_err(|e| st(e.into()))?;
        let ids = txn.open_table(IDS).map_err(|e| st(e.into()))?;
        let Some(t) = ids.get(id).map_err(|e| st(e.into()))?.map(|v| v.value()) else {
            return Ok(None);
        };
        let index = txn.open_table(INDEX).map_err(|e| st(e.into()))?;
        let alerts = txn.open_table(ALERTS).map_err(|e| st(e.into()))?;
        let missing = |what: &str| HistoryError::Corrupt {
            path: path.clone(),
            detail: format!("alert {id} is listed but its {what} is missing"),
        };
        let row = index
            .get((t, id))
            .map_err(|e| st(e.into()))?
            .ok_or_else(|| missing("index row"))?;
        let meta = parse_row(path, id, row.value())?;
        let body = alerts
            .get((t, id))
            .map_err(|e| st(e.into()))?
            .ok_or_else(|| missing("body"))?;
        entry(path, t, id, meta, body.value()).map(Some)
    }

    /// Number of alerts stored.
    pub fn len(&self) -> Result<u64, HistoryError> {
        let st = |e: redb::Error| storage(&self.inner.path, e);
        let txn = self.inner.db.begin_read().map_err(|e| st(e.into()))?;
        let index = txn.open_table(INDEX).map_err(|e| st(e.into()))?;
        index.len().map_err(|e| st(e.into()))
    }

    /// True when no alert is stored.
    pub fn is_empty(&self) -> Result<bool, HistoryError> {
        Ok(self.len()? == 0)
    }

    /// Removes alerts whose event time is before `now − max_age`, then the earliest recorded
    /// ones beyond `max_count`; returns how many were removed and logs what it removed (counts and the
    /// time span, never alert contents). Commits durably.
    pub fn prune(&self, now: Timestamp, max_age: Duration, max_count: u64) -> Result<u64, HistoryError> {
        let inner = &*self.inner;
        let st = |e: redb::Error| storage(&inner.path, e);
        let age_us = i64::try_from(max_age.as_micros()).unwrap_or(i64::MAX);
        let cutoff = micros(now).saturating_sub(age_us);
        let mut txn = inner.db.begin_write().map_err(|e| st(e.into()))?;
        txn.set_durability(Durability::Immediate)
            .map_err(|e| st(e.into()))?;
        let (by_age, by_count, span) = {
            let mut index = txn.open_table(INDEX).map_err(|e| st(e.into()))?;
            let mut alerts = txn.open_table(ALERTS).map_err(|e| st(e.into()))?;
            let mut ids = txn.open_table(IDS).map_err(|e| st(e.into()))?;
            let mut order = txn.open_table(ORDER).map_err(|e| st(e.into()))?;
            // (time, id, seq) of every row to remove.
            let mut doomed: Vec<(i64, String, u64)> = Vec::new();
            for row in index.range::<Key>(..(cutoff, "")).map_err(|e| st(e.into()))? {
                let (key, value) = row.map_err(|e| st(e.into()))?;
                let (t, id) = key.value();
                let seq = parse_row(&inner.path, id, value.value())?.seq;
                doomed.push((t, id.to_owned(), seq));
            }
            let by_age = doomed.len() as u64;
            let total = index.len().map_err(|e| st(e.into()))?;
            let mut over = total.saturating_sub(by_age).saturating_sub(max_count);
            if over > 0 {
                // The earliest recorded rows the age cut left.
                let aged: HashSet<u64> = doomed.iter().map(|d| d.2).collect();
                for row in order.iter().map_err(|e| st(e.into()))? {
                    if over == 0 {
                        break;
                    }
                    let (seq, value) = row.map_err(|e| st(e.into()))?;
                    if aged.contains(&seq.value()) {
                        continue;
                    }
                    let (t, id, _) = value.value();
                    doomed.push((t, id.to_owned(), seq.value()));
                    over -= 1;
                }
            }
            let span = doomed
                .iter()
                .map(|d| d.0)
                .min()
                .zip(doomed.iter().map(|d| d.0).max());
            for (t, id, seq) in &doomed {
                index.remove((*t, id.as_str())).map_err(|e| st(e.into()))?;
                alerts.remove((*t, id.as_str())).map_err(|e| st(e.into()))?;
                ids.remove(id.as_str()).map_err(|e| st(e.into()))?;
                order.remove(*seq).map_err(|e| st(e.into()))?;
            }
            (by_age, doomed.len() as u64 - by_age, span)
        };
        txn.commit().map_err(|e| st(e.into()))?;
        *inner.last_durable.lock().unwrap_or_else(PoisonError::into_inner) = Instant::now();
        let removed = by_age + by_count;
        if let Some((oldest, newest)) = span {
            let show =
                |us: i64| Timestamp::from_microsecond(us).map_or_else(|_| us.to_string(), |t| t.to_string());
            tracing::info!(
                history = %inner.path.display(), removed, by_age, by_count,
                oldest = %show(oldest), newest = %show(newest),
                max_age = ?max_age, max_count,
                "pruned alert history"
            );
        }
        Ok(removed)
    }

    /// [`History::prune`] with the retention of the config this history was opened with,
    /// guarded against clock jumps: age is measured against the trusted now of [`ClockGuard`],
    /// and a pass that sees the wall clock jump (`now` against the monotonic clock since the
    /// previous pass) logs it, counts it and prunes by count only.
    pub fn prune_per_config(&self, now: Timestamp) -> Result<u64, HistoryError> {
        self.prune_per_config_at(now, Instant::now())
    }

    /// [`History::prune_per_config`] with the monotonic reading given too (for tests).
    pub fn prune_per_config_at(&self, wall: Timestamp, mono: Instant) -> Result<u64, HistoryError> {
        let inner = &*self.inner;
        let c = &inner.config;
        let (step, trusted) = inner
            .clock
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .observe(wall, mono);
        let max_age = match step {
            ClockStep::Steady => Duration::from_secs(c.max_age_s),
            ClockStep::JumpedForward(by) | ClockStep::JumpedBack(by) => {
                inner.clock_jumps.fetch_add(1, Ordering::Relaxed);
                let direction = if matches!(step, ClockStep::JumpedForward(_)) {
                    "forward"
                } else {
                    "back"
                };
                tracing::warn!(
                    history = %inner.path.display(), direction, by = %by, wall = %wall, trusted = %trusted,
                    "wall clock jumped: not pruning the alert history by age on this pass; ages are measured \
                     against the monotonic clock"
                );
                Duration::MAX
            }
        };
        self.prune(trusted, max_age, c.max_count)
    }

    /// Wall-clock jumps seen by the prune passes since open.
    pub fn clock_jumps(&self) -> u64 {
        self.inner.clock_jumps.load(Ordering::Relaxed)
    }

    /// Makes every append so far durable (one fsync); appends are otherwise durable within
    /// [`DURABLE_EVERY`].
    pub fn flush(&self) -> Result<(), HistoryError> {
        let mut last = self
            .inner
            .last_durable
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        durable_noop(&self.inner.db).map_err(|e| storage(&self.inner.path, e))?;
        *last = Instant::now();
        Ok(())
    }

    /// The history file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The settings it was opened with.
    pub fn config(&self) -> &HistoryConfig {
        &self.inner.config
    }
}

/// Gives every row a place in `history_order` when the two tables disagree (a file written
/// before the order existed): event-time order, the best guess for old rows. Returns the
/// number of rows when it rebuilt.
fn rebuild_order_if_needed(
    path: &Path,
    index: &mut redb::Table<'_, Key<'static>, &'static [u8]>,
    order: &mut redb::Table<'_, u64, (i64, &'static str, &'static [u8])>,
) -> Result<Option<u64>, HistoryError> {
    let st = |e: redb::Error| storage(path, e);
    let rows = index.len().map_err(|e| st(e.into()))?;
    if order.len().map_err(|e| st(e.into()))? == rows {
        return Ok(None);
    }
    order.retain(|_, _| false).map_err(|e| st(e.into()))?;
    let mut all: Vec<(i64, String, Row)> = Vec::new();
    for row in index.iter().map_err(|e| st(e.into()))? {
        let (key, value) = row.map_err(|e| st(e.into()))?;
        let (t, id) = key.value();
        all.push((t, id.to_owned(), parse_row(path, id, value.value())?));
    }
    for (n, (t, id, mut row)) in all.into_iter().enumerate() {
        row.seq = n as u64 + 1;
        let bytes = serde_json::to_vec(&row).map_err(|e| HistoryError::Encode {
            id: id.clone(),
            detail: e.to_string(),
        })?;
        index
            .insert((t, id.as_str()), bytes.as_slice())
            .map_err(|e| st(e.into()))?;
        order
            .insert(row.seq, (t, id.as_str(), bytes.as_slice()))
            .map_err(|e| st(e.into()))?;
    }
    Ok(Some(rows))
}

fn parse_row(path: &Path, id: &str, bytes: &[u8]) -> Result<Row, HistoryError> {
    serde_json::from_slice(bytes).map_err(|e| HistoryError::Corrupt {
        path: path.to_path_buf(),
        detail: format!("alert {id}: unreadable index row: {e}"),
    })
}

fn entry(path: &Path, t: i64, id: &str, row: Row, body: &[u8]) -> Result<HistoryEntry, HistoryError> {
    let corrupt = |detail: String| HistoryError::Corrupt {
        path: path.to_path_buf(),
        detail: format!("alert {id}: {detail}"),
    };
    let alert = serde_json::from_slice(body).map_err(|e| corrupt(format!("unreadable alert JSON: {e}")))?;
    let time = Timestamp::from_microsecond(t).map_err(|e| corrupt(format!("bad time key {t}: {e}")))?;
    Ok(HistoryEntry {
        id: id.to_owned(),
        time,
        camera: row.camera,
        rule: row.rule,
        kind: row.kind,
        severity: row.severity,
        alert,
    })
}

fn storage(path: &Path, e: redb::Error) -> HistoryError {
    match e {
        redb::Error::Corrupted(detail) => HistoryError::Corrupt {
            path: path.to_path_buf(),
            detail,
        },
        other => HistoryError::Storage {
            path: path.to_path_buf(),
            detail: other.to_string(),
        },
    }
}

fn open_error(path: &Path, e: DatabaseError) -> HistoryError {
    let path = path.to_path_buf();
    match e {
        DatabaseError::DatabaseAlreadyOpen => HistoryError::Locked { path },
        DatabaseError::UpgradeRequired(v) => HistoryError::Corrupt {
            path,
            detail: format!("file format version {v} is not supported"),
        },
        DatabaseError::RepairAborted => HistoryError::Corrupt {
            path,
            detail: "repair aborted".into(),
        },
        DatabaseError::Storage(redb::StorageError::Corrupted(detail)) => {
            HistoryError::Corrupt { path, detail }
        }
        DatabaseError::Storage(redb::StorageError::Io(io))
            if matches!(
                io.kind(),
                std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof
            ) =>
        {
            HistoryError::Corrupt {
                path,
                detail: io.to_string(),
            }
        }
        other => HistoryError::Storage {
            path,
            detail: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests;
