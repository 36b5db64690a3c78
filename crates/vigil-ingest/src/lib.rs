//! Camera ingest for Vigil: GStreamer sources, one supervisor per camera, and a real RTSP test
//! camera server.
//!
//! # Design
//!
//! * **Config → settings.** [`CameraSourceConfig`] is the serde form of a `[[camera]]` entry
//!   (`deny_unknown_fields`); [`CameraSourceConfig::validate`] turns it into trusted
//!   [`SourceSettings`] once, at load time, and names the camera in every error.
//! * **Pipeline** ([`pipeline`](crate::pipeline) module): `rtspsrc`/`urisourcebin` → `parsebin` →
//!   decoder (hardware when present, see [`decoder`]) → `videorate drop-only` + a timestamp
//!   [`RateGate`] (drop to the analysis fps before any conversion) → optional downscale →
//!   `videoconvert` → `appsink` (RGB/BGR, `max-buffers=1`, `drop`).
//! * **Hand-off** ([`queue`]): the appsink callback never blocks. It copies the pixels once into
//!   an `Arc<[u8]>` [`vigil_core::Frame`] and pushes into a bounded per-camera crossbeam channel
//!   with drop-oldest: when full, the oldest frame is discarded and counted.
//! * **Supervision** ([`supervisor`]): a thread per camera runs the pipeline, watches the bus
//!   and a stall watchdog, and reconnects with capped exponential backoff plus jitter
//!   ([`backoff`]), retrying quickly for a while after a camera that was streaming drops
//!   ([`reconnect`]). [`CameraStatus`] is a cheap-clone view of state, counters and the last error.
//! * **Secrets**: credentials go to `rtspsrc` as properties, never in the location; every log
//!   line and error passes through [`redact_uri`] / [`Redactor`].
//! * **camsim** ([`camsim`]): files and stills served as looping live H.264 RTSP streams, with
//!   mount stop/restore and basic auth for fault tests.
//!
//! Threads: GStreamer's streaming threads run decoding; one supervisor thread per camera; the
//! consumer (inference) reads the per-camera `Receiver<Frame>` on its own OS threads.

pub mod backoff;
pub mod bench;
pub mod camsim;
pub mod config;
pub mod decoder;
pub mod error;
pub mod media_check;
mod pipeline;
pub mod queue;
pub mod rate_gate;
pub mod reconnect;
pub mod redact;
mod sink;
pub mod status;
pub mod supervisor;

pub use backoff::BackoffPolicy;
pub use camsim::{Camsim, CamsimConfig, CamsimSource, MountSpec};
pub use config::{
    CameraSourceConfig, Credentials, EosPolicy, MediaErrorPolicy, OutputFormat, RtspTransport, Secret,
    SourceKind, SourceSettings,
};
pub use error::{ConfigError, IngestError, SourceError, SourceErrorKind};
pub use rate_gate::RateGate;
pub use redact::{Redactor, redact_uri};
pub use status::{CameraState, CameraStatus, StatusSnapshot};
pub use supervisor::{CameraSource, SupervisorPolicy, stop_all};

/// Initialises GStreamer (idempotent; every entry point calls it).
pub fn init() -> Result<(), IngestError> {
    gstreamer::init().map_err(|e| IngestError::Init(e.to_string()))
}
