//! Table-driven tests of the track rules: zone intrusion, loitering, line crossing, crowding,
//! with schedules, cooldown and re-arm.

mod common;

use common::{Sim, alert_times};
use vigil_core::track::TrackId;
use vigil_rules::{AlertKind, FrameTime, Severity, TrackObservation};

const IN_BOX: (f32, f32) = (30.0, 30.0);
const OUT: (f32, f32) = (80.0, 80.0);

struct Case {
    name: &'static str,
    rule: &'static str,
    label: &'static str,
    path: Vec<(f32, f32)>,
    want: Vec<f64>,
}

fn run(cases: Vec<Case>) {
    for c in cases {
        let mut sim = Sim::new(c.rule);
        assert_eq!(
            alert_times(&mut sim, c.label, &c.path),
            c.want,
            "case {:?}",
            c.name
        );
    }
}

const INTRUSION: &str = "[[rule]]\nid = \"r\"\nkind = \"zone_intrusion\"\nzone = \"box\"\n";

#[test]
fn zone_intrusion() {
    let rule = |extra: &str| -> &'static str { Box::leak(format!("{INTRUSION}{extra}").into_boxed_str()) };
    run(vec![
        Case {
            name: "on entry by default",
            rule: rule(""),
            label: "person",
            path: vec![OUT, IN_BOX, IN_BOX],
            want: vec![1.0],
        },
        Case {
            name: "after the minimum time inside",
            rule: rule("min_inside_s = 2"),
            label: "person",
            path: vec![OUT, IN_BOX, IN_BOX, IN_BOX, IN_BOX],
            want: vec![3.0],
        },
        Case {
            name: "left before the minimum time",
            rule: rule("min_inside_s = 2"),
            label: "person",
            path: vec![OUT, IN_BOX, IN_BOX, OUT, OUT],
            want: vec![],
        },
        Case {
            name: "cars are not people (default classes)",
            rule: rule(""),
            label: "car",
            path: vec![IN_BOX, IN_BOX],
            want: vec![],
        },
        Case {
            name: "any class",
            rule: rule("classes = [\"*\"]"),
            label: "car",
            path: vec![IN_BOX],
            want: vec![0.0],
        },
        Case {
            name: "only the listed class",
            rule: rule("classes = [\"car\", \"truck\"]"),
            label: "person",
            path: vec![IN_BOX],
            want: vec![],
        },
        Case {
            name: "re-entry of the same track is deduped",
            rule: rule(""),
            label: "person",
            path: vec![IN_BOX, OUT, IN_BOX, IN_BOX],
            want: vec![0.0],
        },
        Case {
            name: "never inside",
            rule: rule(""),
            label: "person",
            path: vec![OUT, (41.0, 30.0), (30.0, 41.0)],
            want: vec![],
        },
    ]);
}

#[test]
fn loitering() {
    const RULE: &str = "[[rule]]\nid = \"r\"\nkind = \"loitering\"\nzone = \"left\"\ndwell_s = 5\n";
    let inside = (10.0, 50.0);
    run(vec![
        Case {
            name: "dwells past the limit",
            rule: RULE,
            label: "person",
            path: vec![inside; 8],
            want: vec![5.0],
        },
        Case {
            name: "leaving resets the dwell timer",
            rule: RULE,
            label: "person",
            path: [vec![inside; 4], vec![OUT], vec![inside; 7]].concat(),
            want: vec![10.0],
        },
        Case {
            name: "just short of the limit",
            rule: RULE,
            label: "person",
            path: [vec![inside; 5], vec![OUT]].concat(),
            want: vec![],
        },
    ]);
}

#[test]
fn line_crossing_directions_and_touches() {
    let rule = |dir: &str| -> &'static str {
        Box::leak(
            format!(
                "[[rule]]\nid = \"r\"\nkind = \"line_crossing\"\nline = \"mid\"\ndirection = \"{dir}\"\n"
            )
            .into_boxed_str(),
        )
    };
    let (w, on, e) = ((40.0, 50.0), (50.0, 50.0), (60.0, 50.0));
    run(vec![
        Case {
            name: "east-bound, any",
            rule: rule("any"),
            label: "person",
            path: vec![w, e],
            want: vec![1.0],
        },
        Case {
            name: "east-bound is right-to-left of the downward line",
            rule: rule("right_to_left"),
            label: "person",
            path: vec![w, e],
            want: vec![1.0],
        },
        Case {
            name: "east-bound does not count left-to-right",
            rule: rule("left_to_right"),
            label: "person",
            path: vec![w, e],
            want: vec![],
        },
        Case {
            name: "west-bound counts left-to-right",
            rule: rule("left_to_right"),
            label: "person",
            path: vec![e, w],
            want: vec![1.0],
        },
        Case {
            name: "touches the line and goes back",
            rule: rule("any"),
            label: "person",
            path: vec![w, on, w, on],
            want: vec![],
        },
        Case {
            name: "steps onto the line, then over it",
            rule: rule("any"),
            label: "person",
            path: vec![w, on, e],
            want: vec![2.0],
        },
        Case {
            name: "there and back: one alert per track",
            rule: rule("any"),
            label: "person",
            path: vec![w, e, w],
            want: vec![1.0],
        },
    ]);
    let mut sim = Sim::new(rule("any"));
    alert_times(&mut sim, "person", &[w, e, w, e]);
    assert_eq!(sim.counters(), (1, 2), "the two later crossings are suppressed");
}

