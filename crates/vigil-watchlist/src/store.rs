//! Watchlists on disk: one JSON file per list ([`crate::json_io`] format) plus `audit.jsonl`.
//!
//! Every change is written to a temporary file in the same directory, fsync'd, *logged* in the
//! audit log, then renamed over the list and the directory fsync'd. So:
//!
//! * a reader (or a crash) sees the old list or the new one, never a mix;
//! * on any error — a bad import, a full disk, a failed rename — the old list stays intact and
//!   the temporary file is removed;
//! * no change reaches a list without an audit line. If the rename fails after logging, an
//!   `aborted` line follows (best effort), so the log over-reports at worst, never under-reports.
//!
//! One writer per directory: `&mut self` serialises writers in a process; running two processes
//! on one directory is not supported. After changes, build a new [`WatchlistIndex`] with
//! [`WatchlistStore::build_index`] and swap it in.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::audit::{AuditAction, AuditError, AuditLog, ChangeContext, ChangeCounts};
use crate::import::{ImportError, ImportOptions};
use crate::index::{IndexError, MatchConfig, WatchlistIndex};
use crate::model::{ListKind, ListName, Watchlist, WatchlistEntry, WatchlistError};
use crate::{csv_io, json_io};

/// The audit log's file name inside the store directory.
pub const AUDIT_FILE: &str = "audit.jsonl";

