//! End-to-end tracker behaviour on synthetic trajectories, scored with `vigil_track::eval`.

mod common;

use common::{Mover, Seen, run_scene};
use std::collections::HashSet;
use vigil_core::{BoxPx, ClassId, Detection};
use vigil_track::{TrackId, TrackState, Tracker, TrackerConfig};

fn walker(object: u64, x0: f32, y0: f32, vx: f32, vy: f32) -> Mover {
    Mover {
        object,
        class: 0,
        x0,
        y0,
        vx,
        vy,
        w: 40.0,
        h: 100.0,
    }
}

fn always(score: f32) -> impl Fn(u64, usize) -> Seen {
    move |_, _| Seen::Score(score)
}

#[test]
fn two_objects_moving_straight_keep_their_ids() {
    let cfg = TrackerConfig::default();
    let movers = [
        walker(1, 0.0, 50.0, 5.0, 0.5),
        walker(2, 900.0, 400.0, -3.0, -2.0),
    ];
    let run = run_scene(cfg.clone(), &movers, 150, always(0.9));
    assert_eq!(run.report.id_switches, 0, "{:?}", run.report);
    assert_eq!(run.ids_for(1).len(), 1);
    assert_eq!(run.ids_for(2).len(), 1);
    assert_ne!(run.ids_for(1), run.ids_for(2));
    // Only the unconfirmed birth frames go unreported.
    let unconfirmed = 2 * (cfg.frames_to_confirm as usize - 1);
    assert_eq!(run.report.misses, unconfirmed, "{:?}", run.report);
    assert_eq!(run.report.false_positives, 0);
}

#[test]
fn fast_object_is_followed_thanks_to_the_motion_model() {
    // 30 px per frame on a 40 px wide box: consecutive boxes overlap with IoU 1/7 < 0.2, so
    // matching the last box instead of the prediction would break the track every frame.
    let movers = [walker(1, 0.0, 100.0, 30.0, 0.0)];
    assert!(movers[0].at(0).iou(&movers[0].at(1)) < TrackerConfig::default().first_pass_min_iou);
    // A new track starts with zero velocity, so its first prediction is the birth box; the
    // first-pass minimum is lowered just enough (1/7 > 0.1) to make that first match, after
    // which the filter's velocity carries the track.
    let cfg = TrackerConfig {
        first_pass_min_iou: 0.1,
        ..Default::default()
    };
    let run = run_scene(cfg, &movers, 60, always(0.9));
    assert!(run.ids_for(1).len() <= 2, "ids {:?}", run.ids_for(1));
    // Once the velocity is learnt, the id holds to the end.
    let last_ids: HashSet<TrackId> = run.updates[20..]
        .iter()
        .flat_map(|u| u.tracks.iter().map(|t| t.id))
        .collect();
    assert_eq!(last_ids.len(), 1, "{last_ids:?}");
}

#[test]
fn crossing_objects_keep_their_ids() {
    // Meet at frame 50 with IoU ≈ 0.82.
    let movers = [
        walker(1, 0.0, 200.0, 4.0, 0.0),
        walker(2, 400.0, 210.0, -4.0, 0.0),
    ];
    assert!(movers[0].at(50).iou(&movers[1].at(50)) > 0.8);
    let run = run_scene(TrackerConfig::default(), &movers, 100, always(0.9));
    assert_eq!(run.report.id_switches, 0, "{:?}", run.report);
    assert_eq!(run.ids_for(1).len(), 1);
    assert_eq!(run.ids_for(2).len(), 1);
}

#[test]
fn crossing_with_the_rear_object_occluded_keeps_both_ids() {
    let movers = [
        walker(1, 0.0, 200.0, 2.0, 0.0),
        walker(2, 200.0, 210.0, -2.0, 0.0),
    ];
    // The detector misses object 2 while object 1 covers it.
    let hidden = |f: usize| movers[0].at(f).iou(&movers[1].at(f)) > 0.1;
    let hidden_frames = (0..100).filter(|&f| hidden(f)).count();
    assert!(
        hidden_frames >= 12,
        "the occlusion must be real: {hidden_frames} frames"
    );
    let run = run_scene(TrackerConfig::default(), &movers, 100, |o, f| {
        if o == 2 && hidden(f) {
            Seen::Hidden
        } else {
            Seen::Score(0.9)
        }
    });
    assert_eq!(run.ids_for(1).len(), 1, "{:?}", run.report);
    assert_eq!(run.ids_for(2).len(), 1, "{:?}", run.report);
    assert_eq!(run.report.id_switches, 0);
}

