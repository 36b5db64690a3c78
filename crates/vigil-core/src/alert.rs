//! The alert: what the rules engine raises and the delivery stage carries to the message bus.
//!
//! An [`Alert`] is a plain value, serialised as the CloudEvent `data` (see `vigil-alert`). It is
//! built once, by the rules engine, and never changes afterwards: its `id` is fixed at creation so
//! every retry and every sink carries the same id, and consumers can dedupe on it.
//!
//! Design choices:
//! - **Time** is the frame's wall-clock time as an RFC 3339 UTC string (`2024-05-01T12:00:00.040Z`),
//!   not the time the alert was built or sent. A string keeps this crate free of a date library;
//!   the producer (`vigil-rules`, with `jiff`) formats it.
//! - **Id** is a string (the rules engine writes a UUID v7 whose time part is the frame time), so
//!   this crate does not depend on `uuid`.
//! - **Snapshot** JPEG bytes are *skipped by serde*: a JSON array of numbers would triple the size
//!   and base64 belongs to the wire format. The delivery stage embeds them base64-encoded under a
//!   size cap (`vigil_alert::event::embed_snapshot`). An alert read back from JSON therefore has no
//!   snapshot.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::geometry::BoxPx;
use crate::track::TrackId;

/// Which rule kind raised an alert; the dotted name is the suffix of the CloudEvent type
/// (`vigil.alert.<kind>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum AlertKind {
    /// An object entered a zone (electronic fence) and stayed the configured minimum time.
    #[serde(rename = "zone.intrusion")]
    ZoneIntrusion,
    /// An object crossed a line in the configured direction.
    #[serde(rename = "line.crossing")]
    LineCrossing,
    /// An object stayed in a zone longer than the configured dwell time.
    #[serde(rename = "loitering")]
    Loitering,
    /// At least N people were in a zone for at least the configured time.
    #[serde(rename = "crowding")]
    Crowding,
    /// A plate on a hotlist was read.
    #[serde(rename = "plate.hotlist")]
    PlateHotlist,
    /// A plate not on the allowlist was read (gate cameras in allowlist mode).
    #[serde(rename = "plate.unknown_vehicle")]
    PlateUnknownVehicle,
}

impl AlertKind {
    /// Every kind, in declaration order.
    pub const ALL: [AlertKind; 6] = [
        AlertKind::ZoneIntrusion,
        AlertKind::LineCrossing,
        AlertKind::Loitering,
        AlertKind::Crowding,
        AlertKind::PlateHotlist,
        AlertKind::PlateUnknownVehicle,
    ];

    /// The dotted name used in CloudEvent types and JSON, e.g. `"zone.intrusion"`.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::ZoneIntrusion => "zone.intrusion",
            AlertKind::LineCrossing => "line.crossing",
            AlertKind::Loitering => "loitering",
            AlertKind::Crowding => "crowding",
            AlertKind::PlateHotlist => "plate.hotlist",
            AlertKind::PlateUnknownVehicle => "plate.unknown_vehicle",
        }
    }
}

impl fmt::Display for AlertKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error for a name that is neither an [`AlertKind`] nor a [`Severity`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {name:?}; expected one of: {expected}")]
pub struct UnknownName {
    /// What was being parsed ("alert kind", "severity").
    pub what: &'static str,
    /// The text that did not parse.
    pub name: String,
    /// The accepted names, comma-separated.
    pub expected: &'static str,
}

impl FromStr for AlertKind {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AlertKind::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| UnknownName {
            what: "alert kind",
            name: s.into(),
            expected: "zone.intrusion, line.crossing, loitering, crowding, plate.hotlist, plate.unknown_vehicle",
        })
    }
}

/// How urgent an alert is; ordered from least to most urgent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational.
    Info,
    /// Low.
    Low,
    /// Medium (the default of rules that do not say).
    #[default]
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl Severity {
    /// Lower-case name as used in JSON and config files.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            Severity::Info,
            Severity::Low,
            Severity::Medium,
            Severity::High,
            Severity::Critical,
        ]
        .into_iter()
        .find(|v| v.as_str().eq_ignore_ascii_case(s))
        .ok_or_else(|| UnknownName {
            what: "severity",
            name: s.into(),
            expected: "info, low, medium, high, critical",
        })
    }
}

/// The camera that saw the event, as named in the pipeline file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertCamera {
    /// Camera id (`[[camera]] id`).
    pub id: String,
    /// Human-readable name; empty when the pipeline file gives none.
    #[serde(default)]
    pub name: String,
    /// Free-text location (site, gate, street); empty when not configured.
    #[serde(default)]
    pub location: String,
}

/// The rule that raised the alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertRule {
    /// Rule id from the pipeline file, unique per camera.
    pub id: String,
    /// Rule kind.
    pub kind: AlertKind,
}

/// The detected object the alert is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertDetection {
    /// Class name, e.g. `"person"`, `"car"`.
    pub label: String,
    /// Box in source-frame pixels. For crowding: the box enclosing every counted person.
    pub box_px: BoxPx,
    /// Track of the object; `None` for alerts about a group (crowding).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub track_id: Option<TrackId>,
    /// `[width, height]` of the frame `box_px` is measured in. The snapshot may be scaled down
    /// from it (`[node] snapshot_max_width_px`): scale the box by the JPEG's width ÷ this width.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frame_size_px: Option<[u32; 2]>,
}

