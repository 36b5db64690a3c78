//! Table-driven tests of the plate rules: hotlist hits and unknown vehicles, with list, confidence,
//! zone, inbound-line and heading limits, and dedupe by track and by plate text.

mod common;

use common::{Sim, standing_at};
use vigil_core::PointPx;
use vigil_core::alert::MatchKind;
use vigil_core::plate::PlateRead;
use vigil_core::track::TrackId;
use vigil_rules::{Alert, AlertKind, PlateEvent, Severity, WatchListKind, WatchMatch};

/// A match on list `list`; lists named `residents`, `vip` or `staff` are allowlists, every other
/// list a hotlist.
fn hit(list: &str, entry: &str, kind: MatchKind, distance: f32, priority: i32) -> WatchMatch {
    let list_kind = if matches!(list, "residents" | "vip" | "staff") {
        WatchListKind::Allowlist
    } else {
        WatchListKind::Hotlist
    };
    WatchMatch {
        list: list.into(),
        entry_plate: entry.into(),
        kind,
        distance,
        priority,
        list_kind,
    }
}

/// A read of `text` on track `track`, the car standing at the end of `path`.
fn event(
    track: u64,
    text: &str,
    confidence: f32,
    matches: Vec<WatchMatch>,
    path: &[(f32, f32)],
) -> PlateEvent {
    let path: Vec<PointPx> = path.iter().map(|&(x, y)| PointPx { x, y }).collect();
    let end = path.last().copied().unwrap_or(PointPx { x: 30.0, y: 30.0 });
    PlateEvent {
        track_id: TrackId(track),
        label: "car".into(),
        bbox: standing_at(end.x, end.y),
        path,
        plate: PlateRead {
            text: text.into(),
            confidence,
            char_confidences: vec![confidence; text.chars().count()],
            format: "cn-ordinary".into(),
            box_px: None,
            colour: None,
        },
        matches,
    }
}

fn fire(sim: &mut Sim, t: f64, ev: PlateEvent) -> Vec<Alert> {
    sim.step_full(t, &[], &[], &[ev])
}

const STILL: &[(f32, f32)] = &[(30.0, 30.0)];
const EAST: &[(f32, f32)] = &[(40.0, 50.0), (45.0, 50.0), (60.0, 50.0)];
const WEST: &[(f32, f32)] = &[(60.0, 50.0), (40.0, 50.0)];

struct Case {
    name: &'static str,
    rule: &'static str,
    event: PlateEvent,
    /// `None`: no alert; `Some(list)`: an alert whose match is on `list` ("" for no match).
    want: Option<&'static str>,
}

fn run(cases: Vec<Case>) {
    for c in cases {
        let mut sim = Sim::new(c.rule);
        let alerts = fire(&mut sim, 0.0, c.event);
        let got = alerts
            .first()
            .map(|a| a.watch_match.as_ref().map_or("", |m| m.list.as_str()));
        assert_eq!(got, c.want, "case {:?}", c.name);
        assert!(alerts.len() <= 1, "case {:?}: one alert per event", c.name);
    }
}

fn rule(kind: &str, extra: &str) -> &'static str {
    Box::leak(format!("[[rule]]\nid = \"p\"\nkind = \"{kind}\"\n{extra}\n").into_boxed_str())
}

