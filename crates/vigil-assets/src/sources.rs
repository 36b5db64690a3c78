//! One function per source kind; each writes the asset's bytes to a `.part` path.
//!
//! External tools (`pip`, `apt-get`, `dpkg-deb`, `curl`) are used rather than HTTP clients
//! compiled in: they honour the machine's configured indexes, proxies and certificates, and keep
//! the dependency tree lean.

use crate::asset::{Asset, AssetKind};
use crate::fetch::FetchOptions;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;
use vigil_core::model::Source;

/// Why one source did not deliver.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The source is not configured or the file is not there.
    #[error("not available: {0}")]
    Unavailable(String),
    /// An external tool failed.
    #[error("`{tool}` failed: {detail}")]
    Tool {
        /// The command that failed.
        tool: String,
        /// Its exit status and the tail of its error output.
        detail: String,
    },
    /// The bytes arrived but their hash is wrong.
    #[error("sha256 mismatch: expected {expected}, got {actual} (corrupt source or outdated manifest)")]
    Mismatch {
        /// Hash from the manifest.
        expected: String,
        /// Hash of what arrived.
        actual: String,
    },
    /// Local I/O failed.
    #[error("{0}")]
    Io(#[from] io::Error),
}

pub(crate) fn get(
    source: &Source,
    asset: &Asset,
    part: &Path,
    opts: &FetchOptions,
) -> Result<(), SourceError> {
    match source {
        Source::Mirror { path } => mirror(opts.mirror.as_deref(), path, asset.kind, part),
        Source::Wheel {
            package,
            version,
            member,
        } => wheel(package, version, member, part, opts),
        Source::Deb { package, member } => deb(package, member, part, opts),
        Source::Url { url } => url_get(url, part, opts.progress),
    }
}

fn mirror(root: Option<&Path>, rel: &str, kind: AssetKind, part: &Path) -> Result<(), SourceError> {
    let root = root.ok_or_else(|| SourceError::Unavailable("no mirror directory configured".into()))?;
    let src = root.join(rel);
    match kind {
        AssetKind::File if src.is_file() => {
            std::fs::copy(&src, part)?;
            Ok(())
        }
        AssetKind::Dir if src.is_dir() => copy_tree(&src, part),
        _ => Err(SourceError::Unavailable(format!(
            "{} does not exist",
            src.display()
        ))),
    }
}

fn copy_tree(src: &Path, dst: &Path) -> Result<(), SourceError> {
    std::fs::create_dir_all(dst)?;
    for entry in std::fs::read_dir(src)? {
        let entry = entry?;
        let to = dst.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &to)?;
        } else {
            std::fs::copy(entry.path(), &to)?;
        }
    }
    Ok(())
}

fn run(cmd: &mut Command) -> Result<(), SourceError> {
    let tool = format!("{cmd:?}");
    let out = cmd.output().map_err(|e| SourceError::Tool {
        tool: tool.clone(),
        detail: e.to_string(),
    })?;
    if out.status.success() {
        return Ok(());
    }
    let err = String::from_utf8_lossy(&out.stderr);
    let tail: Vec<&str> = err.lines().rev().take(3).collect();
    let detail = format!(
        "{} — {}",
        out.status,
        tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
    );
    Err(SourceError::Tool { tool, detail })
}

/// Python's wheel file names use the distribution name with `-` replaced by `_`.
fn wheel_prefix(package: &str, version: &str) -> String {
    format!("{}-{version}-", package.replace('-', "_").to_lowercase())
}

fn find_with_prefix(dir: &Path, prefix: &str, suffix: &str) -> Option<PathBuf> {
    let entries = std::fs::read_dir(dir).ok()?;
    entries.filter_map(Result::ok).map(|e| e.path()).find(|p| {
        p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.to_lowercase().starts_with(prefix) && n.ends_with(suffix))
    })
}

fn wheel(
    package: &str,
    version: &str,
    member: &str,
    part: &Path,
    opts: &FetchOptions,
) -> Result<(), SourceError> {
    let dir = opts.cache_dir.join("wheels");
    std::fs::create_dir_all(&dir)?;
    let prefix = wheel_prefix(package, version);
    let whl = match find_with_prefix(&dir, &prefix, ".whl") {
        Some(p) => p,
        None => {
            let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
            let mut cmd = Command::new(python);
            cmd.args([
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--disable-pip-version-check",
            ]);
            if !opts.progress {
                cmd.arg("-q");
            }
            cmd.arg("-d").arg(&dir).arg(format!("{package}=={version}"));
            run(&mut cmd)?;
            find_with_prefix(&dir, &prefix, ".whl").ok_or_else(|| {
                SourceError::Unavailable(format!("pip saved no {prefix}*.whl in {}", dir.display()))
            })?
        }
    };
    extract_zip_member(&whl, member, part)
}

fn extract_zip_member(archive: &Path, member: &str, part: &Path) -> Result<(), SourceError> {
    let f = File::open(archive)?;
    let mut zip = zip::ZipArchive::new(f).map_err(|e| {
        SourceError::Unavailable(format!("{} is not a readable wheel: {e}", archive.display()))
    })?;
    let mut entry = zip
        .by_name(member)
        .map_err(|e| SourceError::Unavailable(format!("{member} not in {}: {e}", archive.display())))?;
    let mut out = File::create(part)?;
    io::copy(&mut entry, &mut out)?;
    out.sync_all()?;
    Ok(())
}

fn deb(package: &str, member: &str, part: &Path, opts: &FetchOptions) -> Result<(), SourceError> {
    let dir = opts.cache_dir.join("debs");
    std::fs::create_dir_all(&dir)?;
    let prefix = format!("{}_", package.to_lowercase());
    let pkg = match find_with_prefix(&dir, &prefix, ".deb") {
        Some(p) => p,
        None => {
            run(Command::new("apt-get")
                .arg("download")
                .arg(package)
                .current_dir(&dir))?;
            find_with_prefix(&dir, &prefix, ".deb")
                .ok_or_else(|| SourceError::Unavailable(format!("apt-get saved no {prefix}*.deb")))?
        }
    };
    let unpack = dir.join(format!("{package}.unpacked"));
    if !unpack.exists() {
        run(Command::new("dpkg-deb").arg("-x").arg(&pkg).arg(&unpack))?;
    }
    let src = unpack.join(member.trim_start_matches("./").trim_start_matches('/'));
    if !src.is_file() {
        return Err(SourceError::Unavailable(format!(
            "{member} not in {}",
            pkg.display()
        )));
    }
    std::fs::copy(src, part)?;
    Ok(())
}

fn url_get(url: &str, part: &Path, progress: bool) -> Result<(), SourceError> {
    let mut cmd = Command::new("curl");
    cmd.args([
        "-fL",
        "--retry",
        "2",
        "--connect-timeout",
        "15",
        "--max-time",
        "900",
    ]);
    cmd.arg(if progress { "--progress-bar" } else { "-sS" });
    cmd.arg("-o").arg(part).arg(url);
    run(&mut cmd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wheel_prefix_follows_python_naming() {
        assert_eq!(
            wheel_prefix("rapidocr-onnxruntime", "1.4.4"),
            "rapidocr_onnxruntime-1.4.4-"
        );
    }
}
