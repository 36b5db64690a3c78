//! JSON Lines file sink with size-based rotation.
//!
//! One CloudEvent per line, `fdatasync` before the ack (so "delivered to the file" means "on
//! disk"). When the next line would take the file past `max_bytes`, `alerts.jsonl` becomes
//! `alerts.jsonl.1`, `.1` becomes `.2`, … and the oldest beyond `keep` is deleted — this sink
//! is the only place that deletes alert data, by explicit operator choice of `keep`.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{ConfigError, SinkError};
use crate::event::Event;
use crate::sink::Sink;

/// `[sink.sink.file]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// File to append to, e.g. `/var/lib/vigil/alerts.jsonl`.
    pub path: PathBuf,
    /// Rotate before the file would exceed this size. Default 64 MiB.
    #[serde(default = "default_max_bytes")]
    pub max_bytes: u64,
    /// Rotated files kept (`.1` … `.keep`). Default 5.
    #[serde(default = "default_keep")]
    pub keep: u32,
    /// `fdatasync` every line before acknowledging. Default true.
    #[serde(default = "default_true")]
    pub fsync: bool,
}

fn default_max_bytes() -> u64 {
    64 << 20
}
fn default_keep() -> u32 {
    5
}
fn default_true() -> bool {
    true
}

impl FileConfig {
    /// Defaults for `path`.
    pub fn with_path(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            max_bytes: default_max_bytes(),
            keep: default_keep(),
            fsync: true,
        }
    }
}

/// Open file and its current size.
struct Open {
    file: File,
    len: u64,
}

/// Appends events to a JSONL file; see the module docs.
#[derive(Debug)]
pub struct FileSink {
    name: String,
    config: FileConfig,
    /// Taken by the blocking task during a write, put back after.
    open: Option<OpenFile>,
}

#[derive(Debug)]
struct OpenFile(File, u64);

impl FileSink {
    /// Validates the config; opens nothing yet.
    pub fn new(name: &str, config: FileConfig) -> Result<Self, ConfigError> {
        if config.max_bytes == 0 {
            return Err(ConfigError::Invalid {
                sink: name.into(),
                message: "max_bytes must be > 0".into(),
            });
        }
        Ok(Self {
            name: name.into(),
            config,
            open: None,
        })
    }
}

/// `path.N` for rotation slot `n`.
fn slot(path: &Path, n: u32) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(format!(".{n}"));
    PathBuf::from(s)
}

fn open(path: &Path) -> std::io::Result<Open> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let file = OpenOptions::new().create(true).append(true).open(path)?;
    let len = file.metadata()?.len();
    Ok(Open { file, len })
}

fn rotate(path: &Path, keep: u32) -> std::io::Result<()> {
    if keep == 0 {
        return std::fs::remove_file(path);
    }
    let oldest = slot(path, keep);
    if oldest.exists() {
        std::fs::remove_file(&oldest)?;
    }
    for n in (1..keep).rev() {
        let from = slot(path, n);
        if from.exists() {
            std::fs::rename(&from, slot(path, n + 1))?;
        }
    }
    std::fs::rename(path, slot(path, 1))
}

/// Appends one line, rotating first when needed. Pure file logic, run on the blocking pool.
fn append(config: &FileConfig, current: Option<OpenFile>, body: &[u8]) -> std::io::Result<OpenFile> {
    let mut o = match current {
        Some(OpenFile(file, len)) => Open { file, len },
        None => open(&config.path)?,
    };
    let line_len = body.len() as u64 + 1;
    if o.len > 0 && o.len + line_len > config.max_bytes {
        drop(o);
        rotate(&config.path, config.keep)?;
        o = open(&config.path)?;
    }
    let mut line = Vec::with_capacity(body.len() + 1);
    line.extend_from_slice(body);
    line.push(b'\n');
    o.file.write_all(&line)?;
    if config.fsync {
        o.file.sync_data()?;
    }
    Ok(OpenFile(o.file, o.len + line_len))
}

impl Sink for FileSink {
    async fn publish(&mut self, event: &Event) -> Result<(), SinkError> {
        let config = self.config.clone();
        let current = self.open.take();
        let body = event.body.clone();
        let result = tokio::task::spawn_blocking(move || append(&config, current, &body))
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r.map_err(|e| e.to_string()));
        match result {
            Ok(open) => {
                self.open = Some(open);
                Ok(())
            }
            Err(detail) => Err(SinkError::Publish {
                sink: self.name.clone(),
                detail: format!("{}: {detail}", self.config.path.display()),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotates_by_size_and_keeps_n_files() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("a.jsonl");
        let config = FileConfig {
            path: path.clone(),
            max_bytes: 20,
            keep: 2,
            fsync: false,
        };
        let mut cur = None;
        for i in 0..7 {
            // 8 bytes + newline = 9 bytes per line: two lines per 20-byte file.
            cur = Some(append(&config, cur, format!("line-{i:03}").as_bytes()).expect("append"));
        }
        let read = |p: PathBuf| std::fs::read_to_string(p).expect("read");
        assert_eq!(read(path.clone()), "line-006\n");
        assert_eq!(read(slot(&path, 1)), "line-004\nline-005\n");
        assert_eq!(read(slot(&path, 2)), "line-002\nline-003\n");
        assert!(!slot(&path, 3).exists());
    }
}
