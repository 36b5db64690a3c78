//! Append-only, hash-chained log of API queries of alert history and watchlists
//! (`<data_dir>/api-audit.jsonl`): who (token name), when, what (method, path and query), from
//! where. Each line carries the SHA-256 of the previous line, as the watchlist audit log does,
//! so an edited or deleted line breaks the chain (`vigil audit verify FILE` checks it).

use sha2::{Digest, Sha256};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// `prev_sha256` of the first line.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

struct Inner {
    file: File,
    prev: String,
    seq: u64,
}

/// The open log; cheap to clone.
#[derive(Clone)]
pub struct QueryAudit {
    path: PathBuf,
    inner: Arc<Mutex<Inner>>,
}

fn sha(line: &str) -> String {
    hex::encode(Sha256::digest(line.as_bytes()))
}

impl QueryAudit {
    /// Opens (creating) the log and finds the chain's head.
    pub fn open(path: &Path) -> Result<Self, String> {
        let (prev, seq) = match File::open(path) {
            Ok(f) => {
                let mut last = None;
                let mut n = 0;
                for line in BufReader::new(f).lines() {
                    let line = line.map_err(|e| format!("{}: {e}", path.display()))?;
                    n += 1;
                    last = Some(line);
                }
                (last.map_or_else(|| GENESIS.to_string(), |l| sha(&l)), n)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (GENESIS.to_string(), 0),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Self {
            path: path.to_path_buf(),
            inner: Arc::new(Mutex::new(Inner { file, prev, seq })),
        })
    }

    /// The log file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The chain's current head, to be anchored outside the file.
    pub fn head(&self) -> ChainHead {
        let g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        ChainHead {
            records: g.seq,
            sha256: g.prev.clone(),
        }
    }

    /// Appends one record (one write + fsync).
    pub fn append(&self, who: &str, source: &str, what: &str) -> Result<(), String> {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let rec = serde_json::json!({
            "seq": g.seq + 1,
            "at": jiff::Timestamp::now().to_string(),
            "who": who,
            "source": source,
            "what": what,
            "prev_sha256": g.prev,
        });
        let line = rec.to_string();
        let res = g
            .file
            .write_all(format!("{line}\n").as_bytes())
            .and_then(|()| g.file.sync_data());
        res.map_err(|e| format!("{}: {e}", self.path.display()))?;
        g.prev = sha(&line);
        g.seq += 1;
        Ok(())
    }
}

/// Where a verified chain ends: anchor this outside the host (the daemon logs it, see
/// [`QueryAudit::head`]) and check it later with [`verify_anchored`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    /// Records in the file (the last record's `seq`).
    pub records: u64,
    /// SHA-256 of the last line ([`GENESIS`] when empty).
    pub sha256: String,
}

impl std::fmt::Display for ChainHead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.records, self.sha256)
    }
}

impl std::str::FromStr for ChainHead {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "anchor '{s}' is not SEQ:SHA256 (as printed by `vigil audit-verify` and logged as `audit anchor`)"
            )
        };
        let (seq, sha) = s.split_once(':').ok_or_else(bad)?;
        let records = seq.trim().parse().map_err(|_| bad())?;
        let sha256 = sha.trim().to_ascii_lowercase();
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        Ok(Self { records, sha256 })
    }
}

