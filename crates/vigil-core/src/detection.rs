//! Detector output: a class, a box in source-frame pixels and a score.

use crate::geometry::BoxPx;
use serde::{Deserialize, Serialize};

/// Index of a class in a model's class list (e.g. COCO `0` = person).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ClassId(pub u16);

/// One object found in one frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    /// Class index in the producing model's class list.
    pub class: ClassId,
    /// Class name from the model manifest (e.g. "person", "car").
    pub label: String,
    /// Box in source-frame pixels.
    pub bbox: BoxPx,
    /// Final score (for YOLOX objectness × class probability), 0..1.
    pub score: f32,
}
