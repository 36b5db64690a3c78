//! Per-camera plate bookkeeping: which vehicle track to read on which frame, the reads voted
//! per track, and the finished plates handed to the rules.
//!
//! One vehicle pass yields one plate: reads are voted per track ([`PlateVoter`]); a plate is
//! ready as soon as enough confident reads agree, or when the track ends with a usable vote. A
//! track that ended while a read of it was still with a plate worker is finished when that read
//! returns, so the last (often closest, sharpest) view is not lost. Pure bookkeeping, no models:
//! unit-tested with synthetic reads.

use std::collections::HashMap;
use vigil_core::track::{Track, TrackId};
use vigil_core::{BoxPx, Frame, PointPx};
use vigil_plate::{PlateRead, PlateVoter, VoterConfig, VoterConfigError};

/// When a vehicle track is read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReadPolicy {
    /// Smallest box height worth reading.
    pub min_vehicle_height_px: f32,
    /// At most one read every N analysed frames per track.
    pub every_n_frames: u32,
    /// Most reads per track.
    pub max_reads_per_track: u32,
}

/// A voted plate of one track, ready for the watchlist lookup and the rules.
#[derive(Debug, Clone)]
pub struct ReadyPlate {
    /// The vehicle track.
    pub track: TrackId,
    /// Its class name.
    pub label: String,
    /// Its latest box (frame pixels).
    pub bbox: BoxPx,
    /// Its path, oldest first.
    pub path: Vec<PointPx>,
    /// The voted read.
    pub plate: PlateRead,
    /// The frame of the most confident read, for the snapshot.
    pub frame: Option<Frame>,
    /// The vehicle box in that frame.
    pub frame_bbox: BoxPx,
}

#[derive(Debug)]
struct TrackState {
    label: String,
    bbox: BoxPx,
    path: Vec<PointPx>,
    attempts: u32,
    last_read_seq: Option<u64>,
    pending: u32,
    ended: bool,
    best: Option<(f32, Frame, BoxPx)>,
}

/// The plate state of one camera.
#[derive(Debug)]
pub struct PlateTracks {
    policy: ReadPolicy,
    voter: PlateVoter<TrackId>,
    tracks: HashMap<TrackId, TrackState>,
    ready: Vec<ReadyPlate>,
}

/// Classes whose plates are read.
pub fn is_vehicle(label: &str) -> bool {
    vigil_lpr::VEHICLE_CLASSES.contains(&label)
}

impl PlateTracks {
    /// Empty state.
    pub fn new(policy: ReadPolicy, voter: VoterConfig) -> Result<Self, VoterConfigError> {
        Ok(Self {
            policy,
            voter: PlateVoter::new(voter)?,
            tracks: HashMap::new(),
            ready: Vec::new(),
        })
    }

    /// Updates the live vehicle tracks of frame `seq` and returns those to read on it. Each
    /// returned track counts as one attempt with a read pending; call [`Self::not_sent`] for
    /// any the plate queue refused.
    pub fn observe<'t>(
        &mut self,
        seq: u64,
        tracks: impl IntoIterator<Item = &'t Track>,
    ) -> Vec<(TrackId, BoxPx)> {
        let mut out = Vec::new();
        for t in tracks {
            if !t.is_confirmed_or_lost() || !is_vehicle(&t.label) {
                continue;
            }
            let st = self.tracks.entry(t.id).or_insert_with(|| TrackState {
                label: t.label.clone(),
                bbox: t.bbox,
                path: Vec::new(),
                attempts: 0,
                last_read_seq: None,
                pending: 0,
                ended: false,
                best: None,
            });
            st.bbox = t.bbox;
            st.path.clone_from(&t.path);
            // Lost tracks have a predicted box, not a seen one: never read those.
            let seen_now = t.state == vigil_core::track::TrackState::Confirmed;
            let due = st
                .last_read_seq
                .is_none_or(|s| seq.saturating_sub(s) >= u64::from(self.policy.every_n_frames));
            if seen_now
                && due
                && st.attempts < self.policy.max_reads_per_track
                && t.bbox.height() >= self.policy.min_vehicle_height_px
                && !self.voter.is_decided(&t.id)
            {
                st.attempts += 1;
                st.pending += 1;
                st.last_read_seq = Some(seq);
                out.push((t.id, t.bbox));
            }
        }
        out
    }

    /// A read returned by [`Self::observe`] could not be queued.
    pub fn not_sent(&mut self, track: TrackId) {
        if let Some(st) = self.tracks.get_mut(&track) {
            st.pending = st.pending.saturating_sub(1);
            st.attempts = st.attempts.saturating_sub(1);
            // Try again on the next frame rather than waiting `every_n_frames`.
            st.last_read_seq = None;
        }
        self.finish_if_done(track);
    }

    /// Tracks that ended: finished now, or when their pending reads return.
    pub fn ended(&mut self, ids: impl IntoIterator<Item = TrackId>) {
        for id in ids {
            if let Some(st) = self.tracks.get_mut(&id) {
                st.ended = true;
                self.finish_if_done(id);
            }
        }
    }

    /// A plate worker's reads of `track` in `frame` (the vehicle was at `bbox`).
    pub fn on_reads(&mut self, track: TrackId, frame: &Frame, bbox: BoxPx, reads: Vec<PlateRead>) {
        let Some(st) = self.tracks.get_mut(&track) else {
            return;
        };
        st.pending = st.pending.saturating_sub(1);
        // A vehicle region holds one plate; a second read is a neighbour's plate or a sign.
        if let Some(read) = reads
            .into_iter()
            .max_by(|a, b| a.confidence.total_cmp(&b.confidence))
        {
            if st.best.as_ref().is_none_or(|(c, _, _)| read.confidence > *c) {
                st.best = Some((read.confidence, frame.clone(), bbox));
            }
            if let Some(voted) = self.voter.push(track, read) {
                let st = &self.tracks[&track];
                self.ready.push(ready(track, st, voted));
            }
        }
        self.finish_if_done(track);
    }

    fn finish_if_done(&mut self, track: TrackId) {
        let done = self
            .tracks
            .get(&track)
            .is_some_and(|st| st.ended && st.pending == 0);
        if !done {
            return;
        }
        let voted = self.voter.finish(&track);
        if let Some(st) = self.tracks.remove(&track)
            && let Some(voted) = voted
        {
            self.ready.push(ready(track, &st, voted));
        }
    }

    /// Plates finished since the last call.
    pub fn take_ready(&mut self) -> Vec<ReadyPlate> {
        std::mem::take(&mut self.ready)
    }

    /// Vehicle tracks held (live or awaiting reads).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.tracks.len()
    }
}

