//! `vigil` — the Vigil command-line tool and daemon.
//!
//! This crate only wires: it parses arguments, sets up logging, and calls into the stage crates
//! (`vigil-assets` for fetching, `vigil-infer` for models, …). Each sub-command lives in its own
//! file under `cmd/`.

mod cmd;
mod daemon;
mod logging;
mod paths;
mod pipeline;
mod signals;

use clap::{Parser, Subcommand};

/// Video analytics for surveillance streams: detection, plates, watchlists, alerts.
#[derive(Debug, Parser)]
#[command(name = "vigil", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Model manifests and files: list, fetch and verify.
    #[command(subcommand)]
    Models(cmd::models::ModelsCmd),
    /// Test media: fetch and verify.
    #[command(subcommand)]
    Media(cmd::media::MediaCmd),
    /// Run an object detector on image files and print what it finds.
    Detect(cmd::detect::DetectArgs),
    /// Validate a pipeline file without starting anything.
    Check(cmd::run::CheckArgs),
    /// Run a pipeline.
    Run(cmd::run::RunArgs),
    /// Serve files or stills as looping RTSP test cameras on 127.0.0.1.
    Camsim(cmd::camsim::CamsimArgs),
    /// Measurements that are not criterion benches.
    #[command(subcommand)]
    Bench(cmd::bench::BenchCmd),
    /// Alert outbox maintenance.
    #[command(subcommand)]
    Outbox(cmd::outbox::OutboxCmd),
    /// Run the demo: test camera + demo pipeline + JSONL alerts.
    Demo(cmd::demo::DemoArgs),
    /// Measure plate reading on labelled crops or scenes.
    #[command(subcommand)]
    Eval(cmd::eval::EvalCmd),
    /// The plate read log (`[plates.read_log]`): look up where and when a known plate was read.
    #[command(subcommand)]
    Reads(cmd::reads::ReadsCmd),
    /// Check an audit log's hash chain (`<data_dir>/api-audit.jsonl` or a watchlist store's
    /// `audit.jsonl`); exit 1 and name the first broken line when it was tampered with.
    AuditVerify {
        /// The audit file.
        file: std::path::PathBuf,
        /// A head recorded earlier outside this host (`SEQ:SHA256`, printed by this command and
        /// logged by the daemon as `audit anchor`); repeatable. Catches a chain rewritten or cut
        /// short after that point, which the chain alone cannot.
        #[arg(long = "anchor")]
        anchors: Vec<String>,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // The daemon's `[log]` table picks the log format, which is fixed once logging starts.
    let log = match &cli.command {
        Command::Run(a) => logging::peek(&a.file),
        Command::Demo(a) => logging::peek(&a.pipeline),
        _ => None,
    };
    logging::init(log.as_ref());
    let result = match cli.command {
        Command::Models(c) => cmd::models::run(c),
        Command::Media(c) => cmd::media::run(c),
        Command::Detect(a) => cmd::detect::run(a),
        Command::Eval(c) => cmd::eval::run(c),
        Command::Check(a) => cmd::run::check(a),
        Command::Run(a) => cmd::run::run(a),
        Command::Demo(a) => cmd::demo::run(a),
        Command::Outbox(c) => cmd::outbox::run(c),
        Command::Camsim(a) => cmd::camsim::run(a),
        Command::Bench(c) => cmd::bench::run(c),
        Command::Reads(c) => cmd::reads::run(c),
        Command::AuditVerify { file, anchors } => audit_verify(&file, &anchors),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// `vigil audit-verify FILE [--anchor SEQ:SHA256]…`: API query logs and watchlist audit logs
/// share the chain format (`seq` + `prev_sha256` of the previous line).
fn audit_verify(file: &std::path::Path, anchors: &[String]) -> anyhow::Result<std::process::ExitCode> {
    let anchors = anchors
        .iter()
        .map(|a| a.parse::<daemon::query_audit::ChainHead>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(anyhow::Error::msg)?;
    match daemon::query_audit::verify_anchored(file, &anchors) {
        Ok(head) => {
            println!(
                "{}: {} record(s), chain intact{}; head {head}",
                file.display(),
                head.records,
                if anchors.is_empty() { "" } else { ", anchors match" }
            );
            Ok(std::process::ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("{e}");
            Ok(std::process::ExitCode::FAILURE)
        }
    }
}
