//! Watchlist CSV import (API uploads and `vigil watchlist import`): arbitrary bytes →
//! `read_csv`. Must never panic; whatever imports must survive export and re-import unchanged
//! (the CLI exports lists for editing in a spreadsheet and imports them back); and the lists
//! must index, with every always-valid entry found exactly by its own plate text. A fuzzy
//! lookup of the raw input runs too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_watchlist::csv_io::{read_csv, write_csv};
use vigil_watchlist::{ImportOptions, MatchConfig, MatchKind, Timestamp, WatchlistIndex};

fuzz_target!(|data: &[u8]| {
    // A small cap so that the limit path is reached too, and runs stay fast.
    let opts = ImportOptions { max_entries: 64 };
    let Ok(lists) = read_csv(data, &opts) else {
        return;
    };
    let mut out = Vec::new();
    write_csv(&mut out, &lists).expect("writing to memory cannot fail");
    let again = read_csv(&out[..], &opts).unwrap_or_else(|e| {
        panic!(
            "exported CSV does not import: {e}\n{}",
            String::from_utf8_lossy(&out)
        )
    });
    assert_eq!(lists, again, "CSV round trip changed the lists");

    // (plate text, key, valid at any time)
    let probes: Vec<(String, String, bool)> = lists
        .iter()
        .flat_map(|l| l.entries())
        .map(|e| {
            let always = e.valid_from.is_none() && e.valid_until.is_none();
            (e.plate.text().to_owned(), e.plate.key().to_owned(), always)
        })
        .collect();
    let Ok(index) = WatchlistIndex::build(lists, MatchConfig::default()) else {
        return;
    };
    let now = Timestamp::UNIX_EPOCH;
    for (text, key, always) in &probes {
        let found = index.lookup(text, now);
        if *always {
            assert!(
                found
                    .matches
                    .iter()
                    .any(|m| m.kind == MatchKind::Exact && m.entry.plate.key() == key),
                "entry {text:?} not found by its own text: {found:?}"
            );
        }
    }
    let raw: String = String::from_utf8_lossy(data).chars().take(24).collect();
    let _ = index.lookup(&raw, now);
});
