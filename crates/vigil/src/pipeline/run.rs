//! Starting, running and stopping a pipeline.

use crate::pipeline::config::{CameraConfig, PipelineConfig};
use anyhow::{Context, Result};
use crossbeam_channel::RecvTimeoutError;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use vigil_alert::{AnySink, Delivery, Outbox, OutboxConfig};
use vigil_core::alert::Alert;
use vigil_infer::decode::ScoreThresholds;
use vigil_infer::{DetectParams, Detector, PoolConfig, PooledDetector, SessionOptions, WorkerPool};
use vigil_ingest::{CameraSource, CameraSourceConfig, SupervisorPolicy};
use vigil_watchlist::LiveWatchlists;

use crate::pipeline::analysis::Analysis;
use crate::pipeline::plates::PlateStage;

/// What a finished run did.
#[derive(Debug, Default, Clone)]
pub struct RunSummary {
    /// Frames analysed per camera.
    pub frames: HashMap<String, u64>,
    /// Plates voted per camera (one per vehicle pass).
    pub plates: HashMap<String, u64>,
    /// Vehicle regions read by the plate workers.
    pub plate_reads: u64,
    /// Vehicle regions dropped because the plate queue was full.
    pub plate_reads_dropped: u64,
    /// Alerts raised.
    pub alerts: u64,
}

/// A running pipeline.
pub struct Pipeline {
    sources: Vec<CameraSource>,
    forwarders: Vec<JoinHandle<()>>,
    pool: Option<WorkerPool>,
    analysis: Option<JoinHandle<RunSummary>>,
    stop: Arc<AtomicBool>,
    runtime: tokio::runtime::Runtime,
    deliveries: Vec<Delivery>,
    shutdown_tx: tokio::sync::watch::Sender<bool>,
    outbox: Outbox,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("cameras", &self.sources.len())
            .finish_non_exhaustive()
    }
}

fn camera_source(c: &CameraConfig, uri: &str) -> Result<vigil_ingest::SourceSettings> {
    let mut sc = CameraSourceConfig::new(&c.id, uri);
    sc.analysis_fps = Some(c.analysis_fps);
    sc.decoder = c.decoder.clone();
    sc.username = c.username.clone();
    if let Some(var) = &c.password_env {
        let pw = std::env::var(var)
            .with_context(|| format!("camera '{}': password_env {var} is not set", c.id))?;
        sc.password = Some(vigil_ingest::config::Secret::new(pw));
    }
    Ok(sc.validate()?)
}

