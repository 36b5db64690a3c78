//! `vigil eval plates|scenes DIR`: measure the plate stage on a labelled set and print the
//! report (accuracy, confusions, throughput, misses) or JSON. Exit code 1 when the set's bar is
//! not met (plates: 98.5 % exact; scenes: every `high` plate exact and no false plate).

use crate::cmd::models::read_manifests;
use crate::paths;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use vigil_core::model::ModelManifest;
use vigil_infer::SessionOptions;
use vigil_lpr::eval::{PlatesReport, ScenesReport, eval_plates, eval_scenes};
use vigil_lpr::{PlateReader, PlateReaderConfig, VehicleFinder};
use vigil_plate::PlateGrammar;

/// Exact-match accuracy the plates set must reach.
const PLATES_BAR: f64 = 0.985;

/// Sub-commands of `vigil eval`.
#[derive(Debug, clap::Subcommand)]
pub enum EvalCmd {
    /// Tight plate crops with labels.csv (or plate-named files): exact-match accuracy.
    Plates {
        /// Folder of crops, e.g. .cache/testdata/plates.
        dir: PathBuf,
        /// Print the full report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Scene photos with labels.csv: vehicles → plates, scored against the labelled boxes.
    Scenes {
        /// Folder of scenes, e.g. .cache/testdata/scenes.
        dir: PathBuf,
        /// Print the full report as JSON.
        #[arg(long)]
        json: bool,
    },
}

fn manifest(all: &[ModelManifest], name: &str, dir: &Path) -> Result<ModelManifest> {
    all.iter().find(|m| m.name == name).cloned().with_context(|| {
        format!(
            "no model named '{name}' in {} (run `vigil models fetch`)",
            dir.display()
        )
    })
}

/// Runs `vigil eval`.
pub fn run(cmd: EvalCmd) -> Result<ExitCode> {
    let dir = paths::model_dir();
    let all = read_manifests(&dir)?;
    let opts = SessionOptions::default();
    let mut reader = PlateReader::new(
        PlateReaderConfig::default(),
        PlateGrammar::cn_mainland(),
        manifest(&all, "ppocr-det", &dir)?,
        manifest(&all, "ppocr-rec", &dir)?,
        &dir,
        &opts,
    )?;
    match cmd {
        EvalCmd::Plates { dir: set, json } => {
            let r = eval_plates(&set, &mut reader)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                print_plates(&r);
            }
            Ok(if r.accuracy >= PLATES_BAR {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        EvalCmd::Scenes { dir: set, json } => {
            let mut finder = VehicleFinder::new(manifest(&all, "yolox-nano", &dir)?, &dir, &opts, 0.35)?;
            let r = eval_scenes(&set, &mut reader, Some(&mut finder))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                print_scenes(&r);
            }
            Ok(if r.passed {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}

fn print_plates(r: &PlatesReport) {
    println!("plates: {}", r.dir);
    println!(
        "  exact match      {:.2} % ({}/{}), bar {:.1} %",
        100.0 * r.accuracy,
        r.correct,
        r.scored,
        100.0 * PLATES_BAR
    );
    println!(
        "  colour           {:.2} % ({}/{} reads, {} unsure)",
        100.0 * r.colour_accuracy,
        r.colour_correct,
        r.colour_scored,
        r.colour_unsure
    );
    println!(
        "  greedy baseline  {:.2} % ({}/{})",
        100.0 * r.greedy_accuracy,
        r.greedy_correct,
        r.scored
    );
    println!("  no read          {}", r.no_read);
    println!(
        "  throughput       {:.1} crops/s ({:.2} s, recognition + decoding)",
        r.crops_per_s, r.seconds
    );
    if !r.confusions.is_empty() {
        println!("  confusions (position: expected → read × count):");
        for c in &r.confusions {
            println!("    {}: {} → {} × {}", c.position, c.expected, c.got, c.count);
        }
    }
    if !r.misses.is_empty() {
        println!("  misses:");
        for m in &r.misses {
            let read = m.read.as_ref().map_or("(none)".to_string(), |x| {
                format!("{} ({:.2})", x.text, x.confidence)
            });
            println!("    {}  read {read}  greedy {}", m.expected, m.greedy);
        }
    }
    for e in &r.excluded {
        let read = e.read.as_ref().map_or("(none)", |x| x.text.as_str());
        println!("  excluded {}: {} — read {read}", e.file, e.reason);
    }
}

fn print_scenes(r: &ScenesReport) {
    println!("scenes: {}", r.dir);
    println!("  high plates exact    {}/{}", r.high_exact, r.high_total);
    println!("  low plates exact     {}/{}", r.low_exact, r.low_total);
    println!(
        "  illegible localised  {}/{}",
        r.illegible_localised, r.illegible_total
    );
    println!("  false plates         {}", r.false_plates);
    println!(
        "  colour               {}/{} high rows, {}/{} read rows",
        r.high_colour_correct, r.high_total, r.colour_correct, r.colour_scored
    );
    println!(
        "  {} in {:.1} s",
        if r.passed { "PASS" } else { "FAIL" },
        r.seconds
    );
    for s in &r.scenes {
        println!(
            "  {} ({}×{}, {} vehicles, {:.2} s)",
            s.file,
            s.width,
            s.height,
            s.vehicles.len(),
            s.seconds
        );
        for l in &s.labels {
            let want = l.label.plate.as_deref().unwrap_or("(illegible)");
            println!(
                "    label {want} [{:?}]: {}, read IoU {:.2}, best candidate IoU {:.2}",
                l.label.confidence,
                if l.exact { "read" } else { "NOT read" },
                l.read_iou,
                l.best_candidate_iou
            );
        }
        for f in &s.false_plates {
            println!(
                "    FALSE PLATE {} ({:.2}) at {:?}",
                f.text, f.confidence, f.box_px
            );
        }
    }
}
