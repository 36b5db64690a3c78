//! [`CameraRules`]: one camera's rules engine, fed one frame at a time.
//!
//! Per frame, for every live track: the bottom-centre point is tested against every zone (the
//! time it entered each is remembered) and stepped through every line's crossing memory; then
//! each rule looks at the result. Rules are *edge-triggered with a latch*: a track triggers a
//! zone rule once per stay in the zone (when it has been inside long enough and the schedule is
//! armed), a line rule once per crossing, a crowd rule once per episode, a plate rule once per
//! read. A trigger becomes an alert unless the dedupe says the same track (or plate, or crowd)
//! already alerted on this rule and has not been re-armed since — by the track ending, or by
//! `cooldown_s` passing; such triggers are counted as suppressed.
//!
//! Memory is bounded by the live tracks: a track's state goes when it is reported ended, or
//! when it has not been observed for `forget_after_s`.

use std::collections::{BTreeMap, HashMap};

use vigil_core::alert::{
    Alert, AlertCamera, AlertContext, AlertDetection, AlertKind, AlertMatch, AlertPlate, MatchKind,
};
use vigil_core::track::TrackId;
use vigil_core::{BoxPx, PointPx};

use crate::clock::MonoClock;
use crate::config::RulesConfig;
use crate::error::ConfigErrors;
use crate::geometry::{Crossing, LineTracker, path_crossings};
use crate::input::{FrameTime, PlateEvent, TrackObservation, WatchListKind, WatchMatch};
use crate::make_alert::{Parts, Stamp};
use crate::rule::{Compiled, Logic, PlateLogic, Rule, compile};
use crate::zone::{FrameSize, Line, Zone};

/// What a rule has alerted on, for dedupe.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Track(TrackId),
    Plate(String),
    Crowd,
}

/// One crowding episode: the count reached the threshold and has not yet cleared.
#[derive(Debug, Clone, Copy, Default)]
struct CrowdEpisode {
    /// When the count first reached `min_count` in this episode.
    since_ns: Option<u64>,
    /// When the count last fell below `min_count` (the episode ends after `clear_s` below).
    below_since_ns: Option<u64>,
    /// Whether this episode has triggered.
    triggered: bool,
}

/// Alert and suppression counts of one rule since the engine was built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RuleCounters {
    /// Alerts raised.
    pub alerts: u64,
    /// Triggers not raised because the same track/plate/crowd had already alerted.
    pub suppressed: u64,
}

/// Counters of one rule, as the daemon exports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleStats<'a> {
    /// Rule id.
    pub rule_id: &'a str,
    /// Rule kind.
    pub kind: AlertKind,
    /// Counts.
    pub counters: RuleCounters,
}

/// Per-rule mutable state.
#[derive(Debug, Default)]
struct RuleState {
    counters: RuleCounters,
    /// Last alert time per dedupe key.
    fired: HashMap<Key, u64>,
    crowd: CrowdEpisode,
}

impl RuleState {
    /// Decides whether a trigger becomes an alert: not if any key alerted within the cooldown
    /// (or, with no cooldown, at all since it was re-armed). Counts the outcome.
    fn admit(&mut self, keys: &[Key], now: u64, cooldown_ns: Option<u64>) -> bool {
        let blocked = keys.iter().any(|k| {
            self.fired
                .get(k)
                .is_some_and(|&t| cooldown_ns.is_none_or(|c| now.saturating_sub(t) < c))
        });
        if blocked {
            self.counters.suppressed += 1;
            return false;
        }
        for k in keys {
            self.fired.insert(k.clone(), now);
        }
        self.counters.alerts += 1;
        true
    }
}

/// What the engine remembers about one live track.
#[derive(Debug, Clone)]
struct TrackMem {
    last_seen_ns: u64,
    /// Per zone: since when the track has been inside (`None`: outside).
    zone_since: Vec<Option<u64>>,
    /// Per line: crossing memory.
    lines: Vec<LineTracker>,
    /// Per rule: the current stay in the rule's zone has already triggered.
    latched: Vec<bool>,
}

/// The rules engine of one camera.
#[derive(Debug)]
pub struct CameraRules {
    compiled: Compiled,
    stamp: Stamp,
    clock: MonoClock,
    tracks: HashMap<TrackId, TrackMem>,
    states: Vec<RuleState>,
    // Per-frame scratch buffers, kept to avoid allocating every frame.
    active: Vec<bool>,
    crossed: Vec<Option<Crossing>>,
    crowd: Vec<(u32, Option<BoxPx>)>,
    gone: Vec<TrackId>,
}

/// Checks a camera's rules config without building an engine (for `vigil check` and the API).
pub fn validate(cfg: &RulesConfig, camera_id: &str, frame: FrameSize) -> Result<(), ConfigErrors> {
    compile(cfg, camera_id, frame).map(|_| ())
}

