//! JSON import and export of one list — also the store's on-disk format.
//!
//! ```json
//! {
//!   "name": "stolen",
//!   "kind": "hotlist",
//!   "entries": [
//!     { "plate": "京A·12345", "priority": "high", "reason": "case 2025-118",
//!       "valid_from": "2025-01-01T00:00:00+08:00", "valid_until": null, "note": "" }
//!   ]
//! }
//! ```
//!
//! Entries inherit the list's name and kind. Only `plate` is required per entry; unknown fields
//! are errors. Syntax and type errors carry serde_json's line and column; semantic errors
//! (duplicates, empty windows) name the entry as `entries[i]`. The entries array is streamed
//! with [`ImportOptions::max_entries`] enforced while reading.

use std::cell::Cell;
use std::fmt;
use std::io::{Read, Write};

use jiff::Timestamp;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::import::{ImportError, ImportOptions, ListsBuilder, Location};
use crate::model::{ListKind, ListName, Plate, Priority, Watchlist, WatchlistEntry};

/// Reads one list document.
pub fn read_json(reader: impl Read, opts: &ImportOptions) -> Result<Watchlist, ImportError> {
    let limit_hit = Cell::new(None);
    let mut de = serde_json::Deserializer::from_reader(std::io::BufReader::new(reader));
    let doc = DocSeed {
        limit: opts.max_entries,
        limit_hit: &limit_hit,
    }
    .deserialize(&mut de)
    .and_then(|doc| de.end().map(|()| doc))
    .map_err(|e| match limit_hit.get() {
        Some(index) => ImportError::TooManyEntries {
            limit: opts.max_entries,
            at: Location::Entry { index },
        },
        None if e.is_io() => ImportError::Io(e.into()),
        None => ImportError::Json {
            line: e.line(),
            column: e.column(),
            reason: e.to_string(),
        },
    })?;

    let mut builder = ListsBuilder::new(&ImportOptions {
        max_entries: usize::MAX,
    });
    builder.declare(doc.name.clone(), doc.kind, Location::Entry { index: 0 });
    for (index, e) in doc.entries.into_iter().enumerate() {
        let entry = WatchlistEntry {
            plate: e.plate,
            list: doc.name.clone(),
            kind: doc.kind,
            priority: e.priority,
            reason: e.reason,
            valid_from: e.valid_from,
            valid_until: e.valid_until,
            note: e.note,
        };
        builder.push(entry, Location::Entry { index })?;
    }
    let mut lists = builder.finish()?;
    Ok(lists
        .pop()
        .unwrap_or_else(|| Watchlist::empty(doc.name, doc.kind)))
}

/// Writes one list document, pretty-printed (one field per line diffs well).
pub fn write_json(writer: impl Write, list: &Watchlist) -> serde_json::Result<()> {
    let doc = DocOut {
        name: list.name(),
        kind: list.kind(),
        entries: EntriesOut(list.entries()),
    };
    serde_json::to_writer_pretty(writer, &doc)
}

/// One entry as stored: the entry without its list name and kind.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireEntry {
    plate: Plate,
    #[serde(default)]
    priority: Priority,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    valid_from: Option<Timestamp>,
    #[serde(default)]
    valid_until: Option<Timestamp>,
    #[serde(default)]
    note: String,
}

#[derive(Debug)]
struct WireDoc {
    name: ListName,
    kind: ListKind,
    entries: Vec<WireEntry>,
}

#[derive(Serialize)]
struct DocOut<'a> {
    name: &'a ListName,
    kind: ListKind,
    entries: EntriesOut<'a>,
}

struct EntriesOut<'a>(&'a [WatchlistEntry]);

impl Serialize for EntriesOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(EntryOut::from))
    }
}

#[derive(Serialize)]
struct EntryOut<'a> {
    plate: &'a Plate,
    priority: Priority,
    #[serde(skip_serializing_if = "str::is_empty")]
    reason: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    valid_from: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    valid_until: Option<Timestamp>,
    #[serde(skip_serializing_if = "str::is_empty")]
    note: &'a str,
}

impl<'a> From<&'a WatchlistEntry> for EntryOut<'a> {
    fn from(e: &'a WatchlistEntry) -> Self {
        Self {
            plate: &e.plate,
            priority: e.priority,
            reason: &e.reason,
            valid_from: e.valid_from,
            valid_until: e.valid_until,
            note: &e.note,
        }
    }
}

/// Deserialises the document with the entry limit applied while the array streams in;
/// `limit_hit` records the first index over the limit so the caller can report it as such.
struct DocSeed<'c> {
    limit: usize,
    limit_hit: &'c Cell<Option<usize>>,
}

