//! Starting, running and stopping a pipeline.

use crate::pipeline::config::{CameraConfig, PipelineConfig};
use anyhow::{Context, Result};
use crossbeam_channel::RecvTimeoutError;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use vigil_alert::{AnySink, Delivery, History, HistoryConfig, Outbox, OutboxConfig};
use vigil_core::alert::Alert;
use vigil_infer::WorkerPool;
use vigil_ingest::{CameraSource, CameraSourceConfig, SupervisorPolicy};
use vigil_watchlist::LiveWatchlists;

use crate::pipeline::analysis::Analysis;
use crate::pipeline::plates::PlateStage;
use crate::pipeline::shared::{Shared, lock};

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
    /// Alerts raised and accepted by the outbox (on disk, or held in memory while the disk
    /// refuses writes).
    pub alerts: u64,
    /// Alerts the outbox could not accept (storage failing and its in-memory queue full):
    /// lost, each logged with its id.
    pub alerts_lost: u64,
    /// Alerts still held in memory at exit because storage never came back (lost with the
    /// process).
    pub alerts_held_at_exit: usize,
}

/// One running camera: its ingest and the thread that feeds its frames to the pool.
struct CameraRun {
    cfg: CameraConfig,
    source: CameraSource,
    forwarder: JoinHandle<()>,
    stop: Arc<AtomicBool>,
}

/// Changes for the analysis thread (reload).
enum AnalysisCmd {
    /// Add or replace a camera's analysis.
    Camera(Box<CameraConfig>),
    /// Forget a camera.
    Remove(String),
}

/// What a reload changed.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ReloadReport {
    /// Cameras started.
    pub added: Vec<String>,
    /// Cameras stopped.
    pub removed: Vec<String>,
    /// Cameras whose stream settings changed (ingest restarted).
    pub restarted: Vec<String>,
    /// Cameras whose rules or plate settings changed (analysis state reset, stream untouched).
    pub reconfigured: Vec<String>,
    /// Watchlists re-imported from their files.
    pub lists_reimported: bool,
}

impl ReloadReport {
    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// A running pipeline.
pub struct Pipeline {
    cameras: Vec<CameraRun>,
    submitter: vigil_infer::Submitter,
    camsim_base: Option<String>,
    cmd_tx: crossbeam_channel::Sender<AnalysisCmd>,
    shared: Arc<Shared>,
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
            .field("cameras", &self.cameras.len())
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
        ocfg.max_entries = cfg.node.outbox_max_entries;
        ocfg.max_bytes = cfg.node.outbox_max_bytes;
        // The hard limit leaves room for high-severity alerts above the soft one.
        ocfg.hard_max_entries = cfg
            .node
            .outbox_max_entries
            .saturating_add(cfg.node.outbox_max_entries / 4);
        ocfg.hard_max_bytes = cfg
            .node
            .outbox_max_bytes
            .saturating_add(cfg.node.outbox_max_bytes / 4);
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
        let pool = crate::pipeline::detector_pool::start(cfg, model_dir)?;

        // Cameras: resolve every camera's settings first, so that a bad one starts nothing.
        let stop = Arc::new(AtomicBool::new(false));
        let submitter = pool.submitter();
        let settings = cfg
            .cameras
            .iter()
            .map(|c| camera_source(c, &with_camsim(&c.uri, camsim_base)))
            .collect::<Result<Vec<_>>>()?;
        let mut cameras = Vec::new();
        for (c, st) in cfg.cameras.iter().zip(settings) {
            cameras.push(start_camera(c, st, &submitter)?);
        }

