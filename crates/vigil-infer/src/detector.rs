//! An object detector: one `ort` session plus the manifest that says how to feed and decode it.

use crate::decode::{ScoreThresholds, decode_yolov8, decode_yolox};
use crate::error::InferError;
use crate::letterbox::{Letterbox, Preprocessor};
use crate::nms::{Candidate, nms};
use crate::session::{SessionOptions, open_session, run_f32};
use ort::session::Session;
use std::path::Path;
use vigil_core::model::{ModelFamily, ModelManifest};
use vigil_core::{BoxPx, ClassId, Detection};

pub use crate::letterbox::Rgb8View as ImageView;

/// Post-processing knobs of a detector.
#[derive(Debug, Clone)]
pub struct DetectParams {
    /// Score thresholds.
    pub thresholds: ScoreThresholds,
    /// IoU above which a lower-scored box of the same class is suppressed.
    pub nms_iou: f32,
    /// Suppress across classes (false = class-aware, the default).
    pub class_agnostic: bool,
    /// Cap on detections per frame.
    pub max_detections: usize,
    /// Classes to keep by name; empty keeps all.
    pub classes: Vec<String>,
}

impl Default for DetectParams {
    fn default() -> Self {
        Self {
            thresholds: ScoreThresholds::uniform(0.35),
            nms_iou: 0.45,
            class_agnostic: false,
            max_detections: 300,
            classes: Vec::new(),
        }
    }
}

/// A loaded object detector (YOLOX or YOLOv8 family). Not `Sync`: one per worker thread.
pub struct Detector {
    manifest: ModelManifest,
    session: Session,
    pre: Preprocessor,
    input: Vec<f32>,
    input_w: u32,
    input_h: u32,
}

impl std::fmt::Debug for Detector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Detector")
            .field("model", &self.manifest.name)
            .finish_non_exhaustive()
    }
}

impl Detector {
    /// Loads the model of `manifest` from `model_dir`.
    pub fn new(manifest: ModelManifest, model_dir: &Path, opts: &SessionOptions) -> Result<Self, InferError> {
        if !manifest.family.is_object_detector() {
            return Err(InferError::ShapeMismatch {
                model: manifest.name.clone(),
                problem: format!("family {:?} is not an object detector", manifest.family),
            });
        }
        let (input_w, input_h) = match manifest.input.shape[..] {
            [_, 3, h, w] if h > 0 && w > 0 => (w as u32, h as u32),
            ref s => {
                return Err(InferError::ShapeMismatch {
                    model: manifest.name.clone(),
                    problem: format!(
                        "detector input must be [N, 3, H, W] with fixed H and W, manifest says {s:?}"
                    ),
                });
            }
        };
        let session = open_session(&manifest, model_dir, opts)?;
        let pre = Preprocessor::new(&manifest.input);
        let input = vec![0f32; 3 * input_w as usize * input_h as usize];
        Ok(Self {
            manifest,
            session,
            pre,
            input,
            input_w,
            input_h,
        })
    }

    /// The manifest this detector was built from.
    pub fn manifest(&self) -> &ModelManifest {
        &self.manifest
    }

    /// Model input size (width, height).
    pub fn input_size(&self) -> (u32, u32) {
        (self.input_w, self.input_h)
    }

    /// Letterboxes `img` into the detector's input tensor; returns the placement.
    pub fn preprocess(&mut self, img: ImageView<'_>) -> Result<Letterbox, InferError> {
        let model = &self.manifest.name;
        self.pre
            .write_chw(img, self.input_w, self.input_h, &mut self.input)
            .map_err(|problem| InferError::BadInput {
                model: model.clone(),
                problem,
            })
    }

    /// Runs the session on the current input tensor and returns the raw output (flattened).
    pub fn run_raw(&mut self) -> Result<Vec<f32>, InferError> {
        let shape = [1usize, 3, self.input_h as usize, self.input_w as usize];
        let (_, data) = run_f32(&mut self.session, &self.manifest, &shape, &self.input)?;
        Ok(data)
    }

    /// The input tensor as last written by [`Detector::preprocess`] (CHW floats).
    pub fn input_tensor(&self) -> &[f32] {
        &self.input
    }

    /// Runs the session on a caller-supplied CHW tensor of this model's input size (used to
    /// measure raw ONNX Runtime throughput without preprocessing).
    pub fn run_tensor(&mut self, tensor: &[f32]) -> Result<Vec<f32>, InferError> {
        let shape = [1usize, 3, self.input_h as usize, self.input_w as usize];
        let (_, data) = run_f32(&mut self.session, &self.manifest, &shape, tensor)?;
        Ok(data)
    }

