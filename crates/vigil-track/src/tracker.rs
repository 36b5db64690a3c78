//! The per-camera tracker: prediction, two association passes, track life cycle.

use crate::assign::match_by_iou;
use crate::config::{ConfigError, TrackerConfig};
use crate::kalman::{KalmanBox, measure};
use std::collections::VecDeque;
use vigil_core::track::{FrameStamp, Track, TrackId, TrackState};
use vigil_core::{BoxPx, ClassId, Detection, PointPx};

/// Boxes with a corner farther than this from the origin are treated as garbage: no camera has
/// a million pixels on a side, and such values would overflow the filter's squared covariances.
const MAX_ABS_COORD_PX: f32 = 1.0e6;
/// Boxes narrower or shorter than this are treated as garbage (a decoder artefact, not an object).
const MIN_SIDE_PX: f32 = 1.0;

/// What one frame did to the tracks.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackUpdate {
    /// The frame this update is for.
    pub frame: FrameStamp,
    /// Every live track after the frame — tentative, confirmed and lost — in order of birth.
    /// Rules usually keep only [`Track::is_confirmed_or_lost`] or [`TrackUpdate::confirmed`].
    pub tracks: Vec<Track>,
    /// Tracks that ended in this frame, state [`TrackState::Removed`]. Each track that ever
    /// appeared in `tracks` is reported here exactly once (or by [`Tracker::finish`]).
    pub removed: Vec<Track>,
    /// Detections skipped because their box or score was NaN, infinite, inverted, smaller than
    /// a pixel or absurdly large. Worth a counter: a non-zero value means a decoder bug.
    pub invalid_detections: usize,
}

impl TrackUpdate {
    /// Confirmed tracks matched in this frame (the ones with a fresh detection box).
    pub fn confirmed(&self) -> impl Iterator<Item = &Track> {
        self.tracks.iter().filter(|t| t.state == TrackState::Confirmed)
    }
}

/// Internal state of one track: the public snapshot's fields plus the motion model.
#[derive(Debug, Clone)]
struct Entry {
    id: TrackId,
    class: ClassId,
    label: String,
    kf: KalmanBox,
    state: TrackState,
    score: f32,
    hits: u32,
    /// Tracker frame index at birth, for `age_frames`.
    born_index: u64,
    first_seen: FrameStamp,
    last_seen: FrameStamp,
    lost_frames: u32,
    path: VecDeque<PointPx>,
    det_index: Option<usize>,
    /// The box of the last matched detection (what was observed, not predicted).
    last_box: BoxPx,
}

/// A source of track ids for one camera: 1, 2, 3, … in birth order, shared by clones.
///
/// Ids stay small (they are shown to operators and published in alerts) and are never reused
/// while the source lives.
#[derive(Debug, Clone)]
pub struct TrackIds(std::sync::Arc<std::sync::atomic::AtomicU64>);

impl Default for TrackIds {
    fn default() -> Self {
        Self(std::sync::Arc::new(std::sync::atomic::AtomicU64::new(1)))
    }
}

impl TrackIds {
    /// The next id.
    pub fn next_id(&self) -> TrackId {
        TrackId(self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
    }
}

/// Multi-object tracker for one camera (ByteTrack-style).
///
/// Per frame: predict every track with its Kalman filter; first pass matches high-score
/// detections to all tracks; second pass matches low-score detections to the confirmed tracks
/// still unmatched (this is what keeps a partly occluded, low-confidence object on its id);
/// unmatched tentative tracks die, unmatched confirmed tracks become lost and die after
/// `max_lost_frames`; unmatched high detections above `new_track_score` start tentative tracks.
#[derive(Debug, Clone)]
pub struct Tracker {
    config: TrackerConfig,
    /// Live tracks in order of birth.
    tracks: Vec<Entry>,
    /// Hands out ids; only ever grows, so ids are never reused (shared with other trackers of
    /// the same camera when made with [`Tracker::with_ids`]).
    ids: TrackIds,
    /// Frames processed, counting frames skipped by sequence gaps.
    frame_index: u64,
    /// Sequence number of the last frame, to detect dropped frames.
    last_seq: Option<u64>,
}

impl Tracker {
    /// Creates a tracker; fails when the config does not validate.
    pub fn new(config: TrackerConfig) -> Result<Self, ConfigError> {
        Self::with_ids(config, TrackIds::default())
    }