/// Store failures. Every variant leaves the stored lists as they were.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file operation failed.
    #[error("{path}: {action} failed: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What was being done.
        action: &'static str,
        /// The OS error.
        source: std::io::Error,
    },
    /// An import was rejected; nothing was changed.
    #[error("import into list {list:?} rejected, the list is unchanged: {source}")]
    Import {
        /// The list being replaced.
        list: String,
        /// Why (boxed: import errors are large and rare).
        source: Box<ImportError>,
    },
    /// A stored list file does not load (edited by hand?).
    #[error("stored list {path} does not load: {source}; restore it from a backup or re-import it")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Why (boxed: import errors are large and rare).
        source: Box<ImportError>,
    },
    /// A stored file holds another list than its name says.
    #[error("stored list {path} holds list {found:?}; rename the file or fix its name field")]
    Misnamed {
        /// The file.
        path: PathBuf,
        /// The name inside.
        found: String,
    },
    /// No such list.
    #[error("list {0:?} does not exist")]
    NoSuchList(String),
    /// No such plate on the list.
    #[error("plate {plate:?} is not on list {list:?}")]
    NoSuchPlate {
        /// The list.
        list: String,
        /// The plate as given.
        plate: String,
    },
    /// The change would make the list invalid (duplicate plate, wrong kind…).
    #[error(transparent)]
    Invalid(#[from] WatchlistError),
    /// The audit log could not be written; the change was not made.
    #[error("change not made: {0}")]
    Audit(#[from] AuditError),
    /// The index could not be built.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// The list's owner or the plate grammar refuses the change ([`crate::policy`]).
    #[error(transparent)]
    Policy(#[from] crate::policy::PolicyError),
}

/// What a change did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeSummary {
    /// The list changed.
    pub list: ListName,
    /// Entry counts.
    pub counts: ChangeCounts,
}

/// Lists in a directory with an audit log; see the module documentation.
#[derive(Debug)]
pub struct WatchlistStore {
    dir: PathBuf,
    audit: AuditLog,
    opts: ImportOptions,
    /// Test hook: fail between logging and renaming, the narrowest window.
    #[cfg(test)]
    fail_rename: bool,
}

impl WatchlistStore {
    /// Opens the store in `dir` (created if missing), verifying its audit log and removing
    /// temporary files a crash may have left.
    pub fn open(dir: impl Into<PathBuf>, opts: ImportOptions) -> Result<Self, StoreError> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(io_err(&dir, "create directory"))?;
        for item in fs::read_dir(&dir).map_err(io_err(&dir, "list directory"))? {
            let path = item.map_err(io_err(&dir, "list directory"))?.path();
            if path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.') && n.contains(".tmp"))
            {
                fs::remove_file(&path).map_err(io_err(&path, "remove stale temporary file"))?;
            }
        }
        let audit = AuditLog::open(dir.join(AUDIT_FILE))?;
        Ok(Self {
            dir,
            audit,
            opts,
            #[cfg(test)]
            fail_rename: false,
        })
    }

    /// The store directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The audit log (e.g. for its [`AuditLog::head`]).
    pub fn audit(&self) -> &AuditLog {
        &self.audit
    }

    /// Names of the stored lists, sorted.
    pub fn list_names(&self) -> Result<Vec<ListName>, StoreError> {
        let mut names = Vec::new();
        for item in fs::read_dir(&self.dir).map_err(io_err(&self.dir, "list directory"))? {
            let path = item.map_err(io_err(&self.dir, "list directory"))?.path();
            if path.extension().is_some_and(|e| e == "json")
                && let Some(name) = path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .and_then(|s| ListName::parse(s).ok())
            {
                names.push(name);
            }
        }
        names.sort();
        Ok(names)
    }

    /// Loads one list.
    pub fn load(&self, name: &ListName) -> Result<Watchlist, StoreError> {
        let path = self.path_of(name);
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::NoSuchList(name.to_string()));
            }
            Err(e) => return Err(io_err(&path, "open")(e)),
        };
        let list =
            json_io::read_json(BufReader::new(file), &self.opts).map_err(|source| StoreError::Corrupt {
                path: path.clone(),
                source: Box::new(source),
            })?;
        if list.name() != name {
            return Err(StoreError::Misnamed {
                path,
                found: list.name().to_string(),
            });
        }
        Ok(list)
    }

    /// Loads every list.
    pub fn load_all(&self) -> Result<Vec<Watchlist>, StoreError> {
        self.list_names()?.iter().map(|n| self.load(n)).collect()
    }

    /// Builds a fresh index over every list (off the hot path; swap the `Arc` in).
    pub fn build_index(&self, config: MatchConfig) -> Result<Arc<WatchlistIndex>, StoreError> {
        Ok(Arc::new(WatchlistIndex::build(self.load_all()?, config)?))
    }

    /// Replaces (or creates) a list.
    pub fn replace(&mut self, list: Watchlist, ctx: &ChangeContext) -> Result<ChangeSummary, StoreError> {
        let old = self.load_or_empty(list.name(), list.kind())?;
        let counts = diff_counts(&old, &list);
        self.commit(&list, ctx, AuditAction::ReplaceList, None, counts)
    }

    /// Replaces (or creates) list `name` of `kind` from CSV ([`csv_io::read_csv_list`]). A bad
    /// file changes nothing.
    pub fn import_csv(
        &mut self,
        name: &ListName,
        kind: ListKind,
        reader: impl Read,
        ctx: &ChangeContext,
    ) -> Result<ChangeSummary, StoreError> {
        let list = self.parse_csv(name, kind, reader)?;
        self.replace(list, ctx)
    }

    /// Parses CSV into list `name` of `kind` with the store's import limits, without storing it.
    pub fn parse_csv(
        &self,
        name: &ListName,
        kind: ListKind,
        reader: impl Read,
    ) -> Result<Watchlist, StoreError> {
        csv_io::read_csv_list(reader, name, kind, &self.opts).map_err(|source| StoreError::Import {
            list: name.to_string(),
            source: Box::new(source),
        })
    }

    /// Parses a JSON list document with the store's import limits, without storing it.
    pub fn parse_json(&self, reader: impl Read) -> Result<Watchlist, StoreError> {
        json_io::read_json(reader, &self.opts).map_err(|source| StoreError::Import {
            list: "(from the document)".into(),
            source: Box::new(source),
        })
    }

    /// Replaces (or creates) the list in a JSON document ([`json_io::read_json`]). A bad file
    /// changes nothing.
    pub fn import_json(
        &mut self,
        reader: impl Read,
        ctx: &ChangeContext,
    ) -> Result<ChangeSummary, StoreError> {
        let list = self.parse_json(reader)?;
        self.replace(list, ctx)
    }

    /// Adds one entry to its list, creating the list (with the entry's kind) if needed.
    pub fn add_entry(
        &mut self,
        entry: WatchlistEntry,
        ctx: &ChangeContext,
    ) -> Result<ChangeSummary, StoreError> {
        let mut list = self.load_or_empty(&entry.list, entry.kind)?;
        let before = list.len();
        let plate = entry.plate.text().to_string();
        list.insert(entry)?;
        let counts = ChangeCounts {
            before,
            after: before + 1,
            added: 1,
            removed: 0,
        };
        self.commit(&list, ctx, AuditAction::AddEntry, Some(&plate), counts)
    }

    /// Removes the entry for `plate` (any spelling) from `list`.
    pub fn remove_entry(
        &mut self,
        list: &ListName,
        plate: &str,
        ctx: &ChangeContext,
    ) -> Result<ChangeSummary, StoreError> {
        let mut current = self.load(list)?;
        let before = current.len();
        let removed = current.remove(plate).ok_or_else(|| StoreError::NoSuchPlate {
            list: list.to_string(),
            plate: plate.into(),
        })?;
        let counts = ChangeCounts {
            before,
            after: before - 1,
            added: 0,
            removed: 1,
        };
        self.commit(
            &current,
            ctx,
            AuditAction::RemoveEntry,
            Some(removed.plate.text()),
            counts,
        )
    }

    fn path_of(&self, name: &ListName) -> PathBuf {
        self.dir.join(format!("{name}.json"))
    }

    fn load_or_empty(&self, name: &ListName, kind: ListKind) -> Result<Watchlist, StoreError> {
        match self.load(name) {
            Err(StoreError::NoSuchList(_)) => Ok(Watchlist::empty(name.clone(), kind)),
            other => other,
        }
    }

    /// Temp file + fsync → audit line → rename + directory fsync; cleans up on every error.
    fn commit(
        &mut self,
        list: &Watchlist,
        ctx: &ChangeContext,
        action: AuditAction,
        plate: Option<&str>,
        counts: ChangeCounts,
    ) -> Result<ChangeSummary, StoreError> {
        let target = self.path_of(list.name());
        let tmp = self
            .dir
            .join(format!(".{}.json.tmp-{}", list.name(), std::process::id()));
        let result = self.commit_via(&tmp, &target, list, ctx, action, plate, counts);
        if result.is_err() {
            let _ = fs::remove_file(&tmp); // may not exist; the error that matters is `result`
        }
        result
    }

    #[allow(clippy::too_many_arguments)] // private step of `commit`, arguments passed through
    fn commit_via(
        &mut self,
        tmp: &Path,
        target: &Path,
        list: &Watchlist,
        ctx: &ChangeContext,
        action: AuditAction,
        plate: Option<&str>,
        counts: ChangeCounts,
    ) -> Result<ChangeSummary, StoreError> {
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(tmp)
            .map_err(io_err(tmp, "create temporary file"))?;
        let mut out = BufWriter::new(file);
        json_io::write_json(&mut out, list).map_err(|e| io_err(tmp, "write")(e.into()))?;
        out.write_all(b"\n").map_err(io_err(tmp, "write"))?;
        let file = out
            .into_inner()
            .map_err(|e| io_err(tmp, "write")(e.into_error()))?;
        file.sync_all().map_err(io_err(tmp, "fsync"))?;
        drop(file);

        self.audit
            .append(ctx, action, list.name().as_str(), plate, counts)?;

        let renamed = self.rename(tmp, target).and_then(|()| sync_dir(&self.dir));
        if let Err(e) = renamed {
            let _ = self
                .audit
                .append(ctx, AuditAction::Aborted, list.name().as_str(), plate, counts);
            return Err(e);
        }
        Ok(ChangeSummary {
            list: list.name().clone(),
            counts,
        })
    }

    fn rename(&self, tmp: &Path, target: &Path) -> Result<(), StoreError> {
        #[cfg(test)]
        if self.fail_rename {
            return Err(io_err(target, "rename")(std::io::Error::other(
                "injected failure",
            )));
        }
        fs::rename(tmp, target).map_err(io_err(target, "rename"))
    }
}

