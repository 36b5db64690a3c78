//! `vigil models list|fetch|verify`.

use crate::paths;
use anyhow::{Context, Result};
use clap::Subcommand;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use vigil_assets::{FetchOptions, fetch, model_asset, verify};
use vigil_core::model::ModelManifest;

/// Model sub-commands.
#[derive(Debug, Subcommand)]
pub enum ModelsCmd {
    /// List the model manifests and whether each file is present and intact.
    List(DirArgs),
    /// Fetch every model (or the named ones) and verify its sha256.
    Fetch(FetchArgs),
    /// Verify the sha256 of every model file; non-zero exit if any is missing or corrupt.
    Verify(DirArgs),
}

/// Where the manifests are.
#[derive(Debug, clap::Args)]
pub struct DirArgs {
    /// Model directory (manifests and files); default `$VIGIL_MODEL_DIR` or `models`.
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

/// Arguments of `models fetch`.
#[derive(Debug, clap::Args)]
pub struct FetchArgs {
    #[command(flatten)]
    dir: DirArgs,
    /// Local mirror directory tried first; default `$VIGIL_MODEL_MIRROR` or `../shared/models`.
    #[arg(long)]
    mirror: Option<PathBuf>,
    /// Only these models (by manifest name).
    names: Vec<String>,
}

/// Reads every `*.toml` manifest in `dir`, sorted by file name.
pub fn read_manifests(dir: &Path) -> Result<Vec<ModelManifest>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| {
            format!(
                "reading model directory {} (fix: run from the project root or set VIGIL_MODEL_DIR)",
                dir.display()
            )
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            Ok(ModelManifest::from_toml(&p.display().to_string(), &text)?)
        })
        .collect()
}

/// Runs a models sub-command.
pub fn run(cmd: ModelsCmd) -> Result<ExitCode> {
    match cmd {
        ModelsCmd::List(a) => {
            let dir = a.dir.unwrap_or_else(paths::model_dir);
            for m in read_manifests(&dir)? {
                let state = match verify(&model_asset(&m), &dir) {
                    Ok(true) => "ok".to_string(),
                    Ok(false) => "missing".to_string(),
                    Err(actual) => format!("CORRUPT (sha256 {actual})"),
                };
                println!(
                    "{:<14} {:<10} {:<12} {:>10} B  {:<30} {state}",
                    m.name,
                    format!("{:?}", m.family),
                    m.licence,
                    m.size_bytes,
                    m.file
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        ModelsCmd::Verify(a) => {
            let dir = a.dir.unwrap_or_else(paths::model_dir);
            let mut bad = 0;
            for m in read_manifests(&dir)? {
                match verify(&model_asset(&m), &dir) {
                    Ok(true) => println!("{}: ok", m.name),
                    Ok(false) => {
                        bad += 1;
                        println!(
                            "{}: missing {} (fix: vigil models fetch)",
                            m.name,
                            dir.join(&m.file).display()
                        );
                    }
                    Err(actual) => {
                        bad += 1;
                        println!(
                            "{}: corrupt {} (sha256 {actual}, expected {}; fix: vigil models fetch)",
                            m.name,
                            dir.join(&m.file).display(),
                            m.sha256
                        );
                    }
                }
            }
            Ok(if bad == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        ModelsCmd::Fetch(a) => {
            let dir = a.dir.dir.unwrap_or_else(paths::model_dir);
            let opts = FetchOptions {
                dest_dir: dir.clone(),
                mirror: Some(a.mirror.unwrap_or_else(paths::model_mirror)),
                cache_dir: paths::download_cache(),
                progress: true,
            };
            let manifests = read_manifests(&dir)?;
            for n in &a.names {
                if !manifests.iter().any(|m| &m.name == n) {
                    anyhow::bail!(
                        "no model named '{n}' in {} (have: {})",
                        dir.display(),
                        manifests
                            .iter()
                            .map(|m| m.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                }
            }
            let mut failed = 0;
            for m in manifests
                .iter()
                .filter(|m| a.names.is_empty() || a.names.contains(&m.name))
            {
                if let Err(e) = fetch(&model_asset(m), &opts) {
                    eprintln!("error: {e}");
                    failed += 1;
                }
            }
            if failed > 0 {
                eprintln!("{failed} model(s) could not be fetched");
                return Ok(ExitCode::FAILURE);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
