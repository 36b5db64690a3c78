//! Decode throughput of the camera pipeline (software decoders, full rate, RGB/BGR output).
//!
//! ```text
//! cargo run --release -p vigil-ingest --example ingest_bench [path/to/vtest.avi]
//! ```
//! Reports frames/s and process CPU time for vtest.avi (768×576 MS-MPEG4v3) and for a 1080p
//! H.264 clip generated on the fly (300 frames of moving test bars).

use std::path::PathBuf;
use std::time::Duration;
use vigil_ingest::bench::{DecodeStats, bench_decode, make_test_clip};

fn report(name: &str, s: &DecodeStats) {
    println!(
        "{name:<28} {:>4}x{:<4} {:>5} frames  {:>7.1} frames/s  cpu {:>6.2} s  ({:.2} ms cpu/frame)",
        s.width,
        s.height,
        s.frames,
        s.fps(),
        s.cpu.as_secs_f64(),
        s.cpu_ms_per_frame()
    );
}

fn find_vtest() -> Option<PathBuf> {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut dirs: Vec<PathBuf> = std::env::var_os("VIGIL_TESTDATA")
        .map(PathBuf::from)
        .into_iter()
        .collect();
    dirs.push(workspace.join(".cache/testdata"));
    dirs.push(workspace.join("../shared/testdata"));
    dirs.into_iter()
        .map(|d| d.join("vtest.avi"))
        .find(|p| p.is_file())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let vtest = match std::env::args_os().nth(1) {
        Some(p) => PathBuf::from(p),
        None => find_vtest().ok_or("vtest.avi not found; run `make setup` or pass its path")?,
    };
    let timeout = Duration::from_secs(600);
    report("vtest.avi (msmpeg4v3)", &bench_decode(&vtest, None, timeout)?);

    let dir = tempfile::tempdir()?;
    let clip = dir.path().join("bench-1080p.mkv");
    make_test_clip(&clip, 1920, 1080, 300, 30)?;
    report(
        "1080p H.264 (avdec_h264)",
        &bench_decode(&clip, Some("avdec_h264"), timeout)?,
    );
    Ok(())
}
