//! `vigil media fetch|verify`: the test media listed in `testdata/media.toml`.

use crate::paths;
use anyhow::{Context, Result};
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;
use vigil_assets::{FetchOptions, MediaManifest, fetch, verify};

/// Media sub-commands.
#[derive(Debug, Subcommand)]
pub enum MediaCmd {
    /// Fetch every media asset and verify its digest.
    Fetch(MediaArgs),
    /// Verify what is in place; non-zero exit if anything is missing or corrupt.
    Verify(MediaArgs),
}

/// Common arguments.
#[derive(Debug, clap::Args)]
pub struct MediaArgs {
    /// The manifest.
    #[arg(long, default_value = "testdata/media.toml")]
    manifest: PathBuf,
    /// Destination; default `$VIGIL_TESTDATA` or `.cache/testdata`.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Mirror tried first; default `$VIGIL_MEDIA_MIRROR` or `../shared/testdata`.
    #[arg(long)]
    mirror: Option<PathBuf>,
}

/// Runs a media sub-command.
pub fn run(cmd: MediaCmd) -> Result<ExitCode> {
    let (args, fetching) = match cmd {
        MediaCmd::Fetch(a) => (a, true),
        MediaCmd::Verify(a) => (a, false),
    };
    let text = std::fs::read_to_string(&args.manifest)
        .with_context(|| format!("reading {}", args.manifest.display()))?;
    let manifest =
        MediaManifest::from_toml(&args.manifest.display().to_string(), &text).map_err(anyhow::Error::msg)?;
    let opts = FetchOptions {
        dest_dir: args.dir.unwrap_or_else(paths::media_dir),
        mirror: Some(args.mirror.unwrap_or_else(paths::media_mirror)),
        cache_dir: paths::download_cache(),
        progress: true,
    };
    let mut bad = 0;
    for a in &manifest.assets {
        if fetching {
            if let Err(e) = fetch(a, &opts) {
                eprintln!("error: {e}");
                bad += 1;
            }
        } else {
            match verify(a, &opts.dest_dir) {
                Ok(true) => println!("{}: ok", a.name),
                Ok(false) => {
                    bad += 1;
                    println!("{}: missing (fix: vigil media fetch)", a.name);
                }
                Err(actual) => {
                    bad += 1;
                    println!("{}: corrupt (digest {actual}; fix: vigil media fetch)", a.name);
                }
            }
        }
    }
    Ok(if bad == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
