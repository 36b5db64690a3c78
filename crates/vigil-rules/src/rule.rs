//! Validated, runtime form of a camera's rules: the one place where raw config becomes trusted
//! settings, defaults are applied and every problem is reported.

use std::collections::HashSet;

use vigil_core::alert::{AlertKind, Severity};

use crate::config::{DirectionFilter, RuleConfig, RuleKind, RulesConfig};
use crate::error::{ConfigError, ConfigErrors, ConfigProblem, Subject};
use crate::geometry::Crossing;
use crate::schedule::Schedule;
use crate::zone::{FrameSize, Line, Zone};

/// Default of `forget_after_s`.
pub const DEFAULT_FORGET_AFTER_S: f64 = 30.0;
/// Default `cooldown_s` of plate rules.
pub const DEFAULT_PLATE_COOLDOWN_S: f64 = 60.0;
/// Default `clear_s` of crowding rules.
pub const DEFAULT_CROWD_CLEAR_S: f64 = 3.0;
/// Default `min_confidence` of plate_unknown_vehicle rules.
pub const DEFAULT_UNKNOWN_MIN_CONFIDENCE: f32 = 0.5;
/// Default `max_angle_deg` of plate rules with a heading line.
pub const DEFAULT_MAX_ANGLE_DEG: f32 = 60.0;
/// Default `min_travel_px` of plate rules with a heading line.
pub const DEFAULT_MIN_TRAVEL_PX: f32 = 20.0;
/// Default `classes` of track rules.
pub const DEFAULT_CLASS: &str = "person";

/// Which class names a rule counts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Classes {
    Any,
    Only(Vec<String>),
}

impl Classes {
    pub(crate) fn matches(&self, label: &str) -> bool {
        match self {
            Classes::Any => true,
            Classes::Only(v) => v.iter().any(|c| c == label),
        }
    }
}

impl DirectionFilter {
    /// True when a crossing in direction `c` counts.
    pub fn accepts(self, c: Crossing) -> bool {
        match self {
            DirectionFilter::Any => true,
            DirectionFilter::LeftToRight => c == Crossing::LeftToRight,
            DirectionFilter::RightToLeft => c == Crossing::RightToLeft,
        }
    }
}

/// Limits on where and which way a vehicle must be for a plate rule to fire.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PlateLogic {
    /// `true` for plate_unknown_vehicle (lists are allowlists), `false` for plate_hotlist.
    pub unknown: bool,
    /// Lists that count (hotlist: `None` = any) or allowlists (unknown vehicle).
    pub lists: Option<Vec<String>>,
    pub min_confidence: f32,
    pub zone: Option<usize>,
    pub inbound: Option<(usize, DirectionFilter)>,
    pub heading: Option<Heading>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Heading {
    pub line: usize,
    /// Cosine of the largest accepted angle.
    pub min_cos: f64,
    pub min_travel_px: f32,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Logic {
    Intrusion {
        zone: usize,
        classes: Classes,
        min_inside_ns: u64,
    },
    Loitering {
        zone: usize,
        classes: Classes,
        dwell_ns: u64,
    },
    Crossing {
        line: usize,
        classes: Classes,
        direction: DirectionFilter,
    },
    Crowding {
        zone: usize,
        classes: Classes,
        min_count: u32,
        min_duration_ns: u64,
        clear_ns: u64,
    },
    Plate(PlateLogic),
}

/// One enabled, validated rule.
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub id: String,
    pub kind: AlertKind,
    pub severity: Severity,
    pub schedule: Option<Schedule>,
    /// `None`: re-armed only when the track ends (or, for crowding, when the episode ends).
    pub cooldown_ns: Option<u64>,
    pub logic: Logic,
}

/// Everything the engine runs on, built from a [`RulesConfig`].
#[derive(Debug, Clone)]
pub(crate) struct Compiled {
    pub zones: Vec<Zone>,
    pub lines: Vec<(String, Line)>,
    pub rules: Vec<Rule>,
    pub forget_after_ns: u64,
}

