//! Property tests: whatever the detections, the tracker keeps its bookkeeping invariants.

use proptest::prelude::*;
use std::collections::HashSet;
use vigil_core::{BoxPx, ClassId, Detection};
use vigil_track::{TrackId, TrackState, Tracker, TrackerConfig};

/// A detection, sometimes garbage, clustered in a small area so that boxes overlap often and
/// the association has real choices to make.
fn detection() -> impl Strategy<Value = Detection> {
    let coord = prop_oneof![
        8 => 0.0f32..300.0,
        1 => Just(f32::NAN),
        1 => prop::num::f32::ANY,
    ];
    (
        0u16..3,
        coord,
        0.0f32..300.0,
        -5.0f32..80.0,
        -5.0f32..120.0,
        -0.1f32..1.1,
    )
        .prop_map(|(class, x, y, w, h, score)| Detection {
            class: ClassId(class),
            label: format!("c{class}"),
            bbox: BoxPx::new(x, y, x + w, y + h),
            score,
        })
}

fn config() -> impl Strategy<Value = TrackerConfig> {
    (any::<bool>(), 1u32..4, 0u32..6, 0usize..5).prop_map(|(agnostic, confirm, max_lost, path_len)| {
        TrackerConfig {
            class_agnostic: agnostic,
            frames_to_confirm: confirm,
            max_lost_frames: max_lost,
            path_len,
            ..Default::default()
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn bookkeeping_invariants_hold(
        cfg in config(),
        frames in prop::collection::vec(prop::collection::vec(detection(), 0..12), 1..25),
    ) {
        let mut tracker = Tracker::new(cfg.clone()).expect("valid config");
        let mut ended: HashSet<TrackId> = HashSet::new();
        let mut max_id_seen = 0u64;
        for (f, dets) in frames.iter().enumerate() {
            let u = tracker.update(dets, f as u64);

            // Ids unique among live tracks, and no live track was ever removed.
            let live: HashSet<TrackId> = u.tracks.iter().map(|t| t.id).collect();
            prop_assert_eq!(live.len(), u.tracks.len(), "duplicate live id");
            for t in &u.removed {
                prop_assert_eq!(t.state, TrackState::Removed);
                prop_assert!(ended.insert(t.id), "track {} removed twice", t.id);
                prop_assert!(!live.contains(&t.id));
            }
            for t in &u.tracks {
                prop_assert!(!ended.contains(&t.id), "removed id {} reused", t.id);
                prop_assert!(t.state != TrackState::Removed);
                prop_assert!(t.bbox.is_finite());
                prop_assert!(t.path.len() <= cfg.path_len);
                // New ids are always larger than every id handed out before: never reused.
                if t.age_frames == 1 {
                    prop_assert!(t.id.0 > max_id_seen, "id {} not fresh", t.id);
                }
            }
            max_id_seen = max_id_seen.max(u.tracks.iter().map(|t| t.id.0).max().unwrap_or(0));

            // No detection assigned to two tracks; assignments point at valid detections of the
            // right class.
            let mut used = HashSet::new();
            for t in &u.tracks {
                if let Some(d) = t.det_index {
                    prop_assert!(d < dets.len());
                    prop_assert!(used.insert(d), "detection {} assigned twice", d);
                    let det = &dets[d];
                    prop_assert!(det.bbox.is_finite() && det.score.is_finite());
                    prop_assert!(det.score >= cfg.low_score);
                    if !cfg.class_agnostic {
                        prop_assert_eq!(det.class, t.class);
                    }
                    prop_assert_eq!(t.lost_frames, 0);
                } else {
                    prop_assert_eq!(t.state, TrackState::Lost, "only lost tracks go unmatched");
                    prop_assert!(t.lost_frames >= 1 && t.lost_frames <= cfg.max_lost_frames);
                }
            }
        }
        // After finish, nothing is left and nothing is reported twice.
        for t in tracker.finish() {
            prop_assert!(ended.insert(t.id));
        }
        prop_assert_eq!(tracker.live_tracks(), 0);
    }
}
