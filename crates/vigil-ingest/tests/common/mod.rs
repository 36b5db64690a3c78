//! Shared helpers of the ingest integration tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Finds a test media file: `$VIGIL_TESTDATA`, then `<workspace>/.cache/testdata`, then
/// `<workspace>/../shared/testdata`. Panics (test failure, never a skip) when none has it.
pub fn testdata(name: &str) -> PathBuf {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut dirs = Vec::new();
    if let Some(dir) = std::env::var_os("VIGIL_TESTDATA") {
        dirs.push(PathBuf::from(dir));
    }
    dirs.push(workspace.join(".cache/testdata"));
    dirs.push(workspace.join("../shared/testdata"));
    for dir in &dirs {
        let candidate = dir.join(name);
        if candidate.is_file() {
            return candidate.canonicalize().expect("canonical test media path");
        }
    }
    panic!(
        "test media `{name}` not found in {dirs:?}; run `make setup` to fetch the test data (or set VIGIL_TESTDATA)"
    );
}

/// Heavy tests (encoders, decoders, real time) run one at a time so that their timing
/// assertions hold on a small shared machine.
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Logs to the test output when `RUST_LOG` is set.
pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// Polls `cond` every 20 ms until it holds or `timeout` passes; returns whether it held.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A TCP port on 127.0.0.1 with nothing listening (bound, then released).
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind ephemeral port");
    l.local_addr().expect("local addr").port()
}