/// The plate reading behind a plate alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertPlate {
    /// Normalised plate text (see [`crate::plate::PlateRead`]).
    pub text: String,
    /// Overall confidence, 0..1.
    pub confidence: f32,
    /// Per-character confidences, one per `char` of `text`; empty when unknown.
    #[serde(default)]
    pub char_confidences: Vec<f32>,
}

/// How a plate matched a watchlist entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchKind {
    /// Same normalised text.
    Exact,
    /// Within the list's edit distance, OCR confusions (0/O/D, 1/I, …) counted as cheap.
    Fuzzy,
}

/// The watchlist entry a plate matched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertMatch {
    /// Watchlist name.
    pub list: String,
    /// The entry's plate text as written in the list.
    pub entry: String,
    /// Exact or fuzzy.
    pub kind: MatchKind,
    /// Edit distance between the read and the entry (0 for exact).
    pub distance: f32,
}

/// Rule-specific facts: which zone or line, how long, how many. Fields that do not apply to the
/// rule kind are `None` and left out of the JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AlertContext {
    /// Zone id for zone, loitering, crowding and zone-limited plate rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    /// Line id for line-crossing rules and plate rules limited to an inbound line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<String>,
    /// Crossing direction (`left_to_right` / `right_to_left`) for line crossings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<String>,
    /// Seconds the object (or the crowd) had been in the zone when the alert fired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dwell_s: Option<f64>,
    /// Number of people counted (crowding).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
}

/// One alert, as raised by the rules engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alert {
    /// Stable id (UUID v7 text), fixed at creation; the CloudEvent `id` and the dedupe key.
    pub id: String,
    /// Wall-clock time of the frame that triggered the alert, RFC 3339 in UTC (`…Z`).
    pub time: String,
    /// Camera that saw it.
    pub camera: AlertCamera,
    /// Rule that raised it.
    pub rule: AlertRule,
    /// Urgency from the rule configuration.
    pub severity: Severity,
    /// The object the alert is about.
    pub detection: AlertDetection,
    /// Plate reading, for plate rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plate: Option<AlertPlate>,
    /// Watchlist match, for hotlist hits (`None` for unknown vehicles: nothing matched).
    #[serde(default, rename = "match", skip_serializing_if = "Option::is_none")]
    pub watch_match: Option<AlertMatch>,
    /// Rule-specific facts (zone, line, dwell, count).
    #[serde(default)]
    pub context: AlertContext,
    /// JPEG crop or frame; never serialised (see the module docs): the delivery stage embeds it.
    #[serde(skip)]
    pub snapshot: Option<Vec<u8>>,
    /// Versions of what produced the alert, e.g. `{"pipeline": "3", "detector": "yolox_nano@1"}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub versions: BTreeMap<String, String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert() -> Alert {
        Alert {
            id: "0190a6f0-0000-7000-8000-000000000000".into(),
            time: "2024-05-01T12:00:00.040Z".into(),
            camera: AlertCamera {
                id: "gate-1".into(),
                name: "North gate".into(),
                location: "Block 3".into(),
            },
            rule: AlertRule {
                id: "hot".into(),
                kind: AlertKind::PlateHotlist,
            },
            severity: Severity::High,
            detection: AlertDetection {
                label: "car".into(),
                box_px: BoxPx::new(1.0, 2.0, 3.0, 4.0),
                track_id: Some(TrackId(7)),
                frame_size_px: None,
            },
            plate: Some(AlertPlate {
                text: "京A12345".into(),
                confidence: 0.9,
                char_confidences: vec![0.9; 7],
            }),
            watch_match: Some(AlertMatch {
                list: "stolen".into(),
                entry: "京A12845".into(),
                kind: MatchKind::Fuzzy,
                distance: 1.0,
            }),
            context: AlertContext::default(),
            snapshot: Some(vec![0xFF, 0xD8]),
            versions: BTreeMap::from([("pipeline".to_string(), "3".to_string())]),
        }
    }

    #[test]
    fn kind_names_round_trip_and_match_serde() {
        for k in AlertKind::ALL {
            assert_eq!(k.as_str().parse::<AlertKind>(), Ok(k));
            #[derive(Serialize, Deserialize)]
            struct W {
                k: AlertKind,
            }
            let text = toml::to_string(&W { k }).expect("serialise");
            assert_eq!(text.trim(), format!("k = \"{}\"", k.as_str()));
        }
        assert!("zone.enter".parse::<AlertKind>().is_err());
    }

    #[test]
    fn severity_is_ordered_and_parses_any_case() {
        assert!(Severity::Info < Severity::Low && Severity::High < Severity::Critical);
        assert_eq!("HIGH".parse::<Severity>(), Ok(Severity::High));
        assert!("urgent".parse::<Severity>().is_err());
    }

    #[test]
    fn serde_round_trip_drops_only_the_snapshot() {
        let a = alert();
        let text = toml::to_string(&a).expect("serialise");
        assert!(text.contains("[match]"), "match is renamed: {text}");
        assert!(!text.contains("snapshot"), "snapshot is skipped: {text}");
        let back: Alert = toml::from_str(&text).expect("parse");
        let mut expected = a;
        expected.snapshot = None;
        assert_eq!(back, expected);
    }
}