        // Watchlists and the plate stage (only when some camera reads plates).
        let watchlists = open_watchlists(cfg)?;
        let read_log = crate::pipeline::read_log::open_per_config(cfg)?;
        let plate_stage = if cfg.cameras.iter().any(|c| c.plates) {
            Some(PlateStage::start(&cfg.plates, model_dir)?)
        } else {
            None
        };
        let history_path = cfg.node.data_dir.join("history.redb");
        let history = History::open(
            &history_path,
            HistoryConfig {
                snapshot_cap_bytes: cfg.node.snapshot_max_bytes,
                max_age_s: cfg.node.history_max_age_days.saturating_mul(86_400),
                max_count: cfg.node.history_max_alerts,
            },
        )
        .with_context(|| format!("opening the alert history {}", history_path.display()))?;
        let shared = Arc::new(Shared {
            config: Mutex::new(cfg.clone()),
            cameras: Mutex::new(
                cameras
                    .iter()
                    .map(|c| (c.cfg.id.clone(), c.source.status()))
                    .collect(),
            ),
            latest: Mutex::default(),
            tracks: Mutex::default(),
            analysed: Mutex::default(),
            rules: Mutex::default(),
            plates: Mutex::default(),
            pool: pool.stats(),
            model: cfg.detector.model.clone(),
            plate_counters: plate_stage.as_ref().map(PlateStage::counters),
            sinks: deliveries.iter().map(Delivery::status).collect(),
            outbox: outbox.clone(),
            history: history.clone(),
            alerts_tx: tokio::sync::broadcast::channel(256).0,
            watchlists: watchlists.clone(),
            read_log: read_log.clone(),
            started: Instant::now(),
        });
        let mut engine = Analysis::new(
            cfg,
            watchlists.clone(),
            plate_stage.as_ref().and_then(PlateStage::submitter),
        )?
        .with_shared(shared.clone())
        .with_read_log(read_log);
        let (cmd_tx, cmd_rx) = crossbeam_channel::unbounded::<AnalysisCmd>();

