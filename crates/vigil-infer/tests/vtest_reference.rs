//! YOLOX-Nano person counts on vtest.avi (one frame per second, 80 frames) against the committed reference in
//! `testdata/expected/vtest_person_counts.csv`.
//!
//! The reference was produced by this pipeline (score ≥ 0.35, class-aware NMS IoU 0.45) and
//! checked against the shared testdata README (3–10 walkers per sampled frame, plus the sign
//! stand). Regenerate after an intended change with
//! `VIGIL_REGENERATE=1 cargo test -p vigil-infer --test vtest_reference` and review the diff.

mod common;

use common::*;
use vigil_infer::{DetectParams, Detector, SessionOptions};

const REFERENCE: &str = "testdata/expected/vtest_person_counts.csv";

/// One frame per second of vtest.avi as RGB, decoded by gst-launch-1.0.
fn sampled_frames() -> Vec<Rgb> {
    let dir = tempfile::tempdir().expect("tempdir");
    let pipeline = format!(
        "filesrc location={} ! avidemux ! avdec_msmpeg4 ! videorate drop-only=true max-rate=1 ! videoconvert ! \
         video/x-raw,format=RGB ! multifilesink location={}/f_%05d.rgb",
        testdata().join("vtest.avi").display(),
        dir.path().display()
    );
    let ok = std::process::Command::new("gst-launch-1.0")
        .arg("-q")
        .args(pipeline.split_whitespace())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "gst-launch-1.0 could not decode vtest.avi (run `make setup`)");
    // videorate keeps one frame per second of stream time: 80 frames of the 79.5 s, 10 fps clip.
    (0..80)
        .map(|i| {
            let p = dir.path().join(format!("f_{i:05}.rgb"));
            let data = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            Rgb {
                width: 768,
                height: 576,
                data,
            }
        })
        .collect()
}

#[test]
fn person_counts_match_the_committed_reference() {
    let mut det = Detector::new(
        manifest("yolox-nano"),
        &model_dir(),
        &SessionOptions {
            intra_threads: 2,
            ..Default::default()
        },
    )
    .expect("load");
    let params = DetectParams {
        classes: vec!["person".into()],
        ..Default::default()
    };
    let counts: Vec<usize> = sampled_frames()
        .iter()
        .map(|f| det.detect(f.view(), &params).expect("run").len())
        .collect();
    let path = root().join(REFERENCE);
    if std::env::var_os("VIGIL_REGENERATE").is_some() {
        let mut text = String::from("second,persons\n");
        for (i, c) in counts.iter().enumerate() {
            text.push_str(&format!("{i},{c}\n"));
        }
        std::fs::write(&path, text).expect("write reference");
    }
    let reference: Vec<usize> = std::fs::read_to_string(&path)
        .expect("reference file")
        .lines()
        .skip(1)
        .map(|l| {
            l.split(',')
                .nth(1)
                .and_then(|v| v.parse().ok())
                .expect("frame,persons row")
        })
        .collect();
    assert_eq!(
        reference.len(),
        counts.len(),
        "one reference row per sampled frame"
    );
    // Independent sanity from the testdata README: 3–10 walkers plus the sign stand.
    assert!(
        counts.iter().all(|c| (2..=12).contains(c)),
        "implausible counts: {counts:?}"
    );
    let off: Vec<(usize, usize, usize)> = counts
        .iter()
        .zip(&reference)
        .enumerate()
        .filter(|(_, (c, r))| c.abs_diff(**r) > 0)
        .map(|(i, (c, r))| (i, *c, *r))
        .collect();
    let far = off.iter().filter(|(_, c, r)| c.abs_diff(*r) > 1).count();
    // Tolerance for floating-point differences across CPUs/ORT builds: a box at the threshold
    // may flip; more than that is a regression.
    assert!(
        far == 0 && off.len() * 10 <= counts.len(),
        "counts drifted from the reference (second, got, want): {off:?}"
    );
}

const DETECTIONS: &str = "testdata/expected/vtest_person_detections_5fps.csv";

