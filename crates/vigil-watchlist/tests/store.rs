//! The on-disk store: atomic replace, failed imports leave the old list intact, every change
//! lands in a verifiable audit log, and the index built from the store matches.

use jiff::Timestamp;
use vigil_watchlist::audit::{self, AuditAction, AuditRecord, ChangeContext};
use vigil_watchlist::store::{AUDIT_FILE, StoreError, WatchlistStore};
use vigil_watchlist::{ImportOptions, ListKind, ListName, MatchConfig, MatchKind, Plate, WatchlistEntry};

const HEADER: &str = "plate,list,kind,priority,reason,valid_from,valid_until,note\n";

fn ctx(who: &str) -> ChangeContext {
    ChangeContext {
        who: who.into(),
        source: "192.0.2.10:40000".into(),
        at: "2025-06-01T08:00:00Z".parse().expect("ts"),
    }
}

fn stolen() -> ListName {
    ListName::parse("stolen").expect("name")
}

fn open(dir: &std::path::Path) -> WatchlistStore {
    WatchlistStore::open(dir, ImportOptions::default()).expect("open store")
}

fn records(dir: &std::path::Path) -> Vec<AuditRecord> {
    std::fs::read_to_string(dir.join(AUDIT_FILE))
        .expect("audit")
        .lines()
        .map(|l| serde_json::from_str(l).expect("record"))
        .collect()
}

#[test]
fn failed_imports_leave_the_old_list_intact() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = open(dir.path());
    let good = format!("{HEADER}京A12345,stolen,hotlist,high,,,,\n沪B11111,stolen,hotlist,,,,,\n");
    let summary = store
        .import_csv(&stolen(), ListKind::Hotlist, good.as_bytes(), &ctx("alice"))
        .expect("import");
    assert_eq!(
        (summary.counts.before, summary.counts.after, summary.counts.added),
        (0, 2, 2)
    );
    let file = dir.path().join("stolen.json");
    let before = std::fs::read(&file).expect("stored");

    for bad in [
        String::new(),
        format!("{HEADER}京A12345,stolen,hotlist,,,,,\n京A#,stolen,hotlist,,,,,\n"),
        format!("{HEADER}京A12345,stolen,hotlist,,,,,\n京A12345,stolen,hotlist,,,,,\n"),
        "plate,list,kind,colour\n".into(),
    ] {
        let err = store.import_csv(&stolen(), ListKind::Hotlist, bad.as_bytes(), &ctx("bob"));
        assert!(matches!(err, Err(StoreError::Import { .. })), "{bad:?}: {err:?}");
        assert_eq!(
            std::fs::read(&file).expect("stored"),
            before,
            "{bad:?}: old list must be byte-identical"
        );
    }
    assert_eq!(store.load(&stolen()).expect("load").len(), 2);
    assert_eq!(
        records(dir.path()).len(),
        1,
        "rejected imports are not logged as changes"
    );
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("ls")
        .map(|e| e.expect("e").file_name())
        .collect();
    assert_eq!(names.len(), 2, "only the list and the audit log: {names:?}");
}

#[test]
fn header_only_import_empties_the_list() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = open(dir.path());
    let good = format!("{HEADER}京A12345,stolen,hotlist,,,,,\n");
    store
        .import_csv(&stolen(), ListKind::Hotlist, good.as_bytes(), &ctx("a"))
        .expect("import");
    let summary = store
        .import_csv(&stolen(), ListKind::Hotlist, HEADER.as_bytes(), &ctx("a"))
        .expect("empty");
    assert_eq!((summary.counts.after, summary.counts.removed), (0, 1));
    assert!(store.load(&stolen()).expect("load").is_empty());
}

