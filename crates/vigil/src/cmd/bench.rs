//! `vigil bench ingest`: decode throughput of the ingest pipeline (software decoders, every
//! frame converted), on vtest.avi and a 1080p H.264 clip generated on the spot.

use crate::paths;
use anyhow::Result;
use clap::Subcommand;
use std::process::ExitCode;
use std::time::Duration;

/// Bench sub-commands.
#[derive(Debug, Subcommand)]
pub enum BenchCmd {
    /// Decode throughput: frames/s and CPU time per frame.
    Ingest {
        /// Frames of the generated 1080p clip.
        #[arg(long, default_value_t = 300)]
        frames: u32,
    },
}

/// Runs a bench sub-command.
pub fn run(cmd: BenchCmd) -> Result<ExitCode> {
    let BenchCmd::Ingest { frames } = cmd;
    let dir = tempfile::tempdir()?;
    let clip = dir.path().join("clip1080p.mkv");
    vigil_ingest::bench::make_test_clip(&clip, 1920, 1080, frames, 30)?;
    println!("| input | frames | wall fps | CPU s | CPU ms/frame |\n|---|---|---|---|---|");
    for (name, path) in [
        (
            "vtest.avi 768x576 MS-MPEG4v3",
            paths::media_dir().join("vtest.avi"),
        ),
        ("1080p H.264 (generated)", clip),
    ] {
        let s = vigil_ingest::bench::bench_decode(&path, None, Duration::from_secs(300))?;
        let fps = s.frames as f64 / s.wall.as_secs_f64().max(1e-9);
        let cpu = s.cpu.as_secs_f64();
        println!(
            "| {name} | {} | {fps:.1} | {cpu:.2} | {:.2} |",
            s.frames,
            cpu * 1000.0 / s.frames.max(1) as f64
        );
    }
    Ok(ExitCode::SUCCESS)
}
