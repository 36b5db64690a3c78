//! The optional plate read log (`[plates.read_log]`, off by default): every voted read — one
//! per vehicle pass, hit or not — kept as an HMAC-SHA256 of its normalised text under a key
//! the pipeline file only points to, with the time, the camera, the read's confidence and the
//! plate colour. The text itself is never written. Without the key a hash cannot be turned back
//! into a plate (a plain SHA-256 could: the plate space is small enough to enumerate); with the
//! key, an investigator who already knows a plate can ask where and when it was read
//! (`vigil reads lookup`), and nothing else.
//!
//! **Store.** JSON lines in `<data_dir>/plate-reads/reads-YYYYMMDDTHH.jsonl`, one file per UTC
//! hour of the read's time (files 0600, directory 0700). Files rather than a database because
//! retention must *delete*: an expired hour is unlinked, and the hour that straddles the cutoff
//! is rewritten without its expired lines (temporary file, fsync, rename), so an expired hash
//! leaves no bytes behind in the store — a B-tree file would keep deleted rows in its free
//! pages. Plain files also let `vigil reads lookup` read while the daemon appends.
//!
//! **Retention.** [`ReadLog::prune`] takes `now` as an argument (the daemon passes the wall
//! clock once a minute; tests pass any time) and removes every entry older than
//! `now − retention_days`.

use crate::pipeline::plates_config::ReadLogConfig;
use hmac::{Hmac, KeyInit, Mac};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Shortest key accepted, in bytes (the HMAC-SHA256 block of security: 256 bits).
pub const KEY_MIN_BYTES: usize = 32;
/// Longest retention accepted, in days.
pub const MAX_RETENTION_DAYS: u32 = 3650;
/// One store file per this many seconds of read time.
const SEGMENT_S: i64 = 3600;
/// The fix shown with every key problem.
const KEY_FIX: &str = "fix: create a key with `head -c 32 /dev/urandom | base64 > /etc/vigil/read-log.key && chmod 600 /etc/vigil/read-log.key` and point key_file at it (or put such a value in the variable named by key_env)";

/// The store directory of a data directory.
pub fn dir_of(data_dir: &Path) -> PathBuf {
    data_dir.join("plate-reads")
}

/// The HMAC key. `Debug` prints `ReadLogKey(***)`; the bytes never leave this module except
/// into the MAC.
#[derive(Clone)]
pub struct ReadLogKey(Vec<u8>);

impl std::fmt::Debug for ReadLogKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReadLogKey(***)")
    }
}

impl ReadLogKey {
    /// Wraps key bytes (at least [`KEY_MIN_BYTES`]).
    pub fn new(bytes: Vec<u8>) -> Result<Self, String> {
        if bytes.len() < KEY_MIN_BYTES {
            return Err(format!(
                "the key has {} bytes; at least {KEY_MIN_BYTES} are needed\n  {KEY_FIX}",
                bytes.len()
            ));
        }
        Ok(Self(bytes))
    }

    /// Reads the key named by `cfg` (`key_file` or `key_env`, exactly one). A file's
    /// trailing line break is not part of the key. Errors name the file or variable, never
    /// the value.
    pub fn load(cfg: &ReadLogConfig) -> Result<Self, String> {
        let bytes = match (&cfg.key_file, &cfg.key_env) {
            (Some(_), Some(_)) => {
                return Err(
                    "set key_file or key_env, not both\n  fix: keep the one the deployment provides".into(),
                );
            }
            (None, None) => {
                return Err(format!(
                    "enabled = true needs a key: key_file or key_env (the key is never written in the pipeline file)\n  {KEY_FIX}"
                ));
            }
            (Some(path), None) => {
                let mut v = std::fs::read(path).map_err(|e| {
                    if e.kind() == std::io::ErrorKind::NotFound {
                        format!("key_file {} does not exist\n  {KEY_FIX}", path.display())
                    } else {
                        format!(
                            "cannot read key_file {}: {e}\n  fix: the daemon's user needs read access (and nobody else: chmod 600)",
                            path.display()
                        )
                    }
                })?;
                while v.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                    v.pop();
                }
                Self::new(v).map_err(|e| format!("key_file {}: {e}", path.display()))?
            }
            (None, Some(var)) => {
                use std::os::unix::ffi::OsStringExt;
                let v = std::env::var_os(var)
                    .ok_or_else(|| format!("key_env {var} is not set\n  {KEY_FIX}"))?
                    .into_vec();
                Self::new(v).map_err(|e| format!("key_env {var}: {e}"))?
            }
        };
        Ok(bytes)
    }

    /// HMAC-SHA256 of the normalised plate text, as lower-case hex: what the store keeps.
    pub fn hash_hex(&self, plate: &str) -> String {
        let text = vigil_plate::normalize_plate_text(plate);
        match <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0) {
            Ok(mut mac) => {
                mac.update(text.as_bytes());
                hex::encode(mac.finalize().into_bytes())
            }
            // HMAC accepts keys of any length; this arm cannot run. Should it, no hash of
            // the text is better than an unkeyed one.
            Err(_) => String::new(),
        }
    }
}

