//! `vigil detect IMAGE…`: run an object detector on still images and print the detections.

use crate::cmd::models::read_manifests;
use crate::paths;
use anyhow::{Context, Result};
use std::path::PathBuf;
use std::process::ExitCode;
use vigil_core::model::ColorOrder;
use vigil_infer::{DetectParams, Detector, ImageView, SessionOptions};

/// Arguments of `vigil detect`.
#[derive(Debug, clap::Args)]
pub struct DetectArgs {
    /// Model name (manifest `name`).
    #[arg(long, default_value = "yolox-nano")]
    model: String,
    /// Minimum score.
    #[arg(long, default_value_t = 0.35)]
    score: f32,
    /// Keep only these classes (repeatable).
    #[arg(long = "class")]
    classes: Vec<String>,
    /// Print JSON lines instead of text.
    #[arg(long)]
    json: bool,
    /// Image files (JPEG or PNG).
    #[arg(required = true)]
    images: Vec<PathBuf>,
}

/// Runs `vigil detect`.
pub fn run(a: DetectArgs) -> Result<ExitCode> {
    let dir = paths::model_dir();
    let manifest = read_manifests(&dir)?
        .into_iter()
        .find(|m| m.name == a.model)
        .with_context(|| format!("no model named '{}' in {}", a.model, dir.display()))?;
    let mut det = Detector::new(manifest, &dir, &SessionOptions::default())?;
    let params = DetectParams {
        thresholds: vigil_infer::decode::ScoreThresholds::uniform(a.score),
        classes: a.classes,
        ..Default::default()
    };
    for path in &a.images {
        let img = image::open(path)
            .with_context(|| format!("decoding {}", path.display()))?
            .to_rgb8();
        let view = ImageView {
            width: img.width(),
            height: img.height(),
            stride: img.width() as usize * 3,
            color: ColorOrder::Rgb,
            data: img.as_raw(),
        };
        let dets = det.detect(view, &params)?;
        for d in &dets {
            if a.json {
                println!(
                    "{}",
                    serde_json::json!({"file": path, "label": d.label, "score": d.score, "box": d.bbox})
                );
            } else {
                println!(
                    "{}\t{}\t{:.2}\t{:.0},{:.0},{:.0},{:.0}",
                    path.display(),
                    d.label,
                    d.score,
                    d.bbox.x1,
                    d.bbox.y1,
                    d.bbox.x2,
                    d.bbox.y2
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
