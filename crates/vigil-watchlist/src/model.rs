//! The watchlist data model: validated plate and list-name types, entries and lists.
//!
//! Everything that reaches the index went through these constructors, so the index can trust
//! its input: keys are non-empty, short and alphanumeric; list names are safe file names; a
//! list's entries all belong to it and have distinct keys.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::normalize::normalize_plate;

/// Longest matching key accepted, in characters. Real plates have 7 or 8; the bound keeps the
/// index's per-key work and stack buffers small and fixed.
pub const MAX_PLATE_CHARS: usize = 16;

/// Longest list name accepted, in characters.
pub const MAX_LIST_NAME_CHARS: usize = 64;

/// Why a plate or list name was rejected. The message is written for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidValue {
    /// Nothing left after removing separators.
    #[error("plate {text:?} is empty once separators are removed; write the plate, e.g. 京A12345")]
    EmptyPlate {
        /// The text as given.
        text: String,
    },
    /// Longer than [`MAX_PLATE_CHARS`].
    #[error(
        "plate {text:?} has {chars} characters, more than {MAX_PLATE_CHARS}; is it two plates in one field?"
    )]
    PlateTooLong {
        /// The text as given.
        text: String,
        /// Its character count after normalisation.
        chars: usize,
    },
    /// A character that is neither a letter, a digit nor a province character.
    #[error("plate {text:?} contains {bad:?}; plates are letters, digits and province characters only")]
    PlateCharacter {
        /// The text as given.
        text: String,
        /// The first offending character.
        bad: char,
    },
    /// A list name that is empty, too long or not a safe file name.
    #[error(
        "list name {name:?} is not allowed; use 1 to {MAX_LIST_NAME_CHARS} letters, digits, '-' or '_' (it names a file)"
    )]
    ListName {
        /// The name as given.
        name: String,
    },
    /// Unknown list kind.
    #[error("list kind {given:?} is unknown; write hotlist or allowlist")]
    Kind {
        /// The text as given.
        given: String,
    },
    /// Unknown priority.
    #[error("priority {given:?} is unknown; write low, medium, high or critical (empty means medium)")]
    Priority {
        /// The text as given.
        given: String,
    },
}

/// A plate as written in a list, with its matching key ([`normalize_plate`]).
///
/// Serialised as the original text; the key is recomputed on load, so a file can never carry a
/// key that disagrees with its text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Plate {
    key: String,
    text: String,
}

impl Plate {
    /// Validates plate text: its key must be 1..=[`MAX_PLATE_CHARS`] alphanumeric characters.
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        let text = text.trim();
        let key = normalize_plate(text);
        let chars = key.chars().count();
        if chars == 0 {
            return Err(InvalidValue::EmptyPlate { text: text.into() });
        }
        if chars > MAX_PLATE_CHARS {
            return Err(InvalidValue::PlateTooLong {
                text: text.into(),
                chars,
            });
        }
        if let Some(bad) = key.chars().find(|c| !c.is_alphanumeric()) {
            return Err(InvalidValue::PlateCharacter {
                text: text.into(),
                bad,
            });
        }
        Ok(Self {
            key,
            text: text.into(),
        })
    }

    /// The matching key, e.g. `京A12345`.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The text as written in the list, e.g. `京A·12345`.
    pub fn text(&self) -> &str {
        &self.text
    }
}

impl TryFrom<String> for Plate {
    type Error = InvalidValue;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl From<Plate> for String {
    fn from(plate: Plate) -> Self {
        plate.text
    }
}

impl fmt::Display for Plate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A list name: 1..=[`MAX_LIST_NAME_CHARS`] letters (any script), digits, `-` or `_`.
///
/// The store uses it as a file name, so it can never contain a path separator or `..`. Cheap
/// to clone (shared), since every entry carries its list's name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ListName(Arc<str>);

impl ListName {
    /// Validates a list name.
    pub fn parse(name: &str) -> Result<Self, InvalidValue> {
        let name = name.trim();
        let chars = name.chars().count();
        let ok = (1..=MAX_LIST_NAME_CHARS).contains(&chars)
            && name.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_');
        if ok {
            Ok(Self(name.into()))
        } else {
            Err(InvalidValue::ListName { name: name.into() })
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ListName {
    type Error = InvalidValue;
    fn try_from(name: String) -> Result<Self, Self::Error> {
        Self::parse(&name)
    }
}

impl From<ListName> for String {
    fn from(name: ListName) -> Self {
        name.0.as_ref().into()
    }
}

impl fmt::Display for ListName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a hit on the list means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ListKind {
    /// Plates to alert on (stolen, wanted).
    Hotlist,
    /// Plates that are expected (residents at a gate); the rules alert on a *miss*.
    Allowlist,
}

impl ListKind {
    /// The lower-case name used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hotlist => "hotlist",
            Self::Allowlist => "allowlist",
        }
    }
}

impl FromStr for ListKind {
    type Err = InvalidValue;
    /// Case-insensitive, surrounding white space ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "hotlist" => Ok(Self::Hotlist),
            "allowlist" => Ok(Self::Allowlist),
            _ => Err(InvalidValue::Kind { given: s.into() }),
        }
    }
}

