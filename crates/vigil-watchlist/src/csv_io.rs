//! CSV import and export.
//!
//! Header: `plate,list,kind,priority,reason,valid_from,valid_until,note`. `plate`, `list` and
//! `kind` are required; the other columns may be left out, in any order; an unknown or repeated
//! column is an error (a typo such as `vaild_until` must not silently drop every expiry).
//! Column names and values are trimmed; a UTF-8 byte-order mark (Excel's "CSV UTF-8") is
//! accepted. Empty `priority` means medium; empty timestamps mean "no bound". Timestamps are
//! RFC 3339 with an offset, e.g. `2025-01-31T00:00:00+08:00`.
//!
//! Rows are counted with the header as row 1 (see [`Location`]). The reader streams: memory is
//! the entries kept, never the file, and [`ImportOptions::max_entries`] stops a runaway file.
//!
//! **Spreadsheet formulas.** Exports are opened in spreadsheets, which run a cell starting with
//! `=`, `+`, `-`, `@`, TAB or CR as a formula (`=HYPERLINK(…)`, `+cmd|…`): CSV injection. So
//! [`write_csv`] prefixes such a cell with `'`, as OWASP advises, which spreadsheets show as
//! text. The reader takes the quote off again (a field of one or more `'` followed by one of
//! those characters loses its first `'`), so export → import gives the same lists, and a cell
//! typed as `'=x` in a spreadsheet means `=x`, as it does there. To keep that exact, a value
//! that itself starts with `'`s then such a character gets one more `'` on export.

use std::io::{Read, Write};

use jiff::Timestamp;

use crate::import::{ImportError, ImportOptions, ListsBuilder, Location};
use crate::model::{ListKind, ListName, Plate, Priority, Watchlist, WatchlistEntry};

/// The columns, in the order [`write_csv`] writes them.
pub const HEADER: [&str; 8] = [
    "plate",
    "list",
    "kind",
    "priority",
    "reason",
    "valid_from",
    "valid_until",
    "note",
];

/// Columns a file must have.
const REQUIRED: [usize; 3] = [0, 1, 2];

/// Reads every list in the file, in order of first appearance. A header-only file gives no
/// lists (valid: nothing to import).
pub fn read_csv(reader: impl Read, opts: &ImportOptions) -> Result<Vec<Watchlist>, ImportError> {
    let mut builder = ListsBuilder::new(opts);
    read_rows(reader, &mut builder, None)?;
    builder.finish()
}

/// Reads one list, e.g. to replace it: every row must name `name` and `kind`. A header-only
/// file gives the list with no entries.
pub fn read_csv_list(
    reader: impl Read,
    name: &ListName,
    kind: ListKind,
    opts: &ImportOptions,
) -> Result<Watchlist, ImportError> {
    let mut builder = ListsBuilder::new(opts);
    builder.declare(name.clone(), kind, Location::Row { row: 1, line: 1 });
    read_rows(reader, &mut builder, Some((name, kind)))?;
    let mut lists = builder.finish()?;
    Ok(lists
        .pop()
        .unwrap_or_else(|| Watchlist::empty(name.clone(), kind)))
}

/// Characters that make a spreadsheet read a cell as a formula (OWASP, CSV injection).
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// True when `value` is at least `min_quotes` `'` characters, then a [`FORMULA_START`]
/// character.
fn quoted_formula(value: &str, min_quotes: usize) -> bool {
    let rest = value.trim_start_matches('\'');
    value.len() - rest.len() >= min_quotes && rest.starts_with(FORMULA_START)
}

/// The cell to write for `value`: defused with a leading `'` when a spreadsheet would run it.
fn escape_cell(value: &str) -> std::borrow::Cow<'_, str> {
    if quoted_formula(value, 0) {
        format!("'{value}").into()
    } else {
        value.into()
    }
}

/// The value of a cell read back: [`escape_cell`] undone.
fn unescape_cell(cell: &str) -> &str {
    if quoted_formula(cell, 1) { &cell[1..] } else { cell }
}

