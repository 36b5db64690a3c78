//! [`PlateReader`]: the stateful shell of the plate stage — localiser, recogniser and decoder —
//! and [`VehicleFinder`], the object detector that gives it vehicle boxes in whole scenes.

use std::path::Path;

use vigil_core::model::ModelManifest;
use vigil_core::plate::PlateRead;
use vigil_core::{BoxPx, Detection, PointPx};
use vigil_infer::decode::ScoreThresholds;
use vigil_infer::ocr::{CtcOutput, TextRecognizer};
use vigil_infer::warp::{Strip, expand_quad, rectify, warp_quad};
use vigil_infer::{DetectParams, Detector, ImageView, SessionOptions};
use vigil_plate::{CtcAlphabet, DecodeOptions, PlateDecoder, PlateGrammar};

use crate::candidates::{
    concat_ctc, double_row_pairs, select_candidates, suppress_duplicates, vote_variants,
};
use crate::colour::{classify_strips, fuse_with_format};
use crate::config::{CropPad, PlateReaderConfig};
use crate::deskew::{estimate_slant, sheared_quad};
use crate::error::LprError;
use crate::geometry::{offset_quad, pad_replicate, quad_bounds, region_with_margin, sub_view};
use crate::localise::{Localiser, LocaliserKind, Quad};

/// COCO class names that carry plates.
pub const VEHICLE_CLASSES: [&str; 4] = ["car", "bus", "truck", "motorcycle"];

/// Reads licence plates from tight crops, vehicle regions and whole scenes.
///
/// Owns one ONNX session per model, so it is not `Sync`: one reader per worker thread.
#[derive(Debug)]
pub struct PlateReader {
    /// Validated settings.
    config: PlateReaderConfig,
    /// Text detector or plate detector.
    localiser: Localiser,
    /// PP-OCR recogniser.
    recognizer: TextRecognizer,
    /// Grammar-constrained CTC decoder built against the recogniser's dictionary.
    decoder: PlateDecoder,
}

impl PlateReader {
    /// Loads the models: `localiser` is a `ppocr-det` text detector or a `yolox`/`yolov8` plate
    /// detector manifest (chosen by its family alone), `recogniser` a `ppocr-rec` manifest.
    pub fn new(
        config: PlateReaderConfig,
        grammar: PlateGrammar,
        localiser: ModelManifest,
        recogniser: ModelManifest,
        model_dir: &Path,
        opts: &SessionOptions,
    ) -> Result<Self, LprError> {
        config.validate()?;
        let localiser = Localiser::from_manifest(
            localiser,
            model_dir,
            opts,
            config.db_params(),
            config.plate_detector_min_score,
        )?;
        let rec_name = recogniser.name.clone();
        let recognizer =
            TextRecognizer::new(recogniser, model_dir, opts).map_err(|source| LprError::Infer {
                context: format!("loading recogniser model '{rec_name}'"),
                source,
            })?;
        // The recogniser's dictionary has the CTC blank first and PP-OCR's space last.
        let dict = recognizer.dictionary();
        let words = dict.get(1..dict.len().saturating_sub(1)).unwrap_or(&[]);
        let decoder = PlateDecoder::new(
            grammar,
            CtcAlphabet::new(words),
            DecodeOptions {
                min_confidence: config.min_confidence,
            },
        )?;
        Ok(Self {
            config,
            localiser,
            recognizer,
            decoder,
        })
    }

    /// The settings in use.
    pub fn config(&self) -> &PlateReaderConfig {
        &self.config
    }

    /// Which localiser the manifest selected.
    pub fn localiser_kind(&self) -> LocaliserKind {
        self.localiser.kind()
    }

    /// The decoder (grammar and alphabet).
    pub fn decoder(&self) -> &PlateDecoder {
        &self.decoder
    }

    /// Reads a tight plate crop (the whole image is the plate). `box_px` of the read is the
    /// crop's frame.
    pub fn read_crop(&mut self, img: ImageView<'_>) -> Result<Option<PlateRead>, LprError> {
        Ok(self.read_crops(&[img])?.into_iter().next().flatten())
    }

