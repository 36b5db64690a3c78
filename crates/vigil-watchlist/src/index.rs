//! The immutable match index over any number of lists.
//!
//! # Design
//!
//! Every key is mapped to its *confusion class* string ([`confusion_class`] per character:
//! `京AD8S45` → `京A08545`). Then:
//!
//! * keys that differ from the query only by confusions have the *same* class string, and one
//!   hash probe finds them (the exact key is among them);
//! * keys within one other edit have class strings within Levenshtein distance 1 of the
//!   query's. SymSpell's trick finds those without scanning: index every class string *and*
//!   each of its single-character deletions; two strings are within one edit iff their
//!   {itself} ∪ {one-deletion} sets intersect. A query probes its own class string and its
//!   deletions.
//!
//! Every candidate is then verified with the weighted distance ([`crate::weighted_distance`]),
//! so the probes only need to be complete, not precise. They are complete for any
//! `max_distance < 2`: a weighted distance below 2 contains at most one non-confusion edit, and
//! confusions vanish in class space.
//!
//! # Complexity and memory (N keys of length L, typically 7–8)
//!
//! * build: O(N·L) time, two passes, no sort; the index owns the entries it was built from
//!   (measured: 1M 7-character plates in ~1.2–1.7 s);
//! * lookup: L + 1 probes of a compact hash multimap (a couple of cache lines each), then
//!   O(C·L²) verification of the C candidates, C bounded by `max_candidates`. C is tiny for
//!   real plates (the `vigil-watchlist` bench: 0.5–1.5 µs at 100k, 1–2.5 µs at 1M entries);
//! * memory beyond the entries themselves: ≈ (L+1)·10 bytes of hash table, 4·L bytes of keys
//!   and 8 bytes of bookkeeping per entry — about 110 bytes per 7-character plate, ~110 MB at
//!   1M entries. The entries come on top: ~170 bytes inline each plus their strings'
//!   allocations ([`WatchlistIndex::index_heap_bytes`] reports 273 MiB at 1M without those).
//!
//! # Concurrency
//!
//! Immutable once built. Build a new one off the hot path when a list changes, and swap an
//! `Arc<WatchlistIndex>` (e.g. behind a mutex or `ArcSwap` in the caller); lookups on the old
//! one finish undisturbed.

use std::cmp::Ordering;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::distance::{EDIT_MILLI, confusion_class, distance_milli, from_milli, to_milli};
use crate::model::{ListKind, ListName, MAX_PLATE_CHARS, Watchlist, WatchlistEntry};
use crate::multimap::MultiMap;
use crate::normalize::normalize_char;

/// Matching settings. Defaults: `max_distance` 1.0, `confusion_cost` 0.3, `max_candidates` 256.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MatchConfig {
    /// Largest weighted edit distance reported as a fuzzy match (inclusive); 0 = exact only.
    /// Must be below 2.0 (the index finds keys within one non-confusion edit). 1.0 allows one
    /// unrelated substitution/insertion/deletion *or* up to three confusions.
    pub max_distance: f32,
    /// Cost of substituting within a confusion group (`0`↔`D`, `8`↔`B`…); in (0, 1].
    pub confusion_cost: f32,
    /// Most candidates verified per lookup. Real lists give a handful; the bound protects the
    /// hot path from pathological lists (thousands of near-identical keys).
    pub max_candidates: usize,
}

impl Default for MatchConfig {
    fn default() -> Self {
        Self {
            max_distance: 1.0,
            confusion_cost: 0.3,
            max_candidates: 256,
        }
    }
}

/// Why an index could not be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IndexError {
    /// `max_distance` outside [0, 2).
    #[error("max_distance {0} is outside [0, 2); the index finds keys within one non-confusion edit")]
    MaxDistance(f32),
    /// `confusion_cost` outside (0, 1].
    #[error(
        "confusion_cost {0} is outside (0, 1]; a confusion must cost something, and less than a real edit"
    )]
    ConfusionCost(f32),
    /// `max_candidates` is 0.
    #[error("max_candidates is 0; no fuzzy match could ever be verified (use at least 16)")]
    MaxCandidates,
    /// More entries than the index can address.
    #[error("{0} entries are more than the index can address (2^31); split the lists")]
    TooManyEntries(usize),
}