        // Analysis: tracking + plates + rules + outbox.
        let results = pool.results().clone();
        let plate_results = plate_stage.as_ref().map(|p| p.results().clone());
        let (ob, stop3, sh) = (outbox.clone(), stop.clone(), shared.clone());
        let analysis = std::thread::Builder::new().name("analysis".into()).spawn(move || {
            let (mut alerts, mut alerts_lost) = (0u64, 0u64);
            let mut emit = |a: Alert| match ob.enqueue(&a) {
                Ok(_) => {
                    alerts += 1;
                    // The outbox holds the alert durably; history and live streams are views.
                    if let Err(e) = sh.history.append(&a) {
                        tracing::warn!(camera = %a.camera.id, error = %e, "alert not recorded in the history");
                    }
                    if let Ok(mut v) = serde_json::to_value(&a) {
                        if let Some(o) = v.as_object_mut() {
                            o.remove("snapshot");
                            o.insert("has_snapshot".into(), serde_json::Value::Bool(a.snapshot.is_some()));
                        }
                        // No receiver is not an error: nobody is watching.
                        let _ = sh.alerts_tx.send(Arc::new(v));
                    }
                    on_alert(&a);
                }
                Err(e) => {
                    alerts_lost += 1;
                    tracing::error!(alert = %a.id, camera = %a.camera.id, error = %e, "alert lost: the outbox could not accept it");
                }
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
                    recv(cmd_rx) -> c => match c {
                        Ok(AnalysisCmd::Camera(c)) => {
                            if let Err(e) = engine.set_camera(&c) {
                                tracing::error!(camera = %c.id, error = %e, "camera analysis not reconfigured");
                            }
                        }
                        Ok(AnalysisCmd::Remove(id)) => engine.remove_camera(&id),
                        Err(_) => {}
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
                alerts_lost,
                alerts_held_at_exit: 0,
            }
        })?;

        Ok(Self {
            cameras,
            submitter,
            camsim_base: camsim_base.map(str::to_string),
            cmd_tx,
            shared,
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
        self.cameras
            .iter()
            .map(|c| c.source.status().snapshot())
            .collect()
    }

    /// Live state for the API and the metrics.
    pub fn shared(&self) -> Arc<Shared> {
        self.shared.clone()
    }

    /// Applies a new, already validated configuration: cameras are added, removed, restarted
    /// (stream settings changed) or reconfigured (rules/plates changed) one by one, the rest
    /// keeps running untouched; declared watchlist files are re-imported. Changes to `[node]`,
    /// `[detector]`, `[plates]`, `[[sink]]` or the watchlist store need a restart: such a reload
    /// is refused as a whole and nothing is applied.
    pub fn reload(&mut self, new: &PipelineConfig) -> Result<ReloadReport> {
        let old = lock(&self.shared.config).clone();
        let mut needs_restart = Vec::new();
        let sinks_json = |c: &PipelineConfig| serde_json::to_value(&c.sinks).ok();
        if sinks_json(&old) != sinks_json(new) {
            needs_restart.push("[[sink]]");
        }
        if old.node != new.node {
            needs_restart.push("[node]");
        }
        if old.detector != new.detector {
            needs_restart.push("[detector]");
        }
        if old.plates != new.plates {
            needs_restart.push("[plates]");
        }
        if old.watchlists.dir != new.watchlists.dir || old.watchlists.matching != new.watchlists.matching {
            needs_restart.push("[watchlists] dir/matching");
        }
        if !old.cameras.iter().any(|c| c.plates) && new.cameras.iter().any(|c| c.plates) {
            needs_restart.push("the first plate camera (the plate stage starts with the daemon)");
        }
        if self.shared.watchlists.is_none() && !new.watchlists.lists.is_empty() {
            needs_restart.push("the first [[watchlists.list]]");
        }
        anyhow::ensure!(
            needs_restart.is_empty(),
            "reload refused, nothing applied: changes to {} need a restart",
            needs_restart.join(", ")
        );

        // Plan, resolving every new stream's settings before touching anything.
        let mut report = ReloadReport::default();
        let mut to_start = Vec::new();
        let base = self.camsim_base.clone();
        for c in &new.cameras {
            let settings = || camera_source(c, &with_camsim(&c.uri, base.as_deref()));
            match old.cameras.iter().find(|o| o.id == c.id) {
                None => {
                    to_start.push((c.clone(), settings()?));
                    report.added.push(c.id.clone());
                }
                Some(o) if o.stream_differs(c) => {
                    to_start.push((c.clone(), settings()?));
                    report.restarted.push(c.id.clone());
                }
                Some(o) if o != c => report.reconfigured.push(c.id.clone()),
                Some(_) => {}
            }
        }
        for o in &old.cameras {
            if !new.cameras.iter().any(|c| c.id == o.id) {
                report.removed.push(o.id.clone());
            }
        }
        // Re-import list files (a no-op for unchanged files); a bad file refuses the reload
        // before any camera is touched. An import itself is atomic per list.
        if let Some(live) = &self.shared.watchlists {
            report.lists_reimported = sync_list_files(live, new)?;
        }

        // Apply.
        for id in report.removed.iter().chain(&report.restarted) {
            if let Some(i) = self.cameras.iter().position(|c| &c.cfg.id == id) {
                stop_camera(self.cameras.remove(i));
            }
        }
        for id in &report.removed {
            let _ = self.cmd_tx.send(AnalysisCmd::Remove(id.clone()));
        }
        for (c, st) in to_start {
            self.cameras.push(start_camera(&c, st, &self.submitter)?);
            let _ = self.cmd_tx.send(AnalysisCmd::Camera(Box::new(c)));
        }
        for id in &report.reconfigured {
            if let Some(c) = new.cameras.iter().find(|c| &c.id == id) {
                if let Some(run) = self.cameras.iter_mut().find(|r| &r.cfg.id == id) {
                    run.cfg = c.clone();
                }
                let _ = self.cmd_tx.send(AnalysisCmd::Camera(Box::new(c.clone())));
            }
        }
        // Keep the file's camera order.
        self.cameras.sort_by_key(|r| {
            new.cameras
                .iter()
                .position(|c| c.id == r.cfg.id)
                .unwrap_or(usize::MAX)
        });
        *lock(&self.shared.cameras) = self
            .cameras
            .iter()
            .map(|c| (c.cfg.id.clone(), c.source.status()))
            .collect();
        *lock(&self.shared.config) = new.clone();
        Ok(report)
    }

    /// Stops ingest, drains inference and analysis, lets the sinks deliver what is pending
    /// (up to `grace`), and shuts down.
    pub fn stop(mut self, grace: Duration) -> RunSummary {
        for run in self.cameras.drain(..) {
            stop_camera(run);
        }
        self.stop.store(true, Ordering::Relaxed);
        // The submitter shares the pool's result sender: while it lives the results channel
        // never closes, and the analysis thread would sit out its 15 s fallback instead of
        // ending as soon as the pool has drained.
        drop(self.submitter);
        if let Some(p) = self.pool.take() {
            p.shutdown(Duration::from_secs(10));
        }
        let mut summary: RunSummary = self
            .analysis
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default();
        // Give the sinks a moment to drain the outbox before stopping their loops.
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline && !self.outbox.is_empty() {
            std::thread::sleep(Duration::from_millis(50));
        }
        // One last write attempt for alerts held while the disk refused them.
        let health = self.outbox.retry_storage();
        summary.alerts_held_at_exit = health.pending_in_memory;
        if health.pending_in_memory > 0 || !health.storage_ok {
            tracing::error!(
                held = health.pending_in_memory,
                lost = health.dropped_total,
                error = health.last_error.as_deref().unwrap_or(""),
                "outbox storage is failing at exit: alerts held in memory are lost with the process"
            );
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

/// A URI with the demo's `{camsim}` placeholder filled in.
fn with_camsim(uri: &str, camsim_base: Option<&str>) -> String {
    match camsim_base {
        Some(base) => uri.replace("{camsim}", base),
        None => uri.to_string(),
    }
}

/// Starts a camera's ingest and its forwarding thread (frames → pool; the pool drops the
/// oldest per camera when full).
fn start_camera(
    c: &CameraConfig,
    settings: vigil_ingest::SourceSettings,
    submitter: &vigil_infer::Submitter,
) -> Result<CameraRun> {
    let source = CameraSource::start(settings, SupervisorPolicy::default())?;
    let rx = source.frames();
    let pool_ref = submitter.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    let forwarder = std::thread::Builder::new()
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
        })?;
    Ok(CameraRun {
        cfg: c.clone(),
        source,
        forwarder,
        stop,
    })
}

/// Stops a camera's ingest (bounded) and its forwarder.
fn stop_camera(mut run: CameraRun) {
    if let Err(e) = run.source.stop(Duration::from_secs(5)) {
        tracing::warn!(camera = %run.cfg.id, error = %e, "camera did not stop cleanly");
    }
    run.stop.store(true, Ordering::Relaxed);
    let _ = run.forwarder.join();
}

/// Opens the watchlist store and imports each declared list's file when it differs from the
/// stored list. Every pipeline has a store (the API manages lists even where no rule uses them).
fn open_watchlists(cfg: &PipelineConfig) -> Result<Option<Arc<LiveWatchlists>>> {
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
    sync_list_files(&live, cfg)?;
    Ok(Some(Arc::new(live)))
}

/// Imports each declared list's file when it differs from the stored list; true when any did.
/// Lists with a file become read-only to the API (the file is their one owner: an API change
/// would be overwritten by the next reload), and API entries must be plates of the grammar.
fn sync_list_files(live: &LiveWatchlists, cfg: &PipelineConfig) -> Result<bool> {
    live.set_policy(list_policy(cfg)?);
    let mut changed = false;
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
                .replace_as_owner(list, &ctx)
                .with_context(|| format!("importing watchlist '{}' from {}", d.name, file.display()))?;
            tracing::info!(list = %d.name, entries = s.counts.after, file = %file.display(), "watchlist imported from the pipeline file");
            changed = true;
        }
    }
    Ok(changed)
}

/// The owners of file-backed lists and the plate grammar API entries are checked against.
fn list_policy(cfg: &PipelineConfig) -> Result<vigil_watchlist::ListPolicy> {
    let mut owners = std::collections::BTreeMap::new();
    for d in &cfg.watchlists.lists {
        let Some(file) = &d.file else { continue };
        let (name, _) = d
            .parsed()
            .map_err(|e| anyhow::anyhow!("watchlist '{}': {e}", d.name))?;
        owners.insert(
            name,
            format!("the list file {} declared in the pipeline file", file.display()),
        );
    }
    let grammar = cfg.plates.grammar().context("[plates.grammar]")?;
    Ok(vigil_watchlist::ListPolicy::new(owners, Some(grammar)))
}
