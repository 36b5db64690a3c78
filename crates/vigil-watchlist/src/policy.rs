//! Who may change a list, and which plates a list may hold: the rules [`crate::LiveWatchlists`]
//! applies to every change that does not come from the list's owner.
//!
//! * **One owner per list.** A list declared with a `file` in the pipeline file is owned by that
//!   file: the daemon re-imports it on every start and reload, so an entry added through the API
//!   would silently vanish on the next reload. Such lists are therefore read-only to the API and
//!   the console, and the refusal names the file to edit instead.
//! * **Entries are plates.** A hotlist entry `"ABC"` can never match a read, because reads are
//!   filtered by the plate grammar; accepting it would give the operator a false sense of cover.
//!   Entries are checked with the same normalisation and grammar as reads.

use std::collections::BTreeMap;

use vigil_plate::PlateGrammar;

use crate::model::{ListName, Watchlist, WatchlistEntry};

/// Why a change was refused by the [`ListPolicy`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// The list belongs to a file declared in the pipeline file.
    #[error(
        "list {list:?} is read-only here: it is owned by {owner}, which the daemon re-imports on every start and reload; edit that file and reload, or remove `file` from the list's declaration to manage it through the API"
    )]
    ReadOnly {
        /// The list.
        list: String,
        /// What owns it, e.g. `pipeline file list lists/hot.csv`.
        owner: String,
    },
    /// A plate matches none of the configured plate formats.
    #[error(
        "plate {plate:?} on list {list:?} matches no configured plate format ({formats}), so no read could ever match it; check the plate, or add a format under [plates.grammar]"
    )]
    NotAPlate {
        /// The list.
        list: String,
        /// The plate as written.
        plate: String,
        /// The names of the formats tried, comma-separated.
        formats: String,
    },
}

/// The owners of file-backed lists and the grammar entries must satisfy.
#[derive(Debug, Clone, Default)]
pub struct ListPolicy {
    owners: BTreeMap<ListName, String>,
    grammar: Option<PlateGrammar>,
}

impl ListPolicy {
    /// A policy with the given owned lists (name → owner description) and plate grammar
    /// (`None`: any plate the model accepts).
    pub fn new(owners: BTreeMap<ListName, String>, grammar: Option<PlateGrammar>) -> Self {
        Self { owners, grammar }
    }

    /// The owner of `list`, when it is file-owned.
    pub fn owner(&self, list: &ListName) -> Option<&str> {
        self.owners.get(list).map(String::as_str)
    }

    /// Refuses a change to a file-owned list.
    pub fn check_writable(&self, list: &ListName) -> Result<(), PolicyError> {
        match self.owner(list) {
            Some(owner) => Err(PolicyError::ReadOnly {
                list: list.to_string(),
                owner: owner.to_string(),
            }),
            None => Ok(()),
        }
    }

    /// Refuses an entry whose plate no format accepts.
    pub fn check_entry(&self, entry: &WatchlistEntry) -> Result<(), PolicyError> {
        let Some(grammar) = &self.grammar else {
            return Ok(());
        };
        if grammar.match_text(entry.plate.text()).is_some() {
            return Ok(());
        }
        let formats = grammar
            .formats()
            .iter()
            .map(|f| f.name())
            .collect::<Vec<_>>()
            .join(", ");
        Err(PolicyError::NotAPlate {
            list: entry.list.to_string(),
            plate: entry.plate.text().to_string(),
            formats,
        })
    }

    /// [`Self::check_writable`] and [`Self::check_entry`] for every entry of a whole list.
    pub fn check_list(&self, list: &Watchlist) -> Result<(), PolicyError> {
        self.check_writable(list.name())?;
        list.entries().iter().try_for_each(|e| self.check_entry(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ListKind, Plate};

    fn entry(plate: &str) -> WatchlistEntry {
        WatchlistEntry::new(
            Plate::parse(plate).expect("plate"),
            ListName::parse("hot").expect("name"),
            ListKind::Hotlist,
        )
    }

    #[test]
    fn grammar_refuses_non_plates_and_accepts_separators() {
        let p = ListPolicy::new(BTreeMap::new(), Some(PlateGrammar::cn_mainland()));
        let err = p.check_entry(&entry("ABC")).expect_err("ABC is no plate");
        let msg = err.to_string();
        assert!(
            msg.contains("\"ABC\"") && msg.contains("[plates.grammar]"),
            "{msg}"
        );
        p.check_entry(&entry("京A·12345"))
            .expect("ordinary plate with a separator");
        p.check_entry(&entry("粤B D12345")).expect("new-energy plate");
        // Without a grammar every well-formed key is allowed.
        ListPolicy::default()
            .check_entry(&entry("ABC"))
            .expect("no grammar");
    }

    #[test]
    fn owned_lists_are_read_only_with_the_owner_named() {
        let hot = ListName::parse("hot").expect("name");
        let owners = BTreeMap::from([(hot.clone(), "pipeline file list lists/hot.csv".to_string())]);
        let p = ListPolicy::new(owners, None);
        let msg = p.check_writable(&hot).expect_err("owned").to_string();
        assert!(
            msg.contains("lists/hot.csv") && msg.contains("read-only"),
            "{msg}"
        );
        p.check_writable(&ListName::parse("other").expect("name"))
            .expect("unowned list is writable");
    }
}
