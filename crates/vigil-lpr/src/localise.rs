//! Plate localisation inside a vehicle crop: the PP-OCR text detector (DB) or an operator's
//! dedicated plate detector (YOLOX / YOLOv8 family), chosen by the model manifest alone.
//!
//! Both produce [`Quad`]s in the pixels of the image they were given. The text detector finds
//! every text line (plates, slogans, box numbers); the grammar-constrained decoder later throws
//! out what is not a plate. A plate detector finds plates only and gives axis-aligned boxes.
//!
//! No dedicated plate-detector model ships with Vigil: the detector path is exercised in tests
//! with the YOLOv8 fall detector standing in, which proves the wiring, not plate accuracy.

use std::path::Path;

use vigil_core::PointPx;
use vigil_core::model::{ModelFamily, ModelManifest};
use vigil_infer::decode::ScoreThresholds;
use vigil_infer::ocr::TextDetector;
use vigil_infer::textbox::{DbParams, extract_boxes};
use vigil_infer::{DetectParams, Detector, ImageView, SessionOptions};

use crate::error::LprError;
use crate::geometry::box_quad;

/// A plate candidate: a quadrilateral (top-left, top-right, bottom-right, bottom-left) in the
/// pixels of the localised image, with the localiser's score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quad {
    /// Corners, clockwise on screen from the top-left.
    pub corners: [PointPx; 4],
    /// Localiser score in 0..1 (DB mean probability or detector confidence).
    pub score: f32,
}

impl Quad {
    /// Length of the top edge.
    pub fn width_px(&self) -> f32 {
        let [tl, tr, ..] = self.corners;
        (tr.x - tl.x).hypot(tr.y - tl.y)
    }

    /// Length of the left edge.
    pub fn height_px(&self) -> f32 {
        let [tl, _, _, bl] = self.corners;
        (bl.x - tl.x).hypot(bl.y - tl.y)
    }
}

/// Which kind of localiser a manifest selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocaliserKind {
    /// PP-OCR text detector (family `ppocr-det`).
    Text,
    /// Object detector trained on plates (family `yolox` or `yolov8`).
    PlateDetector,
}

/// Picks the localiser kind for a manifest; a recogniser is not a localiser.
pub fn localiser_kind(m: &ModelManifest) -> Result<LocaliserKind, LprError> {
    match m.family {
        ModelFamily::PpocrDet => Ok(LocaliserKind::Text),
        ModelFamily::Yolox | ModelFamily::Yolov8 => Ok(LocaliserKind::PlateDetector),
        ModelFamily::PpocrRec => Err(LprError::NotALocaliser {
            model: m.name.clone(),
            family: m.family,
        }),
    }
}

/// The localiser: one loaded model. Not `Sync`; one per worker thread, like every session.
#[derive(Debug)]
pub enum Localiser {
    /// PP-OCR DB text detector with its post-processing knobs.
    Text {
        /// The model.
        detector: TextDetector,
        /// DB post-processing.
        db: DbParams,
    },
    /// A YOLO-family plate detector.
    PlateDetector {
        /// The model.
        detector: Detector,
        /// Thresholds and class filter (all classes count as plates unless filtered).
        params: DetectParams,
    },
}

impl Localiser {
    /// Loads the localiser a manifest describes. `db` is used by the text detector,
    /// `min_score` by a plate detector.
    pub fn from_manifest(
        manifest: ModelManifest,
        model_dir: &Path,
        opts: &SessionOptions,
        db: DbParams,
        min_score: f32,
    ) -> Result<Self, LprError> {
        let name = manifest.name.clone();
        let infer = |source| LprError::Infer {
            context: format!("loading localiser model '{name}'"),
            source,
        };
        match localiser_kind(&manifest)? {
            LocaliserKind::Text => Ok(Localiser::Text {
                detector: TextDetector::new(manifest, model_dir, opts).map_err(infer)?,
                db,
            }),
            LocaliserKind::PlateDetector => Ok(Localiser::PlateDetector {
                detector: Detector::new(manifest, model_dir, opts).map_err(infer)?,
                params: DetectParams {
                    thresholds: ScoreThresholds::uniform(min_score),
                    // Plates of neighbouring cars never overlap much; class-agnostic NMS keeps
                    // one box per plate whatever class names the export uses.
                    class_agnostic: true,
                    max_detections: 32,
                    ..DetectParams::default()
                },
            }),
        }
    }

    /// The kind of this localiser.
    pub fn kind(&self) -> LocaliserKind {
        match self {
            Localiser::Text { .. } => LocaliserKind::Text,
            Localiser::PlateDetector { .. } => LocaliserKind::PlateDetector,
        }
    }

    /// Finds plate candidates in `img`; quads are in `img` pixels. `max_side` is the text
    /// detector's input size (longer side; a detector uses its fixed input size).
    pub fn localise(&mut self, img: ImageView<'_>, max_side: u32) -> Result<Vec<Quad>, LprError> {
        match self {
            Localiser::Text { detector, db } => {
                detector.max_side = max_side;
                let map = detector.prob_map(img).map_err(|source| LprError::Infer {
                    context: format!("text detection on a {}×{} crop", img.width, img.height),
                    source,
                })?;
                let boxes = extract_boxes(&map, db).map_err(|problem| LprError::Config {
                    field: "db",
                    problem,
                    hint: "check thresh, box_thresh and unclip_ratio",
                })?;
                Ok(boxes
                    .into_iter()
                    .map(|b| Quad {
                        corners: b.corners,
                        score: b.score,
                    })
                    .collect())
            }
            Localiser::PlateDetector { detector, params } => {
                let dets = detector.detect(img, params).map_err(|source| LprError::Infer {
                    context: format!("plate detection on a {}×{} crop", img.width, img.height),
                    source,
                })?;
                Ok(dets
                    .into_iter()
                    .map(|d| Quad {
                        corners: box_quad(d.bbox),
                        score: d.score,
                    })
                    .collect())
            }
        }
    }
}