    /// Reads many tight plate crops: one recogniser pass per configured margin
    /// ([`PlateReaderConfig::crop_pads`]), batched by `rec_batch`, the variants voted.
    pub fn read_crops(&mut self, imgs: &[ImageView<'_>]) -> Result<Vec<Option<PlateRead>>, LprError> {
        let pads = if self.config.crop_pads.is_empty() {
            vec![CropPad { x: 0.0, y: 0.0 }]
        } else {
            self.config.crop_pads.clone()
        };
        let mut per_crop: Vec<Vec<PlateRead>> = vec![Vec::new(); imgs.len()];
        for pad in pads {
            let strips = imgs
                .iter()
                .map(|img| {
                    let h = img.height as f32;
                    let (px, py) = ((pad.x * h).round() as u32, (pad.y * h).round() as u32);
                    pad_replicate(*img, px, py).ok_or_else(|| LprError::Image {
                        context: format!("padding a {}×{} crop", img.width, img.height),
                        problem: "the image buffer is shorter than its size says".into(),
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let views: Vec<ImageView<'_>> = strips.iter().map(|s| s.view()).collect();
            for (i, o) in self.recognise(&views)?.iter().enumerate() {
                if let (Some(r), Some(all)) = (self.decode(o)?, per_crop.get_mut(i)) {
                    all.push(r);
                }
            }
        }
        Ok(per_crop
            .into_iter()
            .zip(imgs)
            .map(|(reads, img)| {
                vote_variants(reads).map(|mut r| {
                    r.box_px = Some(BoxPx::new(0.0, 0.0, img.width as f32, img.height as f32));
                    // The crop as given is the plate (the margins are replicated edges).
                    r.colour = self.colour_of(&[*img], &r);
                    r
                })
            })
            .collect())
    }

    /// Plain greedy CTC text (normalised) of each crop as it is, with no margin, no grammar:
    /// the unconstrained baseline the evaluation compares against.
    pub fn greedy_crops(&mut self, imgs: &[ImageView<'_>]) -> Result<Vec<String>, LprError> {
        let outs = self.recognise(imgs)?;
        outs.iter()
            .map(|o| {
                let probs = self.trimmed(o);
                let g = self
                    .decoder
                    .greedy(probs, [probs.len() / o.classes.max(1), o.classes])?;
                Ok(vigil_plate::normalize_plate_text(&g.text))
            })
            .collect()
    }

    /// Reads the plates of one vehicle: `region` (frame pixels, e.g. a detector box) grown by
    /// the configured margins, localised, rectified, recognised in one batch and decoded.
    /// Boxes of the reads are in frame pixels.
    pub fn read_region(&mut self, frame: ImageView<'_>, region: BoxPx) -> Result<Vec<PlateRead>, LprError> {
        Ok(self.read_region_detailed(frame, region)?.0)
    }

    /// [`PlateReader::read_region`] plus the bounds of every candidate read (frame pixels).
    fn read_region_detailed(
        &mut self,
        frame: ImageView<'_>,
        region: BoxPx,
    ) -> Result<(Vec<PlateRead>, Vec<BoxPx>), LprError> {
        let Some(rect) = region_with_margin(region, self.config.vehicle_margins, frame.width, frame.height)
        else {
            return Ok((Vec::new(), Vec::new()));
        };
        let view = sub_view(frame, rect).ok_or_else(|| LprError::Image {
            context: format!("cropping region {region:?}"),
            problem: format!(
                "{rect:?} does not fit the {}×{} frame buffer",
                frame.width, frame.height
            ),
        })?;
        let origin = PointPx {
            x: rect.x as f32,
            y: rect.y as f32,
        };
        let quads = self.localiser.localise(view, self.config.vehicle_max_side)?;
        self.read_quads(view, quads, origin)
    }

    /// Reads every plate in a whole scene: vehicles found by `vehicles` are read one region
    /// each, then (when `scene_max_side > 0`) the whole image is localised once more for plates
    /// on vehicles the detector missed; duplicates are merged, the most confident read kept.
    pub fn read_image(
        &mut self,
        img: ImageView<'_>,
        vehicles: Option<&mut VehicleFinder>,
    ) -> Result<Vec<PlateRead>, LprError> {
        Ok(self.read_image_detailed(img, vehicles)?.reads)
    }

    /// [`PlateReader::read_image`] with the intermediate results, for evaluation.
    pub fn read_image_detailed(
        &mut self,
        img: ImageView<'_>,
        vehicles: Option<&mut VehicleFinder>,
    ) -> Result<SceneReads, LprError> {
        let mut out = SceneReads::default();
        let mut reads = Vec::new();
        if let Some(finder) = vehicles {
            out.vehicles = finder.find(img)?;
            for v in &out.vehicles {
                let (r, c) = self.read_region_detailed(img, v.bbox)?;
                reads.extend(r);
                out.candidates.extend(c);
            }
        }
        if self.config.scene_max_side > 0 {
            let quads = self.localiser.localise(img, self.config.scene_max_side)?;
            let (r, c) = self.read_quads(img, quads, PointPx { x: 0.0, y: 0.0 })?;
            reads.extend(r);
            out.candidates.extend(c);
        }
        out.reads = suppress_duplicates(reads);
        Ok(out)
    }

    /// Rectifies, recognises and decodes the plate-like quads of `img`; `origin` is where
    /// `img`'s top-left sits in the frame.
    fn read_quads(
        &mut self,
        img: ImageView<'_>,
        quads: Vec<Quad>,
        origin: PointPx,
    ) -> Result<(Vec<PlateRead>, Vec<BoxPx>), LprError> {
        let quads = select_candidates(quads, &self.config);
        let mut kept: Vec<Quad> = Vec::with_capacity(quads.len());
        let mut strips = Vec::with_capacity(quads.len());
        // (candidate index, strip) of the extra, stretched reads of foreshortened candidates.
        let mut stretched: Vec<(usize, Strip)> = Vec::new();
        for q in quads {
            let mut corners = expand_quad(q.corners, self.config.quad_pad_x, self.config.quad_pad_y);
            // A degenerate quad (collinear corners) is not a plate; skip it.
            let Ok(mut strip) = rectify(img, corners) else {
                continue;
            };
            if self.config.deskew {
                let k = estimate_slant(&strip);
                if k.abs() >= self.config.min_slant
                    && let Some(sheared) = sheared_quad(corners, strip.width, strip.height, k)
                    && let Ok(straight) = rectify(img, sheared)
                {
                    strip = straight;
                    corners = sheared;
                }
            }
            let target = self.config.stretch_aspect;
            if target > 0.0 && (strip.width as f32) < target * strip.height as f32 {
                let w = (target * strip.height as f32).round() as u32;
                if let Ok(data) = warp_quad(img, corners, w, strip.height) {
                    stretched.push((
                        kept.len(),
                        Strip {
                            width: w,
                            height: strip.height,
                            color: img.color,
                            data,
                        },
                    ));
                }
            }
            kept.push(q);
            strips.push(strip);
        }
        let views: Vec<ImageView<'_>> = strips
            .iter()
            .chain(stretched.iter().map(|(_, s)| s))
            .map(|s| s.view())
            .collect();
        let mut outs = self.recognise(&views)?;
        let extra_outs = outs.split_off(strips.len().min(outs.len()));
        let bounds = |q: &Quad| quad_bounds(&offset_quad(q.corners, origin));
        // Every candidate's reads: its strip, then its stretched strip if any; the more
        // confident one stands for the candidate.
        let mut per_candidate: Vec<Vec<PlateRead>> = vec![Vec::new(); kept.len()];
        let extra = stretched.iter().map(|(i, _)| *i).zip(&extra_outs);
        for (i, o) in outs.iter().enumerate().chain(extra) {
            if let (Some(r), Some(all)) = (self.decode(o)?, per_candidate.get_mut(i)) {
                all.push(r);
            }
        }
        let mut reads = Vec::new();
        for ((q, all), strip) in kept.iter().zip(per_candidate).zip(&strips) {
            if let Some(mut r) = all
                .into_iter()
                .max_by(|a, b| a.confidence.total_cmp(&b.confidence))
            {
                r.box_px = Some(bounds(q));
                // The unstretched strip: stretching changes no colour, only costs time.
                r.colour = self.colour_of(&[strip.view()], &r);
                reads.push(r);
            }
        }
        for (t, b) in double_row_pairs(&kept) {
            let (Some(top), Some(bottom)) = (outs.get(t), outs.get(b)) else {
                continue;
            };
            let joined = concat_ctc(self.trimmed(top), self.trimmed(bottom), top.classes);
            let steps = joined.len() / top.classes.max(1);
            if let Some(mut r) = self.decoder.decode(&joined, [steps, top.classes])? {
                let (bt, bb) = (bounds(&kept[t]), bounds(&kept[b]));
                r.box_px = Some(BoxPx::new(
                    bt.x1.min(bb.x1),
                    bt.y1.min(bb.y1),
                    bt.x2.max(bb.x2),
                    bt.y2.max(bb.y2),
                ));
                // Both rows are the same plate: their pixels are pooled.
                let rows: Vec<ImageView<'_>> = [t, b]
                    .iter()
                    .filter_map(|&i| strips.get(i))
                    .map(|s| s.view())
                    .collect();
                r.colour = self.colour_of(&rows, &r);
                reads.push(r);
            }
        }
        let candidates = kept.iter().map(bounds).collect();
        Ok((suppress_duplicates(reads), candidates))
    }

    /// The plate colour of `read` from its strip(s) and its format ([`crate::colour`]), when
    /// the estimate clears `colour_min_confidence`.
    fn colour_of(&self, strips: &[ImageView<'_>], read: &PlateRead) -> Option<String> {
        fuse_with_format(classify_strips(strips), &read.format, &read.text)
            .filter(|e| e.confidence >= self.config.colour_min_confidence)
            .map(|e| e.colour.as_str().to_owned())
    }

    /// Runs the recogniser over `imgs` in batches of `rec_batch`.
    pub fn recognise(&mut self, imgs: &[ImageView<'_>]) -> Result<Vec<CtcOutput>, LprError> {
        let mut outs = Vec::with_capacity(imgs.len());
        for chunk in imgs.chunks(self.config.rec_batch.max(1)) {
            outs.extend(
                self.recognizer
                    .recognize(chunk)
                    .map_err(|source| LprError::Infer {
                        context: format!("recognising a batch of {} strips", chunk.len()),
                        source,
                    })?,
            );
        }
        Ok(outs)
    }

    /// The probabilities to decode: the steps covering the strip, or all of them.
    fn trimmed<'o>(&self, o: &'o CtcOutput) -> &'o [f32] {
        let steps = if self.config.trim_padding {
            o.valid_steps.min(o.steps)
        } else {
            o.steps
        };
        o.probs.get(..steps * o.classes).unwrap_or(&o.probs)
    }

    /// Grammar-constrained decoding of one output.
    fn decode(&self, o: &CtcOutput) -> Result<Option<PlateRead>, LprError> {
        let probs = self.trimmed(o);
        let steps = probs.len() / o.classes.max(1);
        Ok(self.decoder.decode(probs, [steps, o.classes])?)
    }
}

/// What [`PlateReader::read_image_detailed`] found in one scene.
#[derive(Debug, Clone, Default)]
pub struct SceneReads {
    /// The plates, duplicates merged; boxes in image pixels.
    pub reads: Vec<PlateRead>,
    /// Bounds of every plate-like candidate that was recognised (image pixels).
    pub candidates: Vec<BoxPx>,
    /// The vehicles the finder reported.
    pub vehicles: Vec<Detection>,
}

/// The object detector that finds vehicles in whole scenes for [`PlateReader::read_image`].
#[derive(Debug)]
pub struct VehicleFinder {
    /// The model (YOLOX-Nano in the default setup).
    pub detector: Detector,
    /// Thresholds and the vehicle class filter.
    pub params: DetectParams,
}

impl VehicleFinder {
    /// Loads a detector and keeps only [`VEHICLE_CLASSES`] at `min_score`.
    pub fn new(
        manifest: ModelManifest,
        model_dir: &Path,
        opts: &SessionOptions,
        min_score: f32,
    ) -> Result<Self, LprError> {
        let name = manifest.name.clone();
        let detector = Detector::new(manifest, model_dir, opts).map_err(|source| LprError::Infer {
            context: format!("loading vehicle detector '{name}'"),
            source,
        })?;
        Ok(Self {
            detector,
            params: DetectParams {
                thresholds: ScoreThresholds::uniform(min_score),
                classes: VEHICLE_CLASSES.iter().map(|s| (*s).to_owned()).collect(),
                ..DetectParams::default()
            },
        })
    }

    /// Vehicle boxes in frame pixels.
    pub fn find(&mut self, img: ImageView<'_>) -> Result<Vec<Detection>, LprError> {
        self.detector
            .detect(img, &self.params)
            .map_err(|source| LprError::Infer {
                context: format!("vehicle detection on a {}×{} image", img.width, img.height),
                source,
            })
    }
}
