//! The watchlists a running daemon matches against: the [`WatchlistStore`] on disk plus the
//! [`WatchlistIndex`] built from it, kept in step.
//!
//! Every change (API upload, entry add/remove, reload) goes through here: the store commits it
//! (audit line first, atomic rename), then a fresh index is built and swapped in. The hot path
//! only ever clones an `Arc` ([`LiveWatchlists::index`]), so a lookup never waits for an import,
//! and an import that fails leaves both the files and the index as they were.
//!
//! Changes from the API go through the [`ListPolicy`]: file-owned lists are read-only and every
//! entry must be a plate of the configured grammar. The list's owner (the pipeline file sync)
//! uses [`LiveWatchlists::replace_as_owner`].
//!
//! Changes are serialised by one mutex around the store: two concurrent replacements of the
//! same list apply one after the other, each atomically; the index always reflects a state the
//! store really had.

use std::io::Read;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use crate::audit::ChangeContext;
use crate::import::ImportOptions;
use crate::index::{MatchConfig, WatchlistIndex};
use crate::model::{ListKind, ListName, Watchlist, WatchlistEntry};
use crate::policy::ListPolicy;
use crate::store::{ChangeSummary, StoreError, WatchlistStore};

/// Store + current index; cheap to share as `Arc<LiveWatchlists>`.
#[derive(Debug)]
pub struct LiveWatchlists {
    /// Serialises changes; holds the audit log's append handle.
    store: Mutex<WatchlistStore>,
    /// The index the hot path reads; replaced whole after each committed change.
    index: RwLock<Arc<WatchlistIndex>>,
    /// Matching settings every rebuilt index uses.
    config: MatchConfig,
    /// Owners and grammar checked on every change but the owner's.
    policy: RwLock<ListPolicy>,
}

impl LiveWatchlists {
    /// Opens the store in `dir` and builds the first index. Fails on a corrupt list file or
    /// audit log (the error names the file), so a daemon never starts matching against a
    /// silently partial set of lists.
    pub fn open(dir: &Path, opts: ImportOptions, config: MatchConfig) -> Result<Self, StoreError> {
        let store = WatchlistStore::open(dir, opts)?;
        let index = store.build_index(config)?;
        Ok(Self {
            store: Mutex::new(store),
            index: RwLock::new(index),
            config,
            policy: RwLock::new(ListPolicy::default()),
        })
    }

    /// Sets which lists are file-owned and which grammar entries must satisfy (at start and on
    /// every reload).
    pub fn set_policy(&self, policy: ListPolicy) {
        match self.policy.write() {
            Ok(mut g) => *g = policy,
            Err(poisoned) => *poisoned.into_inner() = policy,
        }
    }

