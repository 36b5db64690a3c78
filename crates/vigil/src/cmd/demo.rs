//! `vigil demo`: the main job on embedded defaults — camsim serves the sample video and a
//! labelled street scene over RTSP, `pipelines/demo.toml` analyses them (person intrusion on the
//! lawn, a plate hotlist on the street), alerts are printed and written to a JSONL file.

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
    pub pipeline: PathBuf,
}

/// The street scene served as the plate camera; its labelled plate goes on the demo hotlist.
const STREET_SCENE: &str = "hyperlpr_pip_test_db.jpg";
/// The hotlist `pipelines/demo.toml` declares for the street camera.
const DEMO_HOTLIST: &str = "demo-hotlist";

/// The `high` label of `file` in the scenes' labels.csv.
fn scene_plate(scenes: &std::path::Path, file: &str) -> Result<String> {
    let path = scenes.join("labels.csv");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("{} (fix: make setup)", path.display()))?;
    text.lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .find(|c| c.len() >= 8 && c[0] == file && c[7] == "high")
        .map(|c| c[1].to_string())
        .with_context(|| format!("{}: no high-confidence label for {file}", path.display()))
}

/// Puts the scene's plate on the demo hotlist (through the store, so the change is audited).
fn seed_hotlist(cfg: &pipeline::PipelineConfig, plate: &str) -> Result<()> {
    let dir = cfg
        .watchlists
        .dir
        .clone()
        .unwrap_or_else(|| cfg.node.data_dir.join("watchlists"));
    let live = vigil_watchlist::LiveWatchlists::open(&dir, Default::default(), cfg.watchlists.matching)
        .with_context(|| format!("opening the watchlist store {}", dir.display()))?;
    let name = vigil_watchlist::ListName::parse(DEMO_HOTLIST).map_err(anyhow::Error::msg)?;
    let csv = format!("plate,list,kind,priority,reason\n{plate},{DEMO_HOTLIST},hotlist,high,demo\n");
    let ctx = vigil_watchlist::audit::ChangeContext {
        who: "vigil demo".into(),
        source: "cli".into(),
        at: jiff::Timestamp::now(),
    };
    live.import_csv(&name, vigil_watchlist::ListKind::Hotlist, csv.as_bytes(), &ctx)
        .context("seeding the demo hotlist")?;
    Ok(())
}

/// Runs the demo.
pub fn run(a: DemoArgs) -> Result<ExitCode> {
    let (cfg, _) = pipeline::load(&a.pipeline).map_err(anyhow::Error::msg)?;
    let video = paths::media_dir().join("vtest.avi");
    anyhow::ensure!(video.is_file(), "{} missing (fix: make setup)", video.display());
    let scenes = paths::media_dir().join("scenes");
    let street = scenes.join(STREET_SCENE);
    anyhow::ensure!(street.is_file(), "{} missing (fix: make setup)", street.display());
    let plate = scene_plate(&scenes, STREET_SCENE)?;
    seed_hotlist(&cfg, &plate)?;
    let mut camsim = Camsim::start(CamsimConfig {
        address: "127.0.0.1".into(),
        port: 0,
        mounts: vec![
            MountSpec::new("/campus", CamsimSource::File(video), 10),
            MountSpec::new("/street", CamsimSource::Still(street), 10),
        ],
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
        "[demo] camsim serving vtest.avi at {base}/campus and {STREET_SCENE} at {base}/street; \
         hotlist '{DEMO_HOTLIST}' holds {plate} (the scene's label); running {} s; alerts also go to {}",
        a.seconds,
        jsonl.join(", ")
    );
    let summary = run_pipeline(&cfg, Some(&a.pipeline), Some(&base), Some(a.seconds))?;
    if let Err(e) = camsim.stop() {
        tracing::warn!(error = %e, "test camera did not stop cleanly");
    }
    eprintln!(
        "[demo] frames analysed: {:?}; plates voted: {:?} (regions read {}, dropped {}); alerts raised: {}; JSONL: {}",
        summary.frames,
        summary.plates,
        summary.plate_reads,
        summary.plate_reads_dropped,
        summary.alerts,
        jsonl.join(", ")
    );
    Ok(ExitCode::SUCCESS)
}