#[test]
fn hotlist_hits() {
    let stolen = || hit("stolen", "京A12345", MatchKind::Exact, 0.0, 1);
    run(vec![
        Case {
            name: "exact hit on any list",
            rule: rule("plate_hotlist", ""),
            event: event(1, "京A12345", 0.9, vec![stolen()], STILL),
            want: Some("stolen"),
        },
        Case {
            name: "an allowlist entry is no hotlist hit, even for a rule naming no lists",
            rule: rule("plate_hotlist", ""),
            event: event(
                1,
                "京A12345",
                0.9,
                vec![hit("residents", "京A12345", MatchKind::Exact, 0.0, 3)],
                STILL,
            ),
            want: None,
        },
        Case {
            name: "no match, no alert",
            rule: rule("plate_hotlist", ""),
            event: event(1, "京A12345", 0.9, vec![], STILL),
            want: None,
        },
        Case {
            name: "match on a list the rule does not watch",
            rule: rule("plate_hotlist", "lists = [\"wanted\"]"),
            event: event(1, "京A12345", 0.9, vec![stolen()], STILL),
            want: None,
        },
        Case {
            name: "below the confidence floor",
            rule: rule("plate_hotlist", "min_confidence = 0.8"),
            event: event(1, "京A12345", 0.5, vec![stolen()], STILL),
            want: None,
        },
        Case {
            name: "NaN confidence is below any floor",
            rule: rule("plate_hotlist", "min_confidence = 0.1"),
            event: event(1, "京A12345", f32::NAN, vec![stolen()], STILL),
            want: None,
        },
        Case {
            name: "highest priority of several matches",
            rule: rule("plate_hotlist", ""),
            event: event(
                1,
                "京A12345",
                0.9,
                vec![
                    stolen(),
                    hit("wanted", "京A12845", MatchKind::Fuzzy, 1.0, 5),
                    hit("vip", "京A12345", MatchKind::Exact, 0.0, 0),
                ],
                STILL,
            ),
            want: Some("wanted"),
        },
        Case {
            name: "inside the zone limit",
            rule: rule("plate_hotlist", "zone = \"box\""),
            event: event(1, "京A12345", 0.9, vec![stolen()], STILL),
            want: Some("stolen"),
        },
        Case {
            name: "outside the zone limit",
            rule: rule("plate_hotlist", "zone = \"box\""),
            event: event(1, "京A12345", 0.9, vec![stolen()], &[(80.0, 80.0)]),
            want: None,
        },
        Case {
            name: "crossed the inbound line the right way",
            rule: rule("plate_hotlist", "line = \"mid\"\ndirection = \"right_to_left\""),
            event: event(1, "京A12345", 0.9, vec![stolen()], EAST),
            want: Some("stolen"),
        },
        Case {
            name: "crossed the inbound line the wrong way",
            rule: rule("plate_hotlist", "line = \"mid\"\ndirection = \"right_to_left\""),
            event: event(1, "京A12345", 0.9, vec![stolen()], WEST),
            want: None,
        },
        Case {
            name: "never crossed the inbound line",
            rule: rule("plate_hotlist", "line = \"mid\""),
            event: event(1, "京A12345", 0.9, vec![stolen()], STILL),
            want: None,
        },
    ]);
}

#[test]
fn heading_limits() {
    // Heading line `mid` runs down the screen (A top, B bottom).
    let r = rule("plate_hotlist", "heading_line = \"mid\"");
    type Path = &'static [(f32, f32)];
    let cases: &[(&str, Path, bool)] = &[
        ("straight down", &[(30.0, 10.0), (30.0, 60.0)], true),
        ("down and right at 45°", &[(10.0, 10.0), (40.0, 40.0)], true),
        (
            "down at 70° off the heading",
            &[(10.0, 40.0), (57.0, 57.1)],
            false,
        ),
        ("straight up", &[(30.0, 60.0), (30.0, 10.0)], false),
        ("parked: moved 5 px", &[(30.0, 30.0), (30.0, 35.0)], false),
        ("a single point has no heading", &[(30.0, 30.0)], false),
    ];
    for &(name, path, want) in cases {
        let mut sim = Sim::new(r);
        let ev = event(
            1,
            "京A12345",
            0.9,
            vec![hit("stolen", "京A12345", MatchKind::Exact, 0.0, 0)],
            path,
        );
        assert_eq!(!fire(&mut sim, 0.0, ev).is_empty(), want, "{name}");
    }
}

