//! Recovery from a corrupt outbox file: move it aside, never delete it — and only a file that
//! is neither in use nor healthy.
//!
//! `vigil outbox recover <path>` calls [`recover`]; the next start creates an empty outbox.
//! Moving a healthy outbox would strand its undelivered alerts, and moving one a running
//! daemon holds open would strand everything it accepts afterwards, so [`recover`] first
//! checks the file: one locked by another process is never moved; one that opens cleanly is
//! moved only with `force`. The check runs on a copy next to the file, so it cannot alter the
//! file it judges. The moved file keeps whatever could still be salvaged by hand, its name says
//! when it was set aside, and every later start reports it ([`moved_aside`]) until someone
//! deletes it.

use std::path::{Path, PathBuf};

use redb::{Database, DatabaseError, ReadableDatabase, ReadableTableMetadata};
use serde::Serialize;

use super::{HEADERS, store};
use crate::error::OutboxError;

/// What [`recover`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovered {
    /// Where the file went (`<path>.corrupt-<UTC timestamp>`).
    pub moved_to: PathBuf,
    /// What the check found, e.g. the storage engine's complaint.
    pub finding: String,
}

/// A file an earlier [`recover`] moved aside next to an outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MovedAside {
    /// The file.
    pub path: PathBuf,
    /// Its size.
    pub bytes: u64,
    /// Undelivered alerts it holds, if it can still be read (a corrupt file often cannot).
    pub entries: Option<u64>,
}

/// What the check of a file found.
enum Probe {
    /// Opens and verifies; holds this many entries.
    Clean(u64),
    /// Does not open or verify: the reason.
    Damaged(String),
    /// Could not be checked (no room for the copy, permissions): the reason.
    Unchecked(String),
}

/// Moves the outbox (or history) file at `path` aside to `<path>.corrupt-<UTC timestamp>`
/// (plus `-N` if that exists), after checking that it is damaged. Refuses
/// ([`OutboxError::RecoverRefused`]) a file another process has open, always, and a file that
/// opens cleanly or could not be checked unless `force` is set.
pub fn recover(path: &Path, force: bool) -> Result<Recovered, OutboxError> {
    let refuse = |reason: String, hint: &str| OutboxError::RecoverRefused {
        path: path.to_path_buf(),
        reason,
        hint: hint.to_owned(),
    };
    if let Err(e) = std::fs::metadata(path) {
        return Err(refuse(
            format!("cannot read it: {e}"),
            "check the path (the outbox is <data_dir>/outbox.redb, the history <data_dir>/history.redb)",
        ));
    }
    // The lock is taken before redb reads anything, so this detects a running daemon even on
    // a file it would reject as corrupt.
    if matches!(
        Database::builder().open_read_only(path),
        Err(DatabaseError::DatabaseAlreadyOpen)
    ) {
        return Err(refuse(
            "it is open in another process (a running vigil?)".into(),
            "stop that process first; a file in use is never moved, not even with --force",
        ));
    }
    let finding = match probe(path) {
        Probe::Damaged(detail) => detail,
        Probe::Clean(n) if force => {
            tracing::warn!(outbox = %path.display(), entries = n, "moving an outbox that opens cleanly because --force was given");
            format!("it opens cleanly ({n} undelivered alerts) but --force was given")
        }
        Probe::Clean(n) => {
            return Err(refuse(
                format!("it opens cleanly and holds {n} undelivered alerts"),
                "it is not corrupt: start vigil and it delivers them; to set it aside anyway (its alerts \
                 are then not delivered), add --force",
            ));
        }
        Probe::Unchecked(detail) if force => {
            format!("it could not be checked ({detail}) but --force was given")
        }
        Probe::Unchecked(detail) => {
            return Err(refuse(
                format!("it could not be checked ({detail})"),
                "free some space next to it and try again, or add --force if you are sure it must be set aside",
            ));
        }
    };
    let moved_to = move_aside(path)?;
    tracing::warn!(from = %path.display(), to = %moved_to.display(), finding, "outbox file moved aside; starting empty");
    Ok(Recovered { moved_to, finding })
}

