//! The HTTP API's view of a running pipeline ([`vigil_http::Backend`]).

use crate::daemon::metrics::state_name;
use crate::daemon::query_audit::QueryAudit;
use crate::pipeline::shared::{Shared, lock};
use crate::pipeline::{self, Pipeline, snapshot};
use base64::Engine as _;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use vigil_alert::HistoryQuery;
use vigil_http::{
    AlertQuery, ApiError, Backend, Caller, CameraCounters, CameraInfo, Readiness, ReloadOutcome,
};
use vigil_watchlist::LiveWatchlists;

/// Largest camera snapshot served (the frame's own resolution; quality steps down to fit).
const CAMERA_SNAPSHOT_MAX: usize = 2 * 1024 * 1024;

/// The daemon's backend.
pub struct DaemonBackend {
    /// Live state.
    pub shared: Arc<Shared>,
    /// The pipeline, for reloads (`None` once stopping).
    pub pipeline: Arc<Mutex<Option<Pipeline>>>,
    /// The pipeline file, re-read on reload.
    pub file: PathBuf,
    /// The watchlists (every daemon has a store).
    pub watchlists: Arc<LiveWatchlists>,
    /// Append-only log of API queries.
    pub audit: QueryAudit,
    /// Alert acknowledgements.
    pub acks: Acks,
    /// The API's listener and tokens, which a reload changes (see `reload.rs`).
    pub api: Arc<crate::daemon::api_server::ApiServer>,
}

/// Acknowledgements by alert id, kept in memory and appended to `<data_dir>/acks.jsonl` (one
/// fsync'd line each) so they survive a restart.
pub struct Acks {
    path: PathBuf,
    by_id: Mutex<std::collections::HashMap<String, Value>>,
}

impl Acks {
    /// Loads `path` (missing = none yet); unreadable lines are skipped with a warning.
    pub fn open(path: PathBuf) -> Self {
        let mut by_id = std::collections::HashMap::new();
        if let Ok(text) = std::fs::read_to_string(&path) {
            for (i, line) in text.lines().enumerate() {
                match serde_json::from_str::<Value>(line) {
                    Ok(v) => {
                        if let Some(id) = v["alert"].as_str() {
                            by_id.insert(id.to_string(), v["ack"].clone());
                        }
                    }
                    Err(e) => {
                        tracing::warn!(file = %path.display(), line = i + 1, error = %e, "acknowledgement line skipped")
                    }
                }
            }
        }
        Self {
            path,
            by_id: Mutex::new(by_id),
        }
    }

    fn get(&self, id: &str) -> Option<Value> {
        lock(&self.by_id).get(id).cloned()
    }

    fn add(&self, id: &str, ack: Value) -> Result<(), ApiError> {
        use std::io::Write as _;
        let mut m = lock(&self.by_id);
        if m.contains_key(id) {
            return Err(ApiError::conflict(
                "already_acknowledged",
                format!("alert '{id}' is already acknowledged"),
            ));
        }
        let line = serde_json::json!({ "alert": id, "ack": ack }).to_string();
        let res = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .and_then(|mut f| {
                f.write_all(format!("{line}\n").as_bytes())
                    .and_then(|()| f.sync_data())
            });
        res.map_err(|e| ApiError::unavailable("ack_not_stored", format!("{}: {e}", self.path.display())))?;
        m.insert(id.to_string(), ack);
        Ok(())
    }

    fn annotate(&self, mut alert: Value) -> Value {
        if let Some(ack) = alert["id"].as_str().and_then(|id| self.get(id))
            && let Some(o) = alert.as_object_mut()
        {
            o.insert("ack".into(), ack);
        }
        alert
    }
}

/// An alert as the API shows it: the history's JSON without the snapshot bytes.
fn public(mut alert: Value) -> Value {
    if let Some(o) = alert.as_object_mut() {
        let had = o.remove(vigil_alert::event::SNAPSHOT_KEY).is_some();
        o.insert("has_snapshot".into(), Value::Bool(had));
    }
    alert
}

