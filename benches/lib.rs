//! Shared helpers for the criterion benchmarks in this folder: where models and media are, and
//! real frames decoded from the sample video.

use std::sync::Arc;
use std::time::SystemTime;
use vigil_core::{CameraId, Frame, PixelFormat};
pub use vigil_testkit::{model_dir, root, testdata};

/// The first `count` frames of vtest.avi (768×576 RGB), decoded with `gst-launch-1.0`.
pub fn vtest_frames(count: usize) -> Vec<Frame> {
    let dir = std::env::temp_dir().join(format!("vigil-bench-frames-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let out = dir.join("all.rgb");
    let pipeline = format!(
        "filesrc location={} ! avidemux ! avdec_msmpeg4 ! identity eos-after={} ! videoconvert ! video/x-raw,format=RGB ! filesink location={}",
        testdata().join("vtest.avi").display(),
        count + 1,
        out.display()
    );
    let ok = std::process::Command::new("gst-launch-1.0")
        .arg("-q")
        .args(pipeline.split(' '))
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "gst-launch-1.0 could not decode vtest.avi (run `make setup`)");
    let bytes = std::fs::read(&out).expect("decoded frames");
    let _ = std::fs::remove_dir_all(&dir);
    let size = 768 * 576 * 3;
    bytes
        .chunks_exact(size)
        .enumerate()
        .map(|(i, px)| Frame {
            camera: CameraId::new("vtest"),
            seq: i as u64,
            pts_ns: i as u64 * 100_000_000,
            captured_at: SystemTime::now(),
            width: 768,
            height: 576,
            stride: 768 * 3,
            format: PixelFormat::Rgb8,
            data: Arc::from(px),
        })
        .collect()
}
