//! The tracker on real video: YOLOX-Nano's person boxes on vtest.avi at 5 fps (the pipeline's
//! default analysis rate), committed as `testdata/expected/vtest_person_detections_5fps.csv`
//! (produced and kept honest by vigil-infer's `vtest_reference` test). vtest has no identity
//! labels, so identity switches are estimated as *re-births*: a track beginning away from the
//! frame edges right after, and close to, where another ended (see `vigil_track::fragments`).
//! Figures and the method are in docs/accuracy.md; the bounds below are those measurements
//! plus a small margin, so a regression in association or track memory fails here.

use std::path::PathBuf;
use vigil_core::{BoxPx, ClassId, Detection};
use vigil_track::eval::reported_boxes;
use vigil_track::fragments::{FragmentParams, FragmentReport, fragments};
use vigil_track::{TrackId, Tracker, TrackerConfig};

fn detections() -> Vec<Vec<Detection>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/expected/vtest_person_detections_5fps.csv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut frames: Vec<Vec<Detection>> = Vec::new();
    for (n, line) in text.lines().enumerate().skip(1) {
        let v: Vec<f32> = line
            .split(',')
            .map(|x| x.parse().unwrap_or_else(|e| panic!("line {}: {e}", n + 1)))
            .collect();
        let f = v[0] as usize;
        if frames.len() <= f {
            frames.resize(f + 1, Vec::new());
        }
        frames[f].push(Detection {
            class: ClassId(0),
            label: "person".into(),
            bbox: BoxPx::new(v[2], v[3], v[4], v[5]),
            score: v[1],
        });
    }
    frames
}

/// The tracker exactly as `vigil run` builds it for a detector score of 0.35.
fn pipeline_tracker() -> Tracker {
    Tracker::new(TrackerConfig {
        high_score: 0.35,
        ..Default::default()
    })
    .expect("config")
}

fn run(mut tracker: Tracker, frames: &[Vec<Detection>]) -> FragmentReport {
    let reported: Vec<Vec<(TrackId, BoxPx)>> = frames
        .iter()
        .enumerate()
        .map(|(i, d)| reported_boxes(&tracker.update(d, i as u64 * 200_000_000)))
        .collect();
    fragments(
        &reported,
        &FragmentParams {
            frame_w: 768.0,
            frame_h: 576.0,
            edge_margin_px: 12.0,
            rejoin_frames: 10, // 2 s at 5 fps
            rejoin_heights: 1.0,
        },
    )
}

#[test]
fn identity_breaks_on_vtest_stay_within_the_measured_bound() {
    let frames = detections();
    assert!(frames.len() > 350, "{} frames", frames.len());
    let r = run(pipeline_tracker(), &frames);
    eprintln!(
        "vtest 5 fps: {} tracks, {} interior births, {} re-births {:?}",
        r.tracks, r.interior_births, r.rebirths, r.pairs
    );
    assert!(r.tracks >= 20, "vtest shows dozens of walkers over 80 s: {r:?}");
    assert!(r.rebirths <= MAX_REBIRTHS, "identity breaks regressed: {r:?}");
    assert!(r.tracks <= MAX_TRACKS, "too many tracks (fragmentation): {r:?}");
}

/// Short track memory shows up as more re-births: evidence that the metric measures what it
/// claims on this video (and that the bound above has teeth).
#[test]
fn shorter_track_memory_breaks_more_identities() {
    let frames = detections();
    let normal = run(pipeline_tracker(), &frames);
    let forgetful = run(
        Tracker::new(TrackerConfig {
            high_score: 0.35,
            max_lost_frames: 1,
            ..Default::default()
        })
        .expect("config"),
        &frames,
    );
    assert!(
        forgetful.rebirths > normal.rebirths,
        "max_lost_frames 1: {forgetful:?}\nmax_lost_frames 30: {normal:?}"
    );
}

/// The third association pass (lost tracks by their last observed box) is what keeps walkers
/// who pause behind the sign stand or each other on their ids at 5 fps.
#[test]
fn recovering_lost_tracks_by_their_last_box_prevents_identity_breaks() {
    let frames = detections();
    let with = run(pipeline_tracker(), &frames);
    let without = run(
        Tracker::new(TrackerConfig {
            high_score: 0.35,
            recover_lost: false,
            ..Default::default()
        })
        .expect("config"),
        &frames,
    );
    assert!(
        with.rebirths < without.rebirths,
        "with recovery: {with:?}\nwithout: {without:?}"
    );
}

/// Measured 2026-11-29 on the committed detections: 34 tracks, 26 interior births, 7 re-births
/// (12 re-births and 41 tracks without the recovery pass). The computation is deterministic;
/// the margin of one allows for a reviewed regeneration of the detections.
const MAX_REBIRTHS: usize = 8;
const MAX_TRACKS: usize = 36;
