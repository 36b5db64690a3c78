//! Durable alert delivery for Vigil.
//!
//! The rules engine hands an alert to [`Outbox::enqueue`]; it returns once the alert is on
//! disk (an fsync'd redb commit), so an alert the engine was told about survives `kill -9`.
//! One delivery loop per sink ([`delivery::spawn`]) then carries it to NATS JetStream, MQTT,
//! AMQP, a webhook, a JSONL file or Kafka, each confirming receipt before the outbox lets go.
//! An alert is deleted when every sink whose route matches it has acknowledged it.
//!
//! ```text
//! rules ──enqueue (fsync)──► Outbox (redb) ──► delivery loop "bus"  ──► NATS JetStream
//!                                        └──► delivery loop "plc"  ──► MQTT
//! ```
//!
//! Design choices:
//! - **Wire format**: CloudEvents 1.0 structured JSON ([`event`]), rendered once at enqueue;
//!   retries resend identical bytes, consumers dedupe by the event `id` (= alert id; NATS
//!   uses it as `Nats-Msg-Id`). Delivery is at least once.
//! - **Order**: each sink delivers in enqueue order and retries the head entry until it
//!   succeeds, so alerts of one camera arrive in order, also across restarts.
//! - **Bounded**: the outbox has a soft and a hard size; above the soft one only `high` and
//!   `critical` alerts are accepted, above the hard one nothing ([`outbox::admit`]). Snapshots
//!   are capped in size.
//! - **Failures**: sinks connect lazily and reconnect after any error; the loop backs off
//!   exponentially (capped) and reports a circuit state per sink ([`SinkStatus`]).
//! - **History**: a separate, queryable copy of every alert for the HTTP API ([`History`],
//!   `<data_dir>/history.redb`), pruned by age and count; losing it never loses an alert.
//! - **Opaque alerts**: this crate reads only id, camera, rule kind, severity and time from an
//!   alert ([`AlertMeta`]); the rest is JSON it carries untouched.
//!
//! - **Storage failures**: after a failed write (disk full) the outbox reopens its file and keeps
//!   accepted alerts in memory, bounded, until it can write them in order ([`Outbox::health`]).
//!
//! Operations — corrupt outbox: [`Outbox::open`] verifies the whole file and refuses one it
//! cannot read with [`OutboxError::Corrupt`], naming the file. Recovery is explicit: `vigil
//! outbox recover <path>` (calling [`recover`]) checks the file — never one in use, a healthy
//! one only with `--force` — renames it to `<path>.corrupt-<UTC timestamp>` and the next start
//! begins with an empty outbox, reporting the moved file ([`moved_aside`]); the old file is
//! kept for inspection, never deleted. Alerts pending for a sink removed from the config stay in the outbox until the sink
//! returns or [`Outbox::forget_sink`] is called.

/// Page cache of each redb file (outbox, history). redb's default is 1 GiB per database and it
/// fills as the file grows: with snapshots in the history that made a daemon's RSS climb by
/// gigabytes over hours (measured by `vigil bench soak`). Appends and reads of recent rows are
/// what the hot path does; 32 MiB holds those, and older pages come from the OS page cache.
pub const REDB_CACHE_BYTES: usize = 32 << 20;

pub mod alert;
pub mod delivery;
pub mod error;
pub mod event;
pub mod history;
pub mod meta;
pub mod outbox;
pub mod route;
pub mod secret;
pub mod sink;
pub mod template;
pub mod tls;

pub use delivery::{CircuitState, Delivery, RetryConfig, SinkStatus};
pub use error::{ConfigError, HistoryError, OutboxError, SinkError};
pub use event::{CloudEvent, Event};
pub use history::{History, HistoryConfig, HistoryEntry, HistoryQuery};
pub use meta::{AlertMeta, Severity};
pub use outbox::{
    FileAtOpen, MovedAside, Outbox, OutboxConfig, OutboxHealth, Recovered, Seq, moved_aside, recover,
};
pub use route::RouteConfig;
pub use sink::{AnySink, Sink, SinkConfig, SinkSpec};
