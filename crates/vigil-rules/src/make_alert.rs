//! Building [`Alert`] values: the id and time formats live here.

use std::collections::BTreeMap;

use jiff::Timestamp;
use vigil_core::alert::{
    Alert, AlertCamera, AlertContext, AlertDetection, AlertMatch, AlertPlate, AlertRule,
};

use crate::rule::Rule;

/// A fresh alert id: a UUID v7 whose 48-bit time part is the *frame's* wall time (so ids sort by
/// when things happened, also when a recording is replayed) and whose other 74 bits are random
/// (so two alerts of the same frame never collide). Times before 1970 are clamped to the epoch.
pub fn alert_id(wall: Timestamp) -> String {
    let secs = u64::try_from(wall.as_second()).unwrap_or(0);
    let nanos = u32::try_from(wall.subsec_nanosecond()).unwrap_or(0);
    uuid::Uuid::new_v7(uuid::Timestamp::from_unix(uuid::NoContext, secs, nanos)).to_string()
}

/// RFC 3339 in UTC with millisecond precision, e.g. `2024-05-01T12:00:00.040Z`.
pub fn rfc3339_utc(wall: Timestamp) -> String {
    format!("{wall:.3}")
}

/// The rule-specific parts of an alert.
pub(crate) struct Parts {
    pub detection: AlertDetection,
    pub plate: Option<AlertPlate>,
    pub watch_match: Option<AlertMatch>,
    pub context: AlertContext,
}

/// What every alert of one camera shares.
#[derive(Debug, Clone)]
pub(crate) struct Stamp {
    pub camera: AlertCamera,
    pub versions: BTreeMap<String, String>,
}

impl Stamp {
    pub(crate) fn alert(&self, rule: &Rule, wall: Timestamp, parts: Parts) -> Alert {
        Alert {
            id: alert_id(wall),
            time: rfc3339_utc(wall),
            camera: self.camera.clone(),
            rule: AlertRule {
                id: rule.id.clone(),
                kind: rule.kind,
            },
            severity: rule.severity,
            detection: parts.detection,
            plate: parts.plate,
            watch_match: parts.watch_match,
            context: parts.context,
            snapshot: None,
            versions: self.versions.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_is_v7_with_the_frame_time_and_unique() {
        let t: Timestamp = "2024-05-01T12:00:00.040Z".parse().expect("ts");
        let (a, b) = (alert_id(t), alert_id(t));
        assert_ne!(a, b);
        let u = uuid::Uuid::parse_str(&a).expect("uuid");
        assert_eq!(u.get_version_num(), 7);
        let (secs, nanos) = u.get_timestamp().expect("v7 has a time").to_unix();
        assert_eq!((secs, nanos / 1_000_000), (1_714_564_800, 40));
    }

    #[test]
    fn time_is_utc_with_milliseconds() {
        let t: Timestamp = "2024-05-01T20:00:00.04+08:00".parse().expect("ts");
        assert_eq!(rfc3339_utc(t), "2024-05-01T12:00:00.040Z");
    }
}
