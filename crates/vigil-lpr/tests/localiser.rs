//! The localiser is chosen by the manifest's family alone. There is no real plate detector
//! model in the project, so the YOLOv8 fall detector stands in to prove that a `yolov8`
//! manifest is accepted and wired end to end (its "plates" are people; accuracy is not the
//! point here).

mod common;

use common::*;
use vigil_core::BoxPx;
use vigil_lpr::eval::labels::load_image;
use vigil_lpr::{LocaliserKind, LprError, PlateReaderConfig, localiser_kind};

#[test]
fn manifests_select_the_localiser_kind() {
    assert_eq!(
        localiser_kind(&manifest("ppocr-det")).expect("det"),
        LocaliserKind::Text
    );
    assert_eq!(
        localiser_kind(&manifest("fall-yolov8")).expect("yolov8"),
        LocaliserKind::PlateDetector
    );
    assert_eq!(
        localiser_kind(&manifest("yolox-nano")).expect("yolox"),
        LocaliserKind::PlateDetector
    );
    let e = localiser_kind(&manifest("ppocr-rec")).expect_err("a recogniser is no localiser");
    assert!(matches!(e, LprError::NotALocaliser { .. }));
    assert!(
        e.to_string().contains("ppocr-det"),
        "the error names the fix: {e}"
    );
}

#[test]
fn a_yolov8_detector_manifest_runs_the_plate_path_end_to_end() {
    let mut stand_in = reader_with(PlateReaderConfig::default(), "fall-yolov8");
    assert_eq!(stand_in.localiser_kind(), LocaliserKind::PlateDetector);
    // A whole scene goes through localise → rectify → recognise → decode without error; the
    // stand-in finds people, whose "plates" the grammar rejects.
    let img = load_image(&testdata().join("scenes/hyperlpr_dataset_0.jpg")).expect("image");
    let full = BoxPx::new(0.0, 0.0, img.width as f32, img.height as f32);
    let reads = stand_in.read_region(img.view(), full).expect("runs");
    for r in &reads {
        let b = r.box_px.expect("box");
        assert!(full.contains_box(&b), "box {b:?} outside the frame");
    }
    // The text-detector reader on the same region reads the plate: the two paths differ only
    // in the manifest.
    let mut text = reader();
    let reads = text.read_region(img.view(), full).expect("runs");
    assert!(reads.iter().any(|r| r.text == "川AF058Y"), "{reads:?}");
}

#[test]
fn read_region_reports_boxes_in_frame_pixels() {
    // The same plate read through a vehicle-sized region at two places in the frame comes
    // back at the same frame position.
    let img = load_image(&testdata().join("scenes/hyperlpr_dataset_6.jpg")).expect("image");
    let mut reader = reader();
    let label = BoxPx::new(319.0, 220.0, 464.0, 265.0);
    for region in [
        BoxPx::new(250.0, 150.0, 560.0, 330.0),
        BoxPx::new(150.0, 100.0, 700.0, 353.0),
    ] {
        let reads = reader.read_region(img.view(), region).expect("runs");
        let hit = reads
            .iter()
            .find(|r| r.text == "新A533E3")
            .unwrap_or_else(|| panic!("{reads:?}"));
        let b = hit.box_px.expect("box");
        assert!(
            b.iou(&label) > 0.7,
            "region {region:?}: box {b:?} vs label {label:?}"
        );
    }
}

#[test]
fn read_crop_reads_a_tight_crop_and_boxes_it() {
    let img = load_image(&testdata().join("plates/京PL3N67.jpg")).expect("image");
    let mut reader = reader();
    let r = reader.read_crop(img.view()).expect("runs").expect("a read");
    assert_eq!(r.text, "京PL3N67");
    assert_eq!(r.box_px, Some(BoxPx::new(0.0, 0.0, 94.0, 24.0)));
    assert!(r.is_consistent());
}
