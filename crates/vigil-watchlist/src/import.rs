//! What the CSV and JSON importers share: limits, error type, and assembling rows into lists.
//!
//! An import is all or nothing: the first bad row rejects the file, and the error says where
//! (row or entry), which column, what is wrong and how to fix it.

use std::collections::HashMap;
use std::fmt;

use crate::model::{ListKind, ListName, Watchlist, WatchlistEntry, WatchlistError};

/// Import limits. Default: 2,000,000 entries per file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportOptions {
    /// Most entries accepted from one file; more is an error (not a truncation), so that a
    /// wrong or runaway file cannot exhaust memory.
    pub max_entries: usize,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            max_entries: 2_000_000,
        }
    }
}

/// Where in the input something is.
///
/// CSV rows are counted from 1 *including the header*, as a spreadsheet shows them: the header
/// is row 1, the first entry row 2. `line` differs from `row` only when a quoted field spans
/// lines. JSON entries are 0-based positions in the `entries` array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// A CSV record.
    Row {
        /// 1-based, header = 1.
        row: u64,
        /// 1-based line where the record starts.
        line: u64,
    },
    /// A JSON list entry.
    Entry {
        /// 0-based index in `entries`.
        index: usize,
    },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Row { row, line } if row == line => write!(f, "row {row}"),
            Self::Row { row, line } => write!(f, "row {row} (line {line})"),
            Self::Entry { index } => write!(f, "entries[{index}]"),
        }
    }
}

/// Why an import was rejected. Nothing of the file is kept.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// No header (zero bytes or blank lines only).
    #[error(
        "the file is empty; a watchlist CSV starts with the header line plate,list,kind,priority,reason,valid_from,valid_until,note"
    )]
    Empty,
    /// The header line is wrong.
    #[error(
        "header: {reason}; expected columns: plate,list,kind (required), priority,reason,valid_from,valid_until,note"
    )]
    Header {
        /// What is wrong with it.
        reason: String,
    },
    /// A field has a bad value.
    #[error("{at}, column {column}: {reason}")]
    Field {
        /// Where.
        at: Location,
        /// Column name.
        column: &'static str,
        /// What is wrong, with a hint how to fix it.
        reason: String,
    },
    /// The record itself is broken (field count, encoding, quoting).
    #[error("{at}: {reason}")]
    Malformed {
        /// Where.
        at: Location,
        /// What is wrong, with a hint how to fix it.
        reason: String,
    },
    /// The same plate (after normalisation) twice in one list.
    #[error("plate {key} is listed twice in list {list:?}: {first} and {second}; keep one entry per plate")]
    Duplicate {
        /// The list.
        list: String,
        /// The shared matching key.
        key: String,
        /// The first occurrence.
        first: Location,
        /// The second occurrence.
        second: Location,
    },
    /// One list written with two kinds.
    #[error("{at}: list {list:?} is a {kind} here but a {first_kind} at {first}; a list has one kind")]
    KindConflict {
        /// The list.
        list: String,
        /// Where its kind was first given.
        first: Location,
        /// That kind.
        first_kind: &'static str,
        /// Where it conflicts.
        at: Location,
        /// The conflicting kind.
        kind: &'static str,
    },
    /// More entries than [`ImportOptions::max_entries`].
    #[error("{at}: more than {limit} entries; split the file or raise ImportOptions::max_entries")]
    TooManyEntries {
        /// The limit.
        limit: usize,
        /// The first entry over it.
        at: Location,
    },
    /// JSON syntax or type error.
    #[error("line {line}, column {column}: {reason}")]
    Json {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// serde_json's description, which names the field or value.
        reason: String,
    },
    /// Reading failed.
    #[error("reading the watchlist failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Collects validated entries into lists, in order of each list's first appearance, checking
/// the limit and that every list has one kind. Duplicates are found at [`ListsBuilder::finish`].
#[derive(Debug, Default)]
pub(crate) struct ListsBuilder {
    lists: Vec<Pending>,
    by_name: HashMap<ListName, usize>,
    count: usize,
    limit: usize,
}

#[derive(Debug)]
struct Pending {
    name: ListName,
    kind: ListKind,
    kind_at: Location,
    entries: Vec<WatchlistEntry>,
    /// Where each entry came from, to turn list positions back into rows.
    at: Vec<Location>,
}

impl ListsBuilder {
    pub(crate) fn new(opts: &ImportOptions) -> Self {
        Self {
            limit: opts.max_entries,
            ..Self::default()
        }
    }

    /// Declares a list that must exist even if no entry names it (header-only import of one list).
    pub(crate) fn declare(&mut self, name: ListName, kind: ListKind, at: Location) {
        self.slot(name, kind, at);
    }

    /// Counts one more entry against the limit; call before parsing the entry's fields, so a
    /// huge file fails at the limit rather than after validating everything.
    pub(crate) fn reserve(&mut self, at: Location) -> Result<(), ImportError> {
        if self.count >= self.limit {
            return Err(ImportError::TooManyEntries {
                limit: self.limit,
                at,
            });
        }
        self.count += 1;
        Ok(())
    }

    pub(crate) fn push(&mut self, entry: WatchlistEntry, at: Location) -> Result<(), ImportError> {
        let i = self.slot(entry.list.clone(), entry.kind, at);
        let list = &mut self.lists[i];
        if list.kind != entry.kind {
            return Err(ImportError::KindConflict {
                list: list.name.to_string(),
                first: list.kind_at,
                first_kind: list.kind.as_str(),
                at,
                kind: entry.kind.as_str(),
            });
        }
        list.entries.push(entry);
        list.at.push(at);
        Ok(())
    }

    fn slot(&mut self, name: ListName, kind: ListKind, at: Location) -> usize {
        if let Some(&i) = self.by_name.get(&name) {
            return i;
        }
        let i = self.lists.len();
        self.by_name.insert(name.clone(), i);
        self.lists.push(Pending {
            name,
            kind,
            kind_at: at,
            entries: Vec::new(),
            at: Vec::new(),
        });
        i
    }

    /// The lists, each checked by [`Watchlist::new`] with errors mapped back to rows.
    pub(crate) fn finish(self) -> Result<Vec<Watchlist>, ImportError> {
        let mut out = Vec::with_capacity(self.lists.len());
        for p in self.lists {
            let list_name = p.name.to_string();
            let at = p.at;
            let where_ = |i: usize| at.get(i).copied().unwrap_or(Location::Entry { index: i });
            let list = Watchlist::new(p.name, p.kind, p.entries).map_err(|e| match e {
                WatchlistError::Duplicate {
                    key, first, second, ..
                } => ImportError::Duplicate {
                    list: list_name.clone(),
                    key,
                    first: where_(first),
                    second: where_(second),
                },
                WatchlistError::EmptyWindow { index, .. } => ImportError::Field {
                    at: where_(index),
                    column: "valid_until",
                    reason: e.to_string(),
                },
                other => ImportError::Malformed {
                    at: Location::Entry { index: 0 },
                    reason: other.to_string(),
                },
            })?;
            out.push(list);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_read_like_a_spreadsheet() {
        assert_eq!(Location::Row { row: 5, line: 5 }.to_string(), "row 5");
        assert_eq!(Location::Row { row: 5, line: 7 }.to_string(), "row 5 (line 7)");
        assert_eq!(Location::Entry { index: 3 }.to_string(), "entries[3]");
    }
}
