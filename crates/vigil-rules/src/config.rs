//! The raw, serde-facing configuration of one camera's rules.
//!
//! Rules are one flat struct with a `kind` rather than an enum of structs: serde cannot combine
//! `deny_unknown_fields` with the flattening such an enum would need for the shared fields, and a
//! flat struct lets the validator ([`crate::CameraRules::new`]) say "`dwell_s` does not apply to
//! a zone_intrusion rule" instead of serde's bare "unknown field". Defaults are documented on
//! each field and applied in one place, the validator.
//!
//! ```toml
//! timezone = "Asia/Shanghai"
//!
//! [[zone]]
//! id = "yard"
//! points = [[0.1, 0.5], [0.9, 0.5], [0.9, 1.0], [0.1, 1.0]]
//!
//! [[rule]]
//! id = "night-fence"
//! kind = "zone_intrusion"
//! zone = "yard"
//! min_inside_s = 2
//! severity = "high"
//! schedule = { times = ["22:00-06:00"] }
//! ```

use serde::{Deserialize, Serialize};
use vigil_core::alert::{AlertKind, Severity};

use crate::schedule::ScheduleConfig;
use crate::zone::{LineConfig, ZoneConfig};

/// All rules of one camera, with the zones and lines they refer to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RulesConfig {
    /// IANA time zone for every schedule of this camera that names none (e.g. `Asia/Shanghai`).
    #[serde(default)]
    pub timezone: Option<String>,
    /// Seconds after which a track that was neither observed nor reported ended is forgotten
    /// (default 30). A safety net that keeps memory bounded if an end report is ever missed.
    #[serde(default)]
    pub forget_after_s: Option<f64>,
    /// Zones (`[[zone]]`).
    #[serde(default, rename = "zone", alias = "zones")]
    pub zones: Vec<ZoneConfig>,
    /// Lines (`[[line]]`).
    #[serde(default, rename = "line", alias = "lines")]
    pub lines: Vec<LineConfig>,
    /// Rules (`[[rule]]`).
    #[serde(default, rename = "rule", alias = "rules")]
    pub rules: Vec<RuleConfig>,
}

/// The kinds of rule, as written in `kind = "..."`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// An object of `classes` inside `zone` for at least `min_inside_s`.
    ZoneIntrusion,
    /// An object of `classes` crossing `line` in `direction`.
    LineCrossing,
    /// An object of `classes` inside `zone` for at least `dwell_s`.
    Loitering,
    /// At least `min_count` objects of `classes` inside `zone` for at least `min_duration_s`.
    Crowding,
    /// A plate read that matched one of `lists` (default: any list).
    PlateHotlist,
    /// A plate read that matched none of `lists` (the allowlists; required).
    PlateUnknownVehicle,
}

impl RuleKind {
    /// The alert kind this rule raises.
    pub fn alert_kind(self) -> AlertKind {
        match self {
            RuleKind::ZoneIntrusion => AlertKind::ZoneIntrusion,
            RuleKind::LineCrossing => AlertKind::LineCrossing,
            RuleKind::Loitering => AlertKind::Loitering,
            RuleKind::Crowding => AlertKind::Crowding,
            RuleKind::PlateHotlist => AlertKind::PlateHotlist,
            RuleKind::PlateUnknownVehicle => AlertKind::PlateUnknownVehicle,
        }
    }

    /// Name as written in config files.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::ZoneIntrusion => "zone_intrusion",
            RuleKind::LineCrossing => "line_crossing",
            RuleKind::Loitering => "loitering",
            RuleKind::Crowding => "crowding",
            RuleKind::PlateHotlist => "plate_hotlist",
            RuleKind::PlateUnknownVehicle => "plate_unknown_vehicle",
        }
    }
}

/// Which crossings of a line count, named as seen on screen standing at the line's `a` and
/// looking towards `b`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DirectionFilter {
    /// Either way (the default).
    #[default]
    Any,
    /// From the left of `a → b` to its right.
    LeftToRight,
    /// From the right of `a → b` to its left.
    RightToLeft,
}