/// A warning when `key_file` is readable by group or others (anyone who can read the key can
/// test guessed plates against the log); `None` when private, unset or unreadable.
pub fn permission_warning(cfg: &ReadLogConfig) -> Option<String> {
    // The one check every secret file in Vigil gets (sink passwords, API tokens, TLS keys).
    vigil_core::secret_file::permission_warning("[plates.read_log] key_file", cfg.key_file.as_ref()?)
}

/// One stored read: no plate text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReadLogEntry {
    /// When the read was voted (frame time, RFC 3339, UTC).
    pub at: String,
    /// Camera id.
    pub camera: String,
    /// HMAC-SHA256 (hex) of the normalised plate text.
    pub hmac_sha256: String,
    /// The voted read's confidence, 0..1.
    pub confidence: f32,
    /// Plate background colour, when the reader knew it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub colour: Option<String>,
}

impl ReadLogEntry {
    fn time(&self) -> Option<Timestamp> {
        self.at.parse().ok()
    }
}

/// The writer: cheap to clone, shared by the analysis thread (appends), the prune loop and the
/// metrics.
#[derive(Clone)]
pub struct ReadLog {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    key: ReadLogKey,
    retention: SignedDuration,
    retention_days: u32,
    state: Mutex<State>,
}

struct State {
    /// The segment being appended to: its start (seconds) and handle.
    open: Option<(i64, File)>,
    /// Entries held in the store.
    entries: u64,
}

impl std::fmt::Debug for ReadLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadLog")
            .field("dir", &self.inner.dir)
            .field("retention_days", &self.inner.retention_days)
            .finish_non_exhaustive()
    }
}

/// Start (seconds since the epoch) of the segment holding time `t`.
fn segment_of(t: Timestamp) -> i64 {
    t.as_second().div_euclid(SEGMENT_S) * SEGMENT_S
}

/// `reads-YYYYMMDDTHH.jsonl` for a segment start.
fn segment_name(start: i64) -> String {
    let t = Timestamp::from_second(start).unwrap_or(Timestamp::UNIX_EPOCH);
    let d = t.to_zoned(jiff::tz::TimeZone::UTC).datetime();
    format!(
        "reads-{:04}{:02}{:02}T{:02}.jsonl",
        d.year(),
        d.month(),
        d.day(),
        d.hour()
    )
}

/// The segment start of a store file name; `None` for any other file.
fn parse_segment_name(name: &str) -> Option<i64> {
    let s = name.strip_prefix("reads-")?.strip_suffix(".jsonl")?;
    let b = s.as_bytes();
    if b.len() != 11 || b[8] != b'T' || !s[..8].bytes().chain(s[9..].bytes()).all(|c| c.is_ascii_digit()) {
        return None;
    }
    let text = format!("{}-{}-{}T{}:00:00Z", &s[..4], &s[4..6], &s[6..8], &s[9..]);
    text.parse::<Timestamp>().ok().map(|t| t.as_second())
}