/// How a key matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchKind {
    /// The keys are equal.
    Exact,
    /// The keys are within `max_distance`.
    Fuzzy,
}

/// One list entry that matched a plate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Match<'a> {
    /// The list the entry is on.
    pub list: &'a ListName,
    /// The list's kind.
    pub list_kind: ListKind,
    /// The entry.
    pub entry: &'a WatchlistEntry,
    /// Exact or fuzzy.
    pub kind: MatchKind,
    /// Weighted edit distance between the keys (0 for exact).
    pub distance: f32,
}

/// The result of a lookup, best first: exact before fuzzy, then by distance, then by
/// priority (highest first), then by list name and key.
///
/// Within one list an exact match hides that list's fuzzy ones: a plate read exactly as a
/// listed one *is* that one. Other lists still report their fuzzy matches.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Matches<'a> {
    /// The matches, best first.
    pub matches: Vec<Match<'a>>,
    /// Candidates not verified because `max_candidates` was reached (0 normally). Exact
    /// matches are never among them.
    pub candidates_skipped: usize,
}

impl<'a> Matches<'a> {
    /// The best match, if any.
    pub fn best(&self) -> Option<&Match<'a>> {
        self.matches.first()
    }

    /// True when nothing matched.
    pub fn is_empty(&self) -> bool {
        self.matches.is_empty()
    }

    /// The matches on one list, best first.
    pub fn in_list<'s>(&'s self, list: &'s str) -> impl Iterator<Item = &'s Match<'a>> + 's {
        self.matches.iter().filter(move |m| m.list.as_str() == list)
    }
}

/// Summary of one list inside the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListSummary {
    /// Its name.
    pub name: ListName,
    /// Its kind.
    pub kind: ListKind,
    /// Its entry count.
    pub entries: usize,
}

/// Set in a payload for "this slot is a one-character deletion of the entry's class string".
const DELETION: u32 = 1 << 31;

/// Longest query worth looking at: one insertion beyond the longest key.
const MAX_QUERY_CHARS: usize = MAX_PLATE_CHARS + 1;

/// Immutable plate index over one or more lists; see the module documentation.
#[derive(Debug)]
pub struct WatchlistIndex {
    max_milli: u32,
    confusion_milli: u32,
    max_candidates: usize,
    lists: Vec<ListSummary>,
    entries: Vec<WatchlistEntry>,
    /// Index into `lists` per entry.
    entry_list: Vec<u32>,
    /// All keys' characters back to back; entry `i` is `keys[key_start[i]..key_start[i + 1]]`.
    /// Kept apart from the entries so that verification reads one dense array.
    keys: Vec<char>,
    key_start: Vec<u32>,
    table: MultiMap,
}