/// One rule as written in the pipeline file. Which fields apply depends on `kind`; the validator
/// rejects the others by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// Id, unique among the camera's rules; in the alert and the metrics.
    pub id: String,
    /// What the rule detects.
    pub kind: RuleKind,
    /// `false` keeps the rule in the file but never evaluates it (default `true`).
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Alert severity (default `high` for `plate_hotlist`, `medium` otherwise).
    #[serde(default)]
    pub severity: Option<Severity>,
    /// When the rule is armed (default: always).
    #[serde(default)]
    pub schedule: Option<ScheduleConfig>,
    /// Seconds after an alert before the same track (or plate, or crowd) may alert again while
    /// it is still present. Default: none for track rules — one alert per track until the track
    /// ends; 60 for plate rules, which also dedupe by plate text for this long.
    #[serde(default)]
    pub cooldown_s: Option<f64>,
    /// Zone id (required for zone_intrusion, loitering, crowding; optional limit for plate rules).
    #[serde(default)]
    pub zone: Option<String>,
    /// Line id (required for line_crossing; for plate rules, the "inbound" line the vehicle must
    /// have crossed in `direction`).
    #[serde(default)]
    pub line: Option<String>,
    /// Crossing direction for `line` (default `any`).
    #[serde(default)]
    pub direction: Option<DirectionFilter>,
    /// Class names that count (default `["person"]`; `["*"]` for any class). Track rules only.
    #[serde(default)]
    pub classes: Option<Vec<String>>,
    /// zone_intrusion: seconds inside before the alert (default 0: on entry).
    #[serde(default)]
    pub min_inside_s: Option<f64>,
    /// loitering: seconds inside before the alert (required, > 0).
    #[serde(default)]
    pub dwell_s: Option<f64>,
    /// crowding: people needed (required, ≥ 1).
    #[serde(default)]
    pub min_count: Option<u32>,
    /// crowding: seconds the count must hold (default 0).
    #[serde(default)]
    pub min_duration_s: Option<f64>,
    /// crowding: seconds the count must stay below `min_count` to end the episode (default 3), so
    /// a person flickering in and out of detection does not start a new episode.
    #[serde(default)]
    pub clear_s: Option<f64>,
    /// Plate rules: watchlist names. plate_hotlist: lists that count (default any);
    /// plate_unknown_vehicle: the allowlists (required).
    #[serde(default)]
    pub lists: Option<Vec<String>>,
    /// Plate rules: reads below this confidence are ignored (default 0 for plate_hotlist — the
    /// watchlist already filtered; 0.5 for plate_unknown_vehicle, where a misread would accuse a
    /// resident's car).
    #[serde(default)]
    pub min_confidence: Option<f32>,
    /// Plate rules: a line id whose `a → b` is the inbound heading; the track's motion (first to
    /// last point of its path) must point along it within `max_angle_deg`.
    #[serde(default)]
    pub heading_line: Option<String>,
    /// Plate rules with `heading_line`: largest angle between motion and heading (default 60).
    #[serde(default)]
    pub max_angle_deg: Option<f32>,
    /// Plate rules with `heading_line`: pixels the track must have moved for its heading to be
    /// judged (default 20); a parked car has no heading.
    #[serde(default)]
    pub min_travel_px: Option<f32>,
}

impl RuleConfig {
    /// A rule of `kind` with every optional field unset (handy for tests and the API).
    pub fn new(id: impl Into<String>, kind: RuleKind) -> Self {
        Self {
            id: id.into(),
            kind,
            enabled: None,
            severity: None,
            schedule: None,
            cooldown_s: None,
            zone: None,
            line: None,
            direction: None,
            classes: None,
            min_inside_s: None,
            dwell_s: None,
            min_count: None,
            min_duration_s: None,
            clear_s: None,
            lists: None,
            min_confidence: None,
            heading_line: None,
            max_angle_deg: None,
            min_travel_px: None,
        }
    }

    /// Names of the optional fields that are set, for the "does not apply" check.
    pub(crate) fn set_fields(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        let mut f = |set: bool, name: &'static str| {
            if set {
                v.push(name);
            }
        };
        f(self.zone.is_some(), "zone");
        f(self.line.is_some(), "line");
        f(self.direction.is_some(), "direction");
        f(self.classes.is_some(), "classes");
        f(self.min_inside_s.is_some(), "min_inside_s");
        f(self.dwell_s.is_some(), "dwell_s");
        f(self.min_count.is_some(), "min_count");
        f(self.min_duration_s.is_some(), "min_duration_s");
        f(self.clear_s.is_some(), "clear_s");
        f(self.lists.is_some(), "lists");
        f(self.min_confidence.is_some(), "min_confidence");
        f(self.heading_line.is_some(), "heading_line");
        f(self.max_angle_deg.is_some(), "max_angle_deg");
        f(self.min_travel_px.is_some(), "min_travel_px");
        v
    }
}