impl Backend for DaemonBackend {
    fn cameras(&self) -> Vec<CameraInfo> {
        let cfg = lock(&self.shared.config).clone();
        let analysed = lock(&self.shared.analysed).clone();
        let uptime = self.shared.started.elapsed().as_secs_f64().max(1.0);
        lock(&self.shared.cameras)
            .iter()
            .map(|(id, status)| {
                let s = status.snapshot();
                let c = cfg.cameras.iter().find(|c| &c.id == id);
                let n = analysed.get(id).copied().unwrap_or(0);
                let detector = self.shared.pool.camera_dropped.get(id);
                let plates = self
                    .shared
                    .plate_counters
                    .as_ref()
                    .map_or(0, |p| p.camera_dropped.get(id));
                CameraInfo {
                    id: id.clone(),
                    name: c.map(|c| c.name.clone()).unwrap_or_default(),
                    location: c.map(|c| c.location.clone()).filter(|l| !l.is_empty()),
                    state: state_name(s.state).into(),
                    counters: CameraCounters {
                        frames_in: s.frames_in,
                        frames_analysed: n,
                        frames_dropped: s.frames_dropped + detector,
                        frames_dropped_ingest: s.frames_dropped,
                        frames_dropped_detector: detector,
                        plate_jobs_dropped: plates,
                        reconnects: s.reconnects,
                        decode_errors: s.decode_errors,
                    },
                    fps_analysed: n as f64 / uptime,
                    // SourceError messages are redacted at the source (no credentials).
                    last_error: s.last_error.map(|e| e.to_string()),
                }
            })
            .collect()
    }

    fn camera_snapshot_jpeg(&self, id: &str) -> Result<Vec<u8>, ApiError> {
        let known = lock(&self.shared.cameras).iter().any(|(c, _)| c == id);
        if !known {
            return Err(ApiError::not_found("no_such_camera", format!("no camera '{id}'")));
        }
        let frame = lock(&self.shared.latest).get(id).cloned();
        let frame = frame.ok_or_else(|| {
            ApiError::unavailable(
                "no_frame_yet",
                format!("camera '{id}' has not delivered a frame yet"),
            )
        })?;
        // The live snapshot is for looking at: the same width cap as alert snapshots.
        let max_width = lock(&self.shared.config).node.snapshot_max_width_px;
        snapshot::jpeg(&frame, CAMERA_SNAPSHOT_MAX, max_width)
            .ok_or_else(|| ApiError::internal("snapshot_failed", "the frame could not be encoded"))
    }

    fn camera_detections(&self, id: &str) -> Result<vigil_http::CameraDetections, ApiError> {
        let known = lock(&self.shared.cameras).iter().any(|(c, _)| c == id);
        if !known {
            return Err(ApiError::not_found(
                "camera_not_found",
                format!("no camera '{id}'; GET /api/v1/cameras lists them"),
            ));
        }
        // An Arc clone under the lock; the copy is made after it is released.
        let view = lock(&self.shared.tracks).get(id).cloned();
        view.map(|v| v.as_ref().clone()).ok_or_else(|| {
            ApiError::unavailable(
                "no_frame",
                format!("camera '{id}' has not had a frame analysed yet"),
            )
        })
    }

    fn rules(&self) -> Value {
        let cfg = lock(&self.shared.config).clone();
        let cams: serde_json::Map<String, Value> = cfg
            .cameras
            .iter()
            .map(|c| {
                (
                    c.id.clone(),
                    serde_json::to_value(&c.rules).unwrap_or(Value::Null),
                )
            })
            .collect();
        serde_json::json!({ "cameras": cams })
    }

    fn alerts(&self, q: &AlertQuery) -> Result<Vec<Value>, ApiError> {
        let hq = HistoryQuery {
            camera: q.camera.clone(),
            rule: q.rule.clone(),
            since: q.since,
            until: q.until,
            limit: q.limit,
            ..Default::default()
        };
        let rows = self
            .shared
            .history
            .query(&hq)
            .map_err(|e| ApiError::internal("history_failed", e.to_string()))?;
        Ok(rows
            .into_iter()
            .map(|r| self.acks.annotate(public(r.alert)))
            .collect())
    }

    fn alert(&self, id: &str) -> Result<Value, ApiError> {
        match self.shared.history.get(id) {
            Ok(Some(r)) => Ok(self.acks.annotate(public(r.alert))),
            Ok(None) => Err(ApiError::not_found(
                "no_such_alert",
                format!("no alert '{id}' in the history"),
            )),
            Err(e) => Err(ApiError::internal("history_failed", e.to_string())),
        }
    }

