//! `vigil outbox recover PATH`: move a corrupt outbox aside (never delete it) so the daemon can
//! start with an empty one; the old file stays for inspection or manual replay.

use anyhow::Result;
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;

/// Outbox sub-commands.
#[derive(Debug, Subcommand)]
pub enum OutboxCmd {
    /// Rename a corrupt outbox file to `<path>.corrupt-<UTC time>` and report where it went.
    Recover {
        /// The outbox file (`<data_dir>/outbox.redb`).
        path: PathBuf,
    },
}

/// Runs an outbox sub-command.
pub fn run(cmd: OutboxCmd) -> Result<ExitCode> {
    let OutboxCmd::Recover { path } = cmd;
    let moved = vigil_alert::recover(&path)?;
    println!(
        "moved {} to {}; the next start creates an empty outbox",
        path.display(),
        moved.display()
    );
    Ok(ExitCode::SUCCESS)
}
