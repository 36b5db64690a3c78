//! PP-OCR text detection (DB probability map) and recognition (CTC probabilities).
//!
//! These are the model shells of the plate stage: they turn image crops into tensors, run the
//! sessions and hand back raw outputs with the geometry needed to interpret them. The text-side
//! logic (DB box extraction, grammar-constrained CTC decoding, voting) lives in pure functions
//! elsewhere so it can be tested without a model.

use crate::error::InferError;
use crate::letterbox::{Letterbox, Preprocessor, Rgb8View};
use crate::session::{SessionOptions, open_session, run_f32};
use ort::session::Session;
use std::path::Path;
use vigil_core::model::{ModelFamily, ModelManifest};

/// Input height of the PP-OCR recogniser.
pub const REC_HEIGHT: u32 = 48;
/// Narrowest recogniser input (PP-OCR's 320 for a 48-px line).
pub const REC_MIN_WIDTH: u32 = 320;
/// Widest recogniser input we build; wider crops are squeezed (plates are ~3:1 to 5:1).
pub const REC_MAX_WIDTH: u32 = 960;

/// The recogniser's output for one crop: `steps × classes` probabilities, row-major.
#[derive(Debug, Clone)]
pub struct CtcOutput {
    /// Time steps.
    pub steps: usize,
    /// Classes per step (dictionary + blank + space).
    pub classes: usize,
    /// Probabilities, `steps * classes` values.
    pub probs: Vec<f32>,
    /// Steps that cover the crop itself (the rest is padding of the batch).
    pub valid_steps: usize,
}

fn check_family(m: &ModelManifest, want: ModelFamily) -> Result<(), InferError> {
    if m.family == want {
        Ok(())
    } else {
        Err(InferError::ShapeMismatch {
            model: m.name.clone(),
            problem: format!("family is {:?}, expected {want:?}", m.family),
        })
    }
}

/// PP-OCR recogniser with its dictionary.
pub struct TextRecognizer {
    manifest: ModelManifest,
    session: Session,
    pre: Preprocessor,
    dictionary: Vec<String>,
    buf: Vec<f32>,
}

impl std::fmt::Debug for TextRecognizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextRecognizer")
            .field("model", &self.manifest.name)
            .field("classes", &self.dictionary.len())
            .finish()
    }
}

impl TextRecognizer {
    /// Loads the recogniser and its dictionary (from the manifest's classes or model metadata).
    pub fn new(manifest: ModelManifest, model_dir: &Path, opts: &SessionOptions) -> Result<Self, InferError> {
        check_family(&manifest, ModelFamily::PpocrRec)?;
        let session = open_session(&manifest, model_dir, opts)?;
        let chars: Vec<String> = match &manifest.classes_from_metadata {
            Some(key) => {
                let meta = session.metadata().map_err(|e| InferError::Ort {
                    model: manifest.name.clone(),
                    context: "reading metadata",
                    message: e.to_string(),
                })?;
                let text = meta.custom(key).ok_or_else(|| InferError::ShapeMismatch {
                    model: manifest.name.clone(),
                    problem: format!("metadata key '{key}' (the dictionary) is missing"),
                })?;
                text.lines().map(str::to_string).collect()
            }
            None => manifest.classes.clone(),
        };
        // PP-OCR's CTC head: class 0 is the blank, then the dictionary, then a space.
        let mut dictionary = Vec::with_capacity(chars.len() + 2);
        dictionary.push(String::new());
        dictionary.extend(chars);
        dictionary.push(" ".to_string());
        if let Some(&n) = manifest.output.shape.last()
            && n > 0
            && n as usize != dictionary.len()
        {
            return Err(InferError::ShapeMismatch {
                model: manifest.name.clone(),
                problem: format!(
                    "dictionary has {} entries with blank and space, output has {n} classes",
                    dictionary.len()
                ),
            });
        }
        let pre = Preprocessor::new(&manifest.input);
        Ok(Self {
            manifest,
            session,
            pre,
            dictionary,
            buf: Vec::new(),
        })
    }

    /// Class labels: index 0 = CTC blank (empty string), last = space.
    pub fn dictionary(&self) -> &[String] {
        &self.dictionary
    }