/// vtest.avi at 5 fps (the pipeline's default analysis rate) as RGB; `limit` frames from the start,
/// or all of them.
fn frames_5fps(limit: Option<usize>) -> (tempfile::TempDir, Vec<std::path::PathBuf>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let stop = limit.map_or(String::new(), |n| format!("identity eos-after={n} !"));
    let pipeline = format!(
        "filesrc location={} ! avidemux ! avdec_msmpeg4 ! videorate ! video/x-raw,framerate=5/1 ! {stop} \
         videoconvert ! video/x-raw,format=RGB ! multifilesink location={}/f_%05d.rgb",
        testdata().join("vtest.avi").display(),
        dir.path().display()
    );
    let ok = std::process::Command::new("gst-launch-1.0")
        .arg("-q")
        .args(pipeline.split_whitespace())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "gst-launch-1.0 could not decode vtest.avi (run `make setup`)");
    let mut files: Vec<_> = std::fs::read_dir(dir.path())
        .expect("frames")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    (dir, files)
}

/// One detection row of the reference: frame index, score, box.
fn detection_rows(det: &mut Detector, frame: usize, path: &std::path::Path) -> Vec<String> {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let img = Rgb {
        width: 768,
        height: 576,
        data,
    };
    // Down to 0.1 like the pipeline: the tracker's second pass needs the low-score boxes.
    let params = DetectParams {
        thresholds: vigil_infer::decode::ScoreThresholds::uniform(0.1),
        classes: vec!["person".into()],
        ..Default::default()
    };
    det.detect(img.view(), &params)
        .expect("run")
        .iter()
        .map(|d| {
            format!(
                "{frame},{:.3},{:.1},{:.1},{:.1},{:.1}",
                d.score, d.bbox.x1, d.bbox.y1, d.bbox.x2, d.bbox.y2
            )
        })
        .collect()
}

/// The tracker's real-video test input (crates/vigil-track/tests/vtest_fragments.rs) is the
/// detector's output on vtest.avi at 5 fps, committed so the tracker is tested without a model.
/// This test keeps it honest: the first frames must still come out the same (regenerate the
/// whole file with `VIGIL_REGENERATE=1`).
#[test]
fn committed_tracker_input_is_what_the_detector_produces() {
    let mut det = Detector::new(
        manifest("yolox-nano"),
        &model_dir(),
        &SessionOptions {
            intra_threads: 2,
            ..Default::default()
        },
    )
    .expect("load");
    let path = root().join(DETECTIONS);
    let regenerate = std::env::var_os("VIGIL_REGENERATE").is_some();
    let checked = 10;
    let (_dir, frames) = frames_5fps((!regenerate).then_some(checked));
    let rows: Vec<String> = frames
        .iter()
        .enumerate()
        .flat_map(|(i, p)| detection_rows(&mut det, i, p))
        .collect();
    if regenerate {
        assert!(frames.len() > 350, "only {} frames decoded", frames.len());
        let text = format!("frame,score,x1,y1,x2,y2\n{}\n", rows.join("\n"));
        std::fs::write(&path, text).expect("write reference");
    }
    let text = std::fs::read_to_string(&path).expect("reference file");
    let parse = |l: &str| -> (usize, f32, [f32; 4]) {
        let v: Vec<f32> = l.split(',').map(|x| x.parse().expect("number")).collect();
        (v[0] as usize, v[1], [v[2], v[3], v[4], v[5]])
    };
    let want: Vec<_> = text
        .lines()
        .skip(1)
        .map(parse)
        .filter(|r| r.0 < checked)
        .collect();
    let got: Vec<_> = rows.iter().map(|l| parse(l)).filter(|r| r.0 < checked).collect();
    // Boxes above the pipeline's 0.35 threshold must all be there, at the same place; low-score
    // boxes near 0.1 may flip across CPUs.
    for w in want.iter().filter(|w| w.1 >= 0.35) {
        let wb = vigil_core::BoxPx::new(w.2[0], w.2[1], w.2[2], w.2[3]);
        assert!(
            got.iter().any(|g| g.0 == w.0
                && (g.1 - w.1).abs() < 0.05
                && vigil_core::BoxPx::new(g.2[0], g.2[1], g.2[2], g.2[3]).iou(&wb) > 0.95),
            "frame {} box {wb:?} score {} is no longer detected",
            w.0,
            w.1
        );
    }
    assert!(
        got.len().abs_diff(want.len()) * 10 <= want.len(),
        "{} boxes in the first {checked} frames, reference has {}",
        got.len(),
        want.len()
    );
}