/// Counts by key: how many keys appeared and disappeared.
fn diff_counts(old: &Watchlist, new: &Watchlist) -> ChangeCounts {
    let old_keys: HashSet<&str> = old.entries().iter().map(|e| e.plate.key()).collect();
    let new_keys: HashSet<&str> = new.entries().iter().map(|e| e.plate.key()).collect();
    ChangeCounts {
        before: old.len(),
        after: new.len(),
        added: new_keys.difference(&old_keys).count(),
        removed: old_keys.difference(&new_keys).count(),
    }
}

/// Makes a rename durable: the directory entry itself must reach the disk.
fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir, "fsync directory"))
}

fn io_err(path: &Path, action: &'static str) -> impl FnOnce(std::io::Error) -> StoreError + use<> {
    let path = path.to_path_buf();
    move |source| StoreError::Io { path, action, source }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit;
    use crate::model::Plate;
    use jiff::Timestamp;

    fn ctx() -> ChangeContext {
        ChangeContext {
            who: "op".into(),
            source: "cli".into(),
            at: Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn failed_rename_keeps_the_old_list_and_logs_the_abort() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = WatchlistStore::open(dir.path(), ImportOptions::default()).expect("open");
        let name = ListName::parse("stolen").expect("name");
        let entry =
            |p: &str| WatchlistEntry::new(Plate::parse(p).expect("plate"), name.clone(), ListKind::Hotlist);
        store.add_entry(entry("京A12345"), &ctx()).expect("add");
        let before = fs::read(store.path_of(&name)).expect("read");

        store.fail_rename = true;
        assert!(matches!(
            store.add_entry(entry("京B00000"), &ctx()),
            Err(StoreError::Io { action: "rename", .. })
        ));
        assert_eq!(
            fs::read(store.path_of(&name)).expect("read"),
            before,
            "old file byte-for-byte"
        );
        let leftovers: Vec<_> = fs::read_dir(dir.path())
            .expect("ls")
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "temporary file removed: {leftovers:?}");

        let log = fs::read_to_string(dir.path().join(AUDIT_FILE)).expect("audit");
        let actions: Vec<AuditAction> = log
            .lines()
            .map(|l| {
                serde_json::from_str::<audit::AuditRecord>(l)
                    .expect("record")
                    .action
            })
            .collect();
        assert_eq!(
            actions,
            vec![AuditAction::AddEntry, AuditAction::AddEntry, AuditAction::Aborted]
        );
        assert_eq!(
            audit::verify(&dir.path().join(AUDIT_FILE))
                .expect("chain intact")
                .lines,
            3
        );
    }
}