fn union(a: Option<BoxPx>, b: BoxPx) -> BoxPx {
    match a {
        None => b,
        Some(a) => BoxPx::new(a.x1.min(b.x1), a.y1.min(b.y1), a.x2.max(b.x2), a.y2.max(b.y2)),
    }
}

fn seconds(ns: u64) -> f64 {
    ns as f64 / 1e9
}

impl CameraRules {
    /// Validates `cfg` for a camera whose frames are `frame` pixels and builds its engine.
    /// Rebuild it when the config or the stream's resolution changes.
    pub fn new(camera: AlertCamera, cfg: &RulesConfig, frame: FrameSize) -> Result<Self, ConfigErrors> {
        let compiled = compile(cfg, &camera.id, frame)?;
        let n = compiled.rules.len();
        Ok(Self {
            states: (0..n).map(|_| RuleState::default()).collect(),
            active: vec![false; n],
            crossed: vec![None; compiled.lines.len()],
            crowd: vec![(0, None); n],
            compiled,
            stamp: Stamp {
                camera,
                versions: BTreeMap::new(),
            },
            clock: MonoClock::default(),
            tracks: HashMap::new(),
            gone: Vec::new(),
        })
    }

    /// Sets the versions map copied into every alert (pipeline revision, model names).
    pub fn with_versions(mut self, versions: BTreeMap<String, String>) -> Self {
        self.stamp.versions = versions;
        self
    }

    /// Counters of every enabled rule, in config order.
    pub fn stats(&self) -> impl Iterator<Item = RuleStats<'_>> {
        self.compiled
            .rules
            .iter()
            .zip(&self.states)
            .map(|(r, s)| RuleStats {
                rule_id: &r.id,
                kind: r.kind,
                counters: s.counters,
            })
    }

    /// Number of tracks the engine currently remembers (bounded by the live tracks).
    pub fn remembered_tracks(&self) -> usize {
        self.tracks.len()
    }

    /// Evaluates one frame: `tracks` are the live tracks in it, `ended` the ids the tracker
    /// removed in it, `plates` the plate reads finished in it. Returns the alerts raised.
    pub fn evaluate(
        &mut self,
        frame: FrameTime,
        tracks: &[TrackObservation<'_>],
        ended: &[TrackId],
        plates: &[PlateEvent],
    ) -> Vec<Alert> {
        let now = self.clock.advance(frame.pts_ns);
        let Self {
            compiled,
            stamp,
            tracks: mems,
            states,
            active,
            crossed,
            crowd,
            gone,
            ..
        } = self;
        let rules = &compiled.rules;
        for (a, r) in active.iter_mut().zip(rules) {
            *a = r.schedule.as_ref().is_none_or(|s| s.is_active(frame.wall));
        }
        crowd.fill((0, None));
        let mut out = Vec::new();
        for obs in tracks {
            let p = obs.bbox.bottom_center();
            if !p.x.is_finite() || !p.y.is_finite() {
                continue;
            }
            let mem = mems.entry(obs.track_id).or_insert_with(|| TrackMem {
                last_seen_ns: now,
                zone_since: vec![None; compiled.zones.len()],
                lines: vec![LineTracker::default(); compiled.lines.len()],
                latched: vec![false; rules.len()],
            });
            mem.last_seen_ns = now;
            for (since, zone) in mem.zone_since.iter_mut().zip(&compiled.zones) {
                *since = if zone.contains(p) {
                    Some(since.unwrap_or(now))
                } else {
                    None
                };
            }
            for ((c, lt), (_, line)) in crossed.iter_mut().zip(&mut mem.lines).zip(&compiled.lines) {
                *c = lt.step(line.a, line.b, p);
            }
            for (ri, rule) in rules.iter().enumerate() {
                let ctx = TrackCtx {
                    rule,
                    state: &mut states[ri],
                    active: active[ri],
                    now,
                    obs,
                    compiled,
                    stamp,
                    wall: frame.wall,
                };
                match &rule.logic {
                    Logic::Intrusion {
                        zone,
                        classes,
                        min_inside_ns: min,
                    }
                    | Logic::Loitering {
                        zone,
                        classes,
                        dwell_ns: min,
                    } if classes.matches(obs.label) => match mem.zone_since[*zone] {
                        None => mem.latched[ri] = false,
                        Some(since) if !mem.latched[ri] && ctx.active && now - since >= *min => {
                            mem.latched[ri] = true;
                            out.extend(ctx.zone_trigger(*zone, now - since));
                        }
                        Some(_) => {}
                    },
                    Logic::Crossing {
                        line,
                        classes,
                        direction,
                    } if classes.matches(obs.label) => {
                        if let Some(c) = crossed[*line].filter(|&c| direction.accepts(c))
                            && ctx.active
                        {
                            out.extend(ctx.line_trigger(*line, c));
                        }
                    }
                    Logic::Crowding { zone, classes, .. }
                        if classes.matches(obs.label) && mem.zone_since[*zone].is_some() =>
                    {
                        let (n, b) = &mut crowd[ri];
                        *n += 1;
                        *b = Some(union(*b, obs.bbox));
                    }
                    _ => {}
                }
            }
        }
        for (ri, rule) in rules.iter().enumerate() {
            if let Logic::Crowding {
                zone,
                min_count,
                min_duration_ns,
                clear_ns,
                ..
            } = &rule.logic
            {
                let (count, bbox) = crowd[ri];
                let state = &mut states[ri];
                let ep = &mut state.crowd;
                if count >= *min_count {
                    ep.below_since_ns = None;
                    let since = *ep.since_ns.get_or_insert(now);
                    if !ep.triggered && active[ri] && now - since >= *min_duration_ns {
                        ep.triggered = true;
                        if state.admit(&[Key::Crowd], now, rule.cooldown_ns) {
                            let parts = Parts {
                                detection: AlertDetection {
                                    label: crowd_label(rule),
                                    box_px: bbox.unwrap_or(BoxPx::new(0.0, 0.0, 0.0, 0.0)),
                                    track_id: None,
                                    frame_size_px: None,
                                },
                                plate: None,
                                watch_match: None,
                                context: AlertContext {
                                    zone: Some(compiled.zones[*zone].id.clone()),
                                    dwell_s: Some(seconds(now - since)),
                                    count: Some(count),
                                    ..AlertContext::default()
                                },
                            };
                            out.push(stamp.alert(rule, frame.wall, parts));
                        }
                    }
                } else if ep.since_ns.is_some() {
                    let below = *ep.below_since_ns.get_or_insert(now);
                    if now - below >= *clear_ns {
                        *ep = CrowdEpisode::default();
                        if rule.cooldown_ns.is_none() {
                            // Without a cooldown the end of the episode is what re-arms.
                            state.fired.remove(&Key::Crowd);
                        }
                    }
                }
            }
        }
        for ev in plates {
            for (ri, rule) in rules.iter().enumerate() {
                let Logic::Plate(logic) = &rule.logic else {
                    continue;
                };
                if !active[ri] {
                    continue;
                }
                let Some(hit) = plate_hit(logic, ev, &compiled.zones, &compiled.lines) else {
                    continue;
                };
                let keys = [Key::Track(ev.track_id), Key::Plate(ev.plate.text.clone())];
                if states[ri].admit(&keys, now, rule.cooldown_ns) {
                    out.push(stamp.alert(rule, frame.wall, plate_parts(logic, ev, hit, compiled)));
                }
            }
        }
        // Forget ended tracks, and tracks silent for too long (a missed end report).
        gone.clear();
        gone.extend_from_slice(ended);
        let forget = compiled.forget_after_ns;
        mems.retain(|id, m| {
            let keep = !ended.contains(id) && now - m.last_seen_ns <= forget;
            if !keep && !ended.contains(id) {
                gone.push(*id);
            }
            keep
        });
        for (state, rule) in states.iter_mut().zip(rules) {
            state.fired.retain(|k, &mut t| {
                let ended = matches!(k, Key::Track(id) if gone.contains(id));
                !ended && rule.cooldown_ns.is_none_or(|c| now.saturating_sub(t) < c)
            });
        }
        out
    }
}

