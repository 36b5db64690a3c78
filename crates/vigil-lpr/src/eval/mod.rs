//! Accuracy evaluation on the development sets, behind `vigil eval plates|scenes`.
//!
//! * [`eval_plates`] — tight plate crops: exact-match accuracy of the grammar-constrained read
//!   (and, for comparison, of plain greedy CTC decoding of the same recogniser output),
//!   per-position confusions, throughput, misses. Crops listed in [`labels::NOT_PLATES`] are
//!   read and reported as excluded, never scored.
//! * [`eval_scenes`] — whole photos: every `high` label must be read exactly, `low` labels
//!   count when read, `illegible` labels only test that a candidate box was localised there,
//!   and every read whose text matches no label of its scene is a false plate.
//! * Both also score the plate colour of every read ([`crate::colour`]): against blue for the
//!   plates set ([`labels::PLATES_SET_COLOUR`]), against the `color` column for the scene rows
//!   that were read. An unsure read (no colour) counts as wrong.
//!
//! Both reports serialise to JSON with every read (text, confidence, box).

pub mod labels;
mod plates;
mod scenes;

use std::path::PathBuf;

use serde::Serialize;
use vigil_core::BoxPx;
use vigil_core::plate::PlateRead;

pub use plates::{Confusion, CropResult, ExcludedCrop, PlatesReport, eval_plates};
pub use scenes::{LOCALISED_IOU, LabelResult, SceneResult, ScenesReport, eval_scenes};

/// Why an evaluation could not run.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// A file or folder could not be read.
    #[error(
        "reading {path}: {source} (fix: check the path; the sets live in ../shared/testdata or .cache/testdata)"
    )]
    Io {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A labels file is malformed.
    #[error("{path}, line {line}: {problem} (fix: see testdata/README.md for the columns)")]
    Labels {
        /// The labels file (or folder).
        path: PathBuf,
        /// 1-based line, 0 when the whole file is affected.
        line: usize,
        /// What is wrong.
        problem: String,
    },
    /// An image could not be decoded.
    #[error("decoding {path}: {problem}")]
    Image {
        /// The image.
        path: PathBuf,
        /// The decoder's message.
        problem: String,
    },
    /// The plate reader failed on a file.
    #[error("reading plates in {file}: {source}")]
    Reader {
        /// The image file.
        file: String,
        /// The reader's error (boxed: it is large and rare).
        #[source]
        source: Box<crate::LprError>,
    },
}

/// One read as it appears in a report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReadSummary {
    /// Normalised plate text.
    pub text: String,
    /// Overall confidence.
    pub confidence: f32,
    /// Plate format matched.
    pub format: String,
    /// Box in image pixels, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub box_px: Option<BoxPx>,
    /// Plate colour, `None` when the reader was unsure.
    pub colour: Option<String>,
}

impl From<&PlateRead> for ReadSummary {
    fn from(r: &PlateRead) -> Self {
        Self {
            text: r.text.clone(),
            confidence: r.confidence,
            format: r.format.clone(),
            box_px: r.box_px,
            colour: r.colour.clone(),
        }
    }
}

/// Share `num / den`, 0 for an empty set.
fn ratio(num: usize, den: usize) -> f64 {
    if den == 0 { 0.0 } else { num as f64 / den as f64 }
}