    /// Decodes a raw output into detections in source pixels.
    pub fn postprocess(
        &self,
        raw: &[f32],
        lb: &Letterbox,
        params: &DetectParams,
    ) -> Result<Vec<Detection>, InferError> {
        let m = &self.manifest;
        let keep: Option<Vec<bool>> = if params.classes.is_empty() {
            None
        } else {
            Some(
                m.classes
                    .iter()
                    .map(|c| params.classes.iter().any(|k| k == c))
                    .collect(),
            )
        };
        let nc = m.classes.len();
        let cands = match m.family {
            ModelFamily::Yolox => decode_yolox(
                raw,
                nc,
                self.input_w,
                self.input_h,
                &m.output.strides,
                &params.thresholds,
                keep.as_deref(),
            ),
            ModelFamily::Yolov8 => decode_yolov8(raw, nc, &params.thresholds, keep.as_deref()),
            _ => Err("not a detector".into()),
        }
        .map_err(|problem| InferError::ShapeMismatch {
            model: m.name.clone(),
            problem,
        })?;
        let kept = nms(
            cands,
            params.nms_iou,
            !params.class_agnostic,
            params.max_detections,
        );
        Ok(kept
            .into_iter()
            .filter_map(|c| self.to_detection(c, lb))
            .collect())
    }

    fn to_detection(&self, c: Candidate, lb: &Letterbox) -> Option<Detection> {
        let bbox: BoxPx = lb.to_source(c.bbox);
        if bbox.area() <= 0.0 {
            return None;
        }
        let label = self.manifest.classes.get(c.class as usize)?.clone();
        Some(Detection {
            class: ClassId(c.class),
            label,
            bbox,
            score: c.score,
        })
    }

    /// Preprocess, run and decode one image.
    pub fn detect(
        &mut self,
        img: ImageView<'_>,
        params: &DetectParams,
    ) -> Result<Vec<Detection>, InferError> {
        let lb = self.preprocess(img)?;
        let raw = self.run_raw()?;
        self.postprocess(&raw, &lb, params)
    }
}

/// A detector plus its post-processing settings, as one worker of a [`crate::WorkerPool`] runs it.
#[derive(Debug)]
pub struct PooledDetector {
    /// The model.
    pub detector: Detector,
    /// Thresholds, NMS and class filter.
    pub params: DetectParams,
}

/// Views a frame's pixels as the detector's input image.
pub fn frame_view(f: &vigil_core::Frame) -> ImageView<'_> {
    let color = match f.format {
        vigil_core::PixelFormat::Rgb8 => vigil_core::model::ColorOrder::Rgb,
        vigil_core::PixelFormat::Bgr8 => vigil_core::model::ColorOrder::Bgr,
    };
    ImageView {
        width: f.width,
        height: f.height,
        stride: f.stride,
        color,
        data: &f.data,
    }
}

impl Detector {
    /// Runs several images: one run with a batch axis when the model's batch dimension is
    /// dynamic, one run per image otherwise.
    pub fn detect_batch(
        &mut self,
        imgs: &[ImageView<'_>],
        params: &DetectParams,
    ) -> Result<Vec<Vec<Detection>>, InferError> {
        if imgs.len() <= 1 || self.manifest.input.shape[0] > 0 {
            return imgs.iter().map(|i| self.detect(*i, params)).collect();
        }
        let plane = 3 * self.input_w as usize * self.input_h as usize;
        let mut batch = vec![0f32; plane * imgs.len()];
        let mut placements = Vec::with_capacity(imgs.len());
        for (i, img) in imgs.iter().enumerate() {
            let lb = self
                .pre
                .write_chw(
                    *img,
                    self.input_w,
                    self.input_h,
                    &mut batch[i * plane..(i + 1) * plane],
                )
                .map_err(|problem| InferError::BadInput {
                    model: self.manifest.name.clone(),
                    problem,
                })?;
            placements.push(lb);
        }
        let shape = [imgs.len(), 3, self.input_h as usize, self.input_w as usize];
        let (_, raw) = run_f32(&mut self.session, &self.manifest, &shape, &batch)?;
        let per = raw.len() / imgs.len();
        raw.chunks_exact(per.max(1))
            .zip(&placements)
            .map(|(r, lb)| self.postprocess(r, lb, params))
            .collect()
    }
}

impl crate::pool::FrameDetector for PooledDetector {
    fn max_batch(&self) -> usize {
        match self.detector.manifest.input.shape.first() {
            Some(n) if *n > 0 => *n as usize,
            _ => 16,
        }
    }

    fn detect_frames(&mut self, frames: &[&vigil_core::Frame]) -> Result<Vec<Vec<Detection>>, InferError> {
        let views: Vec<ImageView<'_>> = frames.iter().map(|f| frame_view(f)).collect();
        self.detector.detect_batch(&views, &self.params)
    }
}
