//! `vigil reads lookup`: where and when was a known plate read? The plate read log holds only
//! keyed hashes, so the only way from the log back to a plate is to bring the plate: this
//! command hashes it with the configured key and lists the matching entries. Each lookup is
//! appended to a hash-chained audit log (`<data_dir>/read-lookup-audit.jsonl`, checked by
//! `vigil audit-verify`) with the hash looked up, never the plate text.

use crate::daemon::query_audit::QueryAudit;
use crate::pipeline::{self, read_log};
use anyhow::{Context, Result};
use std::path::PathBuf;
use std::process::ExitCode;

/// Plate read log commands.
#[derive(Debug, clap::Subcommand)]
pub enum ReadsCmd {
    /// List the logged reads of one plate (time, camera, confidence) from the read log of a
    /// pipeline file (`[plates.read_log]`).
    Lookup(LookupArgs),
}

/// Arguments of `vigil reads lookup`.
#[derive(Debug, clap::Args)]
pub struct LookupArgs {
    /// Pipeline file: its `[plates.read_log]` key and its `[node] data_dir`.
    pub file: PathBuf,
    /// The plate, in any spelling the pipeline would normalise (`京A12345`, `京a·12345`).
    #[arg(long)]
    pub plate: String,
    /// Only reads at or after this time (RFC 3339, e.g. `2025-03-01T00:00:00Z`).
    #[arg(long)]
    pub since: Option<jiff::Timestamp>,
    /// Only reads before this time.
    #[arg(long)]
    pub until: Option<jiff::Timestamp>,
    /// One JSON object per match instead of text.
    #[arg(long)]
    pub json: bool,
    /// Who is asking, for the lookup audit log (default: `$USER`).
    #[arg(long)]
    pub who: Option<String>,
}

/// Runs a `reads` sub-command.
pub fn run(c: ReadsCmd) -> Result<ExitCode> {
    match c {
        ReadsCmd::Lookup(a) => lookup(a),
    }
}

fn lookup(a: LookupArgs) -> Result<ExitCode> {
    let (cfg, _) = pipeline::load(&a.file).map_err(anyhow::Error::msg)?;
    let rl = &cfg.plates.read_log;
    anyhow::ensure!(
        rl.enabled,
        "{}: read logging is off ([plates.read_log] enabled = false), so no read was kept\n  fix: nothing to look up; reads that hit no watchlist are not stored",
        a.file.display()
    );
    let key = read_log::ReadLogKey::load(rl).map_err(|e| anyhow::anyhow!("[plates.read_log] {e}"))?;
    anyhow::ensure!(
        !vigil_plate::normalize_plate_text(&a.plate).is_empty(),
        "--plate is empty once separators are removed"
    );
    let hash = key.hash_hex(&a.plate);
    let dir = read_log::dir_of(&cfg.node.data_dir);
    let found = read_log::lookup(&dir, &hash, a.since, a.until).map_err(anyhow::Error::msg)?;
    // Audit before answering: a lookup that cannot be recorded is not answered.
    let who = a
        .who
        .clone()
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "unknown".into());
    let what = format!(
        "reads lookup hmac_sha256={hash} since={} until={} matches={}",
        a.since.map(|t| t.to_string()).unwrap_or_default(),
        a.until.map(|t| t.to_string()).unwrap_or_default(),
        found.entries.len()
    );
    let audit_path = cfg.node.data_dir.join("read-lookup-audit.jsonl");
    QueryAudit::open(&audit_path)
        .and_then(|au| au.append(&who, "cli", &what))
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("recording the lookup in {}", audit_path.display()))?;
    for e in &found.entries {
        if a.json {
            println!("{}", serde_json::to_string(e)?);
        } else {
            println!(
                "{}  camera={}  confidence={:.2}{}",
                e.at,
                e.camera,
                e.confidence,
                e.colour
                    .as_ref()
                    .map(|c| format!("  colour={c}"))
                    .unwrap_or_default()
            );
        }
    }
    if found.unreadable > 0 {
        eprintln!(
            "note: {} line(s) of {} could not be read (a line being written, or damage)",
            found.unreadable,
            dir.display()
        );
    }
    eprintln!(
        "{} read(s) found in {} (kept {} day(s))",
        found.entries.len(),
        dir.display(),
        rl.retention_days
    );
    Ok(ExitCode::SUCCESS)
}