pub(crate) fn secs_to_ns(s: f64) -> u64 {
    // Float-to-int casts saturate, so absurdly large values become "forever", not garbage.
    (s * 1e9).round() as u64
}

/// Fields each kind accepts besides the shared ones.
fn applicable(kind: RuleKind) -> &'static [&'static str] {
    match kind {
        RuleKind::ZoneIntrusion => &["zone", "classes", "min_inside_s"],
        RuleKind::LineCrossing => &["line", "direction", "classes"],
        RuleKind::Loitering => &["zone", "classes", "dwell_s"],
        RuleKind::Crowding => &["zone", "classes", "min_count", "min_duration_s", "clear_s"],
        RuleKind::PlateHotlist | RuleKind::PlateUnknownVehicle => &[
            "zone",
            "line",
            "direction",
            "lists",
            "min_confidence",
            "heading_line",
            "max_angle_deg",
            "min_travel_px",
        ],
    }
}

/// Collects problems for one rule.
struct RuleCheck<'a> {
    cfg: &'a RuleConfig,
    kind: &'static str,
    problems: Vec<ConfigProblem>,
}

impl RuleCheck<'_> {
    fn seconds(&mut self, field: &'static str, v: Option<f64>, default: f64, positive: bool) -> u64 {
        let s = v.unwrap_or(default);
        let ok = s.is_finite() && if positive { s > 0.0 } else { s >= 0.0 };
        if !ok {
            self.problems.push(ConfigProblem::BadNumber {
                field,
                value: s,
                expected: if positive {
                    "seconds must be a number above 0"
                } else {
                    "seconds must be a number, 0 or more"
                },
            });
        }
        secs_to_ns(s.max(0.0))
    }

    fn required<T: Clone>(&mut self, field: &'static str, v: &Option<T>) -> Option<T> {
        if v.is_none() {
            self.problems.push(ConfigProblem::MissingField {
                field,
                kind: self.kind,
            });
        }
        v.clone()
    }

    fn zone(&mut self, zones: &[Zone], id: Option<String>) -> usize {
        let Some(id) = id else { return 0 };
        zones.iter().position(|z| z.id == id).unwrap_or_else(|| {
            self.problems.push(ConfigProblem::UnknownZone(id));
            0
        })
    }

    fn line(&mut self, lines: &[(String, Line)], id: Option<String>) -> usize {
        let Some(id) = id else { return 0 };
        lines.iter().position(|(l, _)| *l == id).unwrap_or_else(|| {
            self.problems.push(ConfigProblem::UnknownLine(id));
            0
        })
    }

    fn classes(&mut self) -> Classes {
        match &self.cfg.classes {
            None => Classes::Only(vec![DEFAULT_CLASS.into()]),
            Some(v) if v.is_empty() => {
                self.problems.push(ConfigProblem::EmptyList("classes"));
                Classes::Any
            }
            Some(v) if v.iter().any(|c| c == "*") => Classes::Any,
            Some(v) => Classes::Only(v.clone()),
        }
    }

    fn fraction(&mut self, field: &'static str, v: f32, lo_exclusive: bool, hi: f32) -> f32 {
        let ok = v.is_finite() && (if lo_exclusive { v > 0.0 } else { v >= 0.0 }) && v <= hi;
        if !ok {
            self.problems.push(ConfigProblem::BadNumber {
                field,
                value: f64::from(v),
                expected: match field {
                    "min_confidence" => "a confidence from 0 to 1",
                    "max_angle_deg" => "an angle above 0 and up to 180 degrees",
                    _ => "a number of pixels, 0 or more",
                },
            });
        }
        v
    }
}

