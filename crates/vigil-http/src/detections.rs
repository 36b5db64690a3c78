//! What `GET /api/v1/cameras/{id}/detections` answers: the tracks of a camera's latest
//! analysed frame, boxes in normalised coordinates (0..1 of the frame), so the console can draw
//! them over the frame at whatever size it shows it.
//!
//! The API layer bounds what any backend returns ([`CameraDetections::bounded`]): at most
//! [`CameraDetections::MAX_TRACKS`] tracks, the most confident first, boxes clamped to the
//! frame and non-finite ones dropped, so a busy scene or a buggy backend cannot blow up the
//! response or the console's canvas.
//!
//! Privacy: a track carries plate text only when its plate matched a watchlist; plate reads
//! that hit no list are never exposed (the backend must not fill [`TrackBox::plate`] for them).

use jiff::Timestamp;
use serde::Serialize;

/// The tracks of one camera's latest analysed frame.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CameraDetections {
    /// Camera id.
    pub camera: String,
    /// Wall-clock time the frame was captured.
    pub time: Timestamp,
    /// The frame's sequence number on this camera (gaps: frames not analysed).
    pub frame_seq: u64,
    /// Frame width in pixels (what the normalised boxes are fractions of).
    pub frame_width_px: u32,
    /// Frame height in pixels.
    pub frame_height_px: u32,
    /// How many tracks the frame had; larger than `tracks.len()` when the list was cut.
    pub tracks_total: usize,
    /// The tracks seen in this frame, most confident first.
    pub tracks: Vec<TrackBox>,
}

/// One tracked object in the frame.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrackBox {
    /// The tracker's id, stable while the object stays in view.
    pub track_id: u64,
    /// Class name, e.g. `person`, `car`.
    pub label: String,
    /// Detector score of the latest matched detection, 0..1.
    pub score: f32,
    /// The box, as fractions of the frame's width and height.
    pub box_norm: BoxNorm,
    /// Plate text, only for a vehicle whose plate matched a watchlist entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plate: Option<String>,
}

/// A box in normalised coordinates: 0..1 of the frame's width (x) and height (y).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BoxNorm {
    /// Left edge.
    pub x1: f32,
    /// Top edge.
    pub y1: f32,
    /// Right edge.
    pub x2: f32,
    /// Bottom edge.
    pub y2: f32,
}

impl BoxNorm {
    /// The box of pixel corners (`x1`, `y1`)–(`x2`, `y2`) in a `width_px` × `height_px` frame,
    /// clamped to the frame; `None` for a zero-sized frame or non-finite input.
    pub fn from_px(x1: f32, y1: f32, x2: f32, y2: f32, width_px: u32, height_px: u32) -> Option<Self> {
        if width_px == 0 || height_px == 0 {
            return None;
        }
        let (w, h) = (width_px as f32, height_px as f32);
        Self {
            x1: x1 / w,
            y1: y1 / h,
            x2: x2 / w,
            y2: y2 / h,
        }
        .clamped()
    }

    /// The box clamped to 0..1 with its corners in order; `None` when a coordinate is not
    /// finite or nothing of the box is inside the frame.
    pub fn clamped(self) -> Option<Self> {
        let c = [self.x1, self.y1, self.x2, self.y2];
        if !c.iter().all(|v| v.is_finite()) {
            return None;
        }
        let b = Self {
            x1: self.x1.min(self.x2).clamp(0.0, 1.0),
            y1: self.y1.min(self.y2).clamp(0.0, 1.0),
            x2: self.x1.max(self.x2).clamp(0.0, 1.0),
            y2: self.y1.max(self.y2).clamp(0.0, 1.0),
        };
        (b.x2 > b.x1 && b.y2 > b.y1).then_some(b)
    }
}

impl CameraDetections {
    /// Most tracks one answer carries (a crowded frame keeps its most confident ones).
    pub const MAX_TRACKS: usize = 200;

    /// Longest label or plate text kept, in characters (labels are class names).
    pub const MAX_TEXT_CHARS: usize = 64;

