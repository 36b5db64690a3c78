//! `vigil check FILE` and `vigil run FILE`.

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
    let api_settings = match &cfg.api {
        Some(api) => Some(api.resolve().map_err(|e| anyhow::anyhow!("[api] {e}"))?),
        None => None,
    };
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
    });
    // The API runs on its own small runtime, so a slow client never shares threads with the
    // sinks' delivery loops.
    let mut api = None;
    if let Some(settings) = api_settings {
        for w in &settings.warnings {
            tracing::warn!("{w}");
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .thread_name("vigil-api")
            .build()
            .context("starting the API runtime")?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let b: Arc<dyn vigil_http::Backend> = backend.clone();
        let task = rt.spawn(async move {
            let stop = async {
                let _ = rx.await;
            };
            vigil_http::serve(settings, b, stop).await
        });
        api = Some((rt, tx, task));
    }
    let signals = crate::signals::install();
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
        if let Some((_, _, task)) = &api
            && task.is_finished()
        {
            anyhow::bail!("the HTTP API stopped (see the log above); shutting down");
        }
        if last_prune.elapsed() > Duration::from_secs(60) {
            last_prune = Instant::now();
            if let Err(e) = shared.history.prune_per_config(jiff::Timestamp::now()) {
                tracing::warn!(error = %e, "alert history pruning failed");
            }
        }
        if last_report.elapsed() > Duration::from_secs(10) {
            last_report = Instant::now();
            if let Some(p) = lock(&pipeline).as_ref() {
                for s in p.camera_states() {
                    eprintln!(
                        "[status] camera {} {:?} frames_out={} dropped={} reconnects={}",
                        s.camera, s.state, s.frames_out, s.frames_dropped, s.reconnects
                    );
                }
            }
        }
    }
    eprintln!("[vigil] stopping");
    if let Some((rt, tx, task)) = api {
        let _ = tx.send(());
        match rt.block_on(async { tokio::time::timeout(Duration::from_secs(10), task).await }) {
            Ok(Ok(Err(e))) => tracing::warn!(error = %e, "HTTP API ended with an error"),
            Err(_) => tracing::warn!("HTTP API did not stop within 10 s"),
            _ => {}
        }
        rt.shutdown_timeout(Duration::from_secs(2));
    }
    let p = lock(&pipeline).take();
    Ok(p.map(|p| p.stop(Duration::from_secs(5))).unwrap_or_default())
}

/// `vigil run FILE`.
pub fn run(a: RunArgs) -> Result<ExitCode> {
    let (cfg, _) = pipeline::load(&a.file).map_err(anyhow::Error::msg)?;
    let summary = run_pipeline(&cfg, Some(&a.file), None, a.seconds)?;
    eprintln!(
        "[vigil] frames analysed: {:?}; alerts: {}",
        summary.frames, summary.alerts
    );
    Ok(ExitCode::SUCCESS)
}