fn compile_rule(
    cfg: &RuleConfig,
    zones: &[Zone],
    lines: &[(String, Line)],
    default_tz: Option<&str>,
) -> Result<Rule, Vec<ConfigProblem>> {
    let kind = cfg.kind.as_str();
    let mut c = RuleCheck {
        cfg,
        kind,
        problems: Vec::new(),
    };
    for field in cfg.set_fields() {
        if !applicable(cfg.kind).contains(&field) {
            c.problems.push(ConfigProblem::NotApplicable { field, kind });
        }
    }
    let schedule = match &cfg.schedule {
        None => None,
        Some(s) => Schedule::new(s, default_tz)
            .map_err(|e| c.problems.push(e.into()))
            .ok(),
    };
    let plate = matches!(cfg.kind, RuleKind::PlateHotlist | RuleKind::PlateUnknownVehicle);
    let cooldown_ns = match (cfg.cooldown_s, plate) {
        (None, false) => None,
        (v, _) => Some(c.seconds("cooldown_s", v, DEFAULT_PLATE_COOLDOWN_S, false)),
    };
    let logic = match cfg.kind {
        RuleKind::ZoneIntrusion => Logic::Intrusion {
            zone: {
                let z = c.required("zone", &cfg.zone);
                c.zone(zones, z)
            },
            classes: c.classes(),
            min_inside_ns: c.seconds("min_inside_s", cfg.min_inside_s, 0.0, false),
        },
        RuleKind::Loitering => Logic::Loitering {
            zone: {
                let z = c.required("zone", &cfg.zone);
                c.zone(zones, z)
            },
            classes: c.classes(),
            dwell_ns: {
                let d = c.required("dwell_s", &cfg.dwell_s);
                c.seconds("dwell_s", d.or(Some(1.0)), 1.0, true)
            },
        },
        RuleKind::LineCrossing => Logic::Crossing {
            line: {
                let l = c.required("line", &cfg.line);
                c.line(lines, l)
            },
            classes: c.classes(),
            direction: cfg.direction.unwrap_or_default(),
        },
        RuleKind::Crowding => Logic::Crowding {
            zone: {
                let z = c.required("zone", &cfg.zone);
                c.zone(zones, z)
            },
            classes: c.classes(),
            min_count: match c.required("min_count", &cfg.min_count) {
                Some(0) => {
                    c.problems.push(ConfigProblem::BadNumber {
                        field: "min_count",
                        value: 0.0,
                        expected: "at least 1 person",
                    });
                    1
                }
                v => v.unwrap_or(1),
            },
            min_duration_ns: c.seconds("min_duration_s", cfg.min_duration_s, 0.0, false),
            clear_ns: c.seconds("clear_s", cfg.clear_s, DEFAULT_CROWD_CLEAR_S, false),
        },
        RuleKind::PlateHotlist | RuleKind::PlateUnknownVehicle => {
            let unknown = cfg.kind == RuleKind::PlateUnknownVehicle;
            let lists = if unknown {
                c.required("lists", &cfg.lists)
            } else {
                cfg.lists.clone()
            };
            if lists.as_ref().is_some_and(Vec::is_empty) {
                c.problems.push(ConfigProblem::EmptyList("lists"));
            }
            let default_conf = if unknown {
                DEFAULT_UNKNOWN_MIN_CONFIDENCE
            } else {
                0.0
            };
            let min_confidence = c.fraction(
                "min_confidence",
                cfg.min_confidence.unwrap_or(default_conf),
                false,
                1.0,
            );
            let zone = cfg.zone.clone().map(|z| c.zone(zones, Some(z)));
            if cfg.direction.is_some() && cfg.line.is_none() {
                c.problems
                    .push(ConfigProblem::MissingField { field: "line", kind });
            }
            let inbound = cfg
                .line
                .clone()
                .map(|l| (c.line(lines, Some(l)), cfg.direction.unwrap_or_default()));
            if (cfg.max_angle_deg.is_some() || cfg.min_travel_px.is_some()) && cfg.heading_line.is_none() {
                c.problems.push(ConfigProblem::MissingField {
                    field: "heading_line",
                    kind,
                });
            }
            let heading = cfg.heading_line.clone().map(|l| {
                let line = c.line(lines, Some(l));
                let angle = c.fraction(
                    "max_angle_deg",
                    cfg.max_angle_deg.unwrap_or(DEFAULT_MAX_ANGLE_DEG),
                    true,
                    180.0,
                );
                let travel = c.fraction(
                    "min_travel_px",
                    cfg.min_travel_px.unwrap_or(DEFAULT_MIN_TRAVEL_PX),
                    false,
                    f32::MAX,
                );
                Heading {
                    line,
                    min_cos: f64::from(angle).to_radians().cos(),
                    min_travel_px: travel,
                }
            });
            Logic::Plate(PlateLogic {
                unknown,
                lists,
                min_confidence,
                zone,
                inbound,
                heading,
            })
        }
    };
    if !c.problems.is_empty() {
        return Err(c.problems);
    }
    Ok(Rule {
        id: cfg.id.clone(),
        kind: cfg.kind.alert_kind(),
        severity: cfg.severity.unwrap_or(if cfg.kind == RuleKind::PlateHotlist {
            Severity::High
        } else {
            Severity::Medium
        }),
        schedule,
        cooldown_ns,
        logic,
    })
}

