//! Config validation: every problem is reported, naming the camera, the zone/line/rule and a fix.

mod common;

use common::{FRAME, camera, config};
use vigil_rules::geometry::ShapeProblem;
use vigil_rules::{CameraRules, ConfigProblem, RulesConfig, Subject, validate};

/// The problems of `text` (shapes and rules appended to the common ones).
fn problems(extra: &str) -> Vec<(Subject, ConfigProblem)> {
    match CameraRules::new(camera(), &config(extra), FRAME) {
        Ok(_) => vec![],
        Err(e) => e.0.into_iter().map(|e| (e.subject, e.problem)).collect(),
    }
}

fn zone(id: &str) -> Subject {
    Subject::Zone(id.into())
}

fn rule(id: &str) -> Subject {
    Subject::Rule(id.into())
}

#[test]
fn bad_polygons_name_the_zone_and_the_problem() {
    let cases = [
        (
            "[[zone]]\nid = \"bow\"\npoints = [[0.1, 0.1], [0.9, 0.9], [0.9, 0.1], [0.1, 0.9]]",
            ShapeProblem::SelfIntersection { first: 0, second: 2 },
        ),
        (
            "[[zone]]\nid = \"bow\"\npoints = [[0.1, 0.1], [0.9, 0.9]]",
            ShapeProblem::TooFewPoints { count: 2 },
        ),
        (
            "[[zone]]\nid = \"bow\"\ncoords = \"pixels\"\npoints = [[10, 10], [150, 10], [10, 50]]",
            ShapeProblem::OutOfFrame {
                index: 1,
                x: 150.0,
                y: 10.0,
                max_x: 100.0,
                max_y: 100.0,
            },
        ),
    ];
    for (text, want) in cases {
        assert_eq!(
            problems(text),
            vec![(zone("bow"), ConfigProblem::Shape(want))],
            "{text}"
        );
    }
}

#[test]
fn every_problem_is_collected_with_context() {
    let text = r#"
[[zone]]
id = "left"
points = [[0, 0], [1, 0], [1, 1]]

[[line]]
id = "dot"
a = [0.5, 0.5]
b = [0.5, 0.5]

[[rule]]
id = "a"
kind = "loitering"
zone = "nowhere"

[[rule]]
id = "b"
kind = "zone_intrusion"
zone = "box"
dwell_s = 5
schedule = { times = ["22:00-22:00"] }

[[rule]]
id = "c"
kind = "crowding"
zone = "box"
min_count = 0
cooldown_s = -1

[[rule]]
id = "d"
kind = "plate_unknown_vehicle"
direction = "any"
min_confidence = 1.5
"#;
    let got = problems(text);
    let want = vec![
        (zone("left"), ConfigProblem::DuplicateId),
        (
            Subject::Line("dot".into()),
            ConfigProblem::Shape(ShapeProblem::DegenerateLine),
        ),
        (rule("a"), ConfigProblem::UnknownZone("nowhere".into())),
        (
            rule("a"),
            ConfigProblem::MissingField {
                field: "dwell_s",
                kind: "loitering",
            },
        ),
        (
            rule("b"),
            ConfigProblem::NotApplicable {
                field: "dwell_s",
                kind: "zone_intrusion",
            },
        ),
        (
            rule("b"),
            ConfigProblem::Schedule(vigil_rules::schedule::ScheduleProblem::EmptyRange(
                "22:00-22:00".into(),
            )),
        ),
        (
            rule("c"),
            ConfigProblem::BadNumber {
                field: "cooldown_s",
                value: -1.0,
                expected: "seconds must be a number, 0 or more",
            },
        ),
        (
            rule("c"),
            ConfigProblem::BadNumber {
                field: "min_count",
                value: 0.0,
                expected: "at least 1 person",
            },
        ),
        (
            rule("d"),
            ConfigProblem::MissingField {
                field: "lists",
                kind: "plate_unknown_vehicle",
            },
        ),
        (
            rule("d"),
            ConfigProblem::BadNumber {
                field: "min_confidence",
                value: 1.5,
                expected: "a confidence from 0 to 1",
            },
        ),
        (
            rule("d"),
            ConfigProblem::MissingField {
                field: "line",
                kind: "plate_unknown_vehicle",
            },
        ),
    ];
    assert_eq!(got, want);

    let err = CameraRules::new(camera(), &config(text), FRAME).expect_err("invalid");
    let msg = err.to_string();
    assert_eq!(msg.lines().count(), want.len());
    assert!(
        msg.contains("camera \"cam-1\": rule \"a\": refers to zone \"nowhere\""),
        "{msg}"
    );
    assert!(msg.contains("fix:"), "{msg}");
}

#[test]
fn a_rule_on_a_broken_zone_reports_only_the_zone() {
    let text = "[[zone]]\nid = \"tiny\"\npoints = [[0, 0], [1, 1]]\n\
                [[rule]]\nid = \"r\"\nkind = \"zone_intrusion\"\nzone = \"tiny\"";
    assert_eq!(
        problems(text),
        vec![(
            zone("tiny"),
            ConfigProblem::Shape(ShapeProblem::TooFewPoints { count: 2 })
        )]
    );
}

#[test]
fn unknown_fields_fail_at_parse_time() {
    for text in [
        "[[rule]]\nid = \"r\"\nkind = \"zone_intrusion\"\nzone = \"box\"\nminimum_inside = 3",
        "[[rule]]\nid = \"r\"\nkind = \"zone_entry\"\nzone = \"box\"",
        "[[rule]]\nid = \"r\"\nkind = \"line_crossing\"\nline = \"mid\"\ndirection = \"a_to_c\"",
        "tz = \"UTC\"",
    ] {
        assert!(toml::from_str::<RulesConfig>(text).is_err(), "{text}");
    }
}

#[test]
fn schedules_need_a_time_zone_somewhere() {
    let text = "[[zone]]\nid = \"z\"\npoints = [[0, 0], [1, 0], [1, 1]]\n\
                [[rule]]\nid = \"r\"\nkind = \"zone_intrusion\"\nzone = \"z\"\nschedule = { times = [\"22:00-06:00\"] }";
    let cfg: RulesConfig = toml::from_str(text).expect("parse");
    let err = validate(&cfg, "cam-9", FRAME).expect_err("no zone anywhere");
    assert!(
        err.to_string()
            .contains("camera \"cam-9\": rule \"r\": schedule: no time zone"),
        "{err}"
    );
    let with_tz = RulesConfig {
        timezone: Some("Europe/Berlin".into()),
        ..cfg
    };
    assert_eq!(validate(&with_tz, "cam-9", FRAME), Ok(()));
}

#[test]
fn disabled_rules_are_checked_but_not_run() {
    let mut sim = common::Sim::new(
        "[[rule]]\nid = \"off\"\nkind = \"zone_intrusion\"\nzone = \"box\"\nenabled = false",
    );
    assert!(sim.step(0.0, &[(1, "person", 30.0, 30.0)]).is_empty());
    assert_eq!(sim.rules.stats().count(), 0);
    assert!(!problems("[[rule]]\nid = \"off\"\nkind = \"zone_intrusion\"\nenabled = false").is_empty());
}
