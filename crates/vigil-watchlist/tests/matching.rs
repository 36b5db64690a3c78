//! Matching behaviour through the public API: confusions, unrelated plates, exact-wins,
//! validity windows — and a property test against a brute-force scan of every entry.

use std::collections::BTreeSet;

use jiff::Timestamp;
use proptest::prelude::*;
use vigil_watchlist::{
    CONFUSION_GROUPS, ListKind, ListName, MatchConfig, MatchKind, Plate, Priority, Watchlist, WatchlistEntry,
    WatchlistIndex, normalize_plate, weighted_distance,
};

fn now() -> Timestamp {
    "2025-06-01T12:00:00+08:00".parse().expect("timestamp")
}

fn entry(list: &str, kind: ListKind, plate: &str) -> WatchlistEntry {
    WatchlistEntry::new(
        Plate::parse(plate).expect("plate"),
        ListName::parse(list).expect("list"),
        kind,
    )
}

fn list(name: &str, kind: ListKind, plates: &[&str]) -> Watchlist {
    let entries = plates.iter().map(|p| entry(name, kind, p)).collect();
    Watchlist::new(ListName::parse(name).expect("list"), kind, entries).expect("valid list")
}

fn index(lists: Vec<Watchlist>) -> WatchlistIndex {
    WatchlistIndex::build(lists, MatchConfig::default()).expect("index")
}

#[test]
fn every_confusion_pair_matches_fuzzy_at_the_confusion_cost() {
    for group in CONFUSION_GROUPS {
        for &listed in group {
            let plate = format!("京A{listed}2345");
            let idx = index(vec![list("stolen", ListKind::Hotlist, &[&plate])]);
            for &read in group.iter().filter(|&&c| c != listed) {
                let query = format!("京A{read}2345");
                let found = idx.lookup(&query, now());
                let best = found
                    .best()
                    .unwrap_or_else(|| panic!("{query} should match {plate}"));
                assert_eq!(best.kind, MatchKind::Fuzzy, "{query}");
                assert_eq!(best.distance, 0.3, "{query} vs {plate}");
                assert_eq!(best.entry.plate.key(), plate);
            }
        }
    }
}

#[test]
fn three_confusions_match_four_do_not() {
    let idx = index(vec![list("stolen", ListKind::Hotlist, &["京A01825"])]);
    assert_eq!(
        idx.lookup("京AD1B25", now()).best().map(|m| m.distance),
        Some(0.6),
        "0→D, 8→B"
    );
    assert_eq!(
        idx.lookup("京ADIB25", now()).best().map(|m| m.distance),
        Some(0.9),
        "0→D, 1→I, 8→B"
    );
    assert!(
        idx.lookup("京ADIBZ5", now()).is_empty(),
        "four confusions cost 1.2 > 1.0"
    );
}

#[test]
fn one_unrelated_edit_matches_at_one() {
    let idx = index(vec![list("stolen", ListKind::Hotlist, &["京A12345"])]);
    for query in ["京A12346", "京A1234", "京A123456", "京X12345", "A12345"] {
        let found = idx.lookup(query, now());
        assert_eq!(
            found.best().map(|m| (m.kind, m.distance)),
            Some((MatchKind::Fuzzy, 1.0)),
            "{query}"
        );
    }
}

#[test]
fn unrelated_plates_do_not_match() {
    let idx = index(vec![list("stolen", ListKind::Hotlist, &["京A12345", "沪B88888"])]);
    for query in [
        "粤C67890",
        "京A12",
        "京A12389",
        "沪B8888888",
        "",
        "·-·",
        "京A12345678901234567890",
    ] {
        assert!(idx.lookup(query, now()).is_empty(), "{query}");
    }
}

