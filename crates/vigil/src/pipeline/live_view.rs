//! The console's live view of a camera: the tracks of its latest analysed frame, as
//! `GET /api/v1/cameras/{id}/detections` serves them.
//!
//! The analysis thread builds one small view per frame (a few boxes, already normalised and
//! bounded) and swaps it into [`Shared::tracks`](crate::pipeline::shared::Shared) under a lock
//! held only for the swap; the API clones it out. So serving the view never waits on analysis
//! and analysis never waits on a client.
//!
//! Privacy: the view shows plate text only for a vehicle whose voted plate matched a
//! watchlist ([`remember_hits`]); a read that matched nothing is never kept here. Boxes come
//! from the masked frame's detections, so nothing inside a privacy mask is shown either.

use std::collections::HashMap;

use vigil_core::Frame;
use vigil_core::track::{Track, TrackId};
use vigil_http::{BoxNorm, CameraDetections, TrackBox};
use vigil_rules::PlateEvent;

/// Per camera, the plate text of tracks whose plate hit a watchlist, for as long as the track
/// lives.
pub type PlateHits = HashMap<TrackId, String>;

/// Keeps the plate text of each event that matched at least one watchlist entry; events that
/// matched nothing leave no trace.
pub fn remember_hits(hits: &mut PlateHits, events: &[PlateEvent]) {
    for e in events.iter().filter(|e| !e.matches.is_empty()) {
        hits.insert(e.track_id, e.plate.text.clone());
    }
}

/// Forgets the hits of tracks that are no longer alive (after [`remember_hits`]: a plate vote
/// may finish in the frame its track ends).
pub fn forget_gone(hits: &mut PlateHits, alive: &[Track]) {
    if !hits.is_empty() {
        hits.retain(|id, _| alive.iter().any(|t| t.id == *id));
    }
}

