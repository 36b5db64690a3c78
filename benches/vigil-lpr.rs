//! The plate stage's model calls and decoding on real media: the recogniser on one plate crop
//! and on a batch of 8, grammar-constrained CTC decoding of one real recogniser output, and
//! the text detector on a vehicle-sized crop. A vehicle costs one detection plus one
//! recogniser batch.

#![allow(missing_docs)] // criterion's macros generate undocumented items

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use vigil_benches::{model_dir, testdata};
use vigil_core::BoxPx;
use vigil_infer::{SessionOptions, load_manifest};
use vigil_lpr::eval::labels::load_image;
use vigil_lpr::geometry::{pixel_rect, sub_view};
use vigil_lpr::{Localiser, PlateReader, PlateReaderConfig};
use vigil_plate::PlateGrammar;

fn reader() -> PlateReader {
    let dir = model_dir();
    let m = |n: &str| load_manifest(&dir.join(format!("{n}.toml"))).expect("manifest");
    PlateReader::new(
        PlateReaderConfig::default(),
        PlateGrammar::cn_mainland(),
        m("ppocr-det"),
        m("ppocr-rec"),
        &dir,
        &SessionOptions::default(),
    )
    .expect("reader")
}

fn recogniser(c: &mut Criterion) {
    let mut reader = reader();
    let names = [
        "京PL3N67",
        "沪C8GK31",
        "浙D335DZ",
        "浙JP1W22",
        "皖A05279",
        "皖A095Q1",
        "皖A0H627",
        "皖A11885",
    ];
    let crops: Vec<_> = names
        .iter()
        .map(|n| load_image(&testdata().join(format!("plates/{n}.jpg"))).expect("crop"))
        .collect();
    let views: Vec<_> = crops.iter().map(|c| c.view()).collect();
    c.bench_function("rec_1_crop_94x24", |b| {
        b.iter(|| black_box(reader.recognise(&views[..1]).expect("rec")))
    });
    c.bench_function("rec_batch_8_crops", |b| {
        b.iter(|| black_box(reader.recognise(&views).expect("rec")))
    });
    c.bench_function("read_crop_3_margins", |b| {
        b.iter(|| black_box(reader.read_crop(views[0]).expect("read")))
    });
    let out = reader.recognise(&views[..1]).expect("rec").remove(0);
    let probs = &out.probs[..out.valid_steps * out.classes];
    let shape = [out.valid_steps, out.classes];
    c.bench_function("ctc_constrained_decode", |b| {
        b.iter(|| black_box(reader.decoder().decode(probs, shape).expect("decode")))
    });
    c.bench_function("ctc_greedy_decode", |b| {
        b.iter(|| black_box(reader.decoder().greedy(probs, shape).expect("decode")))
    });
}

fn detection(c: &mut Criterion) {
    let dir = model_dir();
    let cfg = PlateReaderConfig::default();
    let mut loc = Localiser::from_manifest(
        load_manifest(&dir.join("ppocr-det.toml")).expect("manifest"),
        &dir,
        &SessionOptions::default(),
        cfg.db_params(),
        cfg.plate_detector_min_score,
    )
    .expect("localiser");
    // The car of hyperlpr_dataset_0.jpg: a 400×300 vehicle crop around its plate.
    let scene = load_image(&testdata().join("scenes/hyperlpr_dataset_0.jpg")).expect("scene");
    let rect = pixel_rect(BoxPx::new(180.0, 150.0, 580.0, 450.0), scene.width, scene.height).expect("rect");
    let crop = sub_view(scene.view(), rect).expect("view");
    for side in [640u32, 960] {
        c.bench_function(&format!("text_det_vehicle_400x300_at_{side}"), |b| {
            b.iter(|| black_box(loc.localise(crop, side).expect("det")))
        });
    }
}

criterion_group!(benches, recogniser, detection);
criterion_main!(benches);