impl WatchlistIndex {
    /// Builds the index, taking ownership of the lists' entries.
    pub fn build(lists: Vec<Watchlist>, config: MatchConfig) -> Result<Self, IndexError> {
        let MatchConfig {
            max_distance,
            confusion_cost,
            max_candidates,
        } = config;
        if !(0.0..2.0).contains(&max_distance) {
            return Err(IndexError::MaxDistance(max_distance));
        }
        if !(confusion_cost > 0.0 && confusion_cost <= 1.0) {
            return Err(IndexError::ConfusionCost(confusion_cost));
        }
        if max_candidates == 0 {
            return Err(IndexError::MaxCandidates);
        }
        let total: usize = lists.iter().map(Watchlist::len).sum();
        if total >= DELETION as usize {
            return Err(IndexError::TooManyEntries(total));
        }

        let mut summaries = Vec::with_capacity(lists.len());
        let mut entries = Vec::with_capacity(total);
        let mut entry_list = Vec::with_capacity(total);
        let mut keys = Vec::with_capacity(total * 8);
        let mut key_start = Vec::with_capacity(total + 1);
        key_start.push(0u32);
        for (list_no, list) in lists.into_iter().enumerate() {
            summaries.push(ListSummary {
                name: list.name().clone(),
                kind: list.kind(),
                entries: list.len(),
            });
            for entry in list.into_entries() {
                keys.extend(entry.plate.key().chars());
                // At most 2^31 entries × 16 chars could overflow u32; fail instead of wrapping.
                let end = u32::try_from(keys.len()).map_err(|_| IndexError::TooManyEntries(total))?;
                key_start.push(end);
                entry_list.push(list_no as u32);
                entries.push(entry);
            }
        }

        let feed = |emit: &mut dyn FnMut(u64, u32)| {
            let mut class = [' '; MAX_PLATE_CHARS];
            for id in 0..key_start.len() - 1 {
                let key = &keys[key_start[id] as usize..key_start[id + 1] as usize];
                let class = &mut class[..key.len()];
                for (c, &k) in class.iter_mut().zip(key) {
                    *c = confusion_class(k);
                }
                emit(hash_chars(class, None), id as u32);
                for_each_deletion(class, |skip| {
                    emit(hash_chars(class, Some(skip)), id as u32 | DELETION)
                });
            }
        };
        let table = MultiMap::build(keys.len() + entries.len(), feed)
            .ok_or(IndexError::TooManyEntries(entries.len()))?;

        Ok(Self {
            max_milli: to_milli(max_distance),
            confusion_milli: to_milli(confusion_cost),
            max_candidates,
            lists: summaries,
            entries,
            entry_list,
            keys,
            key_start,
            table,
        })
    }

    /// The lists in the index, in build order.
    pub fn lists(&self) -> &[ListSummary] {
        &self.lists
    }

    /// Total number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the index has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Approximate heap bytes of the index: hash table, keys, bookkeeping and the entries'
    /// inline size — not the entries' own string allocations.
    pub fn index_heap_bytes(&self) -> usize {
        self.table.heap_bytes()
            + self.keys.capacity() * 4
            + self.key_start.capacity() * 4
            + self.entry_list.capacity() * 4
            + self.entries.capacity() * std::mem::size_of::<WatchlistEntry>()
    }

    /// Finds the entries matching `plate` (any spelling; it is normalised here) that are
    /// active at `now`. See [`Matches`] for the order and the exact-hides-fuzzy rule.
    pub fn lookup(&self, plate: &str, now: Timestamp) -> Matches<'_> {
        let mut key = [' '; MAX_QUERY_CHARS];
        let mut len = 0;
        for c in plate.chars().filter_map(normalize_char) {
            if len == MAX_QUERY_CHARS {
                return Matches::default(); // too long to be within one edit of any key
            }
            key[len] = c;
            len += 1;
        }
        if len == 0 {
            return Matches::default();
        }
        let key = &key[..len];
        let mut class = [' '; MAX_QUERY_CHARS];
        let class = &mut class[..len];
        for (c, &k) in class.iter_mut().zip(key) {
            *c = confusion_class(k);
        }

        let fuzzy_edits = self.max_milli >= EDIT_MILLI;
        let mut candidates: Vec<u32> = Vec::with_capacity(16);
        // Same class string: exact and confusion-only matches; plus, when a real edit is
        // allowed, keys one character longer (their deletion equals the query).
        self.table.for_each(hash_chars(class, None), |p| {
            if p & DELETION == 0 || fuzzy_edits {
                candidates.push(p);
            }
        });
        if fuzzy_edits {
            for_each_deletion(class, |skip| {
                self.table
                    .for_each(hash_chars(class, Some(skip)), |p| candidates.push(p));
            });
        }
        for p in &mut candidates {
            *p &= !DELETION;
        }
        candidates.sort_unstable();
        candidates.dedup();