/// Whole-frame plate reading, for cameras where the vehicle fills the view (gates, barriers)
/// and an object detector sees no whole vehicle: the localiser runs on the frame, the plate
/// boxes themselves are tracked (ByteTrack on plate boxes), and reads are voted per plate track.
/// At most one frame per camera is with the plate workers at a time.
#[derive(Debug)]
pub struct FramePlates {
    every_n_frames: u32,
    tracker: vigil_track::Tracker,
    voter: PlateVoter<TrackId>,
    last_seq: Option<u64>,
    in_flight: bool,
    /// Per plate track: most confident read's (confidence, frame, box) and the latest box/path.
    best: HashMap<TrackId, (f32, Frame, BoxPx)>,
    ready: Vec<ReadyPlate>,
}

impl FramePlates {
    /// Empty state. Plate tracks take their ids from `ids`, the camera's object-track id
    /// source, so plate and object ids stay small and never collide in the rules engine (which
    /// remembers both).
    pub fn new(
        every_n_frames: u32,
        voter: VoterConfig,
        ids: vigil_track::TrackIds,
    ) -> Result<Self, VoterConfigError> {
        // Plates are tracked in frames read seconds apart at worst: keep lost tracks longer
        // than for objects, and confirm on the second sighting.
        let cfg = vigil_track::TrackerConfig {
            frames_to_confirm: 2,
            max_lost_frames: 10,
            ..Default::default()
        };
        let tracker = vigil_track::Tracker::with_ids(cfg, ids.clone()).unwrap_or_else(|_| {
            vigil_track::Tracker::with_ids(Default::default(), ids).expect("default tracker config is valid")
        });
        Ok(Self {
            every_n_frames,
            tracker,
            voter: PlateVoter::new(voter)?,
            last_seq: None,
            in_flight: false,
            best: HashMap::new(),
            ready: Vec::new(),
        })
    }

    /// True when frame `seq` should be read (and marks it in flight).
    pub fn due(&mut self, seq: u64) -> bool {
        let due = !self.in_flight
            && self
                .last_seq
                .is_none_or(|s| seq.saturating_sub(s) >= u64::from(self.every_n_frames));
        if due {
            self.in_flight = true;
            self.last_seq = Some(seq);
        }
        due
    }

    /// The frame could not be queued.
    pub fn not_sent(&mut self) {
        self.in_flight = false;
        self.last_seq = None;
    }

