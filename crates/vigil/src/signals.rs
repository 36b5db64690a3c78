//! Ctrl-C / SIGTERM → a stop flag, SIGHUP → a reload flag; the main loop polls both, so
//! shutdown is explicit and bounded and a reload runs on the main thread.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Flags set by signal handlers.
#[derive(Debug, Clone)]
pub struct Signals {
    /// SIGINT or SIGTERM arrived.
    pub stop: Arc<AtomicBool>,
    /// SIGHUP arrived (cleared by whoever handles it).
    pub reload: Arc<AtomicBool>,
}

/// Installs the handlers once and returns the flags they set.
pub fn install() -> Signals {
    let flags = Signals {
        stop: Arc::new(AtomicBool::new(false)),
        reload: Arc::new(AtomicBool::new(false)),
    };
    let f = flags.clone();
    // A small dedicated runtime thread waits for the signals; the hot path never sees it.
    let _ = std::thread::Builder::new().name("signals".into()).spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
            return;
        };
        rt.block_on(async {
            use tokio::signal::unix::{SignalKind, signal};
            let (Ok(mut term), Ok(mut hup)) = (signal(SignalKind::terminate()), signal(SignalKind::hangup()))
            else {
                return;
            };
            loop {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => break,
                    _ = term.recv() => break,
                    _ = hup.recv() => f.reload.store(true, Ordering::Relaxed),
                }
            }
            f.stop.store(true, Ordering::Relaxed);
        });
    });
    flags
}
