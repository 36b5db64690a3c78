use std::collections::BTreeMap;

use vigil_core::alert::{AlertCamera, AlertContext, AlertDetection, AlertKind, AlertRule};
use vigil_core::geometry::BoxPx;

use super::*;

/// 2024-05-01T12:00:00Z plus `minute` minutes.
fn at(minute: i64) -> Timestamp {
    let base: Timestamp = "2024-05-01T12:00:00Z".parse().expect("base time");
    base + jiff::SignedDuration::from_mins(minute)
}

fn alert(camera: &str, rule: &str, kind: AlertKind, minute: i64) -> Alert {
    Alert {
        id: uuid::Uuid::new_v4().to_string(),
        time: at(minute).to_string(),
        camera: AlertCamera {
            id: camera.into(),
            name: String::new(),
            location: String::new(),
        },
        rule: AlertRule {
            id: rule.into(),
            kind,
        },
        severity: Severity::High,
        detection: AlertDetection {
            label: "person".into(),
            box_px: BoxPx::new(1.0, 2.0, 3.0, 4.0),
            track_id: None,
        },
        plate: None,
        watch_match: None,
        context: AlertContext::default(),
        snapshot: Some(vec![0xFF, 0xD8, 0xFF]),
        versions: BTreeMap::new(),
    }
}

fn open(dir: &Path) -> History {
    History::open(dir.join("history.redb"), HistoryConfig::default()).expect("open history")
}

fn ids(entries: &[HistoryEntry]) -> Vec<&str> {
    entries.iter().map(|e| e.id.as_str()).collect()
}

/// Ten alerts one minute apart, appended out of time order; cameras/rules alternate.
fn fill(h: &History) -> Vec<Alert> {
    let mut all: Vec<Alert> = (0..10)
        .map(|m| {
            let (cam, rule, kind) = if m % 2 == 0 {
                ("gate-1", "fence", AlertKind::ZoneIntrusion)
            } else {
                ("yard", "loiter", AlertKind::Loitering)
            };
            alert(cam, rule, kind, m)
        })
        .collect();
    for i in [3, 0, 9, 1, 2, 8, 4, 7, 5, 6] {
        h.append(&all[i]).expect("append");
    }
    all.sort_by_key(|a| a.time.clone());
    all
}

#[test]
fn query_is_newest_first_with_limit() {
    let dir = tempfile::tempdir().expect("tmp");
    let h = open(dir.path());
    let all = fill(&h);
    let got = h.query(&HistoryQuery::default()).expect("query");
    let want: Vec<&str> = all.iter().rev().map(|a| a.id.as_str()).collect();
    assert_eq!(ids(&got), want);
    let three = h
        .query(&HistoryQuery {
            limit: 3,
            ..Default::default()
        })
        .expect("query");
    assert_eq!(ids(&three), want[..3].to_vec());
    let none = h
        .query(&HistoryQuery {
            limit: 0,
            ..Default::default()
        })
        .expect("query");
    assert!(none.is_empty());
    assert_eq!(h.len().expect("len"), 10);
}

#[test]
fn query_filters_camera_rule_kind_and_time() {
    let dir = tempfile::tempdir().expect("tmp");
    let h = open(dir.path());
    let all = fill(&h);
    let yard = h
        .query(&HistoryQuery {
            camera: Some("yard".into()),
            ..Default::default()
        })
        .expect("query");
    assert_eq!(yard.len(), 5);
    assert!(yard.iter().all(|e| e.camera == "yard" && e.rule == "loiter"));
    assert!(yard.windows(2).all(|w| w[0].time > w[1].time), "newest first");

    let fence = h
        .query(&HistoryQuery {
            rule: Some("fence".into()),
            limit: 2,
            ..Default::default()
        })
        .expect("query");
    assert_eq!(ids(&fence), vec![all[8].id.as_str(), all[6].id.as_str()]);

    let by_kind = h
        .query(&HistoryQuery {
            kind: Some("loitering".into()),
            camera: Some("gate-1".into()),
            ..Default::default()
        })
        .expect("query");
    assert!(by_kind.is_empty(), "gate-1 has no loitering alerts");

    // since inclusive, until exclusive: minutes 3, 4, 5, 6.
    let window = h
        .query(&HistoryQuery {
            since: Some(at(3)),
            until: Some(at(7)),
            ..Default::default()
        })
        .expect("query");
    let want: Vec<&str> = all[3..7].iter().rev().map(|a| a.id.as_str()).collect();
    assert_eq!(ids(&window), want);
    let empty = h
        .query(&HistoryQuery {
            since: Some(at(7)),
            until: Some(at(7)),
            ..Default::default()
        })
        .expect("query");
    assert!(empty.is_empty());
}

