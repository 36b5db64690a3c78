//! Shared helpers for the model tests: where models and media are, and how to build readers.
//! Missing models or media fail the test with the fix, never skip it.
#![allow(dead_code)]

#[allow(unused_imports)] // each test binary uses a different subset
pub use vigil_testkit::{manifest, model_dir, testdata};

use vigil_infer::SessionOptions;
use vigil_lpr::{PlateReader, PlateReaderConfig, VehicleFinder};
use vigil_plate::PlateGrammar;

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
