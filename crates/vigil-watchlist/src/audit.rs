//! Append-only, hash-chained audit log of watchlist changes (JSON Lines).
//!
//! Each line is one [`AuditRecord`]: who, when, from where, what (action, list, plate, counts),
//! its 1-based `seq`, and `prev_sha256`, the SHA-256 of the previous line's bytes (64 zeros on
//! the first line). [`verify`] walks the file and reports the first line where the chain
//! breaks: an edited line no longer hashes to what its successor recorded; a deleted, inserted
//! or moved line breaks `seq` and the chain.
//!
//! The chain cannot protect the *last* line on its own (nothing follows it), nor stop someone
//! who rewrites the whole tail. Anchor [`AuditLog::head`] outside the file (publish it with
//! each change, keep it in the database) and check it with [`verify`]'s returned head.
//!
//! Each append is one `write` of a whole line followed by `fsync`, so a crash leaves at most
//! one incomplete last line; [`AuditLog::open`] refuses to append after one (fix by hand).

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// `prev_sha256` of the first line.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who made a change, when, and from where. `at` is passed in — there is no hidden clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeContext {
    /// User name or API token name (never the token's secret).
    pub who: String,
    /// Where the request came from, e.g. `"10.1.2.3:51234"` or `"cli"`.
    pub source: String,
    /// When the change was made.
    pub at: Timestamp,
}

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    /// A whole list was replaced (import).
    ReplaceList,
    /// One entry was added.
    AddEntry,
    /// One entry was removed.
    RemoveEntry,
    /// A change logged before it was committed failed to commit; the list is unchanged.
    Aborted,
}

/// Entry counts around a change.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeCounts {
    /// Entries before.
    pub before: usize,
    /// Entries after.
    pub after: usize,
    /// Keys present after but not before.
    pub added: usize,
    /// Keys present before but not after.
    pub removed: usize,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditRecord {
    /// 1-based line number; makes deletions and reordering visible at a glance.
    pub seq: u64,
    /// When.
    pub at: Timestamp,
    /// Who.
    pub who: String,
    /// From where.
    pub source: String,
    /// What.
    pub action: AuditAction,
    /// Which list.
    pub list: String,
    /// The plate's text for single-entry changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plate: Option<String>,
    /// Entry counts.
    pub counts: ChangeCounts,
    /// SHA-256 (hex) of the previous line's bytes, without its newline.
    pub prev_sha256: String,
}

/// Audit log failures.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The file could not be read or written.
    #[error("audit log {path}: {action} failed: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What was being done.
        action: &'static str,
        /// The OS error.
        source: std::io::Error,
    },
    /// The chain is broken at `line` (1-based).
    #[error("audit log broken at line {line}: {reason}")]
    Broken {
        /// First line that does not verify.
        line: u64,
        /// What is wrong.
        reason: String,
    },
    /// The last line has no newline: a crash during an append.
    #[error(
        "audit log {path}: line {line} is incomplete (crash while writing?); inspect it, remove the partial line, then run verify"
    )]
    Incomplete {
        /// The file.
        path: PathBuf,
        /// The incomplete line.
        line: u64,
    },
}

/// Result of a successful [`verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Number of lines.
    pub lines: u64,
    /// SHA-256 of the last line ([`GENESIS`] for an empty log): compare with an external anchor.
    pub head: String,
}

/// An open audit log, positioned for appending.
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    file: File,
    head: String,
    next_seq: u64,
}

impl AuditLog {
    /// Opens (creating if missing) and verifies the log, so a broken chain is noticed before
    /// anything is appended to it.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, AuditError> {
        let path = path.into();
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(&path)
            .map_err(io_err(&path, "open"))?;
        let Verified { lines, head } = verify_inner(&file, &path)?;
        Ok(Self {
            path,
            file,
            head,
            next_seq: lines + 1,
        })
    }

    /// Appends one record (filling in `seq` and `prev_sha256`) and syncs it to disk.
    pub fn append(
        &mut self,
        ctx: &ChangeContext,
        action: AuditAction,
        list: &str,
        plate: Option<&str>,
        counts: ChangeCounts,
    ) -> Result<AuditRecord, AuditError> {
        let record = AuditRecord {
            seq: self.next_seq,
            at: ctx.at,
            who: ctx.who.clone(),
            source: ctx.source.clone(),
            action,
            list: list.into(),
            plate: plate.map(Into::into),
            counts,
            prev_sha256: self.head.clone(),
        };
        let mut line =
            serde_json::to_string(&record).map_err(|e| io_err(&self.path, "serialise")(e.into()))?;
        let head = sha256_hex(line.as_bytes());
        line.push('\n');
        // One write per line: with O_APPEND the line lands whole or (on a crash) as a tail
        // that `open` detects.
        self.file
            .write_all(line.as_bytes())
            .map_err(io_err(&self.path, "append"))?;
        self.file.sync_data().map_err(io_err(&self.path, "fsync"))?;
        self.head = head;
        self.next_seq += 1;
        Ok(record)
    }

    /// SHA-256 of the last line written ([`GENESIS`] when empty): anchor it externally.
    pub fn head(&self) -> &str {
        &self.head
    }

    /// Records in the log (the last record's `seq`), to go with [`AuditLog::head`] in an anchor.
    pub fn records(&self) -> u64 {
        self.next_seq - 1
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Verifies the log at `path`; see the module documentation.
pub fn verify(path: &Path) -> Result<Verified, AuditError> {
    let file = File::open(path).map_err(io_err(path, "open"))?;
    verify_inner(&file, path)
}

fn verify_inner(file: &File, path: &Path) -> Result<Verified, AuditError> {
    verify_reader(BufReader::new(file), path)
}

/// Verifies a log read from `reader`; `path` only names it in errors.
pub fn verify_reader(mut reader: impl BufRead, path: &Path) -> Result<Verified, AuditError> {
    let mut head = GENESIS.to_string();
    let mut line_no: u64 = 0;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = reader
            .by_ref()
            .read_until(b'\n', &mut buf)
            .map_err(io_err(path, "read"))?;
        if n == 0 {
            return Ok(Verified { lines: line_no, head });
        }
        line_no += 1;
        let Some(line) = buf.strip_suffix(b"\n") else {
            return Err(AuditError::Incomplete {
                path: path.into(),
                line: line_no,
            });
        };
        let record: AuditRecord = serde_json::from_slice(line).map_err(|e| AuditError::Broken {
            line: line_no,
            reason: format!("not an audit record: {e}"),
        })?;
        if record.seq != line_no {
            let reason = format!(
                "seq is {}, expected {line_no}: lines were deleted, inserted or reordered before it",
                record.seq
            );
            return Err(AuditError::Broken {
                line: line_no,
                reason,
            });
        }
        if record.prev_sha256 != head {
            // seq is in order, so no line is missing: the previous line's bytes changed (or
            // this line's prev_sha256 did).
            let prev = line_no - 1;
            let reason = format!(
                "line {line_no} records a prev_sha256 that does not match line {prev}: line {prev} was altered, or a line after it was removed and the rest renumbered"
            );
            return Err(AuditError::Broken {
                line: prev.max(1),
                reason,
            });
        }
        head = sha256_hex(line);
    }
}