#[test]
fn crossing_alert_names_line_and_direction() {
    let mut sim = Sim::new("[[rule]]\nid = \"r\"\nkind = \"line_crossing\"\nline = \"mid\"\n");
    sim.step(0.0, &[(9, "person", 45.0, 50.0)]);
    let alerts = sim.step(0.5, &[(9, "person", 55.0, 50.0)]);
    assert_eq!(alerts.len(), 1);
    let a = &alerts[0];
    assert_eq!(a.rule.kind, AlertKind::LineCrossing);
    assert_eq!(a.context.line.as_deref(), Some("mid"));
    assert_eq!(a.context.direction.as_deref(), Some("right_to_left"));
    assert_eq!(a.detection.track_id, Some(TrackId(9)));
}

#[test]
fn cooldown_rearms_after_time_and_end_rearms_at_once() {
    let mut sim = Sim::new(&format!("{INTRUSION}cooldown_s = 5\n"));
    let times = alert_times(&mut sim, "person", &[IN_BOX, OUT, IN_BOX, OUT, OUT, OUT, IN_BOX]);
    assert_eq!(
        times,
        vec![0.0, 6.0],
        "re-entry at 2 s is within the cooldown, at 6 s after it"
    );
    assert_eq!(sim.counters(), (2, 1));

    // Without a cooldown, only the track's end re-arms (a tracker never reuses ids, but the
    // engine must not hold on to anything about an ended track).
    let mut sim = Sim::new(INTRUSION);
    assert_eq!(sim.step(0.0, &[(1, "person", 30.0, 30.0)]).len(), 1);
    assert_eq!(
        sim.step_full(1.0, &[(1, "person", 30.0, 30.0)], &[1], &[]).len(),
        0
    );
    assert_eq!(sim.rules.remembered_tracks(), 0);
    assert_eq!(sim.step(2.0, &[(1, "person", 30.0, 30.0)]).len(), 1);
}

#[test]
fn schedule_arms_at_its_start_for_someone_already_inside() {
    let night = format!("{INTRUSION}schedule = {{ times = [\"22:00-06:00\"] }}\n");
    // Monday 21:59:58 in Shanghai (UTC+8).
    let mut sim = Sim::at(&night, "2024-05-06T13:59:58Z");
    let times = alert_times(&mut sim, "person", &[IN_BOX; 4]);
    assert_eq!(times, vec![2.0], "armed at 22:00:00 local");

    let sundays = format!("{INTRUSION}schedule = {{ days = [\"sun\"], times = [\"22:00-06:00\"] }}\n");
    let mut sim = Sim::at(&sundays, "2024-05-06T13:59:58Z");
    assert_eq!(alert_times(&mut sim, "person", &[IN_BOX; 4]), Vec::<f64>::new());

    // Tuesday 05:59:58 belongs to Monday night's range; it ends at 06:00:00.
    let mondays = format!("{INTRUSION}schedule = {{ days = [\"mon\"], times = [\"22:00-06:00\"] }}\n");
    let mut sim = Sim::at(&mondays, "2024-05-06T21:59:58Z");
    assert_eq!(alert_times(&mut sim, "person", &[IN_BOX]), vec![0.0]);
    let mut sim = Sim::at(&mondays, "2024-05-06T21:59:58Z");
    assert_eq!(
        alert_times(&mut sim, "person", &[OUT, OUT, IN_BOX, IN_BOX]),
        Vec::<f64>::new()
    );
}

