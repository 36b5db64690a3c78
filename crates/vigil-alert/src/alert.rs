//! Bridge from `vigil_core::alert::Alert`: the only place that knows the alert's fields.
//!
//! Delivery treats an alert as opaque JSON plus [`AlertMeta`]; these free functions extract
//! the meta, render the JSON (`data`) with the snapshot embedded under its cap, and enqueue.

use serde_json::Value;
use vigil_core::alert::Alert;

use crate::error::OutboxError;
use crate::event::embed_snapshot;
use crate::meta::AlertMeta;
use crate::outbox::{Outbox, Seq};

/// Name of the alert field holding the snapshot (skipped by serde in `vigil-core`).
const SNAPSHOT_FIELD: &str = "snapshot";

/// Envelope fields of `alert`. Fails when `time` is not RFC 3339 (the CloudEvents `time`
/// attribute requires it, and consumers sort by it).
pub fn meta_of(alert: &Alert) -> Result<AlertMeta, OutboxError> {
    if alert.time.parse::<jiff::Timestamp>().is_err() {
        return Err(OutboxError::Encode {
            id: alert.id.clone(),
            detail: format!(
                "time {:?} is not RFC 3339 (e.g. 2024-05-01T12:00:00.040Z)",
                alert.time
            ),
        });
    }
    Ok(AlertMeta {
        id: alert.id.clone(),
        camera: alert.camera.id.clone(),
        kind: alert.rule.kind.as_str().into(),
        severity: alert.severity,
        time: alert.time.clone(),
    })
}

/// The alert as CloudEvent `data`: its JSON with the snapshot base64-embedded, or flagged
/// `snapshot_truncated` when larger than `snapshot_cap_bytes`.
pub fn data_of(alert: &Alert, snapshot_cap_bytes: usize) -> Result<Value, OutboxError> {
    let encode = |detail: String| OutboxError::Encode {
        id: alert.id.clone(),
        detail,
    };
    let mut value = serde_json::to_value(alert).map_err(|e| encode(e.to_string()))?;
    let Value::Object(map) = &mut value else {
        return Err(encode("alert did not serialise to a JSON object".into()));
    };
    embed_snapshot(map, SNAPSHOT_FIELD, alert.snapshot.as_deref(), snapshot_cap_bytes);
    Ok(value)
}

impl Outbox {
    /// Stores `alert` durably (fsync'd commit) and returns its seq; `Ok(None)` when no
    /// configured sink carries it. See [`Outbox::enqueue_json`] for the full-outbox policy.
    pub fn enqueue(&self, alert: &Alert) -> Result<Option<Seq>, OutboxError> {
        let meta = meta_of(alert)?;
        let data = data_of(alert, self.config().snapshot_cap_bytes)?;
        self.enqueue_json(meta, data)
    }
}
