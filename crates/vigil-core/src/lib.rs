//! Types shared by every Vigil stage.
//!
//! This crate is the small centre of the workspace: every pipeline stage (ingest, inference,
//! tracking, rules, alert delivery) depends on it and on nothing of each other. It holds the
//! values that cross stage boundaries — [`Frame`], [`BoxPx`], [`Detection`] — and the model
//! manifest schema ([`model::ModelManifest`]) that both the fetcher and the inference engine read.
//!
//! Coordinate spaces are carried in type names: `*Px` values are source-frame pixels (x right,
//! y down, origin top-left); `*Norm` values are normalised to 0..1 of the frame size.

pub mod alert;
pub mod counts;
pub mod detection;
pub mod frame;
pub mod geometry;
pub mod model;
pub mod plate;
pub mod plate_text;
pub mod secret_file;
pub mod track;

pub use detection::{ClassId, Detection};
pub use frame::{CameraId, Frame, PixelFormat};
pub use geometry::{BoxPx, PointNorm, PointPx};
