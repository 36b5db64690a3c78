//! `vigil camsim`: serve video files or still images as looping live RTSP cameras on loopback.

use anyhow::{Context, Result};
use std::path::PathBuf;
use std::process::ExitCode;
use vigil_ingest::{Camsim, CamsimConfig, CamsimSource, MountSpec};

/// Arguments of `vigil camsim`.
#[derive(Debug, clap::Args)]
pub struct CamsimArgs {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8554)]
    port: u16,
    /// Frames per second of every served stream.
    #[arg(long, default_value_t = 10)]
    fps: u32,
    /// Output width (stills: the pan window; files: scaled).
    #[arg(long)]
    width: Option<u32>,
    /// Output height.
    #[arg(long)]
    height: Option<u32>,
    /// Mounts as `PATH=FILE`, e.g. `/campus=.cache/testdata/vtest.avi`; images (jpg/png) are
    /// panned slowly so objects move.
    #[arg(required = true)]
    mounts: Vec<String>,
}

/// Runs the test camera server until Ctrl-C.
pub fn run(a: CamsimArgs) -> Result<ExitCode> {
    let mut mounts = Vec::new();
    for m in &a.mounts {
        let (path, file) = m
            .split_once('=')
            .with_context(|| format!("mount '{m}' is not PATH=FILE (e.g. /gate=plate.jpg)"))?;
        let file = PathBuf::from(file);
        anyhow::ensure!(
            file.is_file(),
            "mount '{path}': {} does not exist",
            file.display()
        );
        let still = file
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "jpg" | "jpeg" | "png"));
        let source = if still {
            CamsimSource::Still(file)
        } else {
            CamsimSource::File(file)
        };
        let mut spec = MountSpec::new(path, source, a.fps);
        spec.width = a.width;
        spec.height = a.height;
        mounts.push(spec);
    }
    let paths: Vec<String> = mounts.iter().map(|m| m.path.clone()).collect();
    let mut sim = Camsim::start(CamsimConfig {
        address: "127.0.0.1".into(),
        port: a.port,
        mounts,
    })?;
    for p in &paths {
        println!("serving {}", sim.url(p));
    }
    let stop = crate::signals::install().stop;
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    sim.stop()?;
    Ok(ExitCode::SUCCESS)
}
