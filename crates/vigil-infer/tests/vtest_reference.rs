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
