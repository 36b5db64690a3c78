//! The log, captured as text: the writer of a plain-text `tracing` subscriber, for tests that
//! assert what is (and is never) logged.

use std::sync::{Arc, Mutex};

/// Everything a subscriber made by [`Capture::subscriber`] wrote; clones share the buffer.
#[derive(Clone, Default)]
pub struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capture {
    /// A plain-text subscriber (no colours) logging `level` and above into this capture.
    pub fn subscriber(&self, level: tracing::Level) -> impl tracing::Subscriber + Send + Sync + 'static {
        let writer = self.clone();
        tracing_subscriber::fmt()
            .with_max_level(level)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish()
    }

    /// Everything logged so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }
}

/// Runs `f` with `level` and above captured (this thread only); returns its result and the log.
pub fn logged<T>(level: tracing::Level, f: impl FnOnce() -> T) -> (T, String) {
    let capture = Capture::default();
    let out = tracing::subscriber::with_default(capture.subscriber(level), f);
    (out, capture.text())
}
