//! Synthetic scenes for the tracker tests: objects with straight-line motion, detections that can
//! be hidden or weakened per frame, and a runner that scores the tracker with `eval`.

#![allow(dead_code)] // each test binary uses a different subset

use vigil_core::{BoxPx, ClassId, Detection};
use vigil_track::eval::{GtBox, IdReport, reported_boxes, score_tracks};
use vigil_track::{Track, TrackId, TrackUpdate, Tracker, TrackerConfig};

/// One object moving at constant velocity (pixels per frame).
#[derive(Debug, Clone, Copy)]
pub struct Mover {
    pub object: u64,
    pub class: u16,
    /// Top-left corner at frame 0.
    pub x0: f32,
    pub y0: f32,
    pub vx: f32,
    pub vy: f32,
    pub w: f32,
    pub h: f32,
}

impl Mover {
    pub fn at(&self, frame: usize) -> BoxPx {
        let (x, y) = (self.x0 + self.vx * frame as f32, self.y0 + self.vy * frame as f32);
        BoxPx::new(x, y, x + self.w, y + self.h)
    }
}

/// What the detector reports for an object in a frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Seen {
    /// Detected with this score.
    Score(f32),
    /// Not detected (occluded, missed).
    Hidden,
}

/// Everything a scene run produced.
pub struct Run {
    pub updates: Vec<TrackUpdate>,
    pub gt: Vec<Vec<GtBox>>,
    pub report: IdReport,
    /// What `Tracker::finish` returned after the last frame.
    pub finished: Vec<Track>,
}

impl Run {
    /// Distinct track ids a ground-truth object was matched to, in order (from the scorer).
    pub fn ids_for(&self, object: u64) -> Vec<TrackId> {
        self.report.track_ids.get(&object).cloned().unwrap_or_default()
    }

    /// All tracks removed over the run, in order.
    pub fn removed(&self) -> Vec<&Track> {
        self.updates.iter().flat_map(|u| u.removed.iter()).collect()
    }
}

/// Runs `frames` frames of `movers` through a tracker; `seen(object, frame)` decides each
/// detection. Ground truth lists every object in every frame (hidden ones too: a tracker that
/// loses them is charged misses).
pub fn run_scene(
    cfg: TrackerConfig,
    movers: &[Mover],
    frames: usize,
    seen: impl Fn(u64, usize) -> Seen,
) -> Run {
    let mut tracker = Tracker::new(cfg).expect("valid config");
    let mut updates = Vec::new();
    let mut gt = Vec::new();
    let mut reported = Vec::new();
    for f in 0..frames {
        let mut dets = Vec::new();
        let mut g = Vec::new();
        for m in movers {
            let b = m.at(f);
            g.push(GtBox {
                object: m.object,
                bbox: b,
            });
            if let Seen::Score(score) = seen(m.object, f) {
                dets.push(Detection {
                    class: ClassId(m.class),
                    label: format!("class{}", m.class),
                    bbox: b,
                    score,
                });
            }
        }
        let u = tracker.update(&dets, f as u64 * 40_000_000);
        reported.push(reported_boxes(&u));
        updates.push(u);
        gt.push(g);
    }
    let report = score_tracks(&gt, &reported, 0.5);
    let finished = tracker.finish();
    Run {
        updates,
        gt,
        report,
        finished,
    }
}
