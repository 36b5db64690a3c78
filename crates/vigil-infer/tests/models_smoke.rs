//! Smoke test: each of the four real models loads through `ort` and gives a sensible answer on
//! real input. These catch a wrong manifest (names, shapes, normalisation, colour order), a
//! broken decoder, or a missing/incompatible ONNX Runtime library.

mod common;

use common::*;
use vigil_infer::ocr::{TextDetector, TextRecognizer};
use vigil_infer::{DetectParams, Detector, SessionOptions};

#[test]
fn yolox_finds_people_in_vtest_and_the_car_around_a_labelled_plate() {
    let mut det =
        Detector::new(manifest("yolox-nano"), &model_dir(), &SessionOptions::default()).expect("load");
    let frame = vtest_frame(100);
    let dets = det.detect(frame.view(), &DetectParams::default()).expect("run");
    let people = dets.iter().filter(|d| d.label == "person").count();
    // Frame 100 shows 8 walkers (plus the sign stand the model calls a person).
    assert!(
        (7..=10).contains(&people),
        "people in vtest frame 100: {people}: {dets:?}"
    );

    let scene = load(&testdata().join("scenes/hyperlpr_resource_test_img.jpg"));
    let dets = det
        .detect(
            scene.view(),
            &DetectParams {
                classes: vec!["car".into(), "truck".into(), "bus".into()],
                ..Default::default()
            },
        )
        .expect("run");
    let plate = vigil_core::BoxPx::new(1750.0, 745.0, 1863.0, 854.0);
    assert!(
        dets.iter().any(|d| d.bbox.contains_box(&plate)),
        "no vehicle box holds the labelled plate: {dets:?}"
    );
}

#[test]
fn yolov8_model_decodes_person_boxes_that_overlap_yolox_people() {
    let frame = vtest_frame(100);
    let mut v8 =
        Detector::new(manifest("fall-yolov8"), &model_dir(), &SessionOptions::default()).expect("load");
    let v8_dets = v8
        .detect(
            frame.view(),
            &DetectParams {
                thresholds: vigil_infer::decode::ScoreThresholds::uniform(0.3),
                ..Default::default()
            },
        )
        .expect("run");
    let mut yx =
        Detector::new(manifest("yolox-nano"), &model_dir(), &SessionOptions::default()).expect("load");
    let people: Vec<_> = yx
        .detect(
            frame.view(),
            &DetectParams {
                classes: vec!["person".into()],
                ..Default::default()
            },
        )
        .expect("run");
    let normal: Vec<_> = v8_dets.iter().filter(|d| d.label == "Normal").collect();
    assert!(normal.len() >= 3, "YOLOv8 found too few people: {v8_dets:?}");
    let matched = normal
        .iter()
        .filter(|d| people.iter().any(|p| p.bbox.iou(&d.bbox) > 0.3))
        .count();
    assert!(
        matched * 10 >= normal.len() * 7,
        "{matched}/{} YOLOv8 boxes overlap a YOLOX person",
        normal.len()
    );
}

#[test]
fn ppocr_detector_lights_up_inside_the_plate_box() {
    let mut det =
        TextDetector::new(manifest("ppocr-det"), &model_dir(), &SessionOptions::default()).expect("load");
    let scene = load(&testdata().join("scenes/hyperlpr_dataset_0.jpg"));
    let map = det.prob_map(scene.view()).expect("run");
    // Mean probability inside the labelled plate box vs the whole map.
    let plate = map
        .placement
        .to_canvas(vigil_core::BoxPx::new(382.0, 288.0, 573.0, 366.0));
    let mut inside = (0.0f32, 0usize);
    for y in plate.y1 as u32..plate.y2 as u32 {
        for x in plate.x1 as u32..plate.x2 as u32 {
            inside.0 += map.data[(y * map.width + x) as usize];
            inside.1 += 1;
        }
    }
    let mean_inside = inside.0 / inside.1 as f32;
    let mean_all = map.data.iter().sum::<f32>() / map.data.len() as f32;
    assert!(
        mean_inside > 0.15 && mean_inside > 10.0 * mean_all,
        "inside {mean_inside}, overall {mean_all}"
    );
}

#[test]
fn ppocr_recogniser_reads_plate_crops() {
    let mut rec =
        TextRecognizer::new(manifest("ppocr-rec"), &model_dir(), &SessionOptions::default()).expect("load");
    assert_eq!(rec.dictionary().len(), 6625);
    let names = [
        "京PL3N67",
        "沪C8GK31",
        "皖A05279",
        "皖A11885",
        "皖A225J1",
        "皖A3B926",
    ];
    let crops: Vec<Rgb> = names
        .iter()
        .map(|n| load(&testdata().join(format!("plates/{n}.jpg"))))
        .collect();
    let views: Vec<_> = crops.iter().map(|c| c.view()).collect();
    let outs = rec.recognize(&views).expect("run");
    let mut exact = 0;
    for (name, o) in names.iter().zip(&outs) {
        let text = greedy_text(o, rec.dictionary());
        if text == *name {
            exact += 1;
        }
    }
    assert!(exact >= 4, "only {exact}/6 crops read exactly");
}