    /// This answer within the API's bounds: boxes clamped (tracks without a usable box
    /// dropped), most confident first, at most [`Self::MAX_TRACKS`], texts cut to
    /// [`Self::MAX_TEXT_CHARS`]. `tracks_total` keeps the larger of the backend's count and
    /// the number of tracks it sent.
    pub fn bounded(mut self) -> Self {
        self.tracks_total = self.tracks_total.max(self.tracks.len());
        let cut = |s: &mut String| {
            if let Some((i, _)) = s.char_indices().nth(Self::MAX_TEXT_CHARS) {
                s.truncate(i);
            }
        };
        self.tracks.retain_mut(|t| match t.box_norm.clamped() {
            Some(b) => {
                t.box_norm = b;
                cut(&mut t.label);
                if let Some(p) = t.plate.as_mut() {
                    cut(p);
                }
                if !t.score.is_finite() {
                    t.score = 0.0;
                }
                true
            }
            None => false,
        });
        self.tracks
            .sort_by(|a, b| b.score.total_cmp(&a.score).then(a.track_id.cmp(&b.track_id)));
        self.tracks.truncate(Self::MAX_TRACKS);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn track(id: u64, score: f32, b: [f32; 4]) -> TrackBox {
        TrackBox {
            track_id: id,
            label: "person".into(),
            score,
            box_norm: BoxNorm {
                x1: b[0],
                y1: b[1],
                x2: b[2],
                y2: b[3],
            },
            plate: None,
        }
    }

    fn dets(tracks: Vec<TrackBox>) -> CameraDetections {
        CameraDetections {
            camera: "gate-1".into(),
            time: Timestamp::UNIX_EPOCH,
            frame_seq: 7,
            frame_width_px: 640,
            frame_height_px: 360,
            tracks_total: 0,
            tracks,
        }
    }

    #[test]
    fn pixel_boxes_become_fractions_of_the_frame_and_are_clamped() {
        let b = BoxNorm::from_px(64.0, 36.0, 320.0, 180.0, 640, 360).expect("box");
        assert_eq!(
            b,
            BoxNorm {
                x1: 0.1,
                y1: 0.1,
                x2: 0.5,
                y2: 0.5
            }
        );
        // Partly outside: cut at the frame's edge; inverted corners put in order.
        let b = BoxNorm::from_px(700.0, 400.0, 320.0, -10.0, 640, 360).expect("box");
        assert_eq!((b.x1, b.y1, b.x2, b.y2), (0.5, 0.0, 1.0, 1.0));
        assert_eq!(BoxNorm::from_px(0.0, 0.0, 10.0, 10.0, 0, 360), None);
        assert_eq!(BoxNorm::from_px(f32::NAN, 0.0, 10.0, 10.0, 640, 360), None);
        // Wholly outside the frame: nothing to draw.
        assert_eq!(BoxNorm::from_px(700.0, 0.0, 800.0, 10.0, 640, 360), None);
    }

    #[test]
    fn bounded_keeps_the_most_confident_tracks_and_counts_them_all() {
        let many: Vec<TrackBox> = (0..CameraDetections::MAX_TRACKS as u64 + 50)
            .map(|i| track(i, (i % 100) as f32 / 100.0, [0.1, 0.1, 0.2, 0.2]))
            .collect();
        let d = dets(many).bounded();
        assert_eq!(d.tracks.len(), CameraDetections::MAX_TRACKS);
        assert_eq!(d.tracks_total, CameraDetections::MAX_TRACKS + 50);
        assert!(d.tracks.windows(2).all(|w| w[0].score >= w[1].score));
        assert!((d.tracks[0].score - 0.99).abs() < 1e-6);
    }

    #[test]
    fn bounded_drops_unusable_boxes_and_cuts_long_texts() {
        let mut long = track(1, 0.9, [-0.5, 0.2, 0.4, 1.5]);
        long.label = "x".repeat(500);
        long.plate = Some("京".repeat(100));
        let d = dets(vec![
            long,
            track(2, f32::NAN, [0.1, 0.1, 0.3, 0.3]),
            track(3, 0.5, [f32::INFINITY, 0.1, 0.3, 0.3]),
            track(4, 0.5, [0.3, 0.3, 0.3, 0.3]),
        ])
        .bounded();
        let ids: Vec<u64> = d.tracks.iter().map(|t| t.track_id).collect();
        assert_eq!(ids, vec![1, 2], "infinite and empty boxes dropped");
        assert_eq!(d.tracks_total, 4);
        let t = &d.tracks[0];
        assert_eq!((t.box_norm.x1, t.box_norm.y2), (0.0, 1.0));
        assert_eq!(t.label.chars().count(), CameraDetections::MAX_TEXT_CHARS);
        assert_eq!(
            t.plate.as_deref().map(|p| p.chars().count()),
            Some(CameraDetections::MAX_TEXT_CHARS)
        );
        assert_eq!(d.tracks[1].score, 0.0, "a NaN score is shown as 0");
    }

    #[test]
    fn serialises_with_units_in_the_names_and_no_plate_key_without_a_hit() {
        let v =
            serde_json::to_value(dets(vec![track(3, 0.8, [0.1, 0.2, 0.3, 0.4])]).bounded()).expect("json");
        assert_eq!(v["frame_width_px"], 640);
        assert_eq!(v["tracks"][0]["track_id"], 3);
        assert!(v["tracks"][0]["box_norm"]["x2"].is_number());
        assert!(v["tracks"][0].get("plate").is_none(), "{v}");
        assert_eq!(v["time"], "1970-01-01T00:00:00Z");
    }
}
