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
            frame_size_px: None,
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

/// Ten alerts one minute apart, appended in time order (as a node records them);
/// cameras/rules alternate.
fn fill(h: &History) -> Vec<Alert> {
    let all: Vec<Alert> = (0..10)
        .map(|m| {
            let (cam, rule, kind) = if m % 2 == 0 {
                ("gate-1", "fence", AlertKind::ZoneIntrusion)
            } else {
                ("yard", "loiter", AlertKind::Loitering)
            };
            alert(cam, rule, kind, m)
        })
        .collect();
    for a in &all {
        h.append(a).expect("append");
    }
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

#[test]
fn alerts_stamped_during_a_clock_jump_do_not_stay_above_live_ones() {
    let dir = tempfile::tempdir().expect("tmp");
    let h = open(dir.path());
    let before = alert("gate-1", "fence", AlertKind::ZoneIntrusion, 0);
    // Recorded while the wall clock ran two days ahead …
    let jumped = alert("gate-1", "fence", AlertKind::ZoneIntrusion, 2 * 24 * 60);
    // … and after it was set back.
    let live = alert("gate-1", "fence", AlertKind::ZoneIntrusion, 1);
    for a in [&before, &jumped, &live] {
        h.append(a).expect("append");
    }
    let got = h.query(&HistoryQuery::default()).expect("query");
    assert_eq!(
        ids(&got),
        vec![live.id.as_str(), jumped.id.as_str(), before.id.as_str()],
        "most recently recorded first"
    );
    // Time filters still use the event time, and keep the same order.
    let since = h
        .query(&HistoryQuery {
            since: Some(at(1)),
            ..Default::default()
        })
        .expect("query");
    assert_eq!(ids(&since), vec![live.id.as_str(), jumped.id.as_str()]);
    // Retention by count drops the earliest recorded, not the earliest stamped.
    assert_eq!(h.prune(at(2), Duration::MAX, 2).expect("prune"), 1);
    assert!(h.get(&before.id).expect("get").is_none());
    // A row appended again is recorded anew: it moves to the top.
    h.append(&jumped).expect("append again");
    let got = h.query(&HistoryQuery::default()).expect("query");
    assert_eq!(ids(&got), vec![jumped.id.as_str(), live.id.as_str()]);
    assert_eq!(h.len().expect("len"), 2);
}

#[test]
fn a_forward_clock_jump_does_not_prune_the_history() {
    let dir = tempfile::tempdir().expect("tmp");
    let config = HistoryConfig {
        max_age_s: 24 * 3600,
        ..Default::default()
    };
    let h = History::open(dir.path().join("history.redb"), config).expect("open");
    let (wall0, mono0) = (Timestamp::now(), Instant::now());
    let mut recent = alert("gate-1", "fence", AlertKind::ZoneIntrusion, 0);
    recent.time = (wall0 - jiff::SignedDuration::from_mins(10)).to_string();
    h.append(&recent).expect("append");
    let two_days = jiff::SignedDuration::from_hours(48);

    // The case: the wall clock is two days ahead at the next pass.
    assert_eq!(h.prune_per_config(Timestamp::now() + two_days).expect("prune"), 0);
    assert_eq!(h.clock_jumps(), 1);
    assert_eq!(h.len().expect("len"), 1);

    // Steady again (a minute later on both clocks): ages count from the monotonic clock.
    let later = Duration::from_secs(90);
    assert_eq!(
        h.prune_per_config_at(wall0 + two_days + later, mono0 + later)
            .expect("prune"),
        0
    );
    assert_eq!((h.clock_jumps(), h.len().expect("len")), (1, 1));

    // Once a day has really passed, the row ages out as it should.
    let day = Duration::from_secs(24 * 3600 + 60);
    assert_eq!(
        h.prune_per_config_at(wall0 + two_days + day, mono0 + day)
            .expect("prune"),
        1
    );
    assert_eq!(h.clock_jumps(), 1);
}

#[test]
fn a_backward_clock_jump_is_counted_and_prunes_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let config = HistoryConfig {
        max_age_s: 3600,
        ..Default::default()
    };
    let h = History::open(dir.path().join("history.redb"), config).expect("open");
    let (wall0, mono0) = (Timestamp::now(), Instant::now());
    let mut a = alert("gate-1", "fence", AlertKind::ZoneIntrusion, 0);
    a.time = (wall0 - jiff::SignedDuration::from_mins(30)).to_string();
    h.append(&a).expect("append");
    let back = wall0 - jiff::SignedDuration::from_hours(5);
    assert_eq!(
        h.prune_per_config_at(back, mono0 + Duration::from_secs(60))
            .expect("prune"),
        0
    );
    assert_eq!((h.clock_jumps(), h.len().expect("len")), (1, 1));
}

#[test]
fn a_history_written_before_the_recording_order_existed_is_migrated() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("history.redb");
    let old: Vec<Alert> = (0..4)
        .map(|m| alert("gate-1", "fence", AlertKind::ZoneIntrusion, m))
        .collect();
    {
        // The layout of earlier versions: three tables, rows without a seq.
        let db = Database::create(&path).expect("create");
        let txn = db.begin_write().expect("txn");
        {
            let mut index = txn.open_table(INDEX).expect("index");
            let mut alerts = txn.open_table(ALERTS).expect("alerts");
            let mut ids = txn.open_table(IDS).expect("ids");
            for (m, a) in old.iter().enumerate().rev() {
                let t = micros(at(m as i64));
                let row = serde_json::json!({"camera": "gate-1", "rule": "fence", "kind": "zone.intrusion", "severity": "high"});
                let row = serde_json::to_vec(&row).expect("row");
                index.insert((t, a.id.as_str()), row.as_slice()).expect("insert");
                alerts
                    .insert((t, a.id.as_str()), b"{}".as_slice())
                    .expect("insert");
                ids.insert(a.id.as_str(), t).expect("insert");
            }
        }
        txn.commit().expect("commit");
    }
    let h = open(dir.path());
    let want: Vec<&str> = old.iter().rev().map(|a| a.id.as_str()).collect();
    assert_eq!(ids(&h.query(&HistoryQuery::default()).expect("query")), want);
    let new = alert("yard", "loiter", AlertKind::Loitering, 1);
    h.append(&new).expect("append");
    assert_eq!(h.query(&HistoryQuery::default()).expect("query")[0].id, new.id);
    assert_eq!(h.prune(at(0), Duration::MAX, 4).expect("prune"), 1);
    assert!(
        h.get(&old[0].id).expect("get").is_none(),
        "the oldest old row goes first"
    );
}