/// How urgent a hit is; ordered `Low < Medium < High < Critical`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    /// Informational.
    Low,
    /// The default when a file leaves the priority empty.
    #[default]
    Medium,
    /// Needs attention soon.
    High,
    /// Needs attention now (e.g. a vehicle linked to a violent crime).
    Critical,
}

impl Priority {
    /// The lower-case name used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }
}

impl FromStr for Priority {
    type Err = InvalidValue;
    /// Case-insensitive; an empty string is [`Priority::Medium`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "medium" => Ok(Self::Medium),
            "low" => Ok(Self::Low),
            "high" => Ok(Self::High),
            "critical" => Ok(Self::Critical),
            _ => Err(InvalidValue::Priority { given: s.into() }),
        }
    }
}

/// One plate on one list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatchlistEntry {
    /// The plate, with its matching key.
    pub plate: Plate,
    /// The list it belongs to.
    pub list: ListName,
    /// The list's kind (repeated here so a match is self-describing).
    pub kind: ListKind,
    /// How urgent a hit is.
    #[serde(default)]
    pub priority: Priority,
    /// Why it is listed: case reference, warrant number… (empty when not given).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// First instant the entry matches (inclusive); `None` = always has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<Timestamp>,
    /// First instant the entry no longer matches (exclusive); `None` = never expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<Timestamp>,
    /// Free text for the operator (empty when not given).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

impl WatchlistEntry {
    /// An entry with default priority, no window and no texts.
    pub fn new(plate: Plate, list: ListName, kind: ListKind) -> Self {
        Self {
            plate,
            list,
            kind,
            priority: Priority::default(),
            reason: String::new(),
            valid_from: None,
            valid_until: None,
            note: String::new(),
        }
    }

    /// True when `now` is inside `[valid_from, valid_until)`.
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.valid_from.is_none_or(|from| now >= from) && self.valid_until.is_none_or(|until| now < until)
    }

    /// True when the window is empty or reversed (`valid_from >= valid_until`): such an entry
    /// could never match, which is always a typing mistake.
    pub fn window_is_empty(&self) -> bool {
        matches!((self.valid_from, self.valid_until), (Some(from), Some(until)) if from >= until)
    }
}

/// Why a set of entries does not form a list. Indices are 0-based positions in the entries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WatchlistError {
    /// An entry names another list.
    #[error("entry {index} ({plate}) belongs to list {found:?}, not {expected:?}")]
    WrongList {
        /// Position of the entry.
        index: usize,
        /// Its plate text.
        plate: String,
        /// The list it names.
        found: String,
        /// The list it was put in.
        expected: String,
    },
    /// An entry has another kind than its list.
    #[error("entry {index} ({plate}) is a {found}, but list {list:?} is a {expected}")]
    WrongKind {
        /// Position of the entry.
        index: usize,
        /// Its plate text.
        plate: String,
        /// The list.
        list: String,
        /// The entry's kind.
        found: &'static str,
        /// The list's kind.
        expected: &'static str,
    },
    /// Two entries share a matching key.
    #[error(
        "plate {key} is listed twice in {list:?} (entries {first} and {second}); keep one entry per plate"
    )]
    Duplicate {
        /// The list.
        list: String,
        /// The shared matching key.
        key: String,
        /// Position of the first entry.
        first: usize,
        /// Position of the second entry.
        second: usize,
    },
    /// `valid_from >= valid_until`.
    #[error(
        "entry {index} ({plate}) has valid_from {from} not before valid_until {until}; it could never match"
    )]
    EmptyWindow {
        /// Position of the entry.
        index: usize,
        /// Its plate text.
        plate: String,
        /// `valid_from`.
        from: Timestamp,
        /// `valid_until`.
        until: Timestamp,
    },
}