#[test]
fn get_returns_the_full_alert_with_capped_snapshot() {
    let dir = tempfile::tempdir().expect("tmp");
    let config = HistoryConfig {
        snapshot_cap_bytes: 4,
        ..Default::default()
    };
    let h = History::open(dir.path().join("history.redb"), config).expect("open");
    let small = alert("gate-1", "fence", AlertKind::ZoneIntrusion, 1);
    let mut big = alert("gate-1", "fence", AlertKind::ZoneIntrusion, 2);
    big.snapshot = Some(vec![7; 5]);
    h.append(&small).expect("append");
    h.append(&big).expect("append");

    let e = h.get(&small.id).expect("get").expect("present");
    assert_eq!(
        (e.camera.as_str(), e.rule.as_str(), e.kind.as_str()),
        ("gate-1", "fence", "zone.intrusion")
    );
    assert_eq!(e.time, at(1));
    assert_eq!(e.severity, Severity::High);
    assert_eq!(e.alert["id"], small.id.as_str());
    assert_eq!(e.alert["detection"]["label"], "person");
    assert!(e.alert.get("snapshot_truncated").is_none());
    assert!(
        e.alert.to_string().contains("/9j/"),
        "small snapshot kept as base64"
    );

    let b = h.get(&big.id).expect("get").expect("present");
    assert_eq!(b.alert["snapshot_truncated"], true);
    assert!(h.get("no-such-id").expect("get").is_none());
}

#[test]
fn appending_an_id_again_replaces_the_row() {
    let dir = tempfile::tempdir().expect("tmp");
    let h = open(dir.path());
    let mut a = alert("gate-1", "fence", AlertKind::ZoneIntrusion, 1);
    h.append(&a).expect("append");
    a.time = at(5).to_string();
    h.append(&a).expect("append again");
    assert_eq!(h.len().expect("len"), 1);
    assert_eq!(h.get(&a.id).expect("get").expect("present").time, at(5));
}

#[test]
fn bad_time_is_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let h = open(dir.path());
    let mut a = alert("gate-1", "fence", AlertKind::ZoneIntrusion, 1);
    a.time = "yesterday".into();
    assert!(matches!(h.append(&a), Err(HistoryError::Time { .. })));
    assert!(h.is_empty().expect("len"));
}

#[test]
fn prune_by_age_removes_only_older_rows() {
    let dir = tempfile::tempdir().expect("tmp");
    let h = open(dir.path());
    let all = fill(&h);
    // now = minute 10, max age 4 min → cutoff minute 6: minutes 0..=5 go.
    let removed = h
        .prune(at(10), Duration::from_secs(4 * 60), u64::MAX)
        .expect("prune");
    assert_eq!(removed, 6);
    let left = h.query(&HistoryQuery::default()).expect("query");
    let want: Vec<&str> = all[6..].iter().rev().map(|a| a.id.as_str()).collect();
    assert_eq!(ids(&left), want);
    assert!(h.get(&all[0].id).expect("get").is_none(), "id index pruned too");
    assert_eq!(
        h.prune(at(10), Duration::from_secs(4 * 60), u64::MAX)
            .expect("again"),
        0
    );
}

#[test]
fn prune_by_count_keeps_the_newest() {
    let dir = tempfile::tempdir().expect("tmp");
    let h = open(dir.path());
    let all = fill(&h);
    let removed = h.prune(at(10), Duration::MAX, 3).expect("prune");
    assert_eq!(removed, 7);
    let left = h.query(&HistoryQuery::default()).expect("query");
    let want: Vec<&str> = all[7..].iter().rev().map(|a| a.id.as_str()).collect();
    assert_eq!(ids(&left), want);

    // Both limits at once: age leaves minutes 8, 9; count 1 leaves minute 9.
    let removed = h.prune(at(10), Duration::from_secs(2 * 60), 1).expect("prune");
    assert_eq!(removed, 2);
    assert_eq!(
        ids(&h.query(&HistoryQuery::default()).expect("query")),
        vec![all[9].id.as_str()]
    );
}

#[test]
fn reopen_after_drop_keeps_data() {
    let dir = tempfile::tempdir().expect("tmp");
    let all = {
        let h = open(dir.path());
        let all = fill(&h);
        h.prune(at(10), Duration::MAX, 8).expect("prune");
        // The last appends committed without fsync; dropping the handle makes them durable.
        let a = alert("yard", "loiter", AlertKind::Loitering, 20);
        h.append(&a).expect("append");
        let mut all = all;
        all.push(a);
        all
    };
    let h = open(dir.path());
    assert_eq!(h.len().expect("len"), 9);
    let got = h.query(&HistoryQuery::default()).expect("query");
    let want: Vec<&str> = all[2..].iter().rev().map(|a| a.id.as_str()).collect();
    assert_eq!(ids(&got), want);
    assert!(h.get(&all[10].id).expect("get").is_some());
}

#[test]
fn second_open_of_the_same_file_is_locked() {
    let dir = tempfile::tempdir().expect("tmp");
    let _h = open(dir.path());
    let again = History::open(dir.path().join("history.redb"), HistoryConfig::default());
    assert!(matches!(again, Err(HistoryError::Locked { .. })), "{again:?}");
}

#[test]
fn garbage_file_is_reported_corrupt_with_a_hint() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("history.redb");
    std::fs::write(&path, vec![0x5Au8; 8192]).expect("write garbage");
    let err = History::open(&path, HistoryConfig::default()).expect_err("must refuse");
    assert!(matches!(err, HistoryError::Corrupt { .. }), "{err:?}");
    assert!(err.to_string().contains("move it aside"), "{err}");
}

#[test]
fn config_defaults_and_unknown_keys() {
    let c: HistoryConfig = toml::from_str("").expect("empty");
    assert_eq!(c, HistoryConfig::default());
    assert_eq!(
        (c.snapshot_cap_bytes, c.max_age_s, c.max_count),
        (65_536, 2_592_000, 100_000)
    );
    assert!(toml::from_str::<HistoryConfig>("max_cont = 3").is_err());
}