#[test]
fn changes_are_audited_with_who_what_where_and_verify() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = open(dir.path());
    let csv = format!("{HEADER}京A12345,stolen,hotlist,,,,,\n沪B11111,stolen,hotlist,,,,,\n");
    store
        .import_csv(&stolen(), ListKind::Hotlist, csv.as_bytes(), &ctx("alice"))
        .expect("import");
    let entry = WatchlistEntry::new(
        Plate::parse("粤C0000D").expect("plate"),
        stolen(),
        ListKind::Hotlist,
    );
    store.add_entry(entry.clone(), &ctx("bob")).expect("add");
    assert!(
        matches!(store.add_entry(entry, &ctx("bob")), Err(StoreError::Invalid(_))),
        "duplicate"
    );
    store
        .remove_entry(&stolen(), "沪B·11111", &ctx("carol"))
        .expect("remove");
    assert!(matches!(
        store.remove_entry(&stolen(), "沪B11111", &ctx("carol")),
        Err(StoreError::NoSuchPlate { .. })
    ));

    let recs = records(dir.path());
    let summary: Vec<_> = recs
        .iter()
        .map(|r| {
            (
                r.action,
                r.who.as_str(),
                r.plate.as_deref(),
                r.counts.before,
                r.counts.after,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (AuditAction::ReplaceList, "alice", None, 0, 2),
            (AuditAction::AddEntry, "bob", Some("粤C0000D"), 2, 3),
            (AuditAction::RemoveEntry, "carol", Some("沪B11111"), 3, 2),
        ]
    );
    assert!(
        recs.iter()
            .all(|r| r.source == "192.0.2.10:40000" && r.list == "stolen")
    );
    let verified = audit::verify(&dir.path().join(AUDIT_FILE)).expect("intact");
    assert_eq!(verified.lines, 3);
    assert_eq!(verified.head, store.audit().head());

    // Reopening continues the same chain.
    drop(store);
    let mut store = open(dir.path());
    store
        .remove_entry(&stolen(), "京A12345", &ctx("dave"))
        .expect("remove");
    assert_eq!(
        audit::verify(&dir.path().join(AUDIT_FILE)).expect("intact").lines,
        4
    );
}

#[test]
fn tampered_audit_log_is_detected_and_blocks_the_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = open(dir.path());
    for plate in ["京A11111", "京A22222", "京A33333"] {
        let e = WatchlistEntry::new(Plate::parse(plate).expect("plate"), stolen(), ListKind::Hotlist);
        store.add_entry(e, &ctx("alice")).expect("add");
    }
    drop(store);
    let path = dir.path().join(AUDIT_FILE);
    let text = std::fs::read_to_string(&path)
        .expect("read")
        .replacen("alice", "mallory", 1);
    std::fs::write(&path, text).expect("tamper");
    assert!(matches!(
        audit::verify(&path),
        Err(audit::AuditError::Broken { line: 1, .. })
    ));
    assert!(matches!(
        WatchlistStore::open(dir.path(), ImportOptions::default()),
        Err(StoreError::Audit(audit::AuditError::Broken { line: 1, .. }))
    ));
}

#[test]
fn index_from_the_store_matches_and_reports_the_list() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = open(dir.path());
    let hot = format!("{HEADER}京A12345,stolen,hotlist,critical,case 9,,,\n");
    store
        .import_csv(&stolen(), ListKind::Hotlist, hot.as_bytes(), &ctx("a"))
        .expect("import");
    let gate = ListName::parse("gate-3").expect("name");
    let allow = format!("{HEADER}沪B88888,gate-3,allowlist,,,,,\n");
    store
        .import_csv(&gate, ListKind::Allowlist, allow.as_bytes(), &ctx("a"))
        .expect("import");
    assert_eq!(store.list_names().expect("names"), [gate.clone(), stolen()]);

    let index = store.build_index(MatchConfig::default()).expect("index");
    let now: Timestamp = "2025-06-01T00:00:00Z".parse().expect("ts");
    let hit = index.lookup("京A1234S", now);
    let best = hit.best().expect("fuzzy hit");
    assert_eq!(
        (
            best.list.as_str(),
            best.list_kind,
            best.kind,
            best.entry.reason.as_str()
        ),
        ("stolen", ListKind::Hotlist, MatchKind::Fuzzy, "case 9")
    );
    let gate_hit = index.lookup("沪B8BBBB", now);
    assert!(gate_hit.is_empty(), "four confusions exceed the default 1.0");
    assert_eq!(index.lookup("沪B88888", now).in_list("gate-3").count(), 1);
}

#[test]
fn json_import_replaces_atomically_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = open(dir.path());
    let good = r#"{"name":"stolen","kind":"hotlist","entries":[{"plate":"京A12345"}]}"#;
    store.import_json(good.as_bytes(), &ctx("a")).expect("import");
    let before = std::fs::read(dir.path().join("stolen.json")).expect("stored");
    let bad = r##"{"name":"stolen","kind":"hotlist","entries":[{"plate":"京A12345"},{"plate":"#"}]}"##;
    assert!(matches!(
        store.import_json(bad.as_bytes(), &ctx("a")),
        Err(StoreError::Import { .. })
    ));
    assert_eq!(
        std::fs::read(dir.path().join("stolen.json")).expect("stored"),
        before
    );
}