#[test]
fn unknown_vehicles() {
    let residents = || hit("residents", "沪B00001", MatchKind::Exact, 0.0, 0);
    let r = rule("plate_unknown_vehicle", "lists = [\"residents\"]");
    run(vec![
        Case {
            name: "matched nothing",
            rule: r,
            event: event(1, "沪B99999", 0.9, vec![], STILL),
            want: Some(""),
        },
        Case {
            name: "a resident",
            rule: r,
            event: event(1, "沪B00001", 0.9, vec![residents()], STILL),
            want: None,
        },
        Case {
            // The hotlist rule reports it; one pass never raises both alerts (issue #16).
            name: "on a hotlist but not the allowlist is not also unknown",
            rule: r,
            event: event(
                1,
                "沪B99999",
                0.9,
                vec![hit("stolen", "沪B99999", MatchKind::Exact, 0.0, 1)],
                STILL,
            ),
            want: None,
        },
        Case {
            name: "on another allowlist only is still unknown here",
            rule: r,
            event: event(
                1,
                "沪B99999",
                0.9,
                vec![hit("staff", "沪B99999", MatchKind::Exact, 0.0, 0)],
                STILL,
            ),
            want: Some(""),
        },
        Case {
            name: "too uncertain to call unknown (default floor 0.5)",
            rule: r,
            event: event(1, "沪B99999", 0.3, vec![], STILL),
            want: None,
        },
        Case {
            name: "empty text is no read",
            rule: r,
            event: event(1, "", 0.9, vec![], STILL),
            want: None,
        },
    ]);
}

#[test]
fn plate_alert_contents() {
    let mut sim = Sim::new(rule("plate_hotlist", "zone = \"box\""));
    let ev = event(
        3,
        "京A12845",
        0.8,
        vec![hit("stolen", "京A12345", MatchKind::Fuzzy, 1.0, 0)],
        STILL,
    );
    let a = fire(&mut sim, 0.0, ev);
    assert_eq!(a.len(), 1);
    let a = &a[0];
    assert_eq!(a.rule.kind, AlertKind::PlateHotlist);
    assert_eq!(a.severity, Severity::High, "plate_hotlist defaults to high");
    let plate = a.plate.as_ref().expect("plate");
    assert_eq!(
        (plate.text.as_str(), plate.char_confidences.len()),
        ("京A12845", 7)
    );
    let m = a.watch_match.as_ref().expect("match");
    assert_eq!(
        (m.entry.as_str(), m.kind, m.distance),
        ("京A12345", MatchKind::Fuzzy, 1.0)
    );
    assert_eq!(a.detection.track_id, Some(TrackId(3)));
    assert_eq!(a.context.zone.as_deref(), Some("box"));
}

#[test]
fn plate_dedupe_by_track_and_by_text() {
    let stolen = || vec![hit("stolen", "京A12345", MatchKind::Exact, 0.0, 0)];
    let mut sim = Sim::new(rule("plate_hotlist", ""));
    assert_eq!(
        fire(&mut sim, 0.0, event(1, "京A12345", 0.9, stolen(), STILL)).len(),
        1
    );
    assert_eq!(
        fire(&mut sim, 1.0, event(1, "京A12345", 0.9, stolen(), STILL)).len(),
        0,
        "same track"
    );
    // A broken track: a new id, same car, within the default 60 s cooldown.
    assert_eq!(
        fire(&mut sim, 5.0, event(2, "京A12345", 0.9, stolen(), STILL)).len(),
        0,
        "same text"
    );
    // A different car on the same list is its own alert.
    assert_eq!(
        fire(&mut sim, 6.0, event(3, "京A77777", 0.9, stolen(), STILL)).len(),
        1
    );
    assert_eq!(sim.counters(), (2, 2));
    assert_eq!(
        fire(&mut sim, 61.0, event(4, "京A12345", 0.9, stolen(), STILL)).len(),
        1,
        "after the cooldown"
    );

    let mut sim = Sim::new(rule("plate_hotlist", "cooldown_s = 0"));
    assert_eq!(
        fire(&mut sim, 0.0, event(1, "京A12345", 0.9, stolen(), STILL)).len(),
        1
    );
    assert_eq!(
        fire(&mut sim, 0.5, event(1, "京A12345", 0.9, stolen(), STILL)).len(),
        1,
        "no dedupe"
    );
}

#[test]
fn plate_rules_follow_their_schedule() {
    // Asia/Shanghai; the sim starts Monday 12:00 local.
    let mut sim = Sim::new(rule("plate_hotlist", "schedule = { times = [\"08:00-09:00\"] }"));
    let ev = event(
        1,
        "京A12345",
        0.9,
        vec![hit("stolen", "京A12345", MatchKind::Exact, 0.0, 0)],
        STILL,
    );
    assert!(fire(&mut sim, 0.0, ev).is_empty());
    assert_eq!(
        sim.counters(),
        (0, 0),
        "out of schedule is neither an alert nor a suppression"
    );
}