        let mut out = Matches::default();
        let mut verified = 0;
        for &id in &candidates {
            let id = id as usize;
            let stored = &self.keys[self.key_start[id] as usize..self.key_start[id + 1] as usize];
            let (kind, milli) = if stored == key {
                (MatchKind::Exact, 0)
            } else if verified >= self.max_candidates {
                out.candidates_skipped += 1;
                continue;
            } else {
                verified += 1;
                match distance_milli(key, stored, self.confusion_milli, self.max_milli) {
                    Some(d) => (MatchKind::Fuzzy, d),
                    None => continue,
                }
            };
            let entry = &self.entries[id];
            if !entry.is_active(now) {
                continue;
            }
            let list = &self.lists[self.entry_list[id] as usize];
            out.matches.push(Match {
                list: &list.name,
                list_kind: list.kind,
                entry,
                kind,
                distance: from_milli(milli),
            });
        }
        hide_fuzzy_behind_exact(&mut out.matches);
        out.matches.sort_by(compare_matches);
        out
    }

    /// [`WatchlistIndex::lookup`] for a plate read from the plate stage.
    pub fn lookup_read(&self, read: &vigil_core::plate::PlateRead, now: Timestamp) -> Matches<'_> {
        self.lookup(&read.text, now)
    }
}

/// Drops fuzzy matches from every list that also has an exact match.
fn hide_fuzzy_behind_exact(matches: &mut Vec<Match<'_>>) {
    let exact_lists: Vec<&ListName> = matches
        .iter()
        .filter(|m| m.kind == MatchKind::Exact)
        .map(|m| m.list)
        .collect();
    if !exact_lists.is_empty() {
        matches.retain(|m| m.kind == MatchKind::Exact || !exact_lists.contains(&m.list));
    }
}

/// Best first; see [`Matches`].
fn compare_matches(a: &Match<'_>, b: &Match<'_>) -> Ordering {
    a.kind
        .cmp(&b.kind)
        .then(a.distance.total_cmp(&b.distance))
        .then(b.entry.priority.cmp(&a.entry.priority))
        .then_with(|| a.list.cmp(b.list))
        .then_with(|| a.entry.plate.key().cmp(b.entry.plate.key()))
}

/// Calls `f(i)` for each position whose deletion gives a distinct string: deleting any
/// character of a run of equal characters gives the same result, so only a run's first counts.
fn for_each_deletion(chars: &[char], mut f: impl FnMut(usize)) {
    for i in 0..chars.len() {
        if i == 0 || chars[i] != chars[i - 1] {
            f(i);
        }
    }
}

/// Hash of `chars` with the character at `skip` left out (so deletions need no copy).
///
/// FxHash-style mixing per character, seeded with the length, then the murmur3 finaliser so
/// that the top bits (bucket choice in [`MultiMap`]) are well spread.
#[inline]
fn hash_chars(chars: &[char], skip: Option<usize>) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let len = chars.len() - usize::from(skip.is_some());
    let mut h = (len as u64).wrapping_mul(K);
    for (i, &c) in chars.iter().enumerate() {
        if Some(i) != skip {
            h = (h.rotate_left(5) ^ u64::from(c)).wrapping_mul(K);
        }
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deletion_positions_skip_repeats() {
        let mut seen = Vec::new();
        for_each_deletion(&['A', 'A', 'B', 'A'], |i| seen.push(i));
        assert_eq!(seen, vec![0, 2, 3]);
    }

    #[test]
    fn hash_with_skip_equals_hash_of_the_shorter_string() {
        let full = ['京', 'A', '1', '2'];
        assert_eq!(hash_chars(&full, Some(1)), hash_chars(&['京', '1', '2'], None));
        assert_ne!(hash_chars(&full, None), hash_chars(&['京', 'A', '2', '1'], None));
    }
}