/// Writes the lists with the full header, one row per entry, plates as originally written.
/// Cells a spreadsheet would run as formulas get a leading `'` (see the module docs).
pub fn write_csv<'a>(writer: impl Write, lists: impl IntoIterator<Item = &'a Watchlist>) -> csv::Result<()> {
    let mut out = csv::Writer::from_writer(writer);
    out.write_record(HEADER)?;
    for list in lists {
        for e in list.entries() {
            let from = e.valid_from.map(|t| t.to_string()).unwrap_or_default();
            let until = e.valid_until.map(|t| t.to_string()).unwrap_or_default();
            let cells = [
                e.plate.text(),
                e.list.as_str(),
                e.kind.as_str(),
                e.priority.as_str(),
                &e.reason,
                &from,
                &until,
                &e.note,
            ];
            out.write_record(cells.map(escape_cell).iter().map(|c| c.as_bytes()))?;
        }
    }
    out.flush()?;
    Ok(())
}

/// Column positions in the file, per [`HEADER`] column.
type Columns = [Option<usize>; HEADER.len()];

fn read_rows(
    reader: impl Read,
    builder: &mut ListsBuilder,
    only: Option<(&ListName, ListKind)>,
) -> Result<(), ImportError> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false) // read by hand for precise errors
        .trim(csv::Trim::All)
        .flexible(false) // every row must have the header's field count
        .from_reader(reader);
    let mut record = csv::StringRecord::new();
    if !csv.read_record(&mut record).map_err(|e| csv_error(e, 1))? {
        return Err(ImportError::Empty);
    }
    let columns = parse_header(&record)?;
    let mut row: u64 = 1;
    loop {
        row += 1;
        let read = match csv.read_record(&mut record) {
            Ok(more) => more,
            Err(e) => return Err(unclosed_quote(&e, &mut csv, row).unwrap_or_else(|| csv_error(e, row))),
        };
        if !read {
            return Ok(());
        }
        let at = Location::Row {
            row,
            line: record.position().map_or(row, csv::Position::line),
        };
        builder.reserve(at)?;
        let entry = parse_row(&record, &columns, at)?;
        if let Some((name, kind)) = only {
            if entry.list != *name {
                let reason = format!(
                    "this row is on list {:?}, but this import replaces list {:?}; remove the row or import it into its own list",
                    entry.list.as_str(),
                    name.as_str()
                );
                return Err(ImportError::Field {
                    at,
                    column: "list",
                    reason,
                });
            }
            if entry.kind != kind {
                let reason = format!(
                    "this row says {}, but list {:?} is a {}; fix the kind column",
                    entry.kind.as_str(),
                    name.as_str(),
                    kind.as_str()
                );
                return Err(ImportError::Field {
                    at,
                    column: "kind",
                    reason,
                });
            }
        }
        builder.push(entry, at)?;
    }
}

fn parse_header(record: &csv::StringRecord) -> Result<Columns, ImportError> {
    let mut columns: Columns = [None; HEADER.len()];
    for (pos, raw) in record.iter().enumerate() {
        let name = raw.trim_start_matches('\u{feff}').trim().to_ascii_lowercase();
        let Some(col) = HEADER.iter().position(|h| *h == name) else {
            let reason = if name.is_empty() {
                format!("column {} has no name (a trailing comma?)", pos + 1)
            } else {
                format!("unknown column {raw:?} (column {})", pos + 1)
            };
            return Err(ImportError::Header { reason });
        };
        if let Some(first) = columns[col].replace(pos) {
            let reason = format!(
                "column {name:?} appears twice (columns {} and {})",
                first + 1,
                pos + 1
            );
            return Err(ImportError::Header { reason });
        }
    }
    if let Some(&missing) = REQUIRED.iter().find(|&&c| columns[c].is_none()) {
        return Err(ImportError::Header {
            reason: format!("required column {:?} is missing", HEADER[missing]),
        });
    }
    Ok(columns)
}

