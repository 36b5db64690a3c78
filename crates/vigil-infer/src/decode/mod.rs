//! Raw detector outputs → candidate boxes in model-input pixels.
//!
//! One module per output layout. Each decoder validates the tensor shape against the manifest
//! and returns a clear error naming both shapes instead of indexing out of bounds.

mod yolov8;
mod yolox;

pub use yolov8::decode_yolov8;
pub use yolox::{decode_yolox, yolox_anchor_count};

/// Per-class score thresholds: a default plus overrides.
#[derive(Debug, Clone)]
pub struct ScoreThresholds {
    /// Threshold for classes without an override.
    pub default: f32,
    /// `(class index, threshold)` overrides.
    pub per_class: Vec<(u16, f32)>,
}

impl ScoreThresholds {
    /// A single threshold for every class.
    pub fn uniform(t: f32) -> Self {
        Self {
            default: t,
            per_class: Vec::new(),
        }
    }

    /// The threshold that applies to `class`.
    pub fn for_class(&self, class: u16) -> f32 {
        self.per_class
            .iter()
            .find(|(c, _)| *c == class)
            .map_or(self.default, |(_, t)| *t)
    }

    /// The lowest threshold of any class: a cheap first filter.
    pub fn min(&self) -> f32 {
        self.per_class
            .iter()
            .map(|(_, t)| *t)
            .fold(self.default, f32::min)
    }
}

/// Which classes to keep; `None` keeps all.
pub type ClassFilter<'a> = Option<&'a [bool]>;
