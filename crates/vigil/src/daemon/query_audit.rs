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

/// Checks the chain of a log file; `Err` names the first broken line.
pub fn verify(path: &Path) -> Result<u64, String> {
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
    }
    Ok(n)
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
        assert_eq!(verify(&p), Ok(3));
        let text = std::fs::read_to_string(&p).expect("read");
        std::fs::write(&p, text.replacen("\"ops\"", "\"nobody\"", 1)).expect("tamper");
        let e = verify(&p).expect_err("tampered");
        assert!(e.contains(":2:"), "{e}");
    }
}