/// Renames `path` to the first free `<path>.corrupt-<stamp>[-N]`.
fn move_aside(path: &Path) -> Result<PathBuf, OutboxError> {
    let stamp = jiff::Timestamp::now().strftime("%Y%m%dT%H%M%SZ").to_string();
    let base = format!("{}.corrupt-{stamp}", path.display());
    let mut target = PathBuf::from(&base);
    let mut n = 1;
    while target.exists() {
        target = PathBuf::from(format!("{base}-{n}"));
        n += 1;
    }
    std::fs::rename(path, &target).map_err(|source| OutboxError::Recover {
        path: path.to_path_buf(),
        target: target.clone(),
        source,
    })?;
    Ok(target)
}

/// Checks a copy of `path` the way [`super::Outbox::open`] checks a file: verified open, then
/// every header parsed.
fn probe(path: &Path) -> Probe {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".recover-check-{}", std::process::id()));
    let copy = PathBuf::from(name);
    if let Err(e) = std::fs::copy(path, &copy) {
        let _ = std::fs::remove_file(&copy);
        return Probe::Unchecked(format!("copying it to {} failed: {e}", copy.display()));
    }
    let outcome = {
        let (builder, _) = store::builder();
        match builder.create(&copy) {
            Ok(db) => match store::load(&db, &copy) {
                Ok(loaded) => Probe::Clean(loaded.entries),
                Err(e) => Probe::Damaged(e.to_string()),
            },
            Err(DatabaseError::Storage(redb::StorageError::Io(io)))
                if matches!(
                    io.kind(),
                    std::io::ErrorKind::StorageFull
                        | std::io::ErrorKind::QuotaExceeded
                        | std::io::ErrorKind::PermissionDenied
                        | std::io::ErrorKind::ReadOnlyFilesystem
                        | std::io::ErrorKind::OutOfMemory
                ) =>
            {
                Probe::Unchecked(format!("checking the copy failed: {io}"))
            }
            Err(e) => Probe::Damaged(e.to_string()),
        }
    };
    if let Err(e) = std::fs::remove_file(&copy) {
        tracing::warn!(copy = %copy.display(), error = %e, "cannot remove the copy made for the check; delete it by hand");
    }
    outcome
}

/// Files next to the outbox at `path` that [`recover`] moved aside (`<name>.corrupt-*`), with
/// their size and, where they can still be read, their number of undelivered alerts. Sorted by
/// name, i.e. by when they were moved.
pub fn moved_aside(path: &Path) -> Vec<MovedAside> {
    let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return Vec::new();
    };
    let prefix = format!("{name}.corrupt-");
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<MovedAside> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .map(|e| {
            let path = e.path();
            MovedAside {
                bytes: e.metadata().map_or(0, |m| m.len()),
                entries: count_entries(&path),
                path,
            }
        })
        .collect();
    found.sort_by(|a, b| a.path.cmp(&b.path));
    found
}

/// Entries of an outbox file without changing it; `None` when it cannot be read.
fn count_entries(path: &Path) -> Option<u64> {
    // A read-only open does not verify the file, and redb may panic on a damaged one rather
    // than return an error; a file set aside as corrupt must not take the daemon down with it.
    let read_only = std::panic::catch_unwind(|| match Database::builder().open_read_only(path) {
        Ok(db) => {
            let txn = db.begin_read().ok()?;
            let headers = txn.open_table(HEADERS).ok()?;
            Some(Some(headers.len().ok()?))
        }
        // Not shut down cleanly (e.g. moved with --force after a crash): only a writable open
        // repairs it, so count on a checked copy instead.
        Err(DatabaseError::RepairAborted) => Some(None),
        Err(_) => None,
    });
    match read_only {
        Ok(Some(Some(n))) => Some(n),
        Ok(Some(None)) => match probe(path) {
            Probe::Clean(n) => Some(n),
            Probe::Damaged(_) | Probe::Unchecked(_) => None,
        },
        Ok(None) | Err(_) => None,
    }
}
