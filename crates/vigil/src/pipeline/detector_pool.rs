//! The detector worker pool as the pipeline file describes it (`[detector]`): one session per
//! worker, the pipeline's thresholds and classes. Shared by `vigil run` and `vigil bench
//! pipeline`, so the benchmark measures exactly what runs.

use crate::pipeline::config::PipelineConfig;
use anyhow::{Context, Result};
use std::path::Path;
use vigil_infer::decode::ScoreThresholds;
use vigil_infer::{DetectParams, Detector, PoolConfig, PooledDetector, SessionOptions, WorkerPool};

/// Post-processing settings of the pipeline's detector: boxes down to 0.1 are kept (or lower, if
/// `score` is lower) because the tracker's second pass uses low-score boxes; `score` itself
/// gates new tracks.
pub fn detect_params(cfg: &PipelineConfig) -> DetectParams {
    DetectParams {
        thresholds: ScoreThresholds::uniform(cfg.detector.score.min(0.1)),
        classes: cfg.detector.classes.clone(),
        ..Default::default()
    }
}

/// Loads `[detector] workers` sessions of the configured model and starts the pool.
pub fn start(cfg: &PipelineConfig, model_dir: &Path) -> Result<WorkerPool> {
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
    let params = detect_params(cfg);
    let opts = SessionOptions {
        intra_threads: cfg.detector.intra_threads,
        providers: cfg.detector.providers.clone(),
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
    Ok(WorkerPool::new(
        dets,
        PoolConfig {
            queue_per_camera: cfg.detector.queue_per_camera,
            name: manifest.name.clone(),
            // Two results per camera in flight to the analysis thread, at least a few: beyond
            // that the analysis is behind and newer frames are dropped (counted per camera)
            // instead of full frames piling up in memory (a 4K frame is 24 MB).
            results_capacity: (2 * cfg.cameras.len()).max(8),
            ..Default::default()
        },
    )?)
}
