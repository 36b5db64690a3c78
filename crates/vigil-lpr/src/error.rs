//! Errors of the plate stage, each saying what was being done and how to fix it.

use vigil_core::model::ModelFamily;
use vigil_infer::InferError;

/// Everything that can go wrong building or running a [`crate::PlateReader`].
#[derive(Debug, thiserror::Error)]
pub enum LprError {
    /// A model could not be loaded or run.
    #[error("plate reader: {context}: {source}")]
    Infer {
        /// What was being done (model name, crop size).
        context: String,
        /// The inference error.
        #[source]
        source: InferError,
    },
    /// The manifest given as localiser is not a detector.
    #[error(
        "plate reader: model '{model}' has family {family:?}, which cannot localise plates (fix: give a `ppocr-det` text detector or a `yolox`/`yolov8` plate detector manifest)"
    )]
    NotALocaliser {
        /// Model name.
        model: String,
        /// Its family.
        family: ModelFamily,
    },
    /// A configuration value is unusable.
    #[error("plate reader config: {field}: {problem} (fix: {hint})")]
    Config {
        /// Which setting.
        field: &'static str,
        /// What is wrong with it.
        problem: String,
        /// How to fix it.
        hint: &'static str,
    },
    /// The grammar cannot be decoded with the recogniser's dictionary.
    #[error("plate reader: {0}")]
    Decoder(#[from] vigil_plate::DecoderError),
    /// The recogniser output did not fit the dictionary.
    #[error("plate reader: decoding the recogniser output: {0}")]
    Decode(#[from] vigil_plate::DecodeError),
    /// An image could not be rectified (a caller bug, e.g. a region outside the frame).
    #[error("plate reader: {context}: {problem}")]
    Image {
        /// What was being done.
        context: String,
        /// What is wrong.
        problem: String,
    },
}
