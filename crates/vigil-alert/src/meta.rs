//! The few alert fields delivery needs: id, camera, rule kind, severity, time.
//!
//! Everything else about an alert is opaque JSON to this crate (it becomes the CloudEvent's
//! `data`). [`AlertMeta`] is stored beside each outbox entry so routing, templates and the
//! per-camera ordering never have to parse the payload again.

use serde::{Deserialize, Serialize};

/// How urgent an alert is (the core type, re-exported): ordered info < low < medium < high <
/// critical.
pub use vigil_core::alert::Severity;

/// Envelope fields of one alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertMeta {
    /// Stable alert id (UUID text); the CloudEvent `id` and the broker dedupe key.
    pub id: String,
    /// Camera that raised the alert.
    pub camera: String,
    /// Rule kind, dotted, e.g. `plate.hotlist`, `zone.enter`.
    pub kind: String,
    /// Urgency, used by routing and the full-outbox policy.
    pub severity: Severity,
    /// When the event happened (not when it was enqueued), RFC 3339.
    pub time: String,
}

impl AlertMeta {
    /// A meta value for unit tests of this crate.
    #[cfg(test)]
    pub(crate) fn for_test(camera: &str, kind: &str, severity: Severity) -> Self {
        Self {
            id: uuid::Uuid::new_v4().to_string(),
            camera: camera.into(),
            kind: kind.into(),
            severity,
            time: "1970-01-01T00:00:00Z".into(),
        }
    }
}