    /// Creates a tracker that takes its ids from `ids`, so two trackers of one camera (objects
    /// and plates) hand out small ids that never collide.
    pub fn with_ids(config: TrackerConfig, ids: TrackIds) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Self {
            config,
            tracks: Vec::new(),
            ids,
            frame_index: 0,
            last_seq: None,
        })
    }

    /// The settings in force.
    pub fn config(&self) -> &TrackerConfig {
        &self.config
    }

    /// Number of live (tentative, confirmed or lost) tracks.
    pub fn live_tracks(&self) -> usize {
        self.tracks.len()
    }

    /// Processes the detections of the next frame; its sequence number is taken as one more
    /// than the previous frame's (0 for the first). Use [`Tracker::update_frame`] when the
    /// frame's own sequence number is known, so dropped frames are accounted for.
    pub fn update(&mut self, detections: &[Detection], pts_ns: u64) -> TrackUpdate {
        let seq = self.last_seq.map_or(0, |s| s.saturating_add(1));
        self.update_frame(detections, FrameStamp { seq, pts_ns })
    }

    /// Processes the detections of one frame.
    ///
    /// A gap in `frame.seq` (frames dropped before analysis) advances the motion model and the
    /// lost counters by the number of frames skipped, capped at `max_lost_frames + 1`. A sequence
    /// number that does not increase (stream restart) counts as one frame.
    pub fn update_frame(&mut self, detections: &[Detection], frame: FrameStamp) -> TrackUpdate {
        let cap = u64::from(self.config.max_lost_frames) + 1;
        let steps = match self.last_seq {
            Some(last) if frame.seq > last => (frame.seq - last).min(cap),
            _ => 1,
        };
        // `steps <= cap <= u32::MAX + 1`, and lost counters saturate, so this cannot wrap badly.
        let steps_u32 = u32::try_from(steps).unwrap_or(u32::MAX);
        self.last_seq = Some(frame.seq);
        self.frame_index += steps;

        for e in &mut self.tracks {
            if e.state != TrackState::Confirmed {
                e.kf.freeze_height_velocity();
            }
            for _ in 0..steps {
                e.kf.predict();
            }
            e.det_index = None;
        }

        let (high, low, invalid) = self.split(detections);
        let mut det_used = vec![false; detections.len()];
        let mut track_used = vec![false; self.tracks.len()];

        // First pass: high detections against every track.
        let all: Vec<usize> = (0..self.tracks.len()).collect();
        self.associate(
            &all,
            &high,
            detections,
            self.config.first_pass_min_iou,
            frame,
            &mut track_used,
            &mut det_used,
        );

        // Second pass: low detections against confirmed tracks the first pass left. Lost and
        // tentative tracks are excluded, as in ByteTrack: a low box is weak evidence, enough to
        // continue a track that was seen a frame ago, not to revive or confirm one.
        let rest: Vec<usize> = (0..self.tracks.len())
            .filter(|&t| !track_used[t] && self.tracks[t].state == TrackState::Confirmed)
            .collect();
        self.associate(
            &rest,
            &low,
            detections,
            self.config.second_pass_min_iou,
            frame,
            &mut track_used,
            &mut det_used,
        );

        // Third pass: high detections still unmatched against lost tracks, by the last box
        // each was *seen* at. The Kalman prediction of a track lost for a few frames carries on
        // at the old velocity; a walker who slowed down or paused behind an obstacle is found
        // where they were last seen, not where the prediction went.
        if self.config.recover_lost {
            let lost: Vec<usize> = (0..self.tracks.len())
                .filter(|&t| !track_used[t] && self.tracks[t].state == TrackState::Lost)
                .collect();
            let free: Vec<usize> = high.iter().copied().filter(|&d| !det_used[d]).collect();
            self.recover(&lost, &free, detections, frame, &mut track_used, &mut det_used);
        }

        // Life cycle of the unmatched tracks.
        let mut removed = Vec::new();
        let max_lost = self.config.max_lost_frames;
        let mut kept = Vec::with_capacity(self.tracks.len());
        for (t, mut e) in std::mem::take(&mut self.tracks).into_iter().enumerate() {
            let ends = if !e.kf.is_finite() {
                true
            } else if track_used[t] {
                false
            } else {
                e.lost_frames = e.lost_frames.saturating_add(steps_u32);
                match e.state {
                    TrackState::Tentative | TrackState::Removed => true,
                    TrackState::Confirmed | TrackState::Lost => {
                        e.state = TrackState::Lost;
                        e.lost_frames > max_lost
                    }
                }
            };
            if ends {
                e.state = TrackState::Removed;
                removed.push(self.snapshot(&e));
            } else {
                kept.push(e);
            }
        }
        self.tracks = kept;

        // Births: unmatched high detections strong enough.
        for &d in &high {
            if !det_used[d] && detections[d].score >= self.config.new_track_score {
                self.spawn(d, &detections[d], frame);
            }
        }

        TrackUpdate {
            frame,
            tracks: self.tracks.iter().map(|e| self.snapshot(e)).collect(),
            removed,
            invalid_detections: invalid,
        }
    }

    /// Ends every live track (camera stopped, stream ended) and returns them, state
    /// [`TrackState::Removed`], so the plate voter and rules can close them.
    pub fn finish(&mut self) -> Vec<Track> {
        let tracks = std::mem::take(&mut self.tracks);
        tracks
            .into_iter()
            .map(|mut e| {
                e.state = TrackState::Removed;
                e.det_index = None;
                self.snapshot(&e)
            })
            .collect()
    }

    /// Splits detection indices into high and low bands; returns the count of invalid ones.
    fn split(&self, detections: &[Detection]) -> (Vec<usize>, Vec<usize>, usize) {
        let (mut high, mut low, mut invalid) = (Vec::new(), Vec::new(), 0);
        for (i, d) in detections.iter().enumerate() {
            if !is_valid(d) {
                invalid += 1;
            } else if d.score >= self.config.high_score {
                high.push(i);
            } else if d.score >= self.config.low_score {
                low.push(i);
            }
        }
        (high, low, invalid)
    }

    /// Matches the given tracks to the given detections and applies the matches.
    #[allow(clippy::too_many_arguments)]
    fn associate(
        &mut self,
        track_ids: &[usize],
        det_ids: &[usize],
        detections: &[Detection],
        min_iou: f32,
        frame: FrameStamp,
        track_used: &mut [bool],
        det_used: &mut [bool],
    ) {
        if track_ids.is_empty() || det_ids.is_empty() {
            return;
        }
        let track_boxes: Vec<BoxPx> = track_ids.iter().map(|&t| self.tracks[t].kf.bbox()).collect();
        let det_boxes: Vec<BoxPx> = det_ids.iter().map(|&d| detections[d].bbox).collect();
        let agnostic = self.config.class_agnostic;
        let pairs = match_by_iou(&track_boxes, &det_boxes, min_iou, |t, d| {
            agnostic || self.tracks[track_ids[t]].class == detections[det_ids[d]].class
        });
        for (t, d) in pairs {
            let (t, d) = (track_ids[t], det_ids[d]);
            if track_used[t] || det_used[d] {
                continue; // cannot happen (one-to-one), but never double-assign
            }
            track_used[t] = true;
            det_used[d] = true;
            self.apply_match(t, d, &detections[d], frame);
        }
    }

    /// The third pass: matches lost tracks by their last observed box and restarts their
    /// motion model on the new observation (the drifted prediction and velocity are wrong).
    fn recover(
        &mut self,
        track_ids: &[usize],
        det_ids: &[usize],
        detections: &[Detection],
        frame: FrameStamp,
        track_used: &mut [bool],
        det_used: &mut [bool],
    ) {
        if track_ids.is_empty() || det_ids.is_empty() {
            return;
        }
        let seen: Vec<BoxPx> = track_ids.iter().map(|&t| self.tracks[t].last_box).collect();
        let det_boxes: Vec<BoxPx> = det_ids.iter().map(|&d| detections[d].bbox).collect();
        let agnostic = self.config.class_agnostic;
        let pairs = match_by_iou(&seen, &det_boxes, self.config.first_pass_min_iou, |t, d| {
            agnostic || self.tracks[track_ids[t]].class == detections[det_ids[d]].class
        });
        for (t, d) in pairs {
            let (t, d) = (track_ids[t], det_ids[d]);
            if track_used[t] || det_used[d] {
                continue;
            }
            if let Some(z) = measure(&detections[d].bbox) {
                self.tracks[t].kf = KalmanBox::new(z);
            }
            track_used[t] = true;
            det_used[d] = true;
            self.apply_match(t, d, &detections[d], frame);
        }
    }

    /// Feeds a matched detection into a track.
    fn apply_match(&mut self, t: usize, d: usize, det: &Detection, frame: FrameStamp) {
        let confirm = self.config.frames_to_confirm;
        let path_len = self.config.path_len;
        let e = &mut self.tracks[t];
        if let Some(z) = measure(&det.bbox)
            && !e.kf.update(z)
        {
            // The filter diverged (absurd history): restart it on this measurement.
            e.kf = KalmanBox::new(z);
        }
        e.hits = e.hits.saturating_add(1);
        e.score = det.score;
        e.last_seen = frame;
        e.lost_frames = 0;
        e.det_index = Some(d);
        e.last_box = det.bbox;
        e.state = match e.state {
            TrackState::Tentative if e.hits < confirm => TrackState::Tentative,
            _ => TrackState::Confirmed,
        };
        push_path(&mut e.path, e.kf.bbox().bottom_center(), path_len);
    }

    /// Starts a track from an unmatched detection.
    fn spawn(&mut self, d: usize, det: &Detection, frame: FrameStamp) {
        let Some(z) = measure(&det.bbox) else {
            return;
        };
        let kf = KalmanBox::new(z);
        let id = self.ids.next_id();
        let mut path = VecDeque::with_capacity(self.config.path_len.min(64));
        push_path(&mut path, kf.bbox().bottom_center(), self.config.path_len);
        let state = if self.config.frames_to_confirm <= 1 {
            TrackState::Confirmed
        } else {
            TrackState::Tentative
        };
        self.tracks.push(Entry {
            id,
            class: det.class,
            label: det.label.clone(),
            kf,
            state,
            score: det.score,
            hits: 1,
            born_index: self.frame_index,
            first_seen: frame,
            last_seen: frame,
            lost_frames: 0,
            path,
            det_index: Some(d),
            last_box: det.bbox,
        });
    }

    fn snapshot(&self, e: &Entry) -> Track {
        Track {
            id: e.id,
            class: e.class,
            label: e.label.clone(),
            bbox: e.kf.bbox(),
            score: e.score,
            det_index: e.det_index,
            first_seen: e.first_seen,
            last_seen: e.last_seen,
            hits: e.hits,
            age_frames: self.frame_index.saturating_sub(e.born_index) + 1,
            lost_frames: e.lost_frames,
            path: e.path.iter().copied().collect(),
            state: e.state,
        }
    }
}

