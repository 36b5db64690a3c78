//! Ctrl-C / SIGTERM → a flag the main loop polls, so shutdown is explicit and bounded.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Installs the handlers once and returns the flag they set.
pub fn install() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let f = flag.clone();
    // A small dedicated runtime thread waits for the signals; the hot path never sees it.
    let _ = std::thread::Builder::new().name("signals".into()).spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
            return;
        };
        rt.block_on(async {
            let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            else {
                return;
            };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {},
                _ = term.recv() => {},
            }
            f.store(true, Ordering::Relaxed);
        });
    });
    flag
}
