//! Errors of the inference crate, each naming the model or file involved.

use std::path::PathBuf;

/// Everything that can go wrong loading or running a model.
#[derive(Debug, thiserror::Error)]
pub enum InferError {
    /// The ONNX Runtime shared library could not be found or loaded.
    #[error("ONNX Runtime library not usable: {problem}\n  looked at: {looked}\n  fix: {hint}")]
    Runtime {
        /// What went wrong.
        problem: String,
        /// Paths that were tried, in order.
        looked: String,
        /// How to fix it.
        hint: String,
    },
    /// Loading the library failed earlier in this process; the message says why and how to fix it.
    #[error("{0}")]
    RuntimeLoad(String),
    /// A model manifest could not be read or is invalid.
    #[error("{0}")]
    Manifest(#[from] vigil_core::model::ManifestError),
    /// The model file is missing.
    #[error("model '{model}': file {path} not found (fix: run `vigil models fetch` or `make models`)")]
    ModelMissing {
        /// Model name.
        model: String,
        /// Expected path.
        path: PathBuf,
    },
    /// The ONNX graph does not match its manifest.
    #[error("model '{model}': {problem}")]
    ShapeMismatch {
        /// Model name.
        model: String,
        /// Which tensor differs and how.
        problem: String,
    },
    /// ONNX Runtime reported an error.
    #[error("model '{model}': ONNX Runtime error while {context}: {message}")]
    Ort {
        /// Model name.
        model: String,
        /// What was being done.
        context: &'static str,
        /// The runtime's message.
        message: String,
    },
    /// The input image is unusable (zero size, short buffer).
    #[error("model '{model}': bad input image: {problem}")]
    BadInput {
        /// Model name.
        model: String,
        /// What is wrong with it.
        problem: String,
    },
}
