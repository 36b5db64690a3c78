//! The pipeline: config file → running cameras, detector pool, trackers, rules and alert
//! delivery.
//!
//! Threads: one supervisor per camera (vigil-ingest) plus one forwarding thread per camera that
//! moves frames into the worker pool (drop-oldest per camera); N inference workers; one analysis
//! thread that tracks, evaluates rules and appends alerts to the outbox (fsync'd); a tokio
//! runtime for the sinks' delivery loops.

pub mod analysis;
pub mod classes_check;
pub mod config;
pub mod detector_pool;
pub mod limits;
pub mod live_view;
pub mod plate_tracks;
pub mod plates;
pub mod plates_config;
pub mod positions;
pub mod privacy;
pub mod read_log;
pub mod run;
pub mod shared;
pub mod sinks_check;
pub mod snapshot;

pub use config::{PipelineConfig, load};
pub use run::{Pipeline, RunSummary};