impl Pipeline {
    /// Starts everything. `on_alert` sees each alert after it is durably in the outbox.
    pub fn start(
        cfg: &PipelineConfig,
        model_dir: &Path,
        camsim_base: Option<&str>,
        on_alert: impl Fn(&Alert) + Send + 'static,
    ) -> Result<Self> {
        std::fs::create_dir_all(&cfg.node.data_dir)
            .with_context(|| format!("creating data_dir {}", cfg.node.data_dir.display()))?;
        // Outbox and sinks first: an alert must have somewhere durable to go.
        let mut ocfg = OutboxConfig {
            node: cfg.node.id.clone(),
            ..Default::default()
        };
        if cfg.node.snapshot_max_bytes > 0 {
            ocfg.snapshot_cap_bytes = cfg.node.snapshot_max_bytes;
        }
        for s in &cfg.sinks {
            ocfg = ocfg.with_sink(s.name.clone(), s.route.clone());
        }
        let outbox_path = cfg.node.data_dir.join("outbox.redb");
        let outbox = Outbox::open(&outbox_path, ocfg)
            .with_context(|| format!("opening the outbox {}", outbox_path.display()))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .thread_name("vigil-io")
            .build()
            .context("starting the I/O runtime")?;
        let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(false);
        let mut deliveries = Vec::new();
        for s in &cfg.sinks {
            let sink = AnySink::from_spec(s, &cfg.node.id).with_context(|| format!("sink '{}'", s.name))?;
            let _guard = runtime.enter();
            deliveries.push(vigil_alert::delivery::spawn(
                outbox.clone(),
                s.name.clone(),
                sink,
                s.retry.clone(),
                shutdown_rx.clone(),
            ));
        }

        // Detector pool.
        // By manifest `name`, as `vigil detect` and `vigil eval` do.
        let manifest = crate::cmd::models::read_manifests(model_dir)?
            .into_iter()
            .find(|m| m.name == cfg.detector.model)
            .with_context(|| {
                format!(
                    "[detector] model '{}' has no manifest in {} (fix: see `vigil models list`)",
                    cfg.detector.model,
                    model_dir.display()
                )
            })?;
        let params = DetectParams {
            thresholds: ScoreThresholds::uniform(cfg.detector.score.min(0.1)),
            classes: cfg.detector.classes.clone(),
            ..Default::default()
        };
        let opts = SessionOptions {
            intra_threads: cfg.detector.intra_threads,
            ..Default::default()
        };
        let dets = (0..cfg.detector.workers)
            .map(|_| {
                Ok(PooledDetector {
                    detector: Detector::new(manifest.clone(), model_dir, &opts)?,
                    params: params.clone(),
                })
            })
            .collect::<Result<Vec<_>, vigil_infer::InferError>>()?;
        let pool = WorkerPool::new(
            dets,
            PoolConfig {
                queue_per_camera: cfg.detector.queue_per_camera,
                name: manifest.name.clone(),
                ..Default::default()
            },
        )?;

        // Cameras.
        let stop = Arc::new(AtomicBool::new(false));
        let mut sources = Vec::new();
        let mut forwarders = Vec::new();
        for c in &cfg.cameras {
            let uri = match camsim_base {
                Some(base) => c.uri.replace("{camsim}", base),
                None => c.uri.clone(),
            };
            let src = CameraSource::start(camera_source(c, &uri)?, SupervisorPolicy::default())?;
            let rx = src.frames();
            let pool_ref = pool.submitter();
            let stop2 = stop.clone();
            forwarders.push(
                std::thread::Builder::new()
                    .name(format!("fwd-{}", c.id))
                    .spawn(move || {
                        while !stop2.load(Ordering::Relaxed) {
                            match rx.recv_timeout(Duration::from_millis(200)) {
                                Ok(f) => {
                                    pool_ref.submit(f);
                                }
                                Err(RecvTimeoutError::Timeout) => {}
                                Err(RecvTimeoutError::Disconnected) => break,
                            }
                        }
                    })?,
            );
            sources.push(src);
        }

        // Watchlists and the plate stage (only when some camera reads plates).
        let watchlists = open_watchlists(cfg)?;
        let plate_stage = if cfg.cameras.iter().any(|c| c.plates) {
            Some(PlateStage::start(&cfg.plates, model_dir)?)
        } else {
            None
        };
        let mut engine = Analysis::new(
            cfg,
            watchlists.clone(),
            plate_stage.as_ref().and_then(PlateStage::submitter),
        )?;

        // Analysis: tracking + plates + rules + outbox.
        let results = pool.results().clone();
        let plate_results = plate_stage.as_ref().map(|p| p.results().clone());
        let (ob, stop3) = (outbox.clone(), stop.clone());
        let analysis = std::thread::Builder::new().name("analysis".into()).spawn(move || {
            let mut alerts = 0u64;
            let mut emit = |a: Alert| match ob.enqueue(&a) {
                Ok(_) => {
                    alerts += 1;
                    on_alert(&a);
                }
                Err(e) => tracing::error!(camera = %a.camera.id, error = %e, "alert could not be stored in the outbox"),
            };
            let never = crossbeam_channel::never::<crate::pipeline::plates::PlateResult>();
            let mut plate_rx = plate_results;
            // Ends when the pool is gone (its result sender dropped after the workers drained),
            // or, should a worker hang past the pool's shutdown deadline, 15 s after stop.
            let mut idle_since_stop: Option<Instant> = None;
            loop {
                let prx = plate_rx.as_ref().unwrap_or(&never);
                crossbeam_channel::select! {
                    recv(results) -> r => match r {
                        Ok(r) => {
                            idle_since_stop = None;
                            if let Ok(dets) = r.detections {
                                for a in engine.on_frame(&r.frame, &dets) {
                                    emit(a);
                                }
                            }
                        }
                        Err(_) => break,
                    },
                    recv(prx) -> r => match r {
                        Ok(r) => engine.on_plate(r),
                        Err(_) => plate_rx = None,
                    },
                    default(Duration::from_millis(200)) => {
                        if stop3.load(Ordering::Relaxed) {
                            let since = *idle_since_stop.get_or_insert_with(Instant::now);
                            if since.elapsed() > Duration::from_secs(15) {
                                break;
                            }
                        }
                    }
                }
            }
            // The detector is done: let the plate workers finish what they hold, then hand the
            // plates they voted to the rules.
            engine.close_plate_jobs();
            let mut plate_jobs = (0, 0);
            if let Some(p) = plate_stage {
                let c = p.counters();
                p.shutdown();
                plate_jobs = (c.done.load(Ordering::Relaxed), c.dropped.load(Ordering::Relaxed));
                if let Some(rx) = &plate_rx {
                    for r in rx.try_iter() {
                        engine.on_plate(r);
                    }
                }
            }
            for a in engine.flush() {
                emit(a);
            }
            let c = engine.counters();
            RunSummary {
                frames: c.frames.clone(),
                plates: c.plates.clone(),
                plate_reads: plate_jobs.0,
                plate_reads_dropped: plate_jobs.1,
                alerts,
            }
        })?;

        Ok(Self {
            sources,
            forwarders,
            pool: Some(pool),
            analysis: Some(analysis),
            stop,
            runtime,
            deliveries,
            shutdown_tx,
            outbox,
        })
    }

