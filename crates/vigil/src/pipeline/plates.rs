//! The plate stage: worker threads that read the plates of vehicle regions.
//!
//! The analysis thread decides which vehicle track to read on which frame ([`super::plate_tracks`])
//! and offers a [`PlateJob`] with `try_send`: when the bounded queue is full the job is dropped
//! and counted — the track is simply read on a later frame, and the analysis thread (which also
//! raises zone alerts) never waits for OCR. Results come back on an unbounded channel whose
//! length is bounded by `queue + workers` jobs in flight.
//!
//! Shutdown: dropping the job sender ends the workers after their current job; their result
//! senders drop with them, which the analysis thread sees as the end of plate results.

use crate::cmd::models::read_manifests;
use crate::pipeline::config::PlatesConfig;
use anyhow::{Context, Result};
use crossbeam_channel::{Receiver, Sender, TrySendError, bounded, unbounded};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use vigil_core::track::TrackId;
use vigil_core::{BoxPx, Frame};
use vigil_infer::SessionOptions;
use vigil_infer::frame_view;
use vigil_lpr::PlateReader;
use vigil_plate::PlateRead;

/// One vehicle region to read.
#[derive(Debug, Clone)]
pub struct PlateJob {
    /// The vehicle's track (the camera is the frame's).
    pub track: TrackId,
    /// The frame (pixels shared, not copied).
    pub frame: Frame,
    /// The vehicle box in frame pixels; `None` = read the whole frame.
    pub bbox: Option<BoxPx>,
}

/// What a worker made of a job.
#[derive(Debug)]
pub struct PlateResult {
    /// The job, returned so the frame can become the alert's snapshot.
    pub job: PlateJob,
    /// The plates read in the region (usually zero or one), or why reading failed.
    pub reads: Result<Vec<PlateRead>, String>,
}

/// Counters of the plate stage (monotonic).
#[derive(Debug, Default)]
pub struct PlateCounters {
    /// Jobs accepted into the queue.
    pub submitted: AtomicU64,
    /// Jobs dropped because the queue was full.
    pub dropped: AtomicU64,
    /// The same drops, per camera.
    pub camera_dropped: vigil_core::counts::PerCamera,
    /// Jobs finished by a worker.
    pub done: AtomicU64,
    /// Jobs that yielded at least one plate.
    pub with_plate: AtomicU64,
    /// Jobs that failed (model error).
    pub failed: AtomicU64,
}

/// The running workers.
pub struct PlateStage {
    tx: Option<Sender<PlateJob>>,
    results: Receiver<PlateResult>,
    workers: Vec<JoinHandle<()>>,
    counters: Arc<PlateCounters>,
}

impl std::fmt::Debug for PlateStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlateStage")
            .field("workers", &self.workers.len())
            .finish_non_exhaustive()
    }
}

/// A cheap handle for offering jobs.
#[derive(Debug, Clone)]
pub struct PlateSubmitter {
    tx: Sender<PlateJob>,
    counters: Arc<PlateCounters>,
}

impl PlateSubmitter {
    /// Offers a job; `false` when the queue was full (counted) or the stage is stopping.
    pub fn offer(&self, job: PlateJob) -> bool {
        match self.tx.try_send(job) {
            Ok(()) => {
                self.counters.submitted.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(TrySendError::Full(job)) => {
                self.counters.dropped.fetch_add(1, Ordering::Relaxed);
                self.counters.camera_dropped.inc(&job.frame.camera);
                false
            }
            Err(TrySendError::Disconnected(_)) => false,
        }
    }
}

impl PlateStage {
    /// Loads one reader per worker (failing here, before any camera starts, on a missing or
    /// broken model) and starts the workers.
    pub fn start(cfg: &PlatesConfig, model_dir: &Path) -> Result<Self> {
        let manifests = read_manifests(model_dir)?;
        let find = |name: &str, key: &str| {
            manifests
                .iter()
                .find(|m| m.name == name)
                .cloned()
                .with_context(|| {
                    format!(
                        "[plates] {key} '{name}' has no manifest in {} (fix: see `vigil models list`)",
                        model_dir.display()
                    )
                })
        };
        let localiser = find(&cfg.localiser, "localiser")?;
        let recogniser = find(&cfg.recogniser, "recogniser")?;
        let grammar = cfg.grammar().context("[plates.grammar]")?;
        let opts = SessionOptions {
            intra_threads: cfg.intra_threads,
            ..Default::default()
        };
        let (tx, rx) = bounded::<PlateJob>(cfg.queue);
        let (res_tx, results) = unbounded();
        let counters = Arc::new(PlateCounters::default());
        let mut workers = Vec::new();
        for i in 0..cfg.workers {
            let mut reader = PlateReader::new(
                cfg.reader.clone(),
                grammar.clone(),
                localiser.clone(),
                recogniser.clone(),
                model_dir,
                &opts,
            )
            .context("[plates] loading the plate reader")?;
            let (rx, res_tx, counters) = (rx.clone(), res_tx.clone(), counters.clone());
            workers.push(
                std::thread::Builder::new()
                    .name(format!("plate-{i}"))
                    .spawn(move || {
                        for job in rx.iter() {
                            let view = frame_view(&job.frame);
                            let reads = match job.bbox {
                                Some(b) => reader.read_region(view, b),
                                None => reader.read_image(view, None),
                            }
                            .map_err(|e| e.to_string());
                            counters.done.fetch_add(1, Ordering::Relaxed);
                            match &reads {
                                Ok(r) if !r.is_empty() => {
                                    counters.with_plate.fetch_add(1, Ordering::Relaxed);
                                }
                                Ok(_) => {}
                                Err(e) => {
                                    counters.failed.fetch_add(1, Ordering::Relaxed);
                                    tracing::warn!(camera = %job.frame.camera, error = %e, "plate read failed");
                                }
                            }
                            if res_tx.send(PlateResult { job, reads }).is_err() {
                                break;
                            }
                        }
                    })
                    .context("spawning a plate worker")?,
            );
        }
        Ok(Self {
            tx: Some(tx),
            results,
            workers,
            counters,
        })
    }

    /// A handle for the analysis thread.
    pub fn submitter(&self) -> Option<PlateSubmitter> {
        self.tx.as_ref().map(|tx| PlateSubmitter {
            tx: tx.clone(),
            counters: self.counters.clone(),
        })
    }

    /// Where results arrive.
    pub fn results(&self) -> &Receiver<PlateResult> {
        &self.results
    }

    /// The stage's counters.
    pub fn counters(&self) -> Arc<PlateCounters> {
        self.counters.clone()
    }

    /// Stops accepting jobs and waits for the workers to finish what they hold. Submitter
    /// clones keep the queue open; the caller drops them first.
    pub fn shutdown(mut self) {
        self.tx = None;
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}