/// A named list of entries of one kind, with distinct matching keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watchlist {
    name: ListName,
    kind: ListKind,
    entries: Vec<WatchlistEntry>,
}

impl Watchlist {
    /// An empty list.
    pub fn empty(name: ListName, kind: ListKind) -> Self {
        Self {
            name,
            kind,
            entries: Vec::new(),
        }
    }

    /// Checks that every entry belongs to this list and kind, has a non-empty window, and that
    /// no key appears twice.
    pub fn new(name: ListName, kind: ListKind, entries: Vec<WatchlistEntry>) -> Result<Self, WatchlistError> {
        let mut seen: HashMap<&str, usize> = HashMap::with_capacity(entries.len());
        for (index, entry) in entries.iter().enumerate() {
            check_entry(&name, kind, index, entry)?;
            if let Some(first) = seen.insert(entry.plate.key(), index) {
                return Err(WatchlistError::Duplicate {
                    list: name.to_string(),
                    key: entry.plate.key().into(),
                    first,
                    second: index,
                });
            }
        }
        Ok(Self { name, kind, entries })
    }

    /// The list's name.
    pub fn name(&self) -> &ListName {
        &self.name
    }

    /// The list's kind.
    pub fn kind(&self) -> ListKind {
        self.kind
    }

    /// The entries, in file order.
    pub fn entries(&self) -> &[WatchlistEntry] {
        &self.entries
    }

