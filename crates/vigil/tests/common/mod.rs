//! Helpers shared by the end-to-end tests of the `vigil` binary.
#![allow(dead_code)]

pub mod jetstream;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The repository root (where `vigil run` finds `models/`).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A child process killed and reaped when dropped.
pub struct Kill(pub Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A TCP port free right now on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Starts `vigil camsim` serving `media` at `mount` (port 0 = any) and returns it with the
/// stream URL it prints.
pub fn camsim(mount: &str, media: &Path, port: u16) -> (Kill, String) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["camsim", "--port", &port.to_string(), "--fps", "10"])
        .arg(format!("{mount}={}", media.display()))
        .stdout(Stdio::piped())
        .spawn()
        .expect("start vigil camsim");
    let out = c.stdout.take().expect("stdout");
    let guard = Kill(c);
    let mut line = String::new();
    BufReader::new(out)
        .read_line(&mut line)
        .expect("camsim prints its URL");
    let url = line
        .trim()
        .strip_prefix("serving ")
        .unwrap_or_else(|| panic!("unexpected camsim output: {line}"))
        .to_string();
    (guard, url)
}
