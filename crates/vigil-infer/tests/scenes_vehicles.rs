//! YOLOX-Nano finds the vehicles in the shared street scenes: every labelled plate box
//! (`scenes/labels.csv`) is checked for a detected vehicle box around it, and the result is
//! compared with the committed reference `testdata/expected/scenes_vehicles.csv`.
//!
//! A plate "lies inside" a vehicle when at least 90 % of the plate box is covered by the vehicle
//! box — the plate box is the ground truth the detector's box must land on. Close-ups where the
//! vehicle overflows the frame (gate cameras) may legitimately find none; the reference records
//! which. Regenerate after an intended change with
//! `VIGIL_REGENERATE=1 cargo test -p vigil-infer --test scenes_vehicles` and review the diff.

mod common;

use common::*;
use std::collections::BTreeMap;
use vigil_core::BoxPx;
use vigil_infer::{DetectParams, Detector, SessionOptions};

const REFERENCE: &str = "testdata/expected/scenes_vehicles.csv";
const VEHICLES: [&str; 4] = ["car", "bus", "truck", "motorcycle"];

/// Share of `plate` covered by `vehicle`.
fn covered(plate: &BoxPx, vehicle: &BoxPx) -> f32 {
    let iw = (plate.x2.min(vehicle.x2) - plate.x1.max(vehicle.x1)).max(0.0);
    let ih = (plate.y2.min(vehicle.y2) - plate.y1.max(vehicle.y1)).max(0.0);
    let area = plate.area();
    if area > 0.0 { iw * ih / area } else { 0.0 }
}

/// One labelled plate and the vehicle found around it, if any.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    file: String,
    plate: [i32; 4],
    vehicle: Option<(String, BoxPx)>,
}

fn measure() -> Vec<Row> {
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
        classes: VEHICLES.map(String::from).to_vec(),
        ..Default::default()
    };
    let mut by_file: BTreeMap<String, Vec<[f32; 4]>> = BTreeMap::new();
    for (file, _, b, _) in scene_labels() {
        by_file.entry(file).or_default().push(b);
    }
    let mut rows = Vec::new();
    for (file, plates) in by_file {
        let img = load(&testdata().join("scenes").join(&file));
        let dets = det.detect(img.view(), &params).expect("run");
        for b in plates {
            let plate = BoxPx::new(b[0], b[1], b[2], b[3]);
            // The smallest vehicle box holding the plate: a plate inside two overlapping vehicle
            // boxes belongs to the nearer (tighter) one.
            let vehicle = dets
                .iter()
                .filter(|d| covered(&plate, &d.bbox) >= 0.9)
                .min_by(|a, b| a.bbox.area().total_cmp(&b.bbox.area()))
                .map(|d| (d.label.clone(), d.bbox));
            rows.push(Row {
                file: file.clone(),
                plate: b.map(|v| v as i32),
                vehicle,
            });
        }
    }
    rows
}

fn to_csv(rows: &[Row]) -> String {
    let mut text = String::from("file,plate_x1,plate_y1,plate_x2,plate_y2,vehicle,x1,y1,x2,y2\n");
    for r in rows {
        let [a, b, c, d] = r.plate;
        match &r.vehicle {
            Some((label, v)) => text.push_str(&format!(
                "{},{a},{b},{c},{d},{label},{:.0},{:.0},{:.0},{:.0}\n",
                r.file, v.x1, v.y1, v.x2, v.y2
            )),
            None => text.push_str(&format!("{},{a},{b},{c},{d},,,,,\n", r.file)),
        }
    }
    text
}

fn parse_csv(text: &str) -> Vec<Row> {
    text.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            assert_eq!(f.len(), 10, "reference row: {l}");
            let n = |i: usize| {
                f[i].parse::<f32>()
                    .unwrap_or_else(|e| panic!("{l}: column {i}: {e}"))
            };
            Row {
                file: f[0].to_string(),
                plate: [n(1), n(2), n(3), n(4)].map(|v| v as i32),
                vehicle: (!f[5].is_empty()).then(|| (f[5].to_string(), BoxPx::new(n(6), n(7), n(8), n(9)))),
            }
        })
        .collect()
}

#[test]
fn labelled_plates_lie_inside_detected_vehicles_as_in_the_reference() {
    let rows = measure();
    let path = root().join(REFERENCE);
    if std::env::var_os("VIGIL_REGENERATE").is_some() {
        std::fs::write(&path, to_csv(&rows)).expect("write reference");
    }
    let reference = parse_csv(&std::fs::read_to_string(&path).expect("reference file"));
    assert_eq!(
        rows.iter().map(|r| (&r.file, r.plate)).collect::<Vec<_>>(),
        reference.iter().map(|r| (&r.file, r.plate)).collect::<Vec<_>>(),
        "labels.csv and the reference list different plates: regenerate the reference"
    );
    // Most labelled plates sit on a vehicle the detector finds; a reference regenerated from a
    // broken detector (no vehicles at all) must not pass.
    let found = rows.iter().filter(|r| r.vehicle.is_some()).count();
    assert!(
        found * 2 >= rows.len(),
        "only {found}/{} labelled plates lie inside a detected vehicle:\n{}",
        rows.len(),
        to_csv(&rows)
    );
    // Every plate the reference places on a vehicle is still on the same vehicle (IoU ≥ 0.8 with
    // the reference box); at most one plate may change between found and not found.
    let mut changed = Vec::new();
    for (got, want) in rows.iter().zip(&reference) {
        match (&got.vehicle, &want.vehicle) {
            (Some((_, g)), Some((_, w))) => assert!(
                g.iou(w) >= 0.8,
                "{} plate {:?}: vehicle box {g:?} moved from the reference {w:?}",
                got.file,
                got.plate
            ),
            (None, None) => {}
            _ => changed.push(format!(
                "{} {:?}: {:?} vs reference {:?}",
                got.file, got.plate, got.vehicle, want.vehicle
            )),
        }
    }
    assert!(
        changed.len() <= 1,
        "plates found/lost against the reference:\n{}",
        changed.join("\n")
    );
}

#[test]
fn coverage_is_the_share_of_the_plate_inside_the_vehicle() {
    let plate = BoxPx::new(10.0, 10.0, 20.0, 20.0);
    assert_eq!(covered(&plate, &BoxPx::new(0.0, 0.0, 100.0, 100.0)), 1.0);
    assert_eq!(covered(&plate, &BoxPx::new(15.0, 0.0, 100.0, 100.0)), 0.5);
    assert_eq!(covered(&plate, &BoxPx::new(30.0, 30.0, 40.0, 40.0)), 0.0);
    assert_eq!(covered(&BoxPx::new(5.0, 5.0, 5.0, 9.0), &plate), 0.0);
}
