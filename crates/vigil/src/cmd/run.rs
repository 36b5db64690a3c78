//! `vigil check FILE` and `vigil run FILE`.

use crate::paths;
use crate::pipeline::{self, Pipeline};
use anyhow::Result;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Arguments of `vigil check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Pipeline file.
    pub file: PathBuf,
}

/// Arguments of `vigil run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Pipeline file.
    pub file: PathBuf,
    /// Stop after this many seconds (default: run until Ctrl-C).
    #[arg(long)]
    pub seconds: Option<u64>,
}

/// Validates a pipeline file without starting anything.
pub fn check(a: CheckArgs) -> Result<ExitCode> {
    match pipeline::load(&a.file) {
        Ok((cfg, _)) => {
            println!(
                "{}: ok ({} camera(s), {} sink(s))",
                a.file.display(),
                cfg.cameras.len(),
                cfg.sinks.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("{e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// One readable line per alert.
pub fn print_alert(a: &vigil_core::alert::Alert) {
    let track = a
        .detection
        .track_id
        .map(|t| format!(" track {t}"))
        .unwrap_or_default();
    let label = a.detection.label.as_str();
    // Plate text only appears for alerts (watchlist hits, unknown vehicles), never for reads.
    let plate = a
        .plate
        .as_ref()
        .map(|p| format!(" plate={}", p.text))
        .unwrap_or_default();
    let hit = a
        .watch_match
        .as_ref()
        .map(|m| format!(" list={} match={:?} distance={:.2}", m.list, m.kind, m.distance))
        .unwrap_or_default();
    println!(
        "ALERT {} {} camera={} rule={} {}{}{}{}",
        a.time,
        a.rule.kind.as_str(),
        a.camera.id,
        a.rule.id,
        label,
        track,
        plate,
        hit
    );
}

/// Runs a pipeline until `seconds` pass or Ctrl-C / SIGTERM.
pub fn run_pipeline(
    cfg: &pipeline::PipelineConfig,
    camsim: Option<&str>,
    seconds: Option<u64>,
) -> Result<pipeline::RunSummary> {
    let p = Pipeline::start(cfg, &paths::model_dir(), camsim, print_alert)?;
    let stop = crate::signals::install();
    let start = Instant::now();
    let mut last_report = Instant::now();
    while !stop.load(std::sync::atomic::Ordering::Relaxed)
        && seconds.is_none_or(|s| start.elapsed() < Duration::from_secs(s))
    {
        std::thread::sleep(Duration::from_millis(200));
        if last_report.elapsed() > Duration::from_secs(10) {
            last_report = Instant::now();
            for s in p.camera_states() {
                eprintln!(
                    "[status] camera {} {:?} frames_out={} dropped={} reconnects={}",
                    s.camera, s.state, s.frames_out, s.frames_dropped, s.reconnects
                );
            }
        }
    }
    eprintln!("[vigil] stopping");
    Ok(p.stop(Duration::from_secs(5)))
}

/// `vigil run FILE`.
pub fn run(a: RunArgs) -> Result<ExitCode> {
    let (cfg, _) = pipeline::load(&a.file).map_err(anyhow::Error::msg)?;
    let summary = run_pipeline(&cfg, None, a.seconds)?;
    eprintln!(
        "[vigil] frames analysed: {:?}; alerts: {}",
        summary.frames, summary.alerts
    );
    Ok(ExitCode::SUCCESS)
}