#[test]
fn exact_match_wins_and_hides_fuzzy_ones_from_the_same_list() {
    let idx = index(vec![
        list("stolen", ListKind::Hotlist, &["京A1234S", "京A12345"]),
        list("wanted", ListKind::Hotlist, &["京A1234S"]),
    ]);
    let found = idx.lookup("京a·12345", now());
    let got: Vec<_> = found
        .matches
        .iter()
        .map(|m| (m.list.as_str(), m.entry.plate.key(), m.kind))
        .collect();
    assert_eq!(
        got,
        vec![
            ("stolen", "京A12345", MatchKind::Exact),
            ("wanted", "京A1234S", MatchKind::Fuzzy)
        ],
        "stolen's fuzzy 京A1234S is hidden behind its exact hit; wanted still reports its fuzzy one"
    );
}

#[test]
fn fuzzy_matches_are_ordered_by_distance_then_priority() {
    let mut high = entry("stolen", ListKind::Hotlist, "京A12346");
    high.priority = Priority::Critical;
    let entries = vec![
        entry("stolen", ListKind::Hotlist, "京A1234S"),
        entry("stolen", ListKind::Hotlist, "京A12347"),
        high,
    ];
    let idx = index(vec![
        Watchlist::new(ListName::parse("stolen").expect("n"), ListKind::Hotlist, entries).expect("l"),
    ]);
    let keys: Vec<_> = idx
        .lookup("京A12345", now())
        .matches
        .iter()
        .map(|m| m.entry.plate.key().to_string())
        .collect();
    assert_eq!(keys, ["京A1234S", "京A12346", "京A12347"]);
}

#[test]
fn entries_outside_their_window_do_not_match() {
    let at = |s: &str| s.parse::<Timestamp>().expect("timestamp");
    let mut expired = entry("stolen", ListKind::Hotlist, "京A12345");
    expired.valid_until = Some(at("2025-06-01T00:00:00+08:00"));
    let mut future = entry("stolen", ListKind::Hotlist, "沪B12345");
    future.valid_from = Some(at("2025-07-01T00:00:00+08:00"));
    let mut current = entry("stolen", ListKind::Hotlist, "粤C12345");
    current.valid_from = Some(at("2025-05-01T00:00:00+08:00"));
    current.valid_until = Some(at("2025-07-01T00:00:00+08:00"));
    let idx = index(vec![
        Watchlist::new(
            ListName::parse("stolen").expect("n"),
            ListKind::Hotlist,
            vec![expired, future, current],
        )
        .expect("list"),
    ]);
    assert!(idx.lookup("京A12345", now()).is_empty(), "expired, exact");
    assert!(idx.lookup("京A1234S", now()).is_empty(), "expired, fuzzy");
    assert!(idx.lookup("沪B12345", now()).is_empty(), "not yet valid");
    assert_eq!(
        idx.lookup("沪B12345", at("2025-07-01T00:00:00+08:00"))
            .matches
            .len(),
        1,
        "valid from then"
    );
    assert_eq!(idx.lookup("粤C12345", now()).matches.len(), 1);
    assert!(
        idx.lookup("京A12345", at("2025-05-31T23:59:59+08:00"))
            .best()
            .is_some(),
        "valid before expiry"
    );
}

#[test]
fn exact_only_config_reports_no_fuzzy_matches() {
    let cfg = MatchConfig {
        max_distance: 0.0,
        ..MatchConfig::default()
    };
    let idx = WatchlistIndex::build(vec![list("s", ListKind::Hotlist, &["京A12345"])], cfg).expect("index");
    assert!(idx.lookup("京A1234S", now()).is_empty());
    assert_eq!(
        idx.lookup("京A12345", now()).best().map(|m| m.kind),
        Some(MatchKind::Exact)
    );
}

#[test]
fn invalid_configs_are_rejected() {
    for cfg in [
        MatchConfig {
            max_distance: 2.0,
            ..MatchConfig::default()
        },
        MatchConfig {
            max_distance: -0.1,
            ..MatchConfig::default()
        },
        MatchConfig {
            max_distance: f32::NAN,
            ..MatchConfig::default()
        },
        MatchConfig {
            confusion_cost: 0.0,
            ..MatchConfig::default()
        },
        MatchConfig {
            confusion_cost: 1.5,
            ..MatchConfig::default()
        },
        MatchConfig {
            max_candidates: 0,
            ..MatchConfig::default()
        },
    ] {
        assert!(WatchlistIndex::build(Vec::new(), cfg).is_err(), "{cfg:?}");
    }
}

