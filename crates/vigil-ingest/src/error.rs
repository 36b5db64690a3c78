//! Error types: configuration problems (found at load time) and source failures (found while
//! running, kept in the camera status). Every message is already redacted.

use thiserror::Error;

/// A camera source config that cannot be used. Each variant names the camera and says how to fix
/// it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    /// `id` is empty.
    #[error("camera with uri {uri} has an empty `id`; give every camera a unique id")]
    EmptyId {
        /// Redacted URI of the nameless camera.
        uri: String,
    },
    /// The URI has no `scheme://`.
    #[error("camera `{camera}`: uri {uri} has no scheme; write rtsp://host/path or file:///absolute/path")]
    MissingScheme {
        /// Camera id.
        camera: String,
        /// Redacted URI.
        uri: String,
    },
    /// The URI scheme is not one Vigil can read.
    #[error(
        "camera `{camera}`: unsupported uri scheme `{scheme}` in {uri}; use rtsp://, rtsps://, file://, http:// or https://"
    )]
    UnsupportedScheme {
        /// Camera id.
        camera: String,
        /// The scheme as written.
        scheme: String,
        /// Redacted URI.
        uri: String,
    },
    /// A password without a user name.
    #[error("camera `{camera}`: `password` is set but `username` is not; set both or neither")]
    PasswordWithoutUser {
        /// Camera id.
        camera: String,
    },
    /// A field is out of range or malformed.
    #[error("camera `{camera}`: {field} = {value} is invalid: {reason}")]
    InvalidValue {
        /// Camera id.
        camera: String,
        /// Field name as in the config file.
        field: &'static str,
        /// The offending value.
        value: String,
        /// What a valid value looks like.
        reason: &'static str,
    },
}

/// Broad classes of source failure; the supervisor's retry policy depends on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceErrorKind {
    /// A needed GStreamer element (plugin) is not installed, or the decoder override is unknown.
    MissingElement,
    /// The server refused the credentials (RTSP/HTTP 401).
    Unauthorized,
    /// The resource does not exist (RTSP/HTTP 404, missing file).
    NotFound,
    /// Could not connect or the connection broke (refused, unreachable, reset).
    Unreachable,
    /// The media is broken: truncated file, undecodable stream, no video track.
    BadMedia,
    /// No frame arrived within the stall timeout.
    Stalled,
    /// The stream ended where more was expected (a live source sent EOS).
    EndOfStream,
    /// Anything else GStreamer reported.
    Other,
}

/// A failure of one camera source, with a redacted, human-readable message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("camera `{camera}` ({uri}): {kind:?}: {message}{hint}", hint = hint_suffix(*kind))]
pub struct SourceError {
    /// Camera id.
    pub camera: String,
    /// Redacted source URI.
    pub uri: String,
    /// Failure class.
    pub kind: SourceErrorKind,
    /// Redacted detail: the GStreamer message and the element that raised it.
    pub message: String,
}

fn hint_suffix(kind: SourceErrorKind) -> &'static str {
    match kind {
        SourceErrorKind::MissingElement => {
            " (hint: install the GStreamer plugin packages, check `gst-inspect-1.0 <element>`)"
        }
        SourceErrorKind::Unauthorized => " (hint: check username/password for this camera)",
        SourceErrorKind::NotFound => " (hint: check the stream path or file location)",
        SourceErrorKind::Unreachable => " (hint: check host, port, network and that the camera is up)",
        SourceErrorKind::BadMedia => " (hint: the file or stream is truncated or uses an unsupported codec)",
        SourceErrorKind::Stalled => " (hint: the camera stopped sending video; it will be reconnected)",
        SourceErrorKind::EndOfStream | SourceErrorKind::Other => "",
    }
}

/// Errors of the ingest runtime outside a single camera (initialisation, shutdown, camsim).
#[derive(Debug, Error)]
pub enum IngestError {
    /// GStreamer could not be initialised.
    #[error("GStreamer init failed: {0} (hint: install libgstreamer1.0 and its plugins)")]
    Init(String),
    /// A pipeline could not be built or started.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// A thread did not finish within the shutdown deadline.
    #[error("{what} did not stop within {timeout_ms} ms; it was detached")]
    StopTimeout {
        /// Which thread.
        what: String,
        /// The deadline.
        timeout_ms: u64,
    },
    /// The test camera server failed.
    #[error("camsim: {0}")]
    Camsim(String),
    /// A benchmark run or its clip generation failed.
    #[error("bench: {0}")]
    Bench(String),
    /// An I/O problem (bench clip generation, temp files).
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// Cause.
        source: std::io::Error,
    },
}
