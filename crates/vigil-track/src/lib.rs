//! Per-camera multi-object tracker, in the style of ByteTrack (Zhang et al., 2022).
//!
//! One [`Tracker`] per camera turns each frame's detections into [`Track`]s with stable
//! [`TrackId`]s. The rules engine reads zones, lines and dwell from the tracks; the plate voter
//! collects plate reads per track id and closes its vote when the track appears in
//! [`TrackUpdate::removed`].
//!
//! # Design
//! - **Motion**: a constant-velocity Kalman filter per track on `[cx, cy, aspect, h]` (SORT and
//!   ByteTrack's model), written by hand on fixed 8×8 arrays.
//!   Association compares each detection with the track's *predicted* box, so a moving object
//!   is found where it will be, not where it was.
//! - **Two passes** (ByteTrack's idea): high-score detections are matched to every track first;
//!   low-score detections (a person half behind a pillar) are then matched only to confirmed
//!   tracks still unmatched, keeping their ids alive without letting weak boxes start or revive
//!   tracks. Unmatched high detections above `new_track_score` start tentative tracks.
//! - **Assignment**: optimal, not greedy — the Hungarian algorithm on `1 − IoU` with a cost limit,
//!   run per connected cluster of overlapping boxes so the common case (isolated objects) costs
//!   no solver at all. Greedy-by-IoU swaps ids when people walk side by side.
//! - **Life cycle**: tentative → confirmed after `frames_to_confirm` matches; a tentative track
//!   that misses a frame dies; a confirmed track that misses becomes lost, keeps predicting, and
//!   is removed after `max_lost_frames`. Every removal is reported exactly once. Ids come from a
//!   counter that only grows: never reused within one tracker.
//! - **Robustness**: NaN, infinite, inverted, sub-pixel or absurdly large boxes and NaN scores
//!   are skipped and counted ([`TrackUpdate::invalid_detections`]), never panicked on.
//!
//! The boundary types ([`Track`], [`TrackId`], [`TrackState`], [`FrameStamp`]) live in
//! `vigil_core::track` so that downstream stages need not depend on this crate.

mod assign;
mod config;
pub mod eval;
pub mod fragments;
mod kalman;
mod tracker;

pub use config::{ConfigError, TrackerConfig};
pub use tracker::{TrackIds, TrackUpdate, Tracker};
pub use vigil_core::track::{FrameStamp, Track, TrackId, TrackState};