    /// Camera status snapshots, for progress output.
    pub fn camera_states(&self) -> Vec<vigil_ingest::StatusSnapshot> {
        self.sources.iter().map(|s| s.status().snapshot()).collect()
    }

    /// Stops ingest, drains inference and analysis, lets the sinks deliver what is pending
    /// (up to `grace`), and shuts down.
    pub fn stop(mut self, grace: Duration) -> RunSummary {
        let errs = vigil_ingest::stop_all(&mut self.sources, Duration::from_secs(5));
        for e in errs {
            tracing::warn!(error = %e, "camera did not stop cleanly");
        }
        self.stop.store(true, Ordering::Relaxed);
        for f in self.forwarders.drain(..) {
            let _ = f.join();
        }
        if let Some(p) = self.pool.take() {
            p.shutdown(Duration::from_secs(10));
        }
        let summary = self
            .analysis
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default();
        // Give the sinks a moment to drain the outbox before stopping their loops.
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline && !self.outbox.is_empty() {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.shutdown_tx.send(true);
        let deliveries = std::mem::take(&mut self.deliveries);
        self.runtime.block_on(async {
            for d in deliveries {
                d.join(Duration::from_secs(3)).await;
            }
        });
        summary
    }
}

/// Opens the watchlist store and imports each declared list's file when it differs from the
/// stored list. `None` when the pipeline declares no lists and has no plate camera.
fn open_watchlists(cfg: &PipelineConfig) -> Result<Option<Arc<LiveWatchlists>>> {
    if cfg.watchlists.lists.is_empty() && !cfg.cameras.iter().any(|c| c.plates) {
        return Ok(None);
    }
    let dir = cfg
        .watchlists
        .dir
        .clone()
        .unwrap_or_else(|| cfg.node.data_dir.join("watchlists"));
    let live = LiveWatchlists::open(
        &dir,
        vigil_watchlist::ImportOptions::default(),
        cfg.watchlists.matching,
    )
    .with_context(|| format!("opening the watchlist store {}", dir.display()))?;
    for d in &cfg.watchlists.lists {
        let (name, kind) = d
            .parsed()
            .map_err(|e| anyhow::anyhow!("watchlist '{}': {e}", d.name))?;
        let Some(file) = &d.file else { continue };
        let list = crate::pipeline::plates_config::read_list_file(file, &name, kind)
            .map_err(|e| anyhow::anyhow!("watchlist '{}': {e}", d.name))?;
        let same = match live.load(&name) {
            Ok(stored) => stored == list,
            Err(vigil_watchlist::store::StoreError::NoSuchList(_)) => false,
            Err(e) => return Err(e).with_context(|| format!("watchlist '{}'", d.name)),
        };
        if !same {
            let ctx = vigil_watchlist::audit::ChangeContext {
                who: "pipeline-file".into(),
                source: file.display().to_string(),
                at: jiff::Timestamp::now(),
            };
            let s = live
                .replace(list, &ctx)
                .with_context(|| format!("importing watchlist '{}' from {}", d.name, file.display()))?;
            tracing::info!(list = %d.name, entries = s.counts.after, file = %file.display(), "watchlist imported from the pipeline file");
        }
    }
    Ok(Some(Arc::new(live)))
}