/// The store's segment files, oldest first.
fn segments(dir: &Path) -> Result<Vec<(i64, PathBuf)>, String> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("{}: {e}", dir.display())),
    };
    let mut out = Vec::new();
    for e in rd {
        let e = e.map_err(|e| format!("{}: {e}", dir.display()))?;
        if let Some(start) = e.file_name().to_str().and_then(parse_segment_name) {
            out.push((start, e.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// Lines in a file (a last line without its newline counts).
fn count_lines(path: &Path) -> Result<u64, String> {
    let mut f = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut buf = vec![0u8; 64 * 1024];
    let (mut n, mut last) = (0u64, b'\n');
    loop {
        let k = f.read(&mut buf).map_err(|e| format!("{}: {e}", path.display()))?;
        if k == 0 {
            break;
        }
        n += buf[..k].iter().filter(|&&b| b == b'\n').count() as u64;
        last = buf[k - 1];
    }
    Ok(n + u64::from(last != b'\n'))
}

fn sync_dir(dir: &Path) -> Result<(), String> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| format!("{}: {e}", dir.display()))
}

impl ReadLog {
    /// Opens (creating) the store under `data_dir`, counts what it holds and prunes it at
    /// `now`.
    pub fn open(
        data_dir: &Path,
        key: ReadLogKey,
        retention_days: u32,
        now: Timestamp,
    ) -> Result<Self, String> {
        if retention_days == 0 || retention_days > MAX_RETENTION_DAYS {
            return Err(format!(
                "retention_days {retention_days} must be 1..={MAX_RETENTION_DAYS}"
            ));
        }
        let dir = dir_of(data_dir);
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let mut entries = 0;
        for (_, path) in segments(&dir)? {
            entries += count_lines(&path)?;
        }
        let log = Self {
            inner: Arc::new(Inner {
                dir,
                key,
                retention: SignedDuration::from_hours(24 * i64::from(retention_days)),
                retention_days,
                state: Mutex::new(State { open: None, entries }),
            }),
        };
        log.prune(now)?;
        Ok(log)
    }

    /// The store directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Entries held now.
    pub fn entries(&self) -> u64 {
        self.lock().entries
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Appends one voted read seen at `at` (one `write`, no fsync: a crash may lose the last
    /// lines, never corrupt earlier ones).
    pub fn record(
        &self,
        camera: &str,
        read: &vigil_core::plate::PlateRead,
        at: Timestamp,
    ) -> Result<(), String> {
        let entry = ReadLogEntry {
            at: at.to_string(),
            camera: camera.to_string(),
            hmac_sha256: self.inner.key.hash_hex(&read.text),
            confidence: read.confidence,
            colour: read.colour.clone(),
        };
        let mut line = serde_json::to_string(&entry).map_err(|e| e.to_string())?;
        line.push('\n');
        let seg = segment_of(at);
        let mut st = self.lock();
        let file = match &mut st.open {
            Some((s, f)) if *s == seg => f,
            slot => {
                let path = self.inner.dir.join(segment_name(seg));
                let f = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .mode(0o600)
                    .open(&path)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                &mut slot.insert((seg, f)).1
            }
        };
        file.write_all(line.as_bytes())
            .map_err(|e| format!("{}: {e}", self.inner.dir.display()))?;
        st.entries += 1;
        Ok(())
    }

    /// Deletes every entry older than `now − retention_days`: expired hour files are removed,
    /// the file straddling the cutoff is rewritten without its expired lines. Returns how
    /// many entries went, and logs it (counts and the cutoff, never an entry).
    pub fn prune(&self, now: Timestamp) -> Result<u64, String> {
        let cutoff = now.checked_sub(self.inner.retention).unwrap_or(Timestamp::MIN);
        let dir = &self.inner.dir;
        let mut st = self.lock();
        let (mut removed, mut files) = (0u64, 0u64);
        for (start, path) in segments(dir)? {
            if start + SEGMENT_S <= cutoff.as_second() {
                removed += count_lines(&path)?;
                if st.open.as_ref().is_some_and(|(s, _)| *s == start) {
                    st.open = None;
                }
                std::fs::remove_file(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                files += 1;
            } else if Timestamp::from_second(start).is_ok_and(|t| t < cutoff) {
                let dropped = rewrite_from(&path, cutoff)?;
                if dropped > 0 {
                    // The old handle points at the replaced file: appends must reopen.
                    if st.open.as_ref().is_some_and(|(s, _)| *s == start) {
                        st.open = None;
                    }
                    removed += dropped;
                }
            }
        }
        if removed > 0 || files > 0 {
            sync_dir(dir)?;
        }
        st.entries = st.entries.saturating_sub(removed);
        if removed > 0 {
            tracing::info!(
                store = %dir.display(), removed, files_deleted = files, held = st.entries,
                retention_days = self.inner.retention_days, cutoff = %cutoff,
                "pruned plate read log"
            );
        }
        Ok(removed)
    }
}

/// Rewrites `path` keeping the lines dated at or after `cutoff` (undatable lines go too);
/// returns how many lines were dropped. Nothing is written when none is.
fn rewrite_from(path: &Path, cutoff: Timestamp) -> Result<u64, String> {
    let err = |e: std::io::Error| format!("{}: {e}", path.display());
    let f = File::open(path).map_err(err)?;
    let (mut kept, mut dropped) = (Vec::new(), 0u64);
    for line in BufReader::new(f).lines() {
        let line = line.map_err(err)?;
        let t = serde_json::from_str::<ReadLogEntry>(&line)
            .ok()
            .and_then(|e| e.time());
        match t {
            Some(t) if t >= cutoff => kept.push(line),
            _ => dropped += 1,
        }
    }
    if dropped == 0 {
        return Ok(0);
    }
    if kept.is_empty() {
        std::fs::remove_file(path).map_err(err)?;
        return Ok(dropped);
    }
    let tmp = path.with_extension("jsonl.tmp");
    let write = || -> std::io::Result<()> {
        let mut f = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        for l in &kept {
            f.write_all(l.as_bytes())?;
            f.write_all(b"\n")?;
        }
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(err)?;
    Ok(dropped)
}

/// What a lookup found.
#[derive(Debug, Default)]
pub struct Lookup {
    /// Matching entries, oldest first.
    pub entries: Vec<ReadLogEntry>,
    /// Lines that could not be read (a line being written, or damage).
    pub unreadable: u64,
}

/// Every entry of the store in `dir` whose hash is `hmac_hex`, read at `since` or later and
/// before `until`. Reads the files directly, so it runs beside a daemon that appends.
pub fn lookup(
    dir: &Path,
    hmac_hex: &str,
    since: Option<Timestamp>,
    until: Option<Timestamp>,
) -> Result<Lookup, String> {
    let mut out = Lookup::default();
    for (_, path) in segments(dir)? {
        let f = match File::open(&path) {
            Ok(f) => f,
            // Pruned between listing and opening.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        for line in BufReader::new(f).lines() {
            let line = line.map_err(|e| format!("{}: {e}", path.display()))?;
            let Ok(e) = serde_json::from_str::<ReadLogEntry>(&line) else {
                out.unreadable += 1;
                continue;
            };
            if e.hmac_sha256 != hmac_hex {
                continue;
            }
            let t = e.time();
            let in_range = since.is_none_or(|s| t.is_some_and(|t| t >= s))
                && until.is_none_or(|u| t.is_some_and(|t| t < u));
            if in_range {
                out.entries.push(e);
            }
        }
    }
    out.entries.sort_by_key(|e| e.time());
    Ok(out)
}

/// Opens the read log of `cfg` when `[plates.read_log]` is enabled; `None` when it is off.
pub fn open_per_config(cfg: &crate::pipeline::PipelineConfig) -> anyhow::Result<Option<ReadLog>> {
    let rl = &cfg.plates.read_log;
    if !rl.enabled {
        return Ok(None);
    }
    let key = ReadLogKey::load(rl).map_err(|e| anyhow::anyhow!("[plates.read_log] {e}"))?;
    if let Some(w) = permission_warning(rl) {
        tracing::warn!("{w}");
    }
    let log = ReadLog::open(&cfg.node.data_dir, key, rl.retention_days, Timestamp::now())
        .map_err(|e| anyhow::anyhow!("[plates.read_log] {e}"))?;
    tracing::info!(store = %log.dir().display(), entries = log.entries(), retention_days = rl.retention_days, "plate read log open (keyed hashes only)");
    Ok(Some(log))
}

#[cfg(test)]
#[path = "read_log_tests.rs"]
mod tests;