/// Label of a crowding alert: the rule's single class, else "person" or "*".
fn crowd_label(rule: &Rule) -> String {
    match &rule.logic {
        Logic::Crowding {
            classes: crate::rule::Classes::Only(v),
            ..
        } if v.len() == 1 => v[0].clone(),
        Logic::Crowding {
            classes: crate::rule::Classes::Any,
            ..
        } => "*".into(),
        _ => "person".into(),
    }
}

/// A track-rule trigger in context: turns it into an alert unless the dedupe suppresses it.
struct TrackCtx<'a, 'b> {
    rule: &'a Rule,
    state: &'a mut RuleState,
    active: bool,
    now: u64,
    obs: &'a TrackObservation<'b>,
    compiled: &'a Compiled,
    stamp: &'a Stamp,
    wall: jiff::Timestamp,
}

impl TrackCtx<'_, '_> {
    fn fire(self, context: AlertContext) -> Option<Alert> {
        if !self
            .state
            .admit(&[Key::Track(self.obs.track_id)], self.now, self.rule.cooldown_ns)
        {
            return None;
        }
        let parts = Parts {
            detection: AlertDetection {
                label: self.obs.label.to_string(),
                box_px: self.obs.bbox,
                track_id: Some(self.obs.track_id),
                frame_size_px: None,
            },
            plate: None,
            watch_match: None,
            context,
        };
        Some(self.stamp.alert(self.rule, self.wall, parts))
    }