fn parse_row(
    record: &csv::StringRecord,
    columns: &Columns,
    at: Location,
) -> Result<WatchlistEntry, ImportError> {
    let field = |col: usize| unescape_cell(columns[col].and_then(|pos| record.get(pos)).unwrap_or(""));
    let bad = |column: &'static str, reason: String| ImportError::Field { at, column, reason };

    let plate = Plate::parse(field(0)).map_err(|e| bad("plate", e.to_string()))?;
    let list = ListName::parse(field(1)).map_err(|e| bad("list", e.to_string()))?;
    let kind: ListKind = field(2)
        .parse()
        .map_err(|e: crate::InvalidValue| bad("kind", e.to_string()))?;
    let priority: Priority = field(3)
        .parse()
        .map_err(|e: crate::InvalidValue| bad("priority", e.to_string()))?;
    let valid_from = parse_time(field(5)).map_err(|r| bad("valid_from", r))?;
    let valid_until = parse_time(field(6)).map_err(|r| bad("valid_until", r))?;
    let entry = WatchlistEntry {
        plate,
        list,
        kind,
        priority,
        reason: field(4).into(),
        valid_from,
        valid_until,
        note: field(7).into(),
    };
    if entry.window_is_empty() {
        let reason = format!(
            "valid_until {} is not after valid_from {}; the entry could never match (swapped columns?)",
            field(6),
            field(5)
        );
        return Err(bad("valid_until", reason));
    }
    Ok(entry)
}

fn parse_time(text: &str) -> Result<Option<Timestamp>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    text.parse().map(Some).map_err(|e| {
        format!(
            "{text:?} is not an RFC 3339 timestamp ({e}); write it with an offset, e.g. 2025-01-31T00:00:00+08:00, or leave it empty"
        )
    })
}

/// An unclosed quote makes the csv reader take the rest of the file as one field, which it then
/// reports as a wrong field count on the row where the quote opened. When the failing row ran
/// to the end of the file across more than one line, say what really happened.
fn unclosed_quote<R: Read>(err: &csv::Error, csv: &mut csv::Reader<R>, row: u64) -> Option<ImportError> {
    let csv::ErrorKind::UnequalLengths { pos: Some(pos), .. } = err.kind() else {
        return None;
    };
    let (start, end) = (pos.line(), csv.position().line());
    // Nothing follows the failing row: it ran to the end of the file.
    let at_end = matches!(csv.read_record(&mut csv::StringRecord::new()), Ok(false));
    (at_end && end > start + 1).then(|| ImportError::Malformed {
        at: Location::Row { row, line: start },
        reason: format!(
            "a quote (\") opened in this row is never closed, so everything from line {start} to the end of the file was read as one field; close the quote, or write a quote inside a field as two (\"\")"
        ),
    })
}

/// Maps a csv error to a located import error; `row` is the record being read.
fn csv_error(err: csv::Error, row: u64) -> ImportError {
    let line_of = |pos: Option<&csv::Position>| pos.map_or(row, csv::Position::line);
    match err.into_kind() {
        csv::ErrorKind::Io(e) => ImportError::Io(e),
        csv::ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } => ImportError::Malformed {
            at: Location::Row {
                row,
                line: line_of(pos.as_ref()),
            },
            reason: format!(
                "{len} fields where the header has {expected_len}; quote fields that contain commas, e.g. \"a, b\""
            ),
        },
        csv::ErrorKind::Utf8 { pos, err } => ImportError::Malformed {
            at: Location::Row {
                row,
                line: line_of(pos.as_ref()),
            },
            reason: format!(
                "field {} is not valid UTF-8; save the file as UTF-8 (Excel: \"CSV UTF-8\"), not GBK",
                err.field() + 1
            ),
        },
        // csv's remaining kinds (serde, seek) cannot come from a byte reader; described by
        // kind, never as a Rust debug dump.
        _ => ImportError::Malformed {
            at: Location::Row { row, line: row },
            reason: "unreadable CSV; save it as plain comma-separated UTF-8 text".into(),
        },
    }
}
