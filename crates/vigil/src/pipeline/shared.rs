//! What a running pipeline shares with the API and the metrics: live handles and small
//! snapshots the analysis thread keeps current. Every lock here is held for a copy, never
//! across I/O or inference.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use vigil_alert::{History, Outbox, SinkStatus};
use vigil_core::Frame;
use vigil_core::alert::AlertKind;
use vigil_infer::PoolStats;
use vigil_ingest::CameraStatus;
use vigil_watchlist::LiveWatchlists;

use crate::pipeline::config::PipelineConfig;
use crate::pipeline::plates::PlateCounters;

/// Per rule: kind, alerts raised, triggers suppressed by cooldown/dedupe.
#[derive(Debug, Clone, Copy)]
pub struct RuleCount {
    /// Rule kind.
    pub kind: AlertKind,
    /// Alerts raised.
    pub alerts: u64,
    /// Triggers suppressed.
    pub suppressed: u64,
}

/// Live state of one pipeline.
pub struct Shared {
    /// The configuration running now (replaced by a successful reload).
    pub config: Mutex<PipelineConfig>,
    /// Cameras in config order, with their ingest status handles.
    pub cameras: Mutex<Vec<(String, CameraStatus)>>,
    /// Latest analysed frame per camera (pixels shared, not copied), for snapshots.
    pub latest: Mutex<HashMap<String, Frame>>,
    /// Tracks of the latest analysed frame per camera, as the console draws them; replaced
    /// whole each frame (the lock is held for the swap or an `Arc` clone).
    pub tracks: Mutex<HashMap<String, Arc<vigil_http::CameraDetections>>>,
    /// Frames analysed per camera.
    pub analysed: Mutex<HashMap<String, u64>>,
    /// Per (camera, rule id).
    pub rules: Mutex<HashMap<(String, String), RuleCount>>,
    /// Plates voted per camera.
    pub plates: Mutex<HashMap<String, u64>>,
    /// Detector pool counters and histograms.
    pub pool: Arc<PoolStats>,
    /// Detector model name.
    pub model: String,
    /// Plate stage counters (when a camera reads plates).
    pub plate_counters: Option<Arc<PlateCounters>>,
    /// One status per sink.
    pub sinks: Vec<SinkStatus>,
    /// The outbox.
    pub outbox: Outbox,
    /// Alert history (API queries).
    pub history: History,
    /// Alerts as JSON (without snapshot bytes) for live streams.
    pub alerts_tx: tokio::sync::broadcast::Sender<Arc<serde_json::Value>>,
    /// Watchlists, when the pipeline has any.
    pub watchlists: Option<Arc<LiveWatchlists>>,
    /// The plate read log (keyed hashes), when `[plates.read_log]` is enabled.
    pub read_log: Option<crate::pipeline::read_log::ReadLog>,
    /// When the pipeline started.
    pub started: std::time::Instant,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

/// Locks, recovering from poisoning (the data are counters and handles; a panic elsewhere
/// cannot leave them inconsistent in a way that matters more than losing the API).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