/// The view of one analysed frame: its confirmed tracks matched in this frame (what the rules
/// act on, without the motion model's guesses for lost ones), boxes as fractions of the frame.
pub fn detections(
    frame: &Frame,
    wall: jiff::Timestamp,
    tracks: &[Track],
    hits: &PlateHits,
) -> CameraDetections {
    let seen: Vec<TrackBox> = tracks
        .iter()
        .filter(|t| t.is_observed())
        .filter_map(|t| {
            let b = t.bbox;
            Some(TrackBox {
                track_id: t.id.0,
                label: t.label.clone(),
                score: t.score,
                box_norm: BoxNorm::from_px(b.x1, b.y1, b.x2, b.y2, frame.width, frame.height)?,
                plate: hits.get(&t.id).cloned(),
            })
        })
        .collect();
    CameraDetections {
        camera: frame.camera.as_str().to_owned(),
        time: wall,
        frame_seq: frame.seq,
        frame_width_px: frame.width,
        frame_height_px: frame.height,
        tracks_total: seen.len(),
        tracks: seen,
    }
    .bounded()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use vigil_core::plate::PlateRead;
    use vigil_core::track::FrameStamp;
    use vigil_core::track::TrackState;
    use vigil_core::{BoxPx, CameraId, ClassId, PixelFormat};
    use vigil_rules::WatchMatch;

    fn frame() -> Frame {
        Frame {
            camera: CameraId::new("gate"),
            seq: 12,
            pts_ns: 0,
            captured_at: std::time::SystemTime::UNIX_EPOCH,
            width: 200,
            height: 100,
            stride: 600,
            format: PixelFormat::Rgb8,
            data: Arc::from(vec![0u8; 600 * 100]),
        }
    }

    fn track(id: u64, state: TrackState, matched: bool, b: [f32; 4]) -> Track {
        let stamp = FrameStamp { seq: 0, pts_ns: 0 };
        Track {
            id: TrackId(id),
            class: ClassId(0),
            label: "car".into(),
            bbox: BoxPx::new(b[0], b[1], b[2], b[3]),
            score: 0.5 + id as f32 / 100.0,
            det_index: matched.then_some(0),
            first_seen: stamp,
            last_seen: stamp,
            hits: 5,
            age_frames: 5,
            lost_frames: u32::from(!matched),
            path: Vec::new(),
            state,
        }
    }

    fn event(track: u64, text: &str, hit: bool) -> PlateEvent {
        PlateEvent {
            track_id: TrackId(track),
            label: "car".into(),
            bbox: BoxPx::new(0.0, 0.0, 10.0, 10.0),
            path: Vec::new(),
            plate: PlateRead {
                text: text.into(),
                confidence: 0.9,
                char_confidences: Vec::new(),
                format: "cn-ordinary".into(),
                box_px: None,
                colour: None,
            },
            matches: if hit {
                vec![WatchMatch {
                    list: "stolen".into(),
                    entry_plate: text.into(),
                    kind: vigil_core::alert::MatchKind::Exact,
                    distance: 0.0,
                    priority: 2,
                    list_kind: vigil_rules::WatchListKind::Hotlist,
                }]
            } else {
                Vec::new()
            },
        }
    }

    #[test]
    fn only_confirmed_tracks_seen_in_this_frame_are_shown_normalised() {
        let tracks = [
            track(1, TrackState::Confirmed, true, [20.0, 10.0, 120.0, 60.0]),
            track(2, TrackState::Lost, false, [0.0, 0.0, 50.0, 50.0]),
            track(3, TrackState::Tentative, true, [0.0, 0.0, 50.0, 50.0]),
            // Half outside the frame: clamped to its edge.
            track(4, TrackState::Confirmed, true, [150.0, 50.0, 260.0, 130.0]),
        ];
        let wall: jiff::Timestamp = "2026-03-01T10:00:00Z".parse().expect("time");
        let d = detections(&frame(), wall, &tracks, &PlateHits::new());
        assert_eq!((d.camera.as_str(), d.frame_seq, d.time), ("gate", 12, wall));
        assert_eq!((d.frame_width_px, d.frame_height_px), (200, 100));
        let ids: Vec<u64> = d.tracks.iter().map(|t| t.track_id).collect();
        assert_eq!(
            ids,
            vec![4, 1],
            "confirmed and matched only, most confident first"
        );
        assert_eq!(d.tracks_total, 2);
        let b = d.tracks[1].box_norm;
        assert_eq!((b.x1, b.y1, b.x2, b.y2), (0.1, 0.1, 0.6, 0.6));
        let b = d.tracks[0].box_norm;
        assert_eq!((b.x1, b.y1, b.x2, b.y2), (0.75, 0.5, 1.0, 1.0));
    }

    #[test]
    fn plate_text_is_shown_only_for_watchlist_hits_and_only_while_the_track_lives() {
        let mut hits = PlateHits::new();
        remember_hits(
            &mut hits,
            &[event(1, "京A12345", true), event(4, "沪B99999", false)],
        );
        assert_eq!(hits.len(), 1, "a read that hit no list is not kept");
        let tracks = vec![
            track(1, TrackState::Confirmed, true, [20.0, 10.0, 120.0, 60.0]),
            track(4, TrackState::Confirmed, true, [130.0, 10.0, 190.0, 60.0]),
        ];
        forget_gone(&mut hits, &tracks);
        let d = detections(&frame(), jiff::Timestamp::UNIX_EPOCH, &tracks, &hits);
        let plate = |id: u64| {
            d.tracks
                .iter()
                .find(|t| t.track_id == id)
                .and_then(|t| t.plate.clone())
        };
        assert_eq!(plate(1).as_deref(), Some("京A12345"));
        assert_eq!(plate(4), None);
        let json = serde_json::to_string(&d).expect("json");
        assert!(!json.contains("沪B99999"), "{json}");

        // The vehicle leaves: its hit goes with it, and a new track reusing nothing shows none.
        forget_gone(&mut hits, &tracks[1..]);
        assert!(hits.is_empty());
    }
}
