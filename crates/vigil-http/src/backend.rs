//! The seam between the API and the daemon: [`Backend`] and the types it exchanges.
//!
//! The binary owns the pipeline and implements [`Backend`]; this crate only translates HTTP to
//! calls on it. Methods are synchronous because the pipeline's state lives behind plain locks
//! on OS threads; handlers call them through `tokio::task::spawn_blocking`, so a slow call
//! (a snapshot encode, a history scan, a reload) never stalls the async runtime.

use std::net::SocketAddr;
use std::sync::Arc;

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;
use vigil_watchlist::LiveWatchlists;

use crate::detections::CameraDetections;
use crate::error::ApiError;

/// What the daemon exposes to the API. Every method may be called from several threads at
/// once.
pub trait Backend: Send + Sync + 'static {
    /// Every configured camera with its state and counters.
    fn cameras(&self) -> Vec<CameraInfo>;

    /// The latest frame of camera `id` as JPEG (privacy masks already applied). Errors:
    /// `camera_not_found` (404), `no_frame` (404/503) when nothing was decoded yet.
    fn camera_snapshot_jpeg(&self, id: &str) -> Result<Vec<u8>, ApiError>;

    /// The configured rules, as the daemon wants to show them.
    fn rules(&self) -> Value;

    /// Recent alerts matching `query`, newest first, at most `query.limit`; each is a
    /// `vigil_core::alert::Alert` as JSON (snapshot bytes omitted).
    fn alerts(&self, query: &AlertQuery) -> Result<Vec<Value>, ApiError>;

    /// One alert by id; `alert_not_found` (404) when unknown or expired.
    fn alert(&self, id: &str) -> Result<Value, ApiError>;

    /// The snapshot JPEG of alert `id`; `alert_not_found` or `no_snapshot` (404).
    fn alert_snapshot_jpeg(&self, id: &str) -> Result<Vec<u8>, ApiError>;

    /// A receiver of every alert raised from now on (for `GET /api/v1/alerts/stream`). A slow
    /// client lags and is told how many it missed; it never slows the pipeline.
    fn subscribe_alerts(&self) -> tokio::sync::broadcast::Receiver<Arc<Value>>;

    /// The live watchlists (store + index). The API changes them through it, so every change
    /// is atomic and lands in the store's hash-chained audit log.
    fn watchlists(&self) -> &LiveWatchlists;

    /// Re-reads and applies the configuration; a bad one is rejected (`invalid_config`, 422)
    /// and the running one keeps going.
    fn reload(&self, caller: &Caller) -> Result<ReloadOutcome, ApiError>;

    /// Whether the daemon is ready to do its job (models loaded, sinks reachable…).
    fn readiness(&self) -> Readiness;

    /// All metrics in the Prometheus text exposition format 0.0.4.
    fn metrics_text(&self) -> String;

    /// Records that `caller` queried alert history or watchlists (`what` is the method, path
    /// and query string). Called *before* the query is answered; an error refuses the query,
    /// so nothing is disclosed that the audit log does not show.
    fn audit_query(&self, caller: &Caller, what: &str) -> Result<(), ApiError>;

    /// Records that `caller` acknowledged alert `id` (with an optional free-text `note`) and
    /// returns the alert as [`Backend::alert`] will show it from now on, with an `ack` object
    /// (`{"by", "at", "note"}`) so other operators see who handled it. Acknowledging twice
    /// keeps the first acknowledgement (`already_acknowledged`, 409) or replaces it, as the
    /// daemon chooses. Errors: `alert_not_found` (404).
    ///
    /// The default answers `not_implemented` (501), so a backend without acknowledgements
    /// still compiles and says so to the console.
    fn ack_alert(&self, id: &str, caller: &Caller, note: Option<&str>) -> Result<Value, ApiError> {
        let _ = (id, caller, note);
        Err(ApiError::not_implemented("acknowledging alerts"))
    }

    /// Replaces every zone, line and rule of camera `camera` with `rules` (a `vigil_rules`
    /// `RulesConfig` as JSON, the shape [`Backend::rules`] shows per camera), validated by the
    /// same code as `vigil check` (`invalid_config`, 422, with the errors; nothing changes),
    /// applied by reload and written back so that it survives a restart. Errors:
    /// `camera_not_found` (404).
    ///
    /// The default answers `not_implemented` (501).
    fn replace_camera_rules(
        &self,
        camera: &str,
        rules: Value,
        caller: &Caller,
    ) -> Result<ReloadOutcome, ApiError> {
        let _ = (camera, rules, caller);
        Err(ApiError::not_implemented("editing rules through the API"))
    }

    /// The tracks of camera `id`'s latest analysed frame, for the console to draw over the
    /// frame (`GET /api/v1/cameras/{id}/detections`). Cheap: a copy of what the analysis
    /// stage keeps, never a wait on it. The API bounds the answer
    /// ([`CameraDetections::bounded`]). Privacy: a track's `plate` is set only when the plate
    /// matched a watchlist. Errors: `camera_not_found` (404), `no_frame` (503) when nothing
    /// was analysed yet.
    ///
    /// The default answers `not_implemented` (501); the console then draws zones only.
    fn camera_detections(&self, id: &str) -> Result<CameraDetections, ApiError> {
        let _ = id;
        Err(ApiError::not_implemented("detection boxes"))
    }
}