    fn alert_snapshot_jpeg(&self, id: &str) -> Result<Vec<u8>, ApiError> {
        let row = match self.shared.history.get(id) {
            Ok(Some(r)) => r,
            Ok(None) => {
                return Err(ApiError::not_found(
                    "no_such_alert",
                    format!("no alert '{id}' in the history"),
                ));
            }
            Err(e) => return Err(ApiError::internal("history_failed", e.to_string())),
        };
        let b64 = row.alert[vigil_alert::event::SNAPSHOT_KEY]
            .as_str()
            .ok_or_else(|| ApiError::not_found("no_snapshot", format!("alert '{id}' has no snapshot")))?;
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|e| ApiError::internal("snapshot_corrupt", e.to_string()))
    }

    fn subscribe_alerts(&self) -> tokio::sync::broadcast::Receiver<Arc<Value>> {
        self.shared.alerts_tx.subscribe()
    }

    fn watchlists(&self) -> &LiveWatchlists {
        &self.watchlists
    }

    fn reload(&self, caller: &Caller) -> Result<ReloadOutcome, ApiError> {
        match self.reload_file(&caller.token) {
            Ok(r) => Ok(r.outcome(None)),
            Err(e) => Err(ApiError::unprocessable("reload_refused", e)),
        }
    }

    fn ack_alert(&self, id: &str, caller: &Caller, note: Option<&str>) -> Result<Value, ApiError> {
        let alert = self.alert(id)?;
        let ack = serde_json::json!({
            "by": caller.token,
            "at": jiff::Timestamp::now().to_string(),
            "note": note,
        });
        self.acks.add(id, ack)?;
        tracing::info!(alert = id, by = %caller.token, "alert acknowledged");
        Ok(self.acks.annotate(alert))
    }

    fn replace_camera_rules(
        &self,
        camera: &str,
        rules: Value,
        caller: &Caller,
    ) -> Result<ReloadOutcome, ApiError> {
        let current = lock(&self.shared.config).clone();
        if !current.cameras.iter().any(|c| c.id == camera) {
            return Err(ApiError::not_found(
                "camera_not_found",
                format!("no camera '{camera}'"),
            ));
        }
        let rules: vigil_rules::RulesConfig = serde_json::from_value(rules).map_err(|e| {
            ApiError::unprocessable("invalid_config", format!("camera '{camera}' rules: {e}"))
        })?;
        // The same checks as `vigil check`, on the whole configuration with this camera changed.
        let mut candidate = current.clone();
        if let Some(c) = candidate.cameras.iter_mut().find(|c| c.id == camera) {
            c.rules = rules.clone();
        }
        if let Err(e) = pipeline::config::validate(&format!("camera '{camera}' rules"), "", &candidate) {
            let errors: Vec<Value> = e
                .lines()
                .filter(|l| !l.trim_start().starts_with("fix:"))
                .map(|l| serde_json::json!({ "message": l }))
                .collect();
            return Err(ApiError::unprocessable("invalid_config", e)
                .with_detail(serde_json::json!({ "errors": errors })));
        }
        if self.file.as_os_str().is_empty() {
            return Err(ApiError::conflict(
                "no_pipeline_file",
                "this pipeline was not started from a file; nothing to write the rules to",
            ));
        }
        // Persist first (so a restart keeps the edit), then apply through the normal reload;
        // if the reload is refused, the overlay goes back to what it was.
        let previous = pipeline::config::write_overlay(&self.file, camera, &rules)
            .map_err(|e| ApiError::internal("overlay_not_written", e))?;
        match self.reload_file(&caller.token) {
            Ok(r) => Ok(r.outcome(Some(format!(
                "rules of camera '{camera}' replaced by {}",
                caller.token
            )))),
            Err(e) => {
                if let Err(re) = pipeline::config::restore_overlay(&self.file, previous.as_deref()) {
                    tracing::error!(error = %re, "rules overlay could not be restored");
                }
                Err(ApiError::unprocessable("invalid_config", e))
            }
        }
    }

    fn readiness(&self) -> Readiness {
        use crate::daemon::readiness::{CameraReadiness, ReadinessInput, evaluate};
        let cameras = lock(&self.shared.cameras)
            .iter()
            .map(|(id, st)| CameraReadiness {
                id: id.clone(),
                state: st.state(),
            })
            .collect();
        evaluate(&ReadinessInput {
            model: self.shared.model.clone(),
            outbox: {
                let h = self.shared.outbox.health();
                if h.storage_ok {
                    Ok("accepting alerts".into())
                } else {
                    Err(format!(
                        "storage failing: {}; {} alerts held in memory, {} lost",
                        h.last_error.as_deref().unwrap_or("unknown error"),
                        h.pending_in_memory,
                        h.dropped_total
                    ))
                }
            },
            cameras,
            uptime: self.shared.started.elapsed(),
            sinks: self
                .shared
                .sinks
                .iter()
                .map(|s| (s.name().to_string(), s.state()))
                .collect(),
        })
    }

    fn metrics_text(&self) -> String {
        crate::daemon::metrics::render(&self.shared)
    }

    fn audit_query(&self, caller: &Caller, what: &str) -> Result<(), ApiError> {
        let source = caller
            .peer
            .map(|p| p.to_string())
            .unwrap_or_else(|| "unknown".into());
        self.audit
            .append(&caller.token, &source, what)
            .map_err(|e| ApiError::unavailable("audit_unavailable", e))
    }
}
