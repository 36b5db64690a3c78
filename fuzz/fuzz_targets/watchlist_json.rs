//! Watchlist JSON import (API uploads, and the store's own on-disk format): arbitrary bytes →
//! `read_json`. Must never panic, and whatever imports must survive export and re-import
//! unchanged (the store writes lists with `write_json` and reads them back on start).
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_watchlist::ImportOptions;
use vigil_watchlist::json_io::{read_json, write_json};

fuzz_target!(|data: &[u8]| {
    let opts = ImportOptions { max_entries: 64 };
    let Ok(list) = read_json(data, &opts) else {
        return;
    };
    let mut out = Vec::new();
    write_json(&mut out, &list).expect("writing to memory cannot fail");
    let again = read_json(&out[..], &opts).unwrap_or_else(|e| {
        panic!(
            "exported JSON does not import: {e}\n{}",
            String::from_utf8_lossy(&out)
        )
    });
    assert_eq!(list, again, "JSON round trip changed the list");
});