const FIELDS: &[&str] = &["name", "kind", "entries"];

impl<'de> DeserializeSeed<'de> for DocSeed<'_> {
    type Value = WireDoc;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<WireDoc, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for DocSeed<'_> {
    type Value = WireDoc;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a watchlist object with name, kind and entries")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<WireDoc, A::Error> {
        let (mut name, mut kind, mut entries) = (None, None, None);
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "name" if name.is_none() => name = Some(map.next_value::<ListName>()?),
                "kind" if kind.is_none() => kind = Some(map.next_value::<ListKind>()?),
                "entries" if entries.is_none() => {
                    entries = Some(map.next_value_seed(EntriesSeed {
                        limit: self.limit,
                        limit_hit: self.limit_hit,
                    })?)
                }
                "name" | "kind" | "entries" => {
                    return Err(de::Error::custom(format!("duplicate field `{key}`")));
                }
                other => return Err(de::Error::unknown_field(other, FIELDS)),
            }
        }
        Ok(WireDoc {
            name: name.ok_or_else(|| de::Error::missing_field("name"))?,
            kind: kind.ok_or_else(|| de::Error::missing_field("kind"))?,
            entries: entries.unwrap_or_default(),
        })
    }
}

struct EntriesSeed<'c> {
    limit: usize,
    limit_hit: &'c Cell<Option<usize>>,
}

impl<'de> DeserializeSeed<'de> for EntriesSeed<'_> {
    type Value = Vec<WireEntry>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for EntriesSeed<'_> {
    type Value = Vec<WireEntry>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of entries")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(entry) = seq.next_element::<WireEntry>()? {
            if out.len() >= self.limit {
                self.limit_hit.set(Some(out.len()));
                return Err(de::Error::custom("too many entries"));
            }
            out.push(entry);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_every_field() {
        let text = r#"{"name":"stolen","kind":"hotlist","entries":[
            {"plate":"京A·12345","priority":"high","reason":"case 7","valid_from":"2025-01-01T00:00:00+08:00","note":"red"},
            {"plate":"沪B0000D"}]}"#;
        let list = read_json(text.as_bytes(), &ImportOptions::default()).expect("valid");
        assert_eq!(list.len(), 2);
        assert_eq!(list.entries()[0].plate.key(), "京A12345");
        assert_eq!(list.entries()[0].list.as_str(), "stolen");
        assert_eq!(list.entries()[1].priority, Priority::Medium);
        let mut out = Vec::new();
        write_json(&mut out, &list).expect("write");
        assert_eq!(
            read_json(out.as_slice(), &ImportOptions::default()).expect("reread"),
            list
        );
    }

    #[test]
    fn errors_say_where() {
        let bad_plate = "{\"name\":\"s\",\"kind\":\"hotlist\",\"entries\":[\n{\"plate\":\"A#1\"}]}";
        match read_json(bad_plate.as_bytes(), &ImportOptions::default()) {
            Err(ImportError::Json { line: 2, reason, .. }) => assert!(reason.contains("'#'"), "{reason}"),
            other => panic!("{other:?}"),
        }
        let unknown = r#"{"name":"s","kind":"hotlist","entries":[{"plate":"A1","colour":"blue"}]}"#;
        assert!(matches!(
            read_json(unknown.as_bytes(), &ImportOptions::default()),
            Err(ImportError::Json { .. })
        ));
        let dup =
            r#"{"name":"s","kind":"hotlist","entries":[{"plate":"A1"},{"plate":"B2"},{"plate":"a-1"}]}"#;
        match read_json(dup.as_bytes(), &ImportOptions::default()) {
            Err(ImportError::Duplicate { first, second, .. }) => {
                assert_eq!(
                    (first, second),
                    (Location::Entry { index: 0 }, Location::Entry { index: 2 })
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn limit_is_enforced_while_streaming() {
        let doc = r#"{"name":"s","kind":"hotlist","entries":[{"plate":"A1"},{"plate":"A2"},{"plate":"A3"}]}"#;
        let opts = ImportOptions { max_entries: 2 };
        assert!(matches!(
            read_json(doc.as_bytes(), &opts),
            Err(ImportError::TooManyEntries {
                limit: 2,
                at: Location::Entry { index: 2 }
            })
        ));
        assert_eq!(
            read_json(doc.as_bytes(), &ImportOptions { max_entries: 3 })
                .map(|l| l.len())
                .ok(),
            Some(3)
        );
    }
}