/// Checks the chain of a log file (`Err` names the first broken line) and that every anchor (a head recorded earlier, outside this file) is still
/// in it: a chain rewritten from some line on, or cut short, is internally consistent but no
/// longer holds the anchored line.
pub fn verify_anchored(path: &Path, anchors: &[ChainHead]) -> Result<ChainHead, String> {
    let f = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut prev = GENESIS.to_string();
    let mut n = 0u64;
    for (i, line) in BufReader::new(f).lines().enumerate() {
        let line = line.map_err(|e| format!("{}: {e}", path.display()))?;
        let v: serde_json::Value = serde_json::from_str(&line)
            .map_err(|e| format!("{}:{}: not JSON: {e}", path.display(), i + 1))?;
        if v["prev_sha256"].as_str() != Some(prev.as_str()) || v["seq"].as_u64() != Some(i as u64 + 1) {
            return Err(format!(
                "{}:{}: the chain is broken here (a line before it was edited, removed or inserted)",
                path.display(),
                i + 1
            ));
        }
        prev = sha(&line);
        n += 1;
        for a in anchors.iter().filter(|a| a.records == n) {
            if a.sha256 != prev {
                return Err(format!(
                    "{}:{n}: line {n} does not match the anchor {a}: the log was rewritten from this line or earlier",
                    path.display()
                ));
            }
        }
    }
    if let Some(a) = anchors.iter().find(|a| a.records > n) {
        return Err(format!(
            "{}: the log has {n} record(s) but the anchor {a} names record {}: it was cut short",
            path.display(),
            a.records
        ));
    }
    if let Some(a) = anchors.iter().find(|a| a.records == 0 && a.sha256 != GENESIS) {
        return Err(format!(
            "{}: anchor {a} names record 0, whose hash is all zeros",
            path.display()
        ));
    }
    Ok(ChainHead {
        records: n,
        sha256: prev,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_chain_across_reopen_and_tampering_is_found() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("a.jsonl");
        let a = QueryAudit::open(&p).expect("open");
        a.append("ops", "127.0.0.1:1", "GET /api/v1/alerts")
            .expect("append");
        a.append("ops", "127.0.0.1:1", "GET /api/v1/watchlists")
            .expect("append");
        drop(a);
        let a = QueryAudit::open(&p).expect("reopen");
        a.append("console", "10.0.0.2:5", "GET /api/v1/alerts?camera=gate")
            .expect("append");
        let head = verify_anchored(&p, &[]).expect("intact");
        assert_eq!(head.records, 3);
        assert_eq!(head, a.head());
        assert_eq!(head.to_string().parse::<ChainHead>(), Ok(head.clone()));
        let text = std::fs::read_to_string(&p).expect("read");
        std::fs::write(&p, text.replacen("\"ops\"", "\"nobody\"", 1)).expect("tamper");
        let e = verify_anchored(&p, &[]).expect_err("tampered");
        assert!(e.contains(":2:"), "{e}");
    }

    #[test]
    fn anchors_catch_a_rewritten_or_truncated_chain() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("a.jsonl");
        let a = QueryAudit::open(&p).expect("open");
        for i in 0..4 {
            a.append("ops", "127.0.0.1:1", &format!("GET /api/v1/alerts?page={i}"))
                .expect("append");
        }
        let at2 = {
            let lines: Vec<String> = std::fs::read_to_string(&p)
                .expect("read")
                .lines()
                .map(String::from)
                .collect();
            ChainHead {
                records: 2,
                sha256: sha(&lines[1]),
            }
        };
        let head = a.head();
        drop(a);
        assert_eq!(
            verify_anchored(&p, &[at2.clone(), head.clone()]),
            Ok(head.clone())
        );

        // Cut after line 3: still a valid chain, but the anchored head is gone.
        let text = std::fs::read_to_string(&p).expect("read");
        let three: String = text.lines().take(3).map(|l| format!("{l}\n")).collect();
        std::fs::write(&p, &three).expect("truncate");
        assert_eq!(verify_anchored(&p, &[]).map(|h| h.records), Ok(3));
        let e = verify_anchored(&p, std::slice::from_ref(&head)).expect_err("truncated");
        assert!(e.contains("cut short"), "{e}");

        // Rewrite everything from line 2 on with a consistent new chain.
        std::fs::write(
            &p,
            text.lines().next().map(|l| format!("{l}\n")).unwrap_or_default(),
        )
        .expect("cut");
        let forged = QueryAudit::open(&p).expect("reopen");
        forged
            .append("ops", "127.0.0.1:1", "GET /api/v1/watchlists")
            .expect("append");
        drop(forged);
        assert!(
            verify_anchored(&p, &[]).is_ok(),
            "a rewritten chain is internally consistent"
        );
        let e = verify_anchored(&p, &[at2]).expect_err("rewritten");
        assert!(e.contains(":2: line 2 does not match the anchor"), "{e}");

        assert!("12:abc".parse::<ChainHead>().is_err());
        assert!("x:".parse::<ChainHead>().is_err());
    }
}
