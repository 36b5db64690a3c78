//! `vigil check FILE` and `vigil run FILE`.

use crate::daemon::api_server::{ApiServer, Prepared};
use crate::daemon::backend::DaemonBackend;
use crate::daemon::query_audit::QueryAudit;
use crate::paths;
use crate::pipeline::shared::lock;
use crate::pipeline::{self, Pipeline};
use anyhow::{Context, Result};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
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

/// Runs a pipeline until `seconds` pass or Ctrl-C / SIGTERM; serves the HTTP API when the file
/// has an `[api]` table; SIGHUP (and `POST /api/v1/reload`) reload `file`.
pub fn run_pipeline(
    cfg: &pipeline::PipelineConfig,
    file: Option<&std::path::Path>,
    camsim: Option<&str>,
    seconds: Option<u64>,
) -> Result<pipeline::RunSummary> {
    // The level from the file (format was fixed when logging started; see logging.rs).
    let _ = crate::logging::apply(&cfg.log);
    // Secrets first: a token that cannot be read refuses the start before anything runs.
    let api_settings = Prepared::new(cfg.api.as_ref()).map_err(anyhow::Error::msg)?;
    // The API runs on its own small runtime, so a slow client never shares threads with the
    // sinks' delivery loops. Always there: a reload may add `[api]`.
    let api_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("vigil-api")
        .build()
        .context("starting the API runtime")?;
    let api = Arc::new(ApiServer::new(api_rt.handle().clone()));
    let p = Pipeline::start(cfg, &paths::model_dir(), camsim, print_alert)?;
    let shared = p.shared();
    let pipeline = Arc::new(Mutex::new(Some(p)));
    let watchlists = shared
        .watchlists
        .clone()
        .ok_or_else(|| anyhow::anyhow!("the watchlist store is not open"))?;
    let backend = Arc::new(DaemonBackend {
        shared: shared.clone(),
        pipeline: pipeline.clone(),
        file: file.map(std::path::Path::to_path_buf).unwrap_or_default(),
        watchlists,
        audit: QueryAudit::open(&cfg.node.data_dir.join("api-audit.jsonl")).map_err(anyhow::Error::msg)?,
        acks: crate::daemon::backend::Acks::open(cfg.node.data_dir.join("acks.jsonl")),
        api: api.clone(),
    });
    let weak: std::sync::Weak<dyn vigil_http::Backend> = Arc::downgrade(&backend) as _;
    api.attach(weak);
    if let Err(e) = api.start(api_settings) {
        if let Some(p) = lock(&pipeline).take() {
            p.stop(Duration::from_secs(5));
        }
        anyhow::bail!("{e}");
    }
    let signals = crate::signals::install();
    crate::daemon::anchors::log_anchors(&backend.audit, &backend.watchlists);
    let mut last_anchor = Instant::now();
    let start = Instant::now();
    let mut last_report = Instant::now();
    let mut last_prune = Instant::now();
    while !signals.stop.load(Ordering::Relaxed)
        && seconds.is_none_or(|s| start.elapsed() < Duration::from_secs(s))
    {
        std::thread::sleep(Duration::from_millis(200));
        if signals.reload.swap(false, Ordering::Relaxed) {
            match file {
                Some(_) => {
                    if let Err(e) = backend.reload_file("SIGHUP") {
                        eprintln!("[vigil] reload refused: {e}");
                    }
                }
                None => tracing::warn!("SIGHUP ignored: this pipeline was not started from a file"),
            }
        }
        if api.failed() {
            anyhow::bail!("the HTTP API stopped (see the log above); shutting down");
        }
        if last_anchor.elapsed() > crate::daemon::anchors::ANCHOR_EVERY {
            last_anchor = Instant::now();
            crate::daemon::anchors::log_anchors(&backend.audit, &backend.watchlists);
        }
        if last_prune.elapsed() > Duration::from_secs(60) {
            last_prune = Instant::now();
            if let Err(e) = shared.history.prune_per_config(jiff::Timestamp::now()) {
                tracing::warn!(error = %e, "alert history pruning failed");
            }
            if let Some(log) = &shared.read_log
                && let Err(e) = log.prune(jiff::Timestamp::now())
            {
                tracing::warn!(error = %e, "plate read log pruning failed");
            }
        }
        if last_report.elapsed() > Duration::from_secs(10) {
            last_report = Instant::now();
            if let Some(p) = lock(&pipeline).as_ref() {
                for s in p.camera_states() {
                    // Every drop of this camera's frames, wherever it happened.
                    let detector = shared.pool.camera_dropped.get(s.camera.as_str());
                    eprintln!(
                        "[status] camera {} {:?} frames_out={} dropped={} (ingest {}, detector {}) reconnects={}",
                        s.camera,
                        s.state,
                        s.frames_out,
                        s.frames_dropped + detector,
                        s.frames_dropped,
                        detector,
                        s.reconnects
                    );
                }
            }
        }
    }
    eprintln!("[vigil] stopping");
    crate::daemon::anchors::log_anchors(&backend.audit, &backend.watchlists);
    api.shutdown(Duration::from_secs(10));
    api_rt.shutdown_timeout(Duration::from_secs(2));
    let p = lock(&pipeline).take();
    Ok(p.map(|p| p.stop(Duration::from_secs(5))).unwrap_or_default())
}

/// `vigil run FILE`.
pub fn run(a: RunArgs) -> Result<ExitCode> {
    let (cfg, _) = pipeline::load(&a.file).map_err(anyhow::Error::msg)?;
    let summary = run_pipeline(&cfg, Some(&a.file), None, a.seconds)?;
    eprintln!(
        "[vigil] frames analysed: {:?}; alerts: {} (lost: {}, unwritten at exit: {})",
        summary.frames, summary.alerts, summary.alerts_lost, summary.alerts_held_at_exit
    );
    Ok(ExitCode::SUCCESS)
}