    /// Recognises a batch of text-line crops (each ideally one plate, upright).
    pub fn recognize(&mut self, crops: &[Rgb8View<'_>]) -> Result<Vec<CtcOutput>, InferError> {
        if crops.is_empty() {
            return Ok(Vec::new());
        }
        let model = self.manifest.name.clone();
        let bad = |problem: String| InferError::BadInput {
            model: model.clone(),
            problem,
        };
        let widths: Vec<u32> = crops
            .iter()
            .map(|c| {
                c.validate().map_err(bad)?;
                Ok((REC_HEIGHT as f32 * c.width as f32 / c.height as f32).ceil() as u32)
            })
            .collect::<Result<_, InferError>>()?;
        let width = widths
            .iter()
            .copied()
            .max()
            .unwrap_or(REC_MIN_WIDTH)
            .clamp(REC_MIN_WIDTH, REC_MAX_WIDTH);
        let plane = (REC_HEIGHT * width) as usize * 3;
        self.buf.resize(plane * crops.len(), 0.0);
        let mut placements: Vec<Letterbox> = Vec::with_capacity(crops.len());
        for (i, crop) in crops.iter().enumerate() {
            let lb = self
                .pre
                .write_chw(
                    *crop,
                    width,
                    REC_HEIGHT,
                    &mut self.buf[i * plane..(i + 1) * plane],
                )
                .map_err(bad)?;
            placements.push(lb);
        }
        let shape = [crops.len(), 3, REC_HEIGHT as usize, width as usize];
        let (out_shape, data) = run_f32(&mut self.session, &self.manifest, &shape, &self.buf)?;
        let [n, steps, classes] = out_shape[..] else {
            return Err(InferError::ShapeMismatch {
                model,
                problem: format!("recogniser output shape {out_shape:?} is not [N, T, C]"),
            });
        };
        let (n, steps, classes) = (n as usize, steps as usize, classes as usize);
        if n != crops.len() || classes != self.dictionary.len() || data.len() != n * steps * classes {
            return Err(InferError::ShapeMismatch {
                model,
                problem: format!(
                    "recogniser output {out_shape:?} does not fit {} crops × {} classes",
                    crops.len(),
                    self.dictionary.len()
                ),
            });
        }
        Ok(data
            .chunks_exact(steps * classes)
            .zip(&placements)
            .map(|(p, lb)| CtcOutput {
                steps,
                classes,
                probs: p.to_vec(),
                valid_steps: ((lb.resized_w as usize * steps).div_ceil(width as usize)).min(steps),
            })
            .collect())
    }
}

/// The text detector's probability map for one image.
#[derive(Debug, Clone)]
pub struct ProbMap {
    /// Map width (= model input width).
    pub width: u32,
    /// Map height.
    pub height: u32,
    /// Text probability per map pixel, row-major.
    pub data: Vec<f32>,
    /// Placement of the source image on the map, for mapping boxes back.
    pub placement: Letterbox,
}

/// PP-OCR DB text detector.
pub struct TextDetector {
    manifest: ModelManifest,
    session: Session,
    pre: Preprocessor,
    buf: Vec<f32>,
    /// Longest side of the model input; inputs are scaled to fit, in multiples of 32.
    pub max_side: u32,
}

impl std::fmt::Debug for TextDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextDetector")
            .field("model", &self.manifest.name)
            .field("max_side", &self.max_side)
            .finish()
    }
}

/// Model input size for an image: scaled so the longer side is at most `max_side` (and small
/// images are enlarged up to it), both sides rounded to multiples of 32, at least 32.
pub fn det_input_size(w: u32, h: u32, max_side: u32) -> (u32, u32) {
    let r = max_side as f32 / w.max(h).max(1) as f32;
    let round32 = |v: f32| (((v / 32.0).round() as u32) * 32).max(32);
    (round32(w as f32 * r), round32(h as f32 * r))
}

impl TextDetector {
    /// Loads the detector.
    pub fn new(manifest: ModelManifest, model_dir: &Path, opts: &SessionOptions) -> Result<Self, InferError> {
        check_family(&manifest, ModelFamily::PpocrDet)?;
        let session = open_session(&manifest, model_dir, opts)?;
        let pre = Preprocessor::new(&manifest.input);
        Ok(Self {
            manifest,
            session,
            pre,
            buf: Vec::new(),
            max_side: 640,
        })
    }

    /// Runs the detector on one image and returns its probability map.
    pub fn prob_map(&mut self, img: Rgb8View<'_>) -> Result<ProbMap, InferError> {
        let model = self.manifest.name.clone();
        img.validate().map_err(|problem| InferError::BadInput {
            model: model.clone(),
            problem,
        })?;
        let (w, h) = det_input_size(img.width, img.height, self.max_side);
        self.buf.resize((w * h * 3) as usize, 0.0);
        let placement =
            self.pre
                .write_chw(img, w, h, &mut self.buf)
                .map_err(|problem| InferError::BadInput {
                    model: model.clone(),
                    problem,
                })?;
        let (shape, data) = run_f32(
            &mut self.session,
            &self.manifest,
            &[1, 3, h as usize, w as usize],
            &self.buf,
        )?;
        if shape != [1, 1, h as i64, w as i64] {
            return Err(InferError::ShapeMismatch {
                model,
                problem: format!("detector output {shape:?}, expected [1, 1, {h}, {w}]"),
            });
        }
        Ok(ProbMap {
            width: w,
            height: h,
            data,
            placement,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::det_input_size;

    #[test]
    fn det_sizes_are_multiples_of_32() {
        assert_eq!(det_input_size(94, 24, 640), (640, 160));
        assert_eq!(det_input_size(1920, 1080, 640), (640, 352));
        assert_eq!(det_input_size(10, 1000, 640), (32, 640));
    }
}
