//! The watchlists a running daemon matches against: the [`WatchlistStore`] on disk plus the
//! [`WatchlistIndex`] built from it, kept in step.
//!
//! Every change (API upload, entry add/remove, reload) goes through here: the store commits it
//! (audit line first, atomic rename), then a fresh index is built and swapped in. The hot path
//! only ever clones an `Arc` ([`LiveWatchlists::index`]), so a lookup never waits for an import,
//! and an import that fails leaves both the files and the index as they were.
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
        })
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

    /// Replaces (or creates) a list.
    pub fn replace(&self, list: Watchlist, ctx: &ChangeContext) -> Result<ChangeSummary, StoreError> {
        self.change(|s| s.replace(list, ctx))
    }

    /// Replaces (or creates) a list from CSV; a bad file changes nothing.
    pub fn import_csv(
        &self,
        name: &ListName,
        kind: ListKind,
        reader: impl Read,
        ctx: &ChangeContext,
    ) -> Result<ChangeSummary, StoreError> {
        self.change(|s| s.import_csv(name, kind, reader, ctx))
    }

    /// Replaces (or creates) a list from a JSON document; a bad file changes nothing.
    pub fn import_json(&self, reader: impl Read, ctx: &ChangeContext) -> Result<ChangeSummary, StoreError> {
        self.change(|s| s.import_json(reader, ctx))
    }

    /// Adds one entry.
    pub fn add_entry(&self, entry: WatchlistEntry, ctx: &ChangeContext) -> Result<ChangeSummary, StoreError> {
        self.change(|s| s.add_entry(entry, ctx))
    }

    /// Removes one entry.
    pub fn remove_entry(
        &self,
        list: &ListName,
        plate: &str,
        ctx: &ChangeContext,
    ) -> Result<ChangeSummary, StoreError> {
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
}