    /// Takes the entries out.
    pub fn into_entries(self) -> Vec<WatchlistEntry> {
        self.entries
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the list has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry whose key equals the key of `plate_text`, if any.
    pub fn get(&self, plate_text: &str) -> Option<&WatchlistEntry> {
        let key = normalize_plate(plate_text);
        self.entries.iter().find(|e| e.plate.key() == key)
    }

    /// Adds an entry (same checks as [`Watchlist::new`]; O(n) for the duplicate check).
    pub fn insert(&mut self, entry: WatchlistEntry) -> Result<(), WatchlistError> {
        let index = self.entries.len();
        check_entry(&self.name, self.kind, index, &entry)?;
        if let Some(first) = self
            .entries
            .iter()
            .position(|e| e.plate.key() == entry.plate.key())
        {
            return Err(WatchlistError::Duplicate {
                list: self.name.to_string(),
                key: entry.plate.key().into(),
                first,
                second: index,
            });
        }
        self.entries.push(entry);
        Ok(())
    }

    /// Removes and returns the entry whose key equals the key of `plate_text`.
    pub fn remove(&mut self, plate_text: &str) -> Option<WatchlistEntry> {
        let key = normalize_plate(plate_text);
        let at = self.entries.iter().position(|e| e.plate.key() == key)?;
        Some(self.entries.remove(at))
    }
}

fn check_entry(
    name: &ListName,
    kind: ListKind,
    index: usize,
    entry: &WatchlistEntry,
) -> Result<(), WatchlistError> {
    if entry.list != *name {
        return Err(WatchlistError::WrongList {
            index,
            plate: entry.plate.text().into(),
            found: entry.list.to_string(),
            expected: name.to_string(),
        });
    }
    if entry.kind != kind {
        return Err(WatchlistError::WrongKind {
            index,
            plate: entry.plate.text().into(),
            list: name.to_string(),
            found: entry.kind.as_str(),
            expected: kind.as_str(),
        });
    }
    if let (Some(from), Some(until)) = (entry.valid_from, entry.valid_until)
        && from >= until
    {
        return Err(WatchlistError::EmptyWindow {
            index,
            plate: entry.plate.text().into(),
            from,
            until,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("test timestamp")
    }

    fn entry(plate: &str) -> WatchlistEntry {
        WatchlistEntry::new(
            Plate::parse(plate).expect("plate"),
            ListName::parse("stolen").expect("name"),
            ListKind::Hotlist,
        )
    }

    #[test]
    fn plate_keeps_text_and_normalises_key() {
        let p = Plate::parse(" 京a·12345 ").expect("valid");
        assert_eq!(p.key(), "京A12345");
        assert_eq!(p.text(), "京a·12345");
    }

    #[test]
    fn plate_rejects_empty_long_and_symbols() {
        assert!(matches!(
            Plate::parse(" - · "),
            Err(InvalidValue::EmptyPlate { .. })
        ));
        assert!(matches!(
            Plate::parse(&"A".repeat(17)),
            Err(InvalidValue::PlateTooLong { chars: 17, .. })
        ));
        assert!(Plate::parse(&"A".repeat(16)).is_ok());
        assert!(matches!(
            Plate::parse("京A12#45"),
            Err(InvalidValue::PlateCharacter { bad: '#', .. })
        ));
    }

    #[test]
    fn list_names_cannot_escape_the_directory() {
        for bad in ["", "../etc", "a/b", "a\\b", ".hidden", "a b", &"x".repeat(65)] {
            assert!(ListName::parse(bad).is_err(), "{bad:?}");
        }
        for good in ["stolen", "gate-3_residents", "小区住户"] {
            assert!(ListName::parse(good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn kinds_and_priorities_parse_case_insensitively() {
        assert_eq!("HotList".parse::<ListKind>(), Ok(ListKind::Hotlist));
        assert!("blocklist".parse::<ListKind>().is_err());
        assert_eq!("".parse::<Priority>(), Ok(Priority::Medium));
        assert_eq!(" Critical ".parse::<Priority>(), Ok(Priority::Critical));
        assert!("urgent".parse::<Priority>().is_err());
        assert!(Priority::Low < Priority::Medium && Priority::High < Priority::Critical);
    }

    #[test]
    fn validity_window_is_half_open() {
        let mut e = entry("京A12345");
        assert!(e.is_active(ts("2020-01-01T00:00:00Z")), "no window = always");
        e.valid_from = Some(ts("2025-01-01T00:00:00Z"));
        e.valid_until = Some(ts("2025-02-01T00:00:00Z"));
        assert!(!e.is_active(ts("2024-12-31T23:59:59Z")));
        assert!(e.is_active(ts("2025-01-01T00:00:00Z")), "from is inclusive");
        assert!(e.is_active(ts("2025-01-31T23:59:59Z")));
        assert!(!e.is_active(ts("2025-02-01T00:00:00Z")), "until is exclusive");
    }

    #[test]
    fn list_rejects_duplicates_foreign_entries_and_empty_windows() {
        let name = ListName::parse("stolen").expect("name");
        let dup = Watchlist::new(
            name.clone(),
            ListKind::Hotlist,
            vec![entry("京A12345"), entry("京A·12345")],
        );
        assert!(matches!(
            dup,
            Err(WatchlistError::Duplicate {
                first: 0,
                second: 1,
                ..
            })
        ));
        let kind = Watchlist::new(name.clone(), ListKind::Allowlist, vec![entry("京A12345")]);
        assert!(matches!(kind, Err(WatchlistError::WrongKind { index: 0, .. })));
        let other = Watchlist::new(
            ListName::parse("other").expect("name"),
            ListKind::Hotlist,
            vec![entry("京A1")],
        );
        assert!(matches!(other, Err(WatchlistError::WrongList { .. })));
        let mut reversed = entry("京A12345");
        reversed.valid_from = Some(ts("2025-02-01T00:00:00Z"));
        reversed.valid_until = Some(ts("2025-01-01T00:00:00Z"));
        assert!(reversed.window_is_empty());
        let win = Watchlist::new(name, ListKind::Hotlist, vec![reversed]);
        assert!(matches!(win, Err(WatchlistError::EmptyWindow { .. })));
    }

    #[test]
    fn insert_and_remove_use_the_key() {
        let mut list = Watchlist::empty(ListName::parse("stolen").expect("name"), ListKind::Hotlist);
        list.insert(entry("京A12345")).expect("first");
        assert!(list.insert(entry("京a-12345")).is_err());
        assert_eq!(
            list.get("京Ａ１２３４５").map(|e| e.plate.text()),
            Some("京A12345")
        );
        assert!(list.remove("京A·12345").is_some());
        assert!(list.is_empty());
    }
}
