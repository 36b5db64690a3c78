//! `vigil outbox recover PATH [--force]`: move a corrupt outbox (or history) file aside, never
//! delete it, so the daemon can start with an empty one; the old file stays for inspection or
//! manual replay.
//!
//! The file is checked first (on a copy, so the check cannot alter it): one a running daemon
//! holds open is never moved, one that opens cleanly only with `--force`, since moving a healthy
//! outbox strands its undelivered alerts.

use anyhow::Result;
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;

/// Outbox sub-commands.
#[derive(Debug, Subcommand)]
pub enum OutboxCmd {
    /// Rename a corrupt outbox file to `<path>.corrupt-<UTC time>` and report where it went.
    /// Refuses a file another process has open, and one that opens cleanly (unless --force).
    Recover {
        /// The outbox file (`<data_dir>/outbox.redb`, or `<data_dir>/history.redb`).
        path: PathBuf,
        /// Move the file even if it opens cleanly or could not be checked (its undelivered
        /// alerts are then not delivered). Never moves a file that is in use.
        #[arg(long)]
        force: bool,
    },
}

/// Runs an outbox sub-command.
pub fn run(cmd: OutboxCmd) -> Result<ExitCode> {
    let OutboxCmd::Recover { path, force } = cmd;
    let done = vigil_alert::recover(&path, force)?;
    println!(
        "moved {} to {} ({}); the next start creates an empty file",
        path.display(),
        done.moved_to.display(),
        done.finding
    );
    Ok(ExitCode::SUCCESS)
}
