//! Recovery from a corrupt outbox file: move it aside, never delete it.
//!
//! `vigil outbox recover <path>` calls [`recover`]; the next start creates an empty outbox.
//! The moved file keeps whatever could still be salvaged by hand (redb's own tools, or a
//! newer vigil), and its name says when it was set aside.

use std::path::{Path, PathBuf};

use crate::error::OutboxError;

/// Renames `path` to `<path>.corrupt-<UTC timestamp>` (plus `-N` if that exists) and returns
/// the new path. The outbox must not be open.
pub fn recover(path: &Path) -> Result<PathBuf, OutboxError> {
    let stamp = jiff::Timestamp::now().strftime("%Y%m%dT%H%M%SZ").to_string();
    let base = format!("{}.corrupt-{stamp}", path.display());
    let mut target = PathBuf::from(&base);
    let mut n = 1;
    while target.exists() {
        target = PathBuf::from(format!("{base}-{n}"));
        n += 1;
    }
    std::fs::rename(path, &target).map_err(|source| OutboxError::Recover {
        path: path.to_path_buf(),
        target: target.clone(),
        source,
    })?;
    tracing::warn!(from = %path.display(), to = %target.display(), "outbox file moved aside; starting empty");
    Ok(target)
}