#[test]
fn candidate_bound_never_hides_an_exact_match() {
    // 1 exact + many keys one edit away from the query; only 2 may be verified.
    let plates: Vec<String> = std::iter::once("京A12345".to_string())
        .chain("ACEFHJKMNPRTUVWXY".chars().map(|c| format!("京A1234{c}")))
        .collect();
    let refs: Vec<&str> = plates.iter().map(String::as_str).collect();
    let cfg = MatchConfig {
        max_candidates: 2,
        ..MatchConfig::default()
    };
    let idx = WatchlistIndex::build(
        vec![
            list("a", ListKind::Hotlist, &refs[1..]),
            list("b", ListKind::Hotlist, &refs),
        ],
        cfg,
    )
    .expect("index");
    let found = idx.lookup("京A12345", now());
    assert!(found.candidates_skipped > 0);
    assert_eq!(
        found.best().map(|m| (m.list.as_str(), m.kind)),
        Some(("b", MatchKind::Exact))
    );
}

// --- property: the index agrees with a brute-force scan -------------------------------------

/// Keys from a small alphabet heavy in confusable characters, so near misses are common.
fn key() -> impl Strategy<Value = String> {
    "[京沪0O8B1I7S5ZAX]{5,8}"
}

fn brute_force(lists: &[Watchlist], query: &str, cfg: &MatchConfig) -> BTreeSet<(String, String, bool, u32)> {
    let q = normalize_plate(query);
    let mut hits: BTreeSet<(String, String, bool, u32)> = BTreeSet::new();
    for l in lists {
        let exact_here = l.entries().iter().any(|e| e.plate.key() == q);
        for e in l.entries() {
            let d = weighted_distance(&q, e.plate.key(), cfg.confusion_cost);
            let exact = e.plate.key() == q;
            if exact || (!exact_here && d <= cfg.max_distance + 1e-6) {
                hits.insert((
                    l.name().to_string(),
                    e.plate.key().into(),
                    exact,
                    (d * 1000.0).round() as u32,
                ));
            }
        }
    }
    hits
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn index_equals_brute_force(
        a in proptest::collection::btree_set(key(), 0..40),
        b in proptest::collection::btree_set(key(), 0..40),
        queries in proptest::collection::vec(key(), 1..10),
        max_distance in prop_oneof![Just(0.0f32), Just(0.6), Just(1.0), Just(1.3), Just(1.9)],
    ) {
        let dedup = |set: &BTreeSet<String>| -> Vec<String> {
            let mut seen = BTreeSet::new();
            set.iter().filter(|k| seen.insert(normalize_plate(k))).cloned().collect()
        };
        let (a, b) = (dedup(&a), dedup(&b));
        let lists = vec![
            list("a", ListKind::Hotlist, &a.iter().map(String::as_str).collect::<Vec<_>>()),
            list("b", ListKind::Allowlist, &b.iter().map(String::as_str).collect::<Vec<_>>()),
        ];
        let cfg = MatchConfig { max_distance, max_candidates: 10_000, ..MatchConfig::default() };
        let idx = WatchlistIndex::build(lists.clone(), cfg).expect("index");
        // Also query listed keys, so exact hits are common.
        for q in queries.iter().chain(a.iter().take(3)).chain(b.iter().take(3)) {
            let found = idx.lookup(q, now());
            let got: BTreeSet<_> = found.matches.iter()
                .map(|m| (m.list.to_string(), m.entry.plate.key().to_string(), m.kind == MatchKind::Exact, (m.distance * 1000.0).round() as u32))
                .collect();
            prop_assert_eq!(got, brute_force(&lists, q, &cfg), "query {}", q);
            // Exact always ranks first.
            if found.matches.iter().any(|m| m.kind == MatchKind::Exact) {
                prop_assert_eq!(found.best().map(|m| m.kind), Some(MatchKind::Exact));
            }
        }
    }
}