#[test]
fn crowding_one_alert_per_episode() {
    const RULE: &str =
        "[[rule]]\nid = \"r\"\nkind = \"crowding\"\nzone = \"left\"\nmin_count = 3\nmin_duration_s = 2\n";
    fn script(sim: &mut Sim, people: usize) -> Vec<(f64, u32)> {
        let mut fired = Vec::new();
        for i in 0..=40 {
            let t = f64::from(i) * 0.5;
            // Present 0..=10 s (one person flickers out at 5 s), absent 10.5..15, back 15..=20.
            let present = t <= 10.0 || t >= 15.0;
            let tracks: Vec<(u64, &str, f32, f32)> = (0..people)
                .filter(|_| present)
                .map(|k| {
                    let flicker = k == 0 && (5.0..6.0).contains(&t);
                    let x = if flicker { 80.0 } else { 10.0 + 10.0 * k as f32 };
                    (k as u64 + 1, "person", x, 50.0)
                })
                .collect();
            for a in sim.step(t, &tracks) {
                assert_eq!(a.detection.track_id, None);
                fired.push((t, a.context.count.expect("count")));
            }
        }
        fired
    }
    let mut sim = Sim::new(RULE);
    assert_eq!(
        script(&mut sim, 3),
        vec![(2.0, 3), (17.0, 3)],
        "flicker at 5 s is not a new episode"
    );
    let mut sim = Sim::new(RULE);
    assert_eq!(script(&mut sim, 2), vec![], "two people are not a crowd of three");
    let mut sim = Sim::new(&format!("{RULE}cooldown_s = 60\n"));
    assert_eq!(script(&mut sim, 4), vec![(2.0, 4)]);
    assert_eq!(
        sim.counters(),
        (1, 1),
        "the second episode is within the cooldown"
    );
}

#[test]
fn crowd_alert_box_encloses_the_counted_people() {
    let mut sim = Sim::new("[[rule]]\nid = \"r\"\nkind = \"crowding\"\nzone = \"left\"\nmin_count = 2\n");
    let a = sim.step(
        0.0,
        &[
            (1, "person", 10.0, 50.0),
            (2, "person", 30.0, 70.0),
            (3, "person", 90.0, 90.0),
        ],
    );
    assert_eq!(a.len(), 1);
    let b = a[0].detection.box_px;
    assert_eq!(
        (b.x1, b.y1, b.x2, b.y2),
        (5.0, 30.0, 35.0, 70.0),
        "person 3 is outside the zone"
    );
    assert_eq!(a[0].context.count, Some(2));
}

#[test]
fn alert_carries_camera_rule_time_and_detection() {
    let mut sim = Sim::new(&format!("{INTRUSION}severity = \"critical\"\n"));
    let a = sim.step(1.25, &[(4, "person", 30.0, 30.0)]);
    assert_eq!(a.len(), 1);
    let a = &a[0];
    assert_eq!(a.time, "2024-05-06T04:00:01.250Z");
    assert_eq!((a.camera.id.as_str(), a.camera.name.as_str()), ("cam-1", "Yard"));
    assert_eq!((a.rule.id.as_str(), a.rule.kind), ("r", AlertKind::ZoneIntrusion));
    assert_eq!(a.severity, Severity::Critical);
    assert_eq!(a.detection.label, "person");
    assert_eq!(a.detection.track_id, Some(TrackId(4)));
    assert_eq!(a.context.zone.as_deref(), Some("box"));
    assert_eq!(uuid_version(&a.id), Some('7'));
}

fn uuid_version(id: &str) -> Option<char> {
    (id.len() == 36).then(|| id.chars().nth(14)).flatten()
}

#[test]
fn memory_is_bounded_by_live_tracks() {
    let mut sim = Sim::new(INTRUSION);
    let many: Vec<(u64, &str, f32, f32)> = (0..1000).map(|i| (i, "person", 30.0, 30.0)).collect();
    assert_eq!(sim.step(0.0, &many).len(), 1000);
    assert_eq!(sim.rules.remembered_tracks(), 1000);
    sim.step(29.0, &[]);
    assert_eq!(
        sim.rules.remembered_tracks(),
        1000,
        "not yet silent for forget_after_s"
    );
    sim.step(30.5, &[]);
    assert_eq!(sim.rules.remembered_tracks(), 0);
    // Forgotten tracks are re-armed like ended ones.
    assert_eq!(sim.step(31.0, &many[..1]).len(), 1);
}

#[test]
fn a_pts_restart_does_not_fire_a_dwell_timer() {
    let mut sim = Sim::new("[[rule]]\nid = \"r\"\nkind = \"loitering\"\nzone = \"left\"\ndwell_s = 5\n");
    let obs = [TrackObservation {
        track_id: TrackId(1),
        label: "person",
        bbox: common::standing_at(10.0, 50.0),
    }];
    let mut fired = Vec::new();
    // pts runs 0..3 s, the stream restarts at pts 0, then runs 2 s more: 5 s inside in all.
    let pts_s = [0.0, 1.0, 2.0, 3.0, 0.0, 1.0, 1.5, 2.0];
    for (i, p) in pts_s.iter().enumerate() {
        let wall = sim.time(i as f64).wall;
        let t = FrameTime {
            wall,
            pts_ns: (p * 1e9) as u64,
        };
        if !sim.rules.evaluate(t, &obs, &[], &[]).is_empty() {
            fired.push(i);
        }
    }
    assert_eq!(
        fired,
        vec![7],
        "5 s of stream time have passed only at the last frame"
    );
}
