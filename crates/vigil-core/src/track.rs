//! Tracker output: objects followed across the frames of one camera.
//!
//! The tracker (`vigil-track`) owns the motion model and the association; these are the values it
//! hands to the stages after it — the rules engine (zones, lines, dwell, crowd) and the plate
//! voter, which collects plate reads per [`TrackId`] and finishes its vote when the track ends.

use crate::detection::ClassId;
use crate::geometry::{BoxPx, PointPx};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Identifier of a track, unique within one camera's tracker and never reused by it.
///
/// Ids are per camera: two cameras may both have a track 7. Pair it with the
/// [`CameraId`](crate::CameraId) when a key must be global.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TrackId(pub u64);

impl fmt::Display for TrackId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Life-cycle state of a track.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrackState {
    /// Born from a detection but not yet matched in enough frames to be trusted; a tentative
    /// track that misses one frame is dropped. Rules should usually ignore these.
    Tentative,
    /// Matched in enough frames; seen in the current frame.
    Confirmed,
    /// Confirmed before, not matched in the most recent frame(s); its box is the motion model's
    /// prediction. It becomes confirmed again when matched, or removed after too many misses.
    Lost,
    /// Ended: reported once in the frame it ended, never again.
    Removed,
}

/// When a track was seen: the frame's sequence number and presentation timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
pub struct FrameStamp {
    /// Per-camera frame sequence number ([`Frame::seq`](crate::Frame::seq)).
    pub seq: u64,
    /// Presentation timestamp in nanoseconds since the stream start
    /// ([`Frame::pts_ns`](crate::Frame::pts_ns)).
    pub pts_ns: u64,
}

/// A snapshot of one track after one frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Track {
    /// Stable id of the track.
    pub id: TrackId,
    /// Class of the detection that started the track; a track keeps its class for life.
    pub class: ClassId,
    /// Class name, as in the detection that started the track.
    pub label: String,
    /// Current box in source-frame pixels: the motion model's estimate after this frame (smoothed
    /// when matched, predicted when lost). The raw detection is `det_index` into the frame's input.
    pub bbox: BoxPx,
    /// Score of the most recent detection matched to the track.
    pub score: f32,
    /// Index, into the detections passed for this frame, of the detection matched to this track;
    /// `None` when the track was not matched in this frame. Use it to crop the raw detection box.
    pub det_index: Option<usize>,
    /// Frame in which the track was born.
    pub first_seen: FrameStamp,
    /// Most recent frame in which a detection was matched to the track.
    pub last_seen: FrameStamp,
    /// Number of frames in which a detection was matched to the track.
    pub hits: u32,
    /// Frames since birth, counting the birth frame (so a track born in this frame has age 1).
    pub age_frames: u64,
    /// Consecutive frames without a match up to and including this one (0 when seen now).
    pub lost_frames: u32,
    /// Recent bottom-centre points of the estimated box (where a person or vehicle touches the
    /// ground), oldest first, one per matched frame, capped at the tracker's path length.
    pub path: Vec<PointPx>,
    /// Life-cycle state.
    pub state: TrackState,
}

impl Track {
    /// True for a confirmed track seen in this frame or lost (still alive); false for tentative
    /// and removed ones. The usual filter before rules.
    pub fn is_confirmed_or_lost(&self) -> bool {
        matches!(self.state, TrackState::Confirmed | TrackState::Lost)
    }

    /// True for a confirmed track matched to a detection in this frame: its box is an
    /// observation, not a prediction. What zone and line rules must judge — a lost track's
    /// predicted box drifts on at the old velocity and would "enter" zones nobody entered.
    pub fn is_observed(&self) -> bool {
        self.state == TrackState::Confirmed && self.det_index.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn track_round_trips_through_serde() {
        let t = Track {
            id: TrackId(42),
            class: ClassId(2),
            label: "car".into(),
            bbox: BoxPx::new(1.0, 2.0, 30.0, 40.0),
            score: 0.9,
            det_index: Some(3),
            first_seen: FrameStamp {
                seq: 1,
                pts_ns: 40_000_000,
            },
            last_seen: FrameStamp {
                seq: 5,
                pts_ns: 200_000_000,
            },
            hits: 5,
            age_frames: 5,
            lost_frames: 0,
            path: vec![PointPx { x: 15.5, y: 40.0 }],
            state: TrackState::Confirmed,
        };
        let json = toml_round_trip(&t);
        assert!(
            json.contains("\"confirmed\""),
            "state is serialised lower-case: {json}"
        );
    }

    // vigil-core has no JSON dependency; TOML is enough to prove the derive works both ways.
    fn toml_round_trip(t: &Track) -> String {
        #[derive(Serialize, Deserialize)]
        struct Wrap {
            t: Track,
        }
        let text = toml::to_string(&Wrap { t: t.clone() }).expect("serialise");
        let back: Wrap = toml::from_str(&text).expect("deserialise");
        assert_eq!(&back.t, t);
        text
    }

    #[test]
    fn only_confirmed_and_lost_count_as_live_for_rules() {
        let mut states = vec![];
        for s in [
            TrackState::Tentative,
            TrackState::Confirmed,
            TrackState::Lost,
            TrackState::Removed,
        ] {
            let t = Track {
                id: TrackId(1),
                class: ClassId(0),
                label: String::new(),
                bbox: BoxPx::new(0.0, 0.0, 1.0, 1.0),
                score: 1.0,
                det_index: None,
                first_seen: FrameStamp::default(),
                last_seen: FrameStamp::default(),
                hits: 1,
                age_frames: 1,
                lost_frames: 0,
                path: vec![],
                state: s,
            };
            states.push(t.is_confirmed_or_lost());
        }
        assert_eq!(states, vec![false, true, true, false]);
    }
}
