//! Shared helpers for the model tests: where models and media are, and how to build readers.
//! Missing models or media fail the test with the fix, never skip it.
#![allow(dead_code)]

use std::path::PathBuf;
use vigil_core::model::ModelManifest;
use vigil_infer::SessionOptions;
use vigil_lpr::{PlateReader, PlateReaderConfig, VehicleFinder};
use vigil_plate::PlateGrammar;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn model_dir() -> PathBuf {
    std::env::var_os("VIGIL_MODEL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("models"))
}

pub fn testdata() -> PathBuf {
    let p = std::env::var_os("VIGIL_TESTDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".cache/testdata"));
    assert!(
        p.join("plates/labels.csv").is_file() && p.join("scenes/labels.csv").is_file(),
        "test media missing in {}: run `make setup` first",
        p.display()
    );
    p
}

pub fn manifest(name: &str) -> ModelManifest {
    let path = model_dir().join(format!("{name}.toml"));
    let m = vigil_infer::load_manifest(&path).expect("manifest");
    assert!(
        model_dir().join(&m.file).is_file(),
        "model file {} missing: run `make setup` (or `vigil models fetch`)",
        m.file
    );
    m
}

pub fn reader_with(config: PlateReaderConfig, localiser: &str) -> PlateReader {
    PlateReader::new(
        config,
        PlateGrammar::cn_mainland(),
        manifest(localiser),
        manifest("ppocr-rec"),
        &model_dir(),
        &SessionOptions::default(),
    )
    .expect("plate reader")
}

pub fn reader() -> PlateReader {
    reader_with(PlateReaderConfig::default(), "ppocr-det")
}

pub fn vehicles() -> VehicleFinder {
    VehicleFinder::new(
        manifest("yolox-nano"),
        &model_dir(),
        &SessionOptions::default(),
        0.35,
    )
    .expect("vehicle detector")
}