/// Who is calling: the token's name (never its secret) and the peer address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Caller {
    /// Name of the token presented, or `anonymous` when the API runs without tokens.
    pub token: String,
    /// The TCP peer; `None` only when the router is served without connection info.
    pub peer: Option<SocketAddr>,
}

impl Caller {
    /// The name used for callers when no tokens are configured.
    pub const ANONYMOUS: &'static str = "anonymous";

    /// The peer as text for audit records (`"unknown"` without connection info).
    pub fn source(&self) -> String {
        self.peer.map_or_else(|| "unknown".to_owned(), |p| p.to_string())
    }
}

/// A camera as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CameraInfo {
    /// Configured id (URL-safe).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Where it is, free text.
    pub location: Option<String>,
    /// Current state, e.g. `streaming`, `reconnecting` (snake_case of the ingest state).
    pub state: String,
    /// Cumulative counters since start.
    pub counters: CameraCounters,
    /// Frames analysed per second, recent average.
    pub fps_analysed: f64,
    /// The last error, already redacted (no credentials in URIs).
    pub last_error: Option<String>,
}

/// Cumulative per-camera counters since the daemon started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CameraCounters {
    /// Frames decoded.
    pub frames_in: u64,
    /// Frames sent through detection.
    pub frames_analysed: u64,
    /// Frames dropped anywhere between decoding and detection: the sum of
    /// `frames_dropped_ingest` and `frames_dropped_detector` (frames the `analysis_fps` rate
    /// gate skips on purpose are not drops and are not counted).
    pub frames_dropped: u64,
    /// Frames dropped by the camera's ingest queue (analysis not taking frames fast enough).
    pub frames_dropped_ingest: u64,
    /// Frames dropped by the detector pool's queue for this camera (inference too slow).
    pub frames_dropped_detector: u64,
    /// Plate reading jobs of this camera dropped because the plate queue was full.
    pub plate_jobs_dropped: u64,
    /// Reconnects after a stream failure.
    pub reconnects: u64,
    /// Decoder errors.
    pub decode_errors: u64,
}

/// Filter for [`Backend::alerts`]; built and validated by the API from the query string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertQuery {
    /// Only this camera id.
    pub camera: Option<String>,
    /// Only this rule id.
    pub rule: Option<String>,
    /// Only alerts at or after this instant.
    pub since: Option<Timestamp>,
    /// Only alerts before this instant.
    pub until: Option<Timestamp>,
    /// At most this many, 1..=[`AlertQuery::MAX_LIMIT`].
    pub limit: usize,
}

impl AlertQuery {
    /// `limit` when the query string has none.
    pub const DEFAULT_LIMIT: usize = 100;
    /// Largest `limit` accepted.
    pub const MAX_LIMIT: usize = 1000;
}

impl Default for AlertQuery {
    fn default() -> Self {
        Self {
            camera: None,
            rule: None,
            since: None,
            until: None,
            limit: Self::DEFAULT_LIMIT,
        }
    }
}

/// What a reload did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReloadOutcome {
    /// False when the new configuration equals the running one (nothing to do).
    pub applied: bool,
    /// One line for the operator.
    pub message: String,
    /// Camera ids started.
    pub cameras_added: Vec<String>,
    /// Camera ids stopped.
    pub cameras_removed: Vec<String>,
    /// Camera ids restarted with changed settings.
    pub cameras_restarted: Vec<String>,
    /// What the reload did to the HTTP API itself; absent from backends that do not say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api: Option<ApiReloadOutcome>,
}

/// What a reload did to the HTTP API (`[api]`): tokens change in place; a new `bind` moves the
/// listener; other keys restart it on the same socket.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ApiReloadOutcome {
    /// `unchanged`, `restarted` (same address, new limits), `moved` (new address), `started`
    /// (`[api]` added), `stopped` (`[api]` removed), `kept` (the new address could not be
    /// bound: the old listener still serves) or `off` (no `[api]` before or after).
    pub listener: String,
    /// The address served after the reload; absent when the API is off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<String>,
    /// Token names accepted from now on that were not before.
    pub tokens_added: Vec<String>,
    /// Token names no longer accepted.
    pub tokens_removed: Vec<String>,
    /// Token names whose secret changed (the old secret is refused from now on).
    pub tokens_rotated: Vec<String>,
    /// Why part of the change was not applied (e.g. the new address is taken).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The daemon's readiness: ready when every *required* check passes — the daemon can serve its
/// API and analyse video. Informational checks (each sink, each camera) are reported too, but a
/// broker incident or one dark camera must not take the API and console out of a load
/// balancer exactly when operators need them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Readiness {
    /// True when every required check passes.
    pub ready: bool,
    /// Each check, e.g. `model:yolox-nano`, `outbox`, `cameras`, `camera:gate`, `sink:nats`.
    pub checks: Vec<ReadinessCheck>,
}

impl Readiness {
    /// Readiness from its checks: ready when every required one passes.
    pub fn from_checks(checks: Vec<ReadinessCheck>) -> Self {
        Self {
            ready: checks.iter().all(|c| c.ok || !c.required),
            checks,
        }
    }
}

/// One readiness check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReadinessCheck {
    /// What was checked.
    pub name: String,
    /// Whether it passed.
    pub ok: bool,
    /// Whether a failure makes the daemon not ready (`false`: reported only).
    pub required: bool,
    /// Why not, or a short status.
    pub detail: String,
}