#[test]
fn side_by_side_walkers_keep_their_ids() {
    // Two people 25 px apart on 40 px boxes (IoU ≈ 0.2) walking together.
    let movers = [walker(1, 0.0, 300.0, 3.0, 0.2), walker(2, 25.0, 305.0, 3.0, 0.2)];
    let run = run_scene(TrackerConfig::default(), &movers, 120, always(0.9));
    assert_eq!(run.report.id_switches, 0, "{:?}", run.report);
    assert_eq!(run.ids_for(1).len(), 1);
    assert_eq!(run.ids_for(2).len(), 1);
}

/// Runs one walker that disappears for `gap` frames from frame 40.
fn occlusion(gap: usize, max_lost: u32) -> common::Run {
    let cfg = TrackerConfig {
        max_lost_frames: max_lost,
        ..Default::default()
    };
    let movers = [walker(1, 0.0, 100.0, 3.0, 1.0)];
    run_scene(cfg, &movers, 40 + gap + 30, |_, f| {
        if (40..40 + gap).contains(&f) {
            Seen::Hidden
        } else {
            Seen::Score(0.9)
        }
    })
}

#[test]
fn occlusion_shorter_than_max_lost_keeps_the_id() {
    for gap in [1, 10, 30] {
        let run = occlusion(gap, 30);
        assert_eq!(run.ids_for(1).len(), 1, "gap {gap}: {:?}", run.report);
        assert!(run.removed().is_empty(), "gap {gap}: nothing may end");
        // While hidden the track is lost, not gone.
        let mid = &run.updates[40 + gap / 2].tracks;
        assert_eq!(mid.len(), 1);
        assert_eq!(mid[0].state, TrackState::Lost);
    }
}

#[test]
fn occlusion_longer_than_max_lost_gives_a_new_id() {
    for gap in [31, 45] {
        let run = occlusion(gap, 30);
        let ids = run.ids_for(1);
        assert_eq!(ids.len(), 2, "gap {gap}: {ids:?}");
        assert_eq!(run.report.id_switches, 1);
        let removed: Vec<TrackId> = run.removed().iter().map(|t| t.id).collect();
        assert_eq!(removed, vec![ids[0]], "the old track is reported removed once");
        // It ends exactly when it has been lost for more than max_lost frames.
        let ended_at = run.updates.iter().position(|u| !u.removed.is_empty());
        assert_eq!(ended_at, Some(40 + 30));
        assert!(ids[1] > ids[0], "ids grow, never reused");
    }
}

/// A walker seen at 0.9 for 10 frames, then at `later` for 60 frames.
fn fading(later: f32, cfg: TrackerConfig) -> common::Run {
    let movers = [walker(1, 0.0, 100.0, 2.0, 0.0)];
    run_scene(cfg, &movers, 70, |_, f| {
        Seen::Score(if f < 10 { 0.9 } else { later })
    })
}

#[test]
fn low_score_detections_keep_a_confirmed_track_alive() {
    let run = fading(0.3, TrackerConfig::default());
    let ids: HashSet<TrackId> = run
        .updates
        .iter()
        .flat_map(|u| u.tracks.iter().map(|t| t.id))
        .collect();
    assert_eq!(ids.len(), 1);
    assert!(run.removed().is_empty());
    for u in &run.updates[10..] {
        assert_eq!(u.tracks[0].state, TrackState::Confirmed);
        assert_eq!(u.tracks[0].det_index, Some(0), "matched by the second pass");
        assert!((u.tracks[0].score - 0.3).abs() < 1e-6);
    }
}

#[test]
fn without_the_second_pass_the_same_track_is_lost() {
    // Control: make 0.3 fall below the low threshold; the track must now end.
    let cfg = TrackerConfig {
        low_score: 0.4,
        ..Default::default()
    };
    let run = fading(0.3, cfg.clone());
    assert_eq!(run.removed().len(), 1);
    let ended_at = run.updates.iter().position(|u| !u.removed.is_empty());
    assert_eq!(ended_at, Some(10 + cfg.max_lost_frames as usize));
}