/// Validates a whole camera config against its frame size, collecting every problem.
pub(crate) fn compile(cfg: &RulesConfig, camera: &str, frame: FrameSize) -> Result<Compiled, ConfigErrors> {
    let mut errors = Vec::new();
    let mut err = |subject: Subject, problem: ConfigProblem| {
        errors.push(ConfigError {
            camera: camera.into(),
            subject,
            problem,
        })
    };
    let mut check_id = |seen: &mut HashSet<String>, id: &str, subject: &dyn Fn() -> Subject| {
        if id.trim().is_empty() {
            err(subject(), ConfigProblem::EmptyId);
        } else if !seen.insert(id.to_string()) {
            err(subject(), ConfigProblem::DuplicateId);
        }
    };
    let (mut zone_ids, mut line_ids, mut rule_ids) = (HashSet::new(), HashSet::new(), HashSet::new());
    for z in &cfg.zones {
        check_id(&mut zone_ids, &z.id, &|| Subject::Zone(z.id.clone()));
    }
    for l in &cfg.lines {
        check_id(&mut line_ids, &l.id, &|| Subject::Line(l.id.clone()));
    }
    for r in &cfg.rules {
        check_id(&mut rule_ids, &r.id, &|| Subject::Rule(r.id.clone()));
    }

    let mut zones = Vec::new();
    for z in &cfg.zones {
        match Zone::resolve(z, frame) {
            Ok(v) => zones.push(v),
            Err(p) => err(Subject::Zone(z.id.clone()), p.into()),
        }
    }
    let mut lines = Vec::new();
    for l in &cfg.lines {
        match Line::resolve(l, frame) {
            Ok(v) => lines.push((l.id.clone(), v)),
            Err(p) => err(Subject::Line(l.id.clone()), p.into()),
        }
    }
    let forget_after_s = cfg.forget_after_s.unwrap_or(DEFAULT_FORGET_AFTER_S);
    if !(forget_after_s.is_finite() && forget_after_s > 0.0) {
        err(
            Subject::Camera,
            ConfigProblem::BadNumber {
                field: "forget_after_s",
                value: forget_after_s,
                expected: "seconds must be a number above 0",
            },
        );
    }
    let mut rules = Vec::new();
    for r in &cfg.rules {
        // A disabled rule is still checked, so that enabling it later cannot break the file.
        match compile_rule(r, &zones, &lines, cfg.timezone.as_deref()) {
            Ok(rule) if r.enabled.unwrap_or(true) => rules.push(rule),
            Ok(_) => {}
            Err(problems) => {
                for p in problems {
                    // A rule naming a zone that failed validation gets the zone's error only.
                    let shape_failed = match &p {
                        ConfigProblem::UnknownZone(id) => cfg.zones.iter().any(|z| &z.id == id),
                        ConfigProblem::UnknownLine(id) => cfg.lines.iter().any(|l| &l.id == id),
                        _ => false,
                    };
                    if !shape_failed {
                        err(Subject::Rule(r.id.clone()), p);
                    }
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(ConfigErrors(errors));
    }
    Ok(Compiled {
        zones,
        lines,
        rules,
        forget_after_ns: secs_to_ns(forget_after_s),
    })
}
