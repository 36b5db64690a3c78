//! `vigil bench ingest`: decode throughput of the ingest pipeline (software decoders, every
//! frame converted), on vtest.avi and a 1080p H.264 clip generated on the spot.
//! `vigil bench pipeline`: analysis throughput vs raw ONNX Runtime (see [`super::bench_pipeline`]).
//! `vigil bench soak`: N simulated cameras for minutes: fps, drops, CPU, RSS trend, alert
//! latency (see [`super::bench_soak`]).

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
    /// Pipeline throughput on vtest.avi with every frame analysed, next to raw ONNX Runtime.
    Pipeline {
        /// Detector workers (sessions).
        #[arg(long, default_value_t = 2)]
        workers: usize,
        /// ONNX Runtime intra-op threads per worker.
        #[arg(long, default_value_t = 1)]
        intra: usize,
        /// Rounds of the three measurements (medians are reported).
        #[arg(long, default_value_t = 3)]
        rounds: usize,
    },
    /// Soak: N camsim cameras analysed for minutes (fps, drops, CPU, RSS slope, alert latency).
    Soak(super::bench_soak::SoakArgs),
}

/// Runs a bench sub-command.
pub fn run(cmd: BenchCmd) -> Result<ExitCode> {
    let frames = match cmd {
        BenchCmd::Ingest { frames } => frames,
        BenchCmd::Pipeline {
            workers,
            intra,
            rounds,
        } => {
            super::bench_pipeline::run(workers, intra, rounds)?;
            return Ok(ExitCode::SUCCESS);
        }
        BenchCmd::Soak(a) => {
            super::bench_soak::run(a)?;
            return Ok(ExitCode::SUCCESS);
        }
    };
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
