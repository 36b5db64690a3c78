//! ONNX Runtime inference for Vigil: the process-wide runtime, sessions built from model
//! manifests, letterbox preprocessing, detector output decoders and NMS.
//!
//! The math is in pure functions ([`letterbox`], [`decode`], [`nms`]) tested without a model;
//! [`Detector`] is the thin stateful shell that owns one `ort` session, its reusable input
//! buffer, and the manifest that says how to feed and decode it. `Session::run` needs `&mut`, so
//! a detector belongs to one worker thread; the pool runs N of them.

pub mod decode;
mod detector;
mod error;
pub mod letterbox;
pub mod nms;
pub mod ocr;
mod pool;
mod runtime;
mod session;
mod stats;
pub mod textbox;
pub mod warp;

pub use detector::{DetectParams, Detector, ImageView, PooledDetector, frame_view};
pub use error::InferError;
pub use pool::{FrameDetector, FrameResult, PoolConfig, Submitter, WorkerPool};
pub use runtime::{OrtLibrary, RuntimeOptions, environment, find_library};
pub use session::{SessionOptions, load_manifest, open_session};
pub use stats::{DurationHistogram, LATENCY_BUCKETS_S, PoolStats};