    /// The current policy (a clone; cheap: a few names and the grammar).
    pub fn policy(&self) -> ListPolicy {
        match self.policy.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// What owns `list` when it is read-only to the API (`None`: the API may change it).
    pub fn owner(&self, list: &ListName) -> Option<String> {
        self.policy().owner(list).map(str::to_owned)
    }

    /// The current index (an `Arc` clone; never blocks on a running import for long).
    pub fn index(&self) -> Arc<WatchlistIndex> {
        match self.index.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The matching settings.
    pub fn match_config(&self) -> MatchConfig {
        self.config
    }

    fn store(&self) -> MutexGuard<'_, WatchlistStore> {
        // A panic while holding the lock cannot leave the files half-written (the store's
        // writes are atomic), so the poisoned guard is safe to keep using.
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs a change with the store locked, then rebuilds and swaps the index before the lock
    /// is released, so index swaps happen in commit order.
    fn change(
        &self,
        f: impl FnOnce(&mut WatchlistStore) -> Result<ChangeSummary, StoreError>,
    ) -> Result<ChangeSummary, StoreError> {
        let mut store = self.store();
        let summary = f(&mut store)?;
        self.rebuild_locked(&store)?;
        Ok(summary)
    }

    fn rebuild_locked(&self, store: &WatchlistStore) -> Result<(), StoreError> {
        let fresh = store.build_index(self.config)?;
        match self.index.write() {
            Ok(mut g) => *g = fresh,
            Err(poisoned) => *poisoned.into_inner() = fresh,
        }
        Ok(())
    }

    /// Re-reads every list from disk and swaps the index (after files were edited by hand and
    /// the daemon was told to reload). On error the old index stays.
    pub fn reload(&self) -> Result<(), StoreError> {
        let store = self.store();
        self.rebuild_locked(&store)
    }

    /// Names of the stored lists, sorted.
    pub fn list_names(&self) -> Result<Vec<ListName>, StoreError> {
        self.store().list_names()
    }

    /// One list as stored.
    pub fn load(&self, name: &ListName) -> Result<Watchlist, StoreError> {
        self.store().load(name)
    }

    /// Replaces (or creates) a list, subject to the policy.
    pub fn replace(&self, list: Watchlist, ctx: &ChangeContext) -> Result<ChangeSummary, StoreError> {
        self.policy().check_list(&list)?;
        self.change(|s| s.replace(list, ctx))
    }

    /// Replaces a list on behalf of its owner (the pipeline file it is declared with): no
    /// ownership check; the owner's file was validated when the configuration was.
    pub fn replace_as_owner(
        &self,
        list: Watchlist,
        ctx: &ChangeContext,
    ) -> Result<ChangeSummary, StoreError> {
        self.change(|s| s.replace(list, ctx))
    }

    /// Replaces (or creates) a list from CSV, subject to the policy; a bad file changes nothing.
    pub fn import_csv(
        &self,
        name: &ListName,
        kind: ListKind,
        reader: impl Read,
        ctx: &ChangeContext,
    ) -> Result<ChangeSummary, StoreError> {
        let policy = self.policy();
        policy.check_writable(name)?;
        self.change(|s| {
            let list = s.parse_csv(name, kind, reader)?;
            policy.check_list(&list)?;
            s.replace(list, ctx)
        })
    }

    /// Replaces (or creates) a list from a JSON document, subject to the policy; a bad file
    /// changes nothing.
    pub fn import_json(&self, reader: impl Read, ctx: &ChangeContext) -> Result<ChangeSummary, StoreError> {
        let policy = self.policy();
        self.change(|s| {
            let list = s.parse_json(reader)?;
            policy.check_list(&list)?;
            s.replace(list, ctx)
        })
    }

    /// Adds one entry, subject to the policy.
    pub fn add_entry(&self, entry: WatchlistEntry, ctx: &ChangeContext) -> Result<ChangeSummary, StoreError> {
        let policy = self.policy();
        policy.check_writable(&entry.list)?;
        policy.check_entry(&entry)?;
        self.change(|s| s.add_entry(entry, ctx))
    }

    /// Removes one entry, subject to the policy.
    pub fn remove_entry(
        &self,
        list: &ListName,
        plate: &str,
        ctx: &ChangeContext,
    ) -> Result<ChangeSummary, StoreError> {
        self.policy().check_writable(list)?;
        self.change(|s| s.remove_entry(list, plate, ctx))
    }

    /// Runs `f` with the store locked (for reads such as the audit log's head).
    pub fn with_store<T>(&self, f: impl FnOnce(&WatchlistStore) -> T) -> T {
        f(&self.store())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Plate;
    use jiff::Timestamp;

    fn ctx() -> ChangeContext {
        ChangeContext {
            who: "test".into(),
            source: "unit".into(),
            at: Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn changes_show_in_the_index_and_bad_imports_change_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let live =
            LiveWatchlists::open(dir.path(), ImportOptions::default(), MatchConfig::default()).expect("open");
        assert!(live.index().is_empty());
        let hot = ListName::parse("hot").expect("name");
        let now = Timestamp::UNIX_EPOCH;
        live.import_csv(
            &hot,
            ListKind::Hotlist,
            "plate,list,kind\n京A12345,hot,hotlist\n".as_bytes(),
            &ctx(),
        )
        .expect("import");
        let before = live.index();
        assert_eq!(before.len(), 1);
        assert!(!before.lookup("京A12345", now).is_empty());

        // A file with a bad row rejects the whole import: files and index stay.
        let bad = "plate,list,kind\n京B00001,hot,hotlist\n沪C99999,hot,bogus\n";
        assert!(
            live.import_csv(&hot, ListKind::Hotlist, bad.as_bytes(), &ctx())
                .is_err()
        );
        assert_eq!(live.index().len(), 1);
        assert!(live.index().lookup("京B00001", now).is_empty());

        let entry = WatchlistEntry::new(
            Plate::parse("沪C99999").expect("plate"),
            hot.clone(),
            ListKind::Hotlist,
        );
        live.add_entry(entry, &ctx()).expect("add");
        assert_eq!(live.index().len(), 2);
        live.remove_entry(&hot, "京A12345", &ctx()).expect("remove");
        let after = live.index();
        assert!(after.lookup("京A12345", now).is_empty());
        assert!(!after.lookup("沪C99999", now).is_empty());
        // An index handed out earlier is unaffected by later swaps.
        assert!(!before.lookup("京A12345", now).is_empty());

        // Reopening sees the committed state.
        drop(live);
        let again = LiveWatchlists::open(dir.path(), ImportOptions::default(), MatchConfig::default())
            .expect("reopen");
        assert_eq!(again.index().len(), 1);
    }

    #[test]
    fn file_owned_lists_refuse_api_changes_and_entries_must_be_plates() {
        use crate::policy::PolicyError;
        use std::collections::BTreeMap;
        let dir = tempfile::tempdir().expect("tempdir");
        let live =
            LiveWatchlists::open(dir.path(), ImportOptions::default(), MatchConfig::default()).expect("open");
        let owned = ListName::parse("gate").expect("name");
        let free = ListName::parse("adhoc").expect("name");
        live.set_policy(ListPolicy::new(
            BTreeMap::from([(owned.clone(), "pipeline file list gate.csv".to_string())]),
            Some(vigil_plate::PlateGrammar::cn_mainland()),
        ));
        let file_list = |plates: &[&str]| {
            let mut l = Watchlist::empty(owned.clone(), ListKind::Allowlist);
            for p in plates {
                l.insert(WatchlistEntry::new(
                    Plate::parse(p).expect("plate"),
                    owned.clone(),
                    ListKind::Allowlist,
                ))
                .expect("insert");
            }
            l
        };
        live.replace_as_owner(file_list(&["京A12345"]), &ctx())
            .expect("owner import");
        let read_only = |r: Result<ChangeSummary, StoreError>| {
            matches!(r, Err(StoreError::Policy(PolicyError::ReadOnly { .. })))
        };
        let add = WatchlistEntry::new(
            Plate::parse("沪C99999").expect("plate"),
            owned.clone(),
            ListKind::Allowlist,
        );
        assert!(read_only(live.add_entry(add, &ctx())));
        assert!(read_only(live.remove_entry(&owned, "京A12345", &ctx())));
        assert!(read_only(live.import_csv(
            &owned,
            ListKind::Allowlist,
            "plate,list,kind\n沪C99999,gate,allowlist\n".as_bytes(),
            &ctx()
        )));
        assert!(read_only(live.replace(file_list(&["沪C99999"]), &ctx())));
        let doc = r#"{"name":"gate","kind":"allowlist","entries":[]}"#;
        assert!(read_only(live.import_json(doc.as_bytes(), &ctx())));
        assert_eq!(
            live.load(&owned).expect("load"),
            file_list(&["京A12345"]),
            "owned list unchanged"
        );
        assert_eq!(live.owner(&owned).as_deref(), Some("pipeline file list gate.csv"));
        assert_eq!(live.owner(&free), None);

        // Unowned lists take API changes, but only plates the grammar accepts.
        let bad = WatchlistEntry::new(Plate::parse("ABC").expect("key"), free.clone(), ListKind::Hotlist);
        assert!(matches!(
            live.add_entry(bad, &ctx()),
            Err(StoreError::Policy(PolicyError::NotAPlate { .. }))
        ));
        let csv = "plate,list,kind\n京B00001,adhoc,hotlist\nABC,adhoc,hotlist\n";
        assert!(matches!(
            live.import_csv(&free, ListKind::Hotlist, csv.as_bytes(), &ctx()),
            Err(StoreError::Policy(PolicyError::NotAPlate { .. }))
        ));
        assert!(
            matches!(live.load(&free), Err(StoreError::NoSuchList(_))),
            "nothing half-applied"
        );
        let good = WatchlistEntry::new(
            Plate::parse("京B·00001").expect("plate"),
            free.clone(),
            ListKind::Hotlist,
        );
        live.add_entry(good, &ctx()).expect("a real plate is accepted");
    }
}