/// True when a detection can be tracked: finite score, finite, upright box of at least a pixel
/// per side and within [`MAX_ABS_COORD_PX`].
fn is_valid(d: &Detection) -> bool {
    let b = &d.bbox;
    d.score.is_finite()
        && b.is_finite()
        && [b.x1, b.y1, b.x2, b.y2]
            .iter()
            .all(|v| v.abs() <= MAX_ABS_COORD_PX)
        && b.x2 - b.x1 >= MIN_SIDE_PX
        && b.y2 - b.y1 >= MIN_SIDE_PX
}

/// Appends a point, dropping the oldest beyond `cap`.
fn push_path(path: &mut VecDeque<PointPx>, p: PointPx, cap: usize) {
    if cap == 0 {
        return;
    }
    while path.len() >= cap {
        path.pop_front();
    }
    path.push_back(p);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det(class: u16, b: BoxPx, score: f32) -> Detection {
        Detection {
            class: ClassId(class),
            label: format!("c{class}"),
            bbox: b,
            score,
        }
    }

    fn tracker(cfg: TrackerConfig) -> Tracker {
        Tracker::new(cfg).expect("valid config")
    }

    /// A narrow walker moving 12 px/frame stops behind an obstacle (hidden 3 frames) and
    /// reappears where last seen: the prediction has run 36 px ahead, off the box entirely.
    fn stop_behind_obstacle(recover_lost: bool) -> (TrackId, TrackId) {
        let mut tr = tracker(TrackerConfig {
            recover_lost,
            ..Default::default()
        });
        let at = |x: f32| BoxPx::new(x, 100.0, x + 20.0, 160.0);
        let mut first = None;
        for f in 0..10u64 {
            let u = tr.update(&[det(0, at(12.0 * f as f32 + 50.0), 0.9)], f * 200);
            first = first.or(u.confirmed().next().map(|t| t.id));
        }
        for f in 10..13u64 {
            tr.update(&[], f * 200);
        }
        let u = tr.update(&[det(0, at(12.0 * 9.0 + 50.0), 0.9)], 13 * 200);
        let after = u
            .tracks
            .iter()
            .find(|t| t.det_index.is_some())
            .map(|t| t.id)
            .expect("the detection is tracked");
        (first.expect("confirmed before the stop"), after)
    }

    #[test]
    fn a_lost_track_resumes_where_it_was_last_seen() {
        let (before, after) = stop_behind_obstacle(true);
        assert_eq!(before, after);
        let (before, after) = stop_behind_obstacle(false);
        assert_ne!(
            before, after,
            "without the third pass the prediction has drifted away"
        );
    }

    #[test]
    fn invalid_config_is_refused() {
        let cfg = TrackerConfig {
            low_score: 0.9,
            ..Default::default()
        };
        assert!(Tracker::new(cfg).is_err());
    }

    #[test]
    fn new_track_is_tentative_then_confirmed() {
        let mut tr = tracker(TrackerConfig {
            frames_to_confirm: 3,
            ..Default::default()
        });
        let b = BoxPx::new(10.0, 10.0, 50.0, 90.0);
        let states: Vec<TrackState> = (0..4)
            .map(|i| tr.update(&[det(0, b, 0.9)], i * 40).tracks[0].state)
            .collect();
        assert_eq!(
            states,
            [
                TrackState::Tentative,
                TrackState::Tentative,
                TrackState::Confirmed,
                TrackState::Confirmed
            ]
        );
    }

    #[test]
    fn confirm_at_birth_when_one_frame_suffices() {
        let mut tr = tracker(TrackerConfig {
            frames_to_confirm: 1,
            ..Default::default()
        });
        let u = tr.update(&[det(0, BoxPx::new(0.0, 0.0, 20.0, 40.0), 0.9)], 0);
        assert_eq!(u.tracks[0].state, TrackState::Confirmed);
    }

    #[test]
    fn tentative_track_missing_one_frame_is_removed_and_reported() {
        let mut tr = tracker(TrackerConfig::default());
        let u = tr.update(&[det(0, BoxPx::new(0.0, 0.0, 20.0, 40.0), 0.9)], 0);
        let id = u.tracks[0].id;
        let u = tr.update(&[], 1);
        assert!(u.tracks.is_empty());
        assert_eq!(u.removed.iter().map(|t| t.id).collect::<Vec<_>>(), vec![id]);
        assert_eq!(u.removed[0].state, TrackState::Removed);
    }

    #[test]
    fn detections_between_low_and_new_track_score_start_nothing() {
        let mut tr = tracker(TrackerConfig::default());
        let b = BoxPx::new(0.0, 0.0, 20.0, 40.0);
        assert!(
            tr.update(&[det(0, b, 0.55)], 0).tracks.is_empty(),
            "high but below new_track_score"
        );
        assert!(tr.update(&[det(0, b, 0.3)], 1).tracks.is_empty(), "low");
        assert_eq!(tr.update(&[det(0, b, 0.65)], 2).tracks.len(), 1);
    }

    #[test]
    fn tracks_only_match_their_own_class_unless_agnostic() {
        for agnostic in [false, true] {
            let mut tr = tracker(TrackerConfig {
                class_agnostic: agnostic,
                ..Default::default()
            });
            let b = BoxPx::new(0.0, 0.0, 40.0, 80.0);
            let first = tr.update(&[det(2, b, 0.9)], 0).tracks[0].id;
            let u = tr.update(&[det(7, b, 0.9)], 1);
            let ids: Vec<TrackId> = u.tracks.iter().map(|t| t.id).collect();
            if agnostic {
                assert_eq!(ids, vec![first]);
                assert_eq!(u.tracks[0].class, ClassId(2), "track keeps its birth class");
            } else {
                assert!(!ids.contains(&first), "class 2 track must not take a class 7 box");
                assert_eq!(u.tracks[0].class, ClassId(7));
            }
        }
    }

    #[test]
    fn sequence_gap_advances_prediction_and_lost_count() {
        let mut tr = tracker(TrackerConfig {
            frames_to_confirm: 1,
            max_lost_frames: 15,
            ..Default::default()
        });
        let at = |x: f32| BoxPx::new(x, 0.0, x + 40.0, 80.0);
        for s in 0..20u64 {
            tr.update_frame(
                &[det(0, at(10.0 * s as f32), 0.9)],
                FrameStamp { seq: s, pts_ns: s },
            );
        }
        // Ten frames later (nine dropped), the object has moved 100 px: still the same track.
        let u = tr.update_frame(&[det(0, at(290.0), 0.9)], FrameStamp { seq: 29, pts_ns: 29 });
        assert_eq!(u.tracks.len(), 1);
        assert_eq!(u.tracks[0].id, TrackId(1));
        assert_eq!(u.tracks[0].age_frames, 30);
        // A gap longer than max_lost_frames with nothing seen ends the track.
        let u = tr.update_frame(&[], FrameStamp { seq: 50, pts_ns: 50 });
        assert_eq!(u.removed.len(), 1);
    }

    #[test]
    fn path_is_capped_and_follows_the_object() {
        let mut tr = tracker(TrackerConfig {
            path_len: 4,
            frames_to_confirm: 1,
            ..Default::default()
        });
        let mut last = None;
        for i in 0..10 {
            let x = 5.0 * i as f32;
            last = Some(tr.update(&[det(0, BoxPx::new(x, 0.0, x + 40.0, 80.0), 0.9)], i));
        }
        let t = &last.expect("ran").tracks[0];
        assert_eq!(t.path.len(), 4);
        assert!(
            t.path.windows(2).all(|w| w[1].x > w[0].x),
            "oldest first, moving right: {:?}",
            t.path
        );
        assert!((t.path[3].y - 80.0).abs() < 1.0, "bottom centre");
        assert_eq!(t.hits, 10);
        assert_eq!(t.det_index, Some(0));
    }

    #[test]
    fn finish_ends_every_live_track_once() {
        let mut tr = tracker(TrackerConfig::default());
        tr.update(&[det(0, BoxPx::new(0.0, 0.0, 20.0, 40.0), 0.9)], 0);
        tr.update(&[det(0, BoxPx::new(0.0, 0.0, 20.0, 40.0), 0.9)], 1);
        let ended = tr.finish();
        assert_eq!(ended.len(), 1);
        assert_eq!(ended[0].state, TrackState::Removed);
        assert!(tr.finish().is_empty());
        assert_eq!(tr.live_tracks(), 0);
    }
}
