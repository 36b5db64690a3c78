//! Opening the outbox's redb file and reading its bookkeeping back.
//!
//! Every open verifies the whole file ([`redb::Builder::set_check_integrity_on_open`]): a page
//! whose checksum does not match (a flipped bit, a block the disk returned wrong) is reported at
//! start, naming the file, instead of surfacing later as a garbled event or a panic. The cost is
//! one read of the file, at start and when the outbox reopens itself after an I/O error.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use redb::{Database, DatabaseError, ReadableDatabase, ReadableTable, TableError};

use super::txn::parse_header;
use super::{HEADERS, Header, META, NEXT_SEQ, Seq};
use crate::error::OutboxError;

/// Opens the redb database behind an outbox; called at open and again whenever the outbox
/// reopens its file after an I/O error. A seam only so the unit tests can put a failing
/// storage backend under the database; production uses [`file_opener`].
pub(super) type Opener = Box<dyn Fn() -> Result<Opened, DatabaseError> + Send + Sync>;

/// A freshly opened database.
pub(super) struct Opened {
    pub db: Database,
    /// The newest commit failed its checksum and redb fell back to the one before it.
    pub rolled_back: bool,
}

/// What the outbox file was when the outbox opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileAtOpen {
    /// It did not exist; an empty outbox was created.
    Created,
    /// An existing outbox was opened.
    Existing,
    /// The file existed but was empty (0 bytes); it was initialised as a new outbox. Whatever
    /// it held before it was truncated is gone, which is why the open logs a warning.
    Empty,
}

impl FileAtOpen {
    /// Looks at `path` before it is opened.
    pub(super) fn probe(path: &Path) -> Self {
        match std::fs::metadata(path) {
            Ok(m) if m.len() == 0 => Self::Empty,
            Ok(_) => Self::Existing,
            Err(_) => Self::Created,
        }
    }
}

/// The production opener: the file at `path`, created if missing, verified on open.
pub(super) fn file_opener(path: &Path) -> Opener {
    let path = path.to_path_buf();
    Box::new(move || {
        let (builder, rolled_back) = builder();
        let db = builder.create(&path)?;
        Ok(Opened {
            db,
            rolled_back: rolled_back.load(Ordering::Relaxed),
        })
    })
}

/// The settings every outbox open uses, and a flag the repair sets when it had to fall back.
pub(super) fn builder() -> (redb::Builder, Arc<AtomicBool>) {
    let rolled_back = Arc::new(AtomicBool::new(false));
    let flag = rolled_back.clone();
    let mut b = Database::builder();
    b.set_cache_size(crate::REDB_CACHE_BYTES)
        .set_check_integrity_on_open(true)
        // redb calls this at fixed points of its repair; 0.3 is the one reached only when the
        // newest commit failed verification and the previous one is used instead. Best effort:
        // used for a warning, never for a decision.
        .set_repair_callback(move |session| {
            if (session.progress() - 0.3).abs() < 0.05 {
                flag.store(true, Ordering::Relaxed);
            }
        });
    (b, rolled_back)
}

/// Counters rebuilt from the file.
#[derive(Debug, Default)]
pub(super) struct Loaded {
    pub next_seq: Seq,
    pub entries: u64,
    pub bytes: u64,
    pub pending: HashMap<String, u64>,
}

/// Reads the counters of the outbox in `db`. A file without outbox tables (a fresh file, or a
/// history file given to `vigil outbox recover`) reads as empty.
pub(super) fn load(db: &Database, path: &Path) -> Result<Loaded, OutboxError> {
    let st = |e: redb::Error| storage(path, e);
    let txn = db.begin_read().map_err(|e| st(e.into()))?;
    let mut loaded = Loaded {
        next_seq: 1,
        ..Default::default()
    };
    match txn.open_table(META) {
        Ok(meta) => {
            if let Some(next) = meta.get(NEXT_SEQ).map_err(|e| st(e.into()))? {
                loaded.next_seq = next.value();
            }
        }
        Err(TableError::TableDoesNotExist(_)) => {}
        Err(e) => return Err(st(e.into())),
    }
    let headers = match txn.open_table(HEADERS) {
        Ok(t) => t,
        Err(TableError::TableDoesNotExist(_)) => return Ok(loaded),
        Err(e) => return Err(st(e.into())),
    };
    for row in headers.iter().map_err(|e| st(e.into()))? {
        let (seq, value) = row.map_err(|e| st(e.into()))?;
        let header: Header = parse_header(path, seq.value(), value.value())?;
        loaded.entries += 1;
        loaded.bytes += value.value().len() as u64 + header.body_len;
        loaded.next_seq = loaded.next_seq.max(seq.value() + 1);
        for sink in header.sinks {
            *loaded.pending.entry(sink).or_default() += 1;
        }
    }
    Ok(loaded)
}

/// Which of `seqs` have a header in the file.
pub(super) fn stored(db: &Database, seqs: impl Iterator<Item = Seq>) -> Result<Vec<Seq>, redb::Error> {
    let txn = db.begin_read()?;
    let headers = txn.open_table(HEADERS)?;
    let mut found = Vec::new();
    for seq in seqs {
        if headers.get(seq)?.is_some() {
            found.push(seq);
        }
    }
    Ok(found)
}

/// Maps a redb error to the outbox's error, naming the file.
pub(super) fn storage(path: &Path, e: redb::Error) -> OutboxError {
    match e {
        redb::Error::Corrupted(detail) => OutboxError::Corrupt {
            path: path.to_path_buf(),
            detail,
        },
        other => OutboxError::Storage {
            path: path.to_path_buf(),
            detail: other.to_string(),
        },
    }
}

/// True for errors of the file or the disk under it (I/O, the latched "previous I/O error",
/// a database closed after one, a failed checksum), after which the outbox keeps alerts in
/// memory and reopens the file. False for errors of one value, which retrying cannot fix.
pub(super) fn is_storage_failure(e: &redb::Error) -> bool {
    !matches!(e, redb::Error::ValueTooLarge(_))
}

/// Sorts open failures into "locked", "corrupt" (recoverable by moving the file aside) and
/// other storage errors (permissions, disk), which moving the file would not fix.
pub(super) fn classify_open_error(path: &Path, e: DatabaseError) -> OutboxError {
    let path: PathBuf = path.to_path_buf();
    match e {
        DatabaseError::DatabaseAlreadyOpen => OutboxError::Locked { path },
        DatabaseError::UpgradeRequired(v) => OutboxError::Corrupt {
            path,
            detail: format!("file format version {v} is not supported"),
        },
        DatabaseError::RepairAborted => OutboxError::Corrupt {
            path,
            detail: "repair aborted".into(),
        },
        DatabaseError::Storage(redb::StorageError::Corrupted(detail)) => {
            OutboxError::Corrupt { path, detail }
        }
        DatabaseError::Storage(redb::StorageError::Io(io))
            if matches!(
                io.kind(),
                std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof
            ) =>
        {
            OutboxError::Corrupt {
                path,
                detail: io.to_string(),
            }
        }
        other => OutboxError::Storage {
            path,
            detail: other.to_string(),
        },
    }
}