    /// The plates read in `frame`.
    pub fn on_reads(&mut self, frame: &Frame, reads: Vec<PlateRead>) {
        self.in_flight = false;
        let reads: Vec<(PlateRead, BoxPx)> = reads
            .into_iter()
            .filter_map(|r| r.box_px.map(|b| (r, b)))
            .collect();
        let dets: Vec<vigil_core::Detection> = reads
            .iter()
            .map(|(r, b)| vigil_core::Detection {
                class: vigil_core::ClassId(0),
                label: "plate".into(),
                bbox: *b,
                score: r.confidence.clamp(0.0, 1.0),
            })
            .collect();
        let update = self.tracker.update(&dets, frame.pts_ns);
        for t in &update.tracks {
            let Some((read, b)) = t.det_index.and_then(|i| reads.get(i)) else {
                continue;
            };
            let id = t.id;
            if self.best.get(&id).is_none_or(|(c, _, _)| read.confidence > *c) {
                self.best.insert(id, (read.confidence, frame.clone(), *b));
            }
            if let Some(voted) = self.voter.push(id, read.clone()) {
                self.ready.push(self.ready_plate(id, t, voted));
            }
        }
        self.end(update.removed);
    }

    fn end(&mut self, removed: Vec<Track>) {
        for t in removed {
            let id = t.id;
            if let Some(voted) = self.voter.finish(&id) {
                self.ready.push(self.ready_plate(id, &t, voted));
            }
            self.best.remove(&id);
        }
    }

    /// Ends every plate track (pipeline stop), finishing their votes.
    pub fn finish(&mut self) {
        let removed = self.tracker.finish();
        self.end(removed);
    }

    fn ready_plate(&self, id: TrackId, t: &Track, plate: PlateRead) -> ReadyPlate {
        let (frame, frame_bbox) = match self.best.get(&id) {
            Some((_, f, b)) => (Some(f.clone()), *b),
            None => (None, t.bbox),
        };
        ReadyPlate {
            track: id,
            label: "vehicle".into(),
            bbox: t.bbox,
            path: t.path.clone(),
            plate,
            frame,
            frame_bbox,
        }
    }

    /// Plates finished since the last call.
    pub fn take_ready(&mut self) -> Vec<ReadyPlate> {
        std::mem::take(&mut self.ready)
    }
}

