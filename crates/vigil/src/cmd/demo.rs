//! `vigil demo`: the main job on embedded defaults — camsim serves the sample video over RTSP,
//! `pipelines/demo.toml` analyses it, alerts are printed and written to a JSONL file.

use crate::cmd::run::run_pipeline;
use crate::{paths, pipeline};
use anyhow::{Context, Result};
use std::path::PathBuf;
use std::process::ExitCode;
use vigil_ingest::{Camsim, CamsimConfig, CamsimSource, MountSpec};

/// Arguments of `vigil demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// How long to run.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// The pipeline file.
    #[arg(long, default_value = "pipelines/demo.toml")]
    pipeline: PathBuf,
}

/// Runs the demo.
pub fn run(a: DemoArgs) -> Result<ExitCode> {
    let (cfg, _) = pipeline::load(&a.pipeline).map_err(anyhow::Error::msg)?;
    let video = paths::media_dir().join("vtest.avi");
    anyhow::ensure!(video.is_file(), "{} missing (fix: make setup)", video.display());
    let mut camsim = Camsim::start(CamsimConfig {
        address: "127.0.0.1".into(),
        port: 0,
        mounts: vec![MountSpec::new("/campus", CamsimSource::File(video), 10)],
    })
    .context("starting the test camera")?;
    let base = format!("rtsp://127.0.0.1:{}", camsim.port());
    let jsonl: Vec<String> = cfg
        .sinks
        .iter()
        .filter_map(|s| match &s.sink {
            vigil_alert::SinkConfig::File(f) => Some(f.path.display().to_string()),
            _ => None,
        })
        .collect();
    eprintln!(
        "[demo] camsim serving vtest.avi at {base}/campus; running {} s; alerts also go to {}",
        a.seconds,
        jsonl.join(", ")
    );
    let summary = run_pipeline(&cfg, Some(&base), Some(a.seconds))?;
    if let Err(e) = camsim.stop() {
        tracing::warn!(error = %e, "test camera did not stop cleanly");
    }
    eprintln!(
        "[demo] frames analysed: {:?}; alerts raised: {}; JSONL: {}",
        summary.frames,
        summary.alerts,
        jsonl.join(", ")
    );
    Ok(ExitCode::SUCCESS)
}