    fn zone_trigger(self, zone: usize, inside_ns: u64) -> Option<Alert> {
        let context = AlertContext {
            zone: Some(self.compiled.zones[zone].id.clone()),
            dwell_s: Some(seconds(inside_ns)),
            ..AlertContext::default()
        };
        self.fire(context)
    }

    fn line_trigger(self, line: usize, c: Crossing) -> Option<Alert> {
        let context = AlertContext {
            line: Some(self.compiled.lines[line].0.clone()),
            direction: Some(c.as_str().into()),
            ..AlertContext::default()
        };
        self.fire(context)
    }
}

/// Checks a plate event against a plate rule; `Some(match)` when it fires (the match is `None`
/// for unknown vehicles).
fn plate_hit<'e>(
    logic: &PlateLogic,
    ev: &'e PlateEvent,
    zones: &[Zone],
    lines: &[(String, Line)],
) -> Option<Option<&'e WatchMatch>> {
    // A NaN confidence is not at or above any floor.
    let confident = ev.plate.confidence.is_finite() && ev.plate.confidence >= logic.min_confidence;
    if ev.plate.text.is_empty() || !confident {
        return None;
    }
    if let Some(z) = logic.zone
        && !zones[z].contains(ev.bbox.bottom_center())
    {
        return None;
    }
    if let Some((l, dir)) = logic.inbound {
        let line = lines[l].1;
        if !path_crossings(line.a, line.b, &ev.path)
            .into_iter()
            .any(|c| dir.accepts(c))
        {
            return None;
        }
    }
    if let Some(h) = &logic.heading {
        let line = lines[h.line].1;
        if !heading_ok(&ev.path, line, h.min_cos, h.min_travel_px) {
            return None;
        }
    }
    let listed = |m: &&WatchMatch| logic.lists.as_ref().is_none_or(|ls| ls.contains(&m.list));
    if logic.unknown {
        // Known: on one of the rule's allowlists. A vehicle on any hotlist is not "unknown"
        // either: the hotlist rule reports it, and one pass must not raise both alerts.
        let known = ev.matches.iter().any(|m| listed(&m));
        let hotlisted = ev.matches.iter().any(|m| m.list_kind == WatchListKind::Hotlist);
        return if known || hotlisted { None } else { Some(None) };
    }
    // A hotlist rule counts hotlist entries only: a resident's allowlist entry is no hit, even
    // for a rule that names no lists.
    ev.matches
        .iter()
        .filter(|m| m.list_kind == WatchListKind::Hotlist)
        .filter(listed)
        .max_by(|a, b| {
            // Highest priority, then exact before fuzzy, then the smallest distance.
            a.priority
                .cmp(&b.priority)
                .then((a.kind == MatchKind::Exact).cmp(&(b.kind == MatchKind::Exact)))
                .then(b.distance.total_cmp(&a.distance))
        })
        .map(Some)
}

/// True when the path's overall motion (first to last point) is at least `min_travel_px` long
/// and within the angle whose cosine is `min_cos` of the line's `a → b`.
pub(crate) fn heading_ok(path: &[PointPx], line: Line, min_cos: f64, min_travel_px: f32) -> bool {
    let (Some(first), Some(last)) = (path.first(), path.last()) else {
        return false;
    };
    let (mx, my) = (f64::from(last.x - first.x), f64::from(last.y - first.y));
    let (hx, hy) = (f64::from(line.b.x - line.a.x), f64::from(line.b.y - line.a.y));
    let (m_len, h_len) = (mx.hypot(my), hx.hypot(hy));
    // NaN lengths (NaN points) fail `is_finite`; a zero motion has no direction.
    if !m_len.is_finite() || m_len < f64::from(min_travel_px) || m_len == 0.0 || h_len == 0.0 {
        return false;
    }
    (mx * hx + my * hy) / (m_len * h_len) >= min_cos - 1e-9
}

fn plate_parts(logic: &PlateLogic, ev: &PlateEvent, hit: Option<&WatchMatch>, compiled: &Compiled) -> Parts {
    Parts {
        detection: AlertDetection {
            label: ev.label.clone(),
            box_px: ev.bbox,
            track_id: Some(ev.track_id),
            frame_size_px: None,
        },
        plate: Some(AlertPlate {
            text: ev.plate.text.clone(),
            confidence: ev.plate.confidence,
            char_confidences: ev.plate.char_confidences.clone(),
        }),
        watch_match: hit.map(|m| AlertMatch {
            list: m.list.clone(),
            entry: m.entry_plate.clone(),
            kind: m.kind,
            distance: m.distance,
        }),
        context: AlertContext {
            zone: logic.zone.map(|z| compiled.zones[z].id.clone()),
            line: logic.inbound.map(|(l, _)| compiled.lines[l].0.clone()),
            ..AlertContext::default()
        },
    }
}