fn ready(track: TrackId, st: &TrackState, plate: PlateRead) -> ReadyPlate {
    let (frame, frame_bbox) = match &st.best {
        Some((_, f, b)) => (Some(f.clone()), *b),
        None => (None, st.bbox),
    };
    ReadyPlate {
        track,
        label: st.label.clone(),
        bbox: st.bbox,
        path: st.path.clone(),
        plate,
        frame,
        frame_bbox,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::SystemTime;
    use vigil_core::track::{FrameStamp, TrackState as S};
    use vigil_core::{CameraId, PixelFormat};

    fn frame(seq: u64) -> Frame {
        Frame {
            camera: CameraId::new("gate"),
            seq,
            pts_ns: seq * 200_000_000,
            captured_at: SystemTime::UNIX_EPOCH,
            width: 4,
            height: 4,
            stride: 12,
            format: PixelFormat::Rgb8,
            data: Arc::from(vec![0u8; 48]),
        }
    }

    fn track(id: u64, label: &str, h: f32, state: S) -> Track {
        let stamp = FrameStamp { seq: 0, pts_ns: 0 };
        Track {
            id: TrackId(id),
            class: vigil_core::ClassId(2),
            label: label.into(),
            bbox: BoxPx::new(0.0, 0.0, h * 1.5, h),
            score: 0.9,
            det_index: None,
            first_seen: stamp,
            last_seen: stamp,
            hits: 5,
            age_frames: 5,
            lost_frames: 0,
            path: vec![PointPx { x: 1.0, y: 1.0 }],
            state,
        }
    }

    fn read(text: &str, conf: f32) -> PlateRead {
        PlateRead {
            text: text.into(),
            confidence: conf,
            char_confidences: vec![conf; text.chars().count()],
            format: "cn-ordinary".into(),
            box_px: None,
            colour: None,
        }
    }

    fn policy() -> ReadPolicy {
        ReadPolicy {
            min_vehicle_height_px: 40.0,
            every_n_frames: 2,
            max_reads_per_track: 3,
        }
    }

    #[test]
    fn reads_only_big_seen_vehicles_at_the_policy_rate() {
        let mut p = PlateTracks::new(policy(), VoterConfig::default()).expect("voter");
        let tracks = [
            track(1, "car", 80.0, S::Confirmed),
            track(2, "person", 80.0, S::Confirmed),
            track(3, "truck", 20.0, S::Confirmed),
            track(4, "bus", 80.0, S::Tentative),
            track(5, "car", 80.0, S::Lost),
        ];
        let mut reads_of_1 = 0;
        for seq in 0..20 {
            let due = p.observe(seq, &tracks);
            assert!(due.iter().all(|(id, _)| *id == TrackId(1)), "{due:?}");
            reads_of_1 += due.len();
            if seq < 2 {
                assert_eq!(due.len(), usize::from(seq == 0), "every 2nd frame");
            }
        }
        assert_eq!(reads_of_1, 3, "capped by max_reads_per_track");
    }

    #[test]
    fn agreeing_reads_give_one_plate_and_stop_reading() {
        let mut p = PlateTracks::new(
            ReadPolicy {
                every_n_frames: 1,
                max_reads_per_track: 10,
                ..policy()
            },
            VoterConfig::default(),
        )
        .expect("voter");
        let car = [track(7, "car", 90.0, S::Confirmed)];
        let mut plates = Vec::new();
        for seq in 0..8 {
            for (id, b) in p.observe(seq, &car) {
                // A noisy reader: one wrong character on every other read.
                let text = if seq % 2 == 0 { "苏ED51712" } else { "苏ED5I712" };
                p.on_reads(id, &frame(seq), b, vec![read(text, 0.7 + seq as f32 * 0.01)]);
            }
            plates.extend(p.take_ready());
        }
        assert_eq!(plates.len(), 1, "one plate per pass");
        assert_eq!(plates[0].plate.text, "苏ED51712");
        assert_eq!(plates[0].track, TrackId(7));
        assert!(plates[0].frame.is_some());
        assert!(p.observe(9, &car).is_empty(), "decided tracks are not read again");
        p.ended([TrackId(7)]);
        assert!(p.take_ready().is_empty(), "a decided plate is not emitted twice");
        assert_eq!(p.len(), 0);
    }

    #[test]
    fn a_track_ending_with_a_read_in_flight_waits_for_it() {
        let mut p = PlateTracks::new(policy(), VoterConfig::default()).expect("voter");
        let car = [track(3, "car", 90.0, S::Confirmed)];
        let due = p.observe(0, &car);
        assert_eq!(due.len(), 1);
        p.ended([TrackId(3)]);
        assert!(p.take_ready().is_empty(), "the read is still pending");
        p.on_reads(TrackId(3), &frame(0), due[0].1, vec![read("京A12345", 0.95)]);
        let ready = p.take_ready();
        assert_eq!(ready.len(), 1, "finished on the track's end with one read");
        assert_eq!(ready[0].plate.text, "京A12345");
        assert_eq!(p.len(), 0);
    }

    #[test]
    fn refused_offers_are_retried_and_ending_without_reads_gives_nothing() {
        let mut p = PlateTracks::new(policy(), VoterConfig::default()).expect("voter");
        let car = [track(4, "car", 90.0, S::Confirmed)];
        assert_eq!(p.observe(0, &car).len(), 1);
        p.not_sent(TrackId(4));
        assert_eq!(p.observe(1, &car).len(), 1, "retried on the next frame");
        p.on_reads(TrackId(4), &frame(1), BoxPx::new(0.0, 0.0, 1.0, 1.0), Vec::new());
        p.ended([TrackId(4)]);
        assert!(p.take_ready().is_empty());
        assert_eq!(p.len(), 0, "forgotten");
    }

    fn plate_at(text: &str, conf: f32, x: f32) -> PlateRead {
        PlateRead {
            box_px: Some(BoxPx::new(x, 300.0, x + 120.0, 340.0)),
            ..read(text, conf)
        }
    }

    #[test]
    fn whole_frame_plates_are_tracked_voted_and_finished_once() {
        let ids = vigil_track::TrackIds::default();
        let _objects = (ids.next_id(), ids.next_id());
        let mut p = FramePlates::new(1, VoterConfig::default(), ids).expect("voter");
        let mut plates = Vec::new();
        for seq in 0..10u64 {
            assert!(p.due(seq), "one frame in flight at a time, every frame due");
            assert!(!p.due(seq), "in flight");
            // The plate drifts right a little each frame; a sign far away reads as garbage
            // that the grammar let through once.
            let mut reads = vec![plate_at("京AN7065", 0.9, 100.0 + seq as f32 * 4.0)];
            if seq == 3 {
                reads.push(plate_at("粤B00000", 0.3, 600.0));
            }
            p.on_reads(&frame(seq), reads);
            plates.extend(p.take_ready());
        }
        p.finish();
        plates.extend(p.take_ready());
        let texts: Vec<&str> = plates.iter().map(|r| r.plate.text.as_str()).collect();
        assert_eq!(
            texts,
            ["京AN7065"],
            "one plate for one pass, the one-off garbage never confirmed"
        );
        // Ids come from the camera's shared source: small, after the ones handed out before.
        assert_eq!(plates[0].track, TrackId(3), "ids 1 and 2 went to object tracks");
        assert!(plates[0].frame.is_some());
    }

    #[test]
    fn whole_frame_reading_respects_the_rate_and_retries_refused_frames() {
        let mut p = FramePlates::new(3, VoterConfig::default(), Default::default()).expect("voter");
        assert!(p.due(0));
        p.on_reads(&frame(0), Vec::new());
        assert!(!p.due(1) && !p.due(2), "every third frame");
        assert!(p.due(3));
        p.not_sent();
        assert!(p.due(4), "a refused frame is retried on the next one");
    }
}
