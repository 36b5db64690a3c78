//! Error types, one per operation family, each carrying the sink name or file it concerns and,
//! where one exists, a hint at the fix.

use std::path::PathBuf;

use crate::meta::Severity;
use crate::template::TemplateError;

/// A sink or outbox configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Both `<what>_env` and `<what>_file` were given.
    #[error("sink {sink:?}: both {what}_env and {what}_file are set; keep one")]
    TwoSecretSources {
        /// Sink name.
        sink: String,
        /// Credential name, e.g. `password`.
        what: String,
    },
    /// The referenced environment variable is not set.
    #[error("sink {sink:?}: environment variable {var} is not set (export it or use a *_file reference)")]
    MissingEnv {
        /// Sink name.
        sink: String,
        /// Variable name.
        var: String,
    },
    /// The referenced secret file cannot be read.
    #[error("sink {sink:?}: cannot read secret file {path}: {source}")]
    SecretFile {
        /// Sink name.
        sink: String,
        /// File path.
        path: PathBuf,
        /// I/O error.
        source: std::io::Error,
    },
    /// The `ca_file` of a TLS sink cannot be read or holds no usable CA certificate.
    #[error(
        "sink {sink:?}: ca_file {path}: {detail}; give a PEM file with the certificate of the CA that \
         signed the broker's certificate"
    )]
    CaFile {
        /// Sink name.
        sink: String,
        /// File path.
        path: PathBuf,
        /// What is wrong with it.
        detail: String,
    },
    /// A subject/topic/routing-key template is invalid.
    #[error("sink {sink:?}: {source}")]
    Template {
        /// Sink name.
        sink: String,
        /// What was wrong.
        source: TemplateError,
    },
    /// Any other invalid value.
    #[error("sink {sink:?}: {message}")]
    Invalid {
        /// Sink or component name.
        sink: String,
        /// What is wrong and how to fix it.
        message: String,
    },
}

/// Errors of the on-disk outbox.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    /// The outbox file exists but cannot be read as an outbox.
    #[error(
        "outbox file {path} is corrupt or not an outbox ({detail}); to keep it for inspection and start \
         empty, run `vigil outbox recover {path}` (moves it aside as {path}.corrupt-<timestamp>)"
    )]
    Corrupt {
        /// The outbox file.
        path: PathBuf,
        /// What the storage engine reported.
        detail: String,
    },
    /// The file is locked by another process.
    #[error("outbox file {path} is already open in another process (is another vigil running?)")]
    Locked {
        /// The outbox file.
        path: PathBuf,
    },
    /// Opening, reading or writing the file failed.
    #[error("outbox file {path}: {detail}")]
    Storage {
        /// The outbox file.
        path: PathBuf,
        /// What the storage engine reported.
        detail: String,
    },
    /// The alert was refused by the full-outbox policy.
    #[error(
        "outbox full ({entries} entries, {bytes} bytes): refused {severity} alert {id} (only high/critical \
         are accepted above the soft limit, nothing above the hard cap); check that the sinks are reachable"
    )]
    Full {
        /// Alert id.
        id: String,
        /// Its severity.
        severity: Severity,
        /// Entries at the time.
        entries: u64,
        /// Bytes at the time.
        bytes: u64,
    },
    /// The file cannot be written and the in-memory queue that bridges such failures is full:
    /// this alert is lost (and counted in [`crate::outbox::OutboxHealth::dropped_total`]).
    #[error(
        "outbox file {path} cannot be written ({detail}) and {held} alerts already wait in memory, \
         the most it keeps: alert {id} is lost; free space on that disk or fix the I/O error, the \
         outbox reopens the file by itself and writes the waiting alerts"
    )]
    Unavailable {
        /// The outbox file.
        path: PathBuf,
        /// Alert id.
        id: String,
        /// The storage error.
        detail: String,
        /// Alerts waiting in memory.
        held: usize,
    },
    /// `vigil outbox recover` refused to move the file.
    #[error("not moving {path}: {reason}; {hint}")]
    RecoverRefused {
        /// The file.
        path: PathBuf,
        /// Why it stays.
        reason: String,
        /// What to do instead.
        hint: String,
    },
    /// The alert could not be turned into an event.
    #[error("alert {id}: cannot encode: {detail}")]
    Encode {
        /// Alert id.
        id: String,
        /// Encoder message.
        detail: String,
    },
    /// Moving a corrupt file aside failed.
    #[error("cannot move outbox file {path} aside to {target}: {source}")]
    Recover {
        /// The outbox file.
        path: PathBuf,
        /// Where it should have gone.
        target: PathBuf,
        /// I/O error.
        source: std::io::Error,
    },
    /// A blocking outbox call from the delivery loop did not finish (runtime shutting down).
    #[error("outbox task failed: {0}")]
    Join(String),
}

/// Why a publish did not get an acknowledgement. The delivery loop retries every kind; the
/// kind decides only how it is counted and logged.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// Could not connect or the connection dropped.
    #[error("sink {sink:?}: broker unavailable: {detail}")]
    Unavailable {
        /// Sink name.
        sink: String,
        /// Client library message.
        detail: String,
    },
    /// Connected, but the publish was not acknowledged (timeout, nack, I/O error).
    #[error("sink {sink:?}: publish failed: {detail}")]
    Publish {
        /// Sink name.
        sink: String,
        /// Client library message.
        detail: String,
    },
    /// The receiver refused the event (HTTP 4xx, unroutable message). Retrying may not help
    /// until someone fixes the receiver or the routing; the alert is kept, never dropped.
    #[error("sink {sink:?}: rejected: {detail}")]
    Rejected {
        /// Sink name.
        sink: String,
        /// What the receiver said.
        detail: String,
    },
    /// The sink could not be set up (bad config discovered at connect time).
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// Errors of the alert history ([`crate::history::History`]).
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// The history file exists but cannot be read.
    #[error(
        "alert history file {path} is corrupt or not a history ({detail}); it only duplicates alerts \
         already delivered, so with vigil stopped move it aside (`vigil outbox recover {path}` renames \
         it to {path}.corrupt-<timestamp>) and start again with an empty history"
    )]
    Corrupt {
        /// The history file.
        path: PathBuf,
        /// What was wrong.
        detail: String,
    },
    /// The file is locked by another process.
    #[error("alert history file {path} is already open in another process (is another vigil running?)")]
    Locked {
        /// The history file.
        path: PathBuf,
    },
    /// Opening, reading or writing the file failed.
    #[error("alert history file {path}: {detail}")]
    Storage {
        /// The history file.
        path: PathBuf,
        /// What the storage engine reported.
        detail: String,
    },
    /// The alert's `time` is not RFC 3339, so it has no place in the time index.
    #[error("alert {id}: time {time:?} is not RFC 3339 (e.g. 2024-05-01T12:00:00.040Z)")]
    Time {
        /// Alert id.
        id: String,
        /// The offending value.
        time: String,
    },
    /// The alert could not be turned into JSON.
    #[error("alert {id}: cannot encode for the history: {detail}")]
    Encode {
        /// Alert id.
        id: String,
        /// Encoder message.
        detail: String,
    },
}
