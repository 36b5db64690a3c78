//! The redb transactions of the outbox: one function per operation, each one transaction.
//! Storage errors are returned as [`redb::Error`] so the caller can tell a failing disk
//! (hold and reopen) from bad content ([`OutboxError`]).

use std::path::Path;

use redb::{Database, Durability, ReadableDatabase, ReadableTable};

use super::health::Held;
use super::{BODIES, CURSORS, HEADERS, Header, META, NEXT_SEQ, Seq};
use crate::error::OutboxError;
use crate::event::Event;

/// What an acknowledgement changed in the file.
#[derive(Default)]
pub(super) struct AckOutcome {
    pub was_pending: bool,
    pub deleted: bool,
    pub freed: u64,
}

/// The error for an operation while the file is closed (its reopen failed).
pub(super) fn closed_error() -> redb::Error {
    redb::Error::DatabaseClosed
}

/// A failure of a read or an ack: of the storage (reopen and retry) or of the content.
pub(super) enum ReadError {
    Storage(redb::Error),
    Outbox(OutboxError),
}

pub(super) type AckError = ReadError;

impl<E: Into<redb::Error>> From<E> for ReadError {
    fn from(e: E) -> Self {
        Self::Storage(e.into())
    }
}

pub(super) fn create_tables(db: &Database) -> Result<(), redb::Error> {
    let txn = db.begin_write()?;
    txn.open_table(HEADERS)?;
    txn.open_table(BODIES)?;
    txn.open_table(CURSORS)?;
    txn.open_table(META)?;
    txn.commit()?;
    Ok(())
}

pub(super) fn write_entries(db: &Database, entries: &[Held]) -> Result<(), redb::Error> {
    write_entries_ref(db, &entries.iter().collect::<Vec<_>>())
}

/// Writes `entries` (ascending seqs) in one durable transaction.
pub(super) fn write_entries_ref(db: &Database, entries: &[&Held]) -> Result<(), redb::Error> {
    let Some(last) = entries.last() else {
        return Ok(());
    };
    let mut txn = db.begin_write()?;
    txn.set_durability(Durability::Immediate)?;
    {
        let mut headers = txn.open_table(HEADERS)?;
        let mut bodies = txn.open_table(BODIES)?;
        for e in entries {
            headers.insert(e.seq, e.header.as_slice())?;
            bodies.insert(e.seq, e.body.as_slice())?;
        }
        let mut meta = txn.open_table(META)?;
        let next = meta.get(NEXT_SEQ)?.map_or(0, |v| v.value()).max(last.seq + 1);
        meta.insert(NEXT_SEQ, next)?;
    }
    txn.commit()?;
    Ok(())
}

pub(super) fn read_next(
    db: &Database,
    path: &Path,
    sink: &str,
    after: Seq,
) -> Result<Option<Event>, ReadError> {
    let txn = db.begin_read()?;
    let headers = txn.open_table(HEADERS)?;
    for row in headers.range(after.saturating_add(1)..)? {
        let (seq, value) = row?;
        let header = parse_header(path, seq.value(), value.value()).map_err(ReadError::Outbox)?;
        if !header.sinks.iter().any(|s| s == sink) {
            continue;
        }
        let bodies = txn.open_table(BODIES)?;
        let body = bodies.get(seq.value())?.ok_or_else(|| {
            ReadError::Outbox(OutboxError::Corrupt {
                path: path.to_path_buf(),
                detail: format!("entry {} has a header but no body", seq.value()),
            })
        })?;
        return Ok(Some(Event {
            seq: seq.value(),
            meta: header.meta,
            enqueued_at_ms: header.enqueued_at_ms,
            body: body.value().to_vec(),
        }));
    }
    Ok(None)
}

/// Removes `sink` from entry `seq` in one durable transaction and moves its cursor.
pub(super) fn ack_txn(db: &Database, path: &Path, sink: &str, seq: Seq) -> Result<AckOutcome, AckError> {
    let mut txn = db.begin_write()?;
    txn.set_durability(Durability::Immediate)?;
    // Bytes the entry no longer takes: all of it when deleted, the shorter header otherwise.
    let mut outcome = AckOutcome::default();
    {
        let mut headers = txn.open_table(HEADERS)?;
        let header = match headers.get(seq)? {
            Some(v) => Some((
                parse_header(path, seq, v.value()).map_err(AckError::Outbox)?,
                v.value().len() as u64,
            )),
            None => None,
        };
        if let Some((mut header, header_len)) = header {
            let before = header.sinks.len();
            header.sinks.retain(|s| s != sink);
            outcome.was_pending = header.sinks.len() < before;
            if header.sinks.is_empty() {
                headers.remove(seq)?;
                txn.open_table(BODIES)?.remove(seq)?;
                outcome.freed = header_len + header.body_len;
                outcome.deleted = true;
            } else if outcome.was_pending {
                let bytes = serde_json::to_vec(&header).map_err(|e| {
                    AckError::Outbox(OutboxError::Encode {
                        id: header.meta.id.clone(),
                        detail: e.to_string(),
                    })
                })?;
                headers.insert(seq, bytes.as_slice())?;
                outcome.freed = header_len.saturating_sub(bytes.len() as u64);
            }
        }
        let mut cursors = txn.open_table(CURSORS)?;
        let current = cursors.get(sink)?.map_or(0, |v| v.value());
        if seq > current {
            cursors.insert(sink, seq)?;
        }
    }
    txn.commit()?;
    Ok(outcome)
}

pub(super) fn parse_header(path: &Path, seq: u64, bytes: &[u8]) -> Result<Header, OutboxError> {
    serde_json::from_slice(bytes).map_err(|e| OutboxError::Corrupt {
        path: path.to_path_buf(),
        detail: format!("entry {seq}: unreadable header: {e}"),
    })
}