#[test]
fn low_score_detections_do_not_revive_a_lost_track_or_start_one() {
    let mut tr = Tracker::new(TrackerConfig::default()).expect("config");
    let b = BoxPx::new(100.0, 100.0, 140.0, 200.0);
    let d = |score| Detection {
        class: ClassId(0),
        label: "person".into(),
        bbox: b,
        score,
    };
    for f in 0..5 {
        tr.update(&[d(0.9)], f);
    }
    tr.update(&[], 5);
    let u = tr.update(&[d(0.3)], 6);
    assert_eq!(u.tracks.len(), 1);
    assert_eq!(u.tracks[0].state, TrackState::Lost);
    assert_eq!(u.tracks[0].lost_frames, 2);
    let u = tr.update(&[d(0.9)], 7);
    assert_eq!(u.tracks[0].state, TrackState::Confirmed, "a high box revives it");
    assert_eq!(u.tracks[0].id, TrackId(1));
}

#[test]
fn removed_tracks_are_reported_exactly_once() {
    // Six walkers, each visible during its own window.
    let windows = [(0, 20), (5, 60), (10, 12), (30, 90), (50, 51), (70, 100)];
    let movers: Vec<Mover> = (0..6)
        .map(|i| walker(i as u64, 150.0 * i as f32, 100.0 + 20.0 * i as f32, 1.0, 0.5))
        .collect();
    let cfg = TrackerConfig {
        max_lost_frames: 10,
        ..Default::default()
    };
    let run = run_scene(cfg, &movers, 100, |o, f| {
        let (a, b) = windows[o as usize];
        if (a..b).contains(&f) {
            Seen::Score(0.9)
        } else {
            Seen::Hidden
        }
    });
    let mut ended: Vec<TrackId> = Vec::new();
    for (f, u) in run.updates.iter().enumerate() {
        for t in &u.removed {
            assert_eq!(t.state, TrackState::Removed);
            assert!(!ended.contains(&t.id), "track {} removed twice (frame {f})", t.id);
            ended.push(t.id);
        }
        for t in &u.tracks {
            assert!(
                !ended.contains(&t.id),
                "removed track {} came back (frame {f})",
                t.id
            );
        }
    }
    for t in &run.finished {
        assert!(!ended.contains(&t.id));
        ended.push(t.id);
    }
    let seen: HashSet<TrackId> = run
        .updates
        .iter()
        .flat_map(|u| u.tracks.iter().map(|t| t.id))
        .collect();
    let ended_set: HashSet<TrackId> = ended.iter().copied().collect();
    assert_eq!(seen, ended_set, "every track ends exactly once");
    // Windows (10,12) and (50,51) are short; the rest give one long track each.
    assert!(seen.len() >= 5, "{seen:?}");
}

#[test]
fn nan_and_degenerate_boxes_are_ignored_without_panic() {
    let mut tr = Tracker::new(TrackerConfig::default()).expect("config");
    let junk = |class: u16, bbox: BoxPx, score: f32| Detection {
        class: ClassId(class),
        label: "x".into(),
        bbox,
        score,
    };
    let mut ids = HashSet::new();
    for f in 0..50u64 {
        let x = 10.0 + 3.0 * f as f32;
        let dets = vec![
            junk(0, BoxPx::new(f32::NAN, 0.0, 10.0, 10.0), 0.9),
            junk(0, BoxPx::new(0.0, 0.0, 10.0, f32::INFINITY), 0.9),
            junk(0, BoxPx::new(50.0, 50.0, 10.0, 10.0), 0.9), // inverted
            junk(0, BoxPx::new(50.0, 50.0, 50.0, 90.0), 0.9), // zero width
            junk(0, BoxPx::new(300.0, 300.0, 340.0, 400.0), f32::NAN),
            junk(0, BoxPx::new(-1e30, -1e30, 1e30, 1e30), 0.9),
            junk(0, BoxPx::new(x, 100.0, x + 40.0, 200.0), 0.95), // the real object
            junk(0, BoxPx::new(600.0, 300.0, 640.0, 400.0), -1.0), // valid, just below low_score
        ];
        let u = tr.update(&dets, f);
        assert_eq!(u.invalid_detections, 6);
        for t in &u.tracks {
            assert!(t.bbox.is_finite());
            assert_eq!(t.det_index, Some(6), "only the real object is tracked");
            ids.insert(t.id);
        }
    }
    assert_eq!(ids.len(), 1);
}
