//! The wire format: CloudEvents 1.0, structured JSON mode.
//!
//! ```json
//! {"specversion":"1.0","id":"<alert id>","source":"vigil/<node>/<camera>",
//!  "type":"vigil.alert.plate.hotlist","time":"2024-05-01T12:00:00Z",
//!  "datacontenttype":"application/json","subject":"<camera>","data":{ …the alert… }}
//! ```
//!
//! The event body is rendered once, when the alert is enqueued, and stored in the outbox as
//! bytes: every retry and every sink sends the identical bytes, and a consumer's dedupe by `id`
//! sees the same document each time. The snapshot crop travels base64-encoded inside `data`
//! up to a size cap; a larger one is left out and `data.snapshot_truncated` is `true`, so an
//! alert's size on the wire and in the outbox is always bounded.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::meta::AlertMeta;

/// CloudEvents spec version this crate writes.
pub const SPEC_VERSION: &str = "1.0";
/// `datacontenttype` of every event.
pub const DATA_CONTENT_TYPE: &str = "application/json";
/// Prefix of the CloudEvent `type`; the rule kind follows (`vigil.alert.zone.enter`).
pub const TYPE_PREFIX: &str = "vigil.alert.";
/// Default cap of the snapshot size before base64, in bytes (256 KiB).
pub const DEFAULT_SNAPSHOT_CAP_BYTES: usize = 256 * 1024;
/// Key in `data` holding the base64 snapshot.
pub const SNAPSHOT_KEY: &str = "snapshot_base64";
/// Key in `data` set to `true` when the snapshot was over the cap and left out.
pub const SNAPSHOT_TRUNCATED_KEY: &str = "snapshot_truncated";

/// A CloudEvent as written on the wire (also what test consumers parse).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudEvent {
    /// Always `"1.0"`.
    pub specversion: String,
    /// The alert id.
    pub id: String,
    /// `vigil/<node>/<camera>`.
    pub source: String,
    /// `vigil.alert.<kind>`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// Event time, RFC 3339.
    pub time: String,
    /// Always `application/json`.
    pub datacontenttype: String,
    /// The camera id.
    pub subject: String,
    /// The alert itself.
    pub data: Value,
}

impl CloudEvent {
    /// Builds the envelope for one alert raised on `node`.
    pub fn new(node: &str, meta: &AlertMeta, data: Value) -> Self {
        Self {
            specversion: SPEC_VERSION.into(),
            id: meta.id.clone(),
            source: format!("vigil/{node}/{}", meta.camera),
            event_type: format!("{TYPE_PREFIX}{}", meta.kind),
            time: meta.time.clone(),
            datacontenttype: DATA_CONTENT_TYPE.into(),
            subject: meta.camera.clone(),
            data,
        }
    }
}

/// One alert as a sink sees it: outbox sequence, envelope fields and the encoded body.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Position in the outbox (increasing; order of enqueue).
    pub seq: u64,
    /// Envelope fields, for routing and templates.
    pub meta: AlertMeta,
    /// Milliseconds since the Unix epoch when the alert entered the outbox.
    pub enqueued_at_ms: u64,
    /// The CloudEvent JSON, exactly as it goes on the wire.
    pub body: Vec<u8>,
}

/// Replaces whatever `data` holds under `field` (the raw snapshot as serde wrote it) with the
/// base64 form, or with `snapshot_truncated: true` when `snapshot` is longer than `cap_bytes`.
pub fn embed_snapshot(data: &mut Map<String, Value>, field: &str, snapshot: Option<&[u8]>, cap_bytes: usize) {
    data.remove(field);
    let Some(bytes) = snapshot else { return };
    if bytes.len() <= cap_bytes {
        data.insert(
            SNAPSHOT_KEY.into(),
            base64::engine::general_purpose::STANDARD.encode(bytes).into(),
        );
    } else {
        data.insert(SNAPSHOT_TRUNCATED_KEY.into(), true.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::Severity;

    #[test]
    fn envelope_fields_follow_the_spec() {
        let meta = AlertMeta::for_test("gate-1", "plate.hotlist", Severity::High);
        let ev = CloudEvent::new("node-a", &meta, serde_json::json!({"x": 1}));
        let v = serde_json::to_value(&ev).expect("json");
        assert_eq!(v["specversion"], "1.0");
        assert_eq!(v["type"], "vigil.alert.plate.hotlist");
        assert_eq!(v["source"], "vigil/node-a/gate-1");
        assert_eq!(v["subject"], "gate-1");
        assert_eq!(v["id"], meta.id.as_str());
        assert_eq!(v["time"], "1970-01-01T00:00:00Z");
        assert_eq!(v["datacontenttype"], "application/json");
    }

    #[test]
    fn snapshot_is_base64_under_the_cap_and_flagged_over_it() {
        let mut data = Map::new();
        data.insert("snapshot".into(), serde_json::json!([1, 2, 3]));
        embed_snapshot(&mut data, "snapshot", Some(&[1, 2, 3]), 3);
        assert_eq!(data.get(SNAPSHOT_KEY), Some(&Value::from("AQID")));
        assert!(!data.contains_key("snapshot") && !data.contains_key(SNAPSHOT_TRUNCATED_KEY));

        let mut data = Map::new();
        embed_snapshot(&mut data, "snapshot", Some(&[0; 4]), 3);
        assert_eq!(data.get(SNAPSHOT_TRUNCATED_KEY), Some(&Value::Bool(true)));
        assert!(!data.contains_key(SNAPSHOT_KEY));
    }
}
