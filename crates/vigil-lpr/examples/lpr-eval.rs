//! Development tool: runs the plate evaluations with configuration overrides, for measuring
//! the effect of one knob at a time (docs/accuracy.md lists the runs).
//!
//! `cargo run -p vigil-lpr --release --example lpr-eval -- plates|scenes DIR [CONFIG_JSON]`
//! where CONFIG_JSON overrides fields of `PlateReaderConfig`, e.g. `{"trim_padding": false}`.
//! Models come from `VIGIL_MODEL_DIR` (default `models/`).

use std::path::PathBuf;

use vigil_infer::{SessionOptions, load_manifest};
use vigil_lpr::eval::{eval_plates, eval_scenes};
use vigil_lpr::{PlateReader, PlateReaderConfig, VehicleFinder};
use vigil_plate::PlateGrammar;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(what), Some(dir)) = (args.get(1), args.get(2)) else {
        return Err("usage: lpr-eval plates|scenes DIR [CONFIG_JSON]".into());
    };
    let config: PlateReaderConfig = match args.get(3) {
        Some(j) => serde_json::from_str(j)?,
        None => PlateReaderConfig::default(),
    };
    let models = std::env::var_os("VIGIL_MODEL_DIR").map_or_else(|| PathBuf::from("models"), PathBuf::from);
    let opts = SessionOptions::default();
    let det = load_manifest(&models.join("ppocr-det.toml"))?;
    let rec = load_manifest(&models.join("ppocr-rec.toml"))?;
    let mut reader = PlateReader::new(config, PlateGrammar::cn_mainland(), det, rec, &models, &opts)?;
    let verbose = std::env::var_os("VERBOSE").is_some();
    if what == "plates" {
        let r = eval_plates(&PathBuf::from(dir), &mut reader)?;
        println!(
            "accuracy {:.4} ({}/{}), greedy {:.4}, no read {}, {:.1} crops/s",
            r.accuracy, r.correct, r.scored, r.greedy_accuracy, r.no_read, r.crops_per_s
        );
        for m in &r.misses {
            println!(
                "  miss {} read {:?} greedy {}",
                m.expected,
                m.read.as_ref().map(|x| (&x.text, x.confidence)),
                m.greedy
            );
        }
        println!(
            "colour {:.4} ({}/{} reads), {:?}",
            r.colour_accuracy, r.colour_correct, r.colour_scored, r.colours
        );
        for c in r.crops.iter().filter(|c| c.read.is_some() && !c.colour_correct) {
            println!(
                "  colour miss {} read {:?}",
                c.file,
                c.read.as_ref().and_then(|x| x.colour.as_ref())
            );
        }
        for e in &r.excluded {
            println!(
                "  excluded {} read {:?}",
                e.file,
                e.read.as_ref().map(|x| &x.text)
            );
        }
        if verbose {
            println!("{}", serde_json::to_string_pretty(&r.confusions)?);
        }
    } else {
        let mut finder = VehicleFinder::new(
            load_manifest(&models.join("yolox-nano.toml"))?,
            &models,
            &opts,
            0.35,
        )?;
        let use_finder = std::env::var_os("NO_FINDER").is_none();
        let r = eval_scenes(
            &PathBuf::from(dir),
            &mut reader,
            use_finder.then_some(&mut finder),
        )?;
        println!(
            "high {}/{}, low {}/{}, illegible localised {}/{}, false plates {}, {:.1}s",
            r.high_exact,
            r.high_total,
            r.low_exact,
            r.low_total,
            r.illegible_localised,
            r.illegible_total,
            r.false_plates,
            r.seconds
        );
        println!(
            "colour {}/{} read rows ({}/{} high)",
            r.colour_correct, r.colour_scored, r.high_colour_correct, r.high_total
        );
        for s in &r.scenes {
            println!("{} ({} vehicles, {:.2}s)", s.file, s.vehicles.len(), s.seconds);
            for v in &s.vehicles {
                println!("  vehicle {} {:.2} {:?}", v.label, v.score, v.bbox);
            }
            for l in &s.labels {
                println!(
                    "  label {:?} {:?} {} exact {} read_iou {:.2} cand_iou {:.2} colour {:?}",
                    l.label.plate,
                    l.label.confidence,
                    l.label.colour,
                    l.exact,
                    l.read_iou,
                    l.best_candidate_iou,
                    l.colour_read
                );
            }
            for rd in &s.reads {
                println!(
                    "  read {} {:.3} {:?} {:?}",
                    rd.text, rd.confidence, rd.box_px, rd.colour
                );
            }
            for f in &s.false_plates {
                println!("  FALSE {} {:.3}", f.text, f.confidence);
            }
        }
    }
    Ok(())
}
