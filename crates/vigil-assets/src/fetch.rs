//! The fetch loop: check what is there, try each source in order, verify, move into place.

use crate::asset::{Asset, AssetKind};
use crate::digest::{file_sha256, tree_sha256};
use crate::sources::{self, SourceError};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use vigil_core::model::Source;

/// Where fetching looks and writes.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Destination directory (e.g. `models/` or `.cache/testdata/`).
    pub dest_dir: PathBuf,
    /// Local mirror directory used by [`Source::Mirror`]; `None` skips mirror sources.
    pub mirror: Option<PathBuf>,
    /// Scratch space for downloaded wheels and packages (e.g. `.cache/downloads/`).
    pub cache_dir: PathBuf,
    /// Print one progress line per step to stderr.
    pub progress: bool,
}

/// What [`fetch`] did for one asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchOutcome {
    /// The file was already there with the right hash.
    AlreadyPresent,
    /// The file was fetched from the source with this description.
    Fetched(String),
}

/// Why an asset could not be put in place.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Every source failed; the message lists each one's reason.
    #[error("could not fetch '{name}' to {dest}:\n{reasons}fix: {hint}")]
    AllSourcesFailed {
        /// Asset name.
        name: String,
        /// Destination path.
        dest: String,
        /// One line per source tried.
        reasons: String,
        /// What the operator can do.
        hint: String,
    },
    /// A local file operation failed.
    #[error("'{name}': {context}: {source}")]
    Io {
        /// Asset name.
        name: String,
        /// What was being done.
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// Checks the asset in `dir` against its hash: `Ok(true)` when present and intact, `Ok(false)`
/// when absent, `Err` with the actual digest when present but different (corrupt or outdated).
pub fn verify(asset: &Asset, dir: &Path) -> Result<bool, String> {
    let dest = asset.dest(dir);
    if !dest.exists() {
        return Ok(false);
    }
    let actual = digest_of(asset.kind, &dest).map_err(|e| format!("cannot read {}: {e}", dest.display()))?;
    if actual == asset.sha256 {
        Ok(true)
    } else {
        Err(actual)
    }
}

fn digest_of(kind: AssetKind, path: &Path) -> std::io::Result<String> {
    match kind {
        AssetKind::File => file_sha256(path),
        AssetKind::Dir => tree_sha256(path),
    }
}

/// Puts `asset` in `opts.dest_dir`, fetching it if absent or corrupt.
///
/// A present file with the wrong hash is reported and replaced; a source whose bytes do not
/// match the hash is rejected (never moved into place) and the next source is tried.
pub fn fetch(asset: &Asset, opts: &FetchOptions) -> Result<FetchOutcome, FetchError> {
    let dest = asset.dest(&opts.dest_dir);
    let io_err = |context: String| {
        let name = asset.name.clone();
        move |source| FetchError::Io {
            name,
            context,
            source,
        }
    };
    match verify(asset, &opts.dest_dir) {
        Ok(true) => {
            say(opts, &format!("{}: ok ({})", asset.name, dest.display()));
            return Ok(FetchOutcome::AlreadyPresent);
        }
        Ok(false) => {}
        Err(actual) => say(
            opts,
            &format!(
                "{}: {} is corrupt or outdated (sha256 {actual}, expected {}); fetching again",
                asset.name,
                dest.display(),
                asset.sha256
            ),
        ),
    }
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent).map_err(io_err(format!("creating {}", parent.display())))?;
    }
    let part = part_path(&dest);
    let mut reasons = String::new();
    for source in &asset.sources {
        let what = describe(source);
        say(opts, &format!("{}: trying {what}", asset.name));
        remove_any(&part);
        let result = sources::get(source, asset, &part, opts).and_then(|()| {
            let actual = digest_of(asset.kind, &part).map_err(SourceError::Io)?;
            if actual == asset.sha256 {
                Ok(())
            } else {
                Err(SourceError::Mismatch {
                    expected: asset.sha256.clone(),
                    actual,
                })
            }
        });
        match result {
            Ok(()) => {
                remove_any(&dest);
                std::fs::rename(&part, &dest).map_err(io_err(format!("moving into {}", dest.display())))?;
                say(
                    opts,
                    &format!("{}: verified sha256, saved {}", asset.name, dest.display()),
                );
                return Ok(FetchOutcome::Fetched(what));
            }
            Err(e) => {
                remove_any(&part);
                say(opts, &format!("{}: {what}: {e}", asset.name));
                let _ = writeln!(reasons, "  - {what}: {e}");
            }
        }
    }
    Err(FetchError::AllSourcesFailed {
        name: asset.name.clone(),
        dest: dest.display().to_string(),
        reasons,
        hint: "set VIGIL_MODEL_MIRROR / VIGIL_MEDIA_MIRROR to a directory holding the file, or check pip/apt/network \
               access, then run `make setup` again"
            .into(),
    })
}

fn part_path(dest: &Path) -> PathBuf {
    let mut s = dest.as_os_str().to_owned();
    s.push(".part");
    PathBuf::from(s)
}

fn remove_any(p: &Path) {
    if p.is_dir() {
        let _ = std::fs::remove_dir_all(p);
    } else {
        let _ = std::fs::remove_file(p);
    }
}

fn describe(source: &Source) -> String {
    match source {
        Source::Mirror { path } => format!("mirror file {path}"),
        Source::Wheel {
            package,
            version,
            member,
        } => format!("wheel {package}=={version} member {member}"),
        Source::Deb { package, member } => format!("Debian package {package} member {member}"),
        Source::Url { url } => format!("url {url}"),
    }
}

fn say(opts: &FetchOptions, line: &str) {
    tracing::debug!("{line}");
    if opts.progress {
        eprintln!("[fetch] {line}");
    }
}