fn io_err(path: &Path, action: &'static str) -> impl FnOnce(std::io::Error) -> AuditError + use<> {
    let path = path.to_path_buf();
    move |source| AuditError::Io { path, action, source }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> ChangeContext {
        ChangeContext {
            who: "alice".into(),
            source: "10.0.0.7:5000".into(),
            at: Timestamp::UNIX_EPOCH,
        }
    }

    fn log_with(lines: usize) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("audit.jsonl");
        let mut log = AuditLog::open(&path).expect("open");
        for i in 0..lines {
            let counts = ChangeCounts {
                before: i,
                after: i + 1,
                added: 1,
                removed: 0,
            };
            log.append(
                &ctx(),
                AuditAction::AddEntry,
                "stolen",
                Some(&format!("京A1000{i}")),
                counts,
            )
            .expect("append");
        }
        (dir, path)
    }

    fn lines(path: &Path) -> Vec<String> {
        std::fs::read_to_string(path)
            .expect("read")
            .lines()
            .map(String::from)
            .collect()
    }

    fn write(path: &Path, lines: &[String]) {
        std::fs::write(path, lines.iter().map(|l| format!("{l}\n")).collect::<String>()).expect("write");
    }

    fn broken_line(path: &Path) -> u64 {
        match verify(path) {
            Err(AuditError::Broken { line, .. }) => line,
            other => panic!("expected a broken chain, got {other:?}"),
        }
    }

    #[test]
    fn intact_log_verifies_and_reopens_with_the_same_head() {
        let (_dir, path) = log_with(4);
        let v = verify(&path).expect("intact");
        assert_eq!(v.lines, 4);
        let mut log = AuditLog::open(&path).expect("reopen");
        assert_eq!(log.head(), v.head);
        let rec = log
            .append(
                &ctx(),
                AuditAction::RemoveEntry,
                "stolen",
                None,
                ChangeCounts::default(),
            )
            .expect("append");
        assert_eq!(rec.seq, 5);
        assert_eq!(rec.prev_sha256, v.head);
        assert_eq!(verify(&path).expect("still intact").lines, 5);
    }

    #[test]
    fn edited_line_is_reported() {
        let (_dir, path) = log_with(4);
        let mut l = lines(&path);
        l[1] = l[1].replace("alice", "mallory");
        write(&path, &l);
        assert_eq!(broken_line(&path), 2);
    }

    #[test]
    fn deleted_line_is_reported() {
        let (_dir, path) = log_with(4);
        let mut l = lines(&path);
        l.remove(2);
        write(&path, &l);
        assert_eq!(broken_line(&path), 3);
    }

    #[test]
    fn reordered_lines_are_reported() {
        let (_dir, path) = log_with(4);
        let mut l = lines(&path);
        l.swap(1, 2);
        write(&path, &l);
        assert_eq!(broken_line(&path), 2);
    }

    #[test]
    fn renumbered_deletion_is_still_caught_by_the_chain() {
        // Deleting line 2 and fixing up seq numbers by hand: the chain still breaks.
        let (_dir, path) = log_with(4);
        let mut l = lines(&path);
        l.remove(1);
        for (i, line) in l.iter_mut().enumerate() {
            let mut rec: AuditRecord = serde_json::from_str(line).expect("record");
            rec.seq = i as u64 + 1;
            *line = serde_json::to_string(&rec).expect("json");
        }
        write(&path, &l);
        assert_eq!(
            broken_line(&path),
            1,
            "line 2 now follows line 1 but records old line 2's hash"
        );
    }

    #[test]
    fn tampered_last_line_changes_the_head() {
        let (_dir, path) = log_with(3);
        let anchor = verify(&path).expect("intact").head;
        let mut l = lines(&path);
        l[2] = l[2].replace("alice", "mallory");
        write(&path, &l);
        assert_ne!(verify(&path).expect("chain alone cannot see it").head, anchor);
    }

    #[test]
    fn incomplete_last_line_blocks_appending() {
        let (_dir, path) = log_with(2);
        let mut f = OpenOptions::new().append(true).open(&path).expect("open");
        f.write_all(b"{\"seq\":3").expect("partial");
        assert!(matches!(
            AuditLog::open(&path),
            Err(AuditError::Incomplete { line: 3, .. })
        ));
    }
}
