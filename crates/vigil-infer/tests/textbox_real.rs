//! The plate-reading geometry on a real scene: PP-OCR detector map → DB boxes → rectified strip →
//! recogniser. Catches a box extraction or warp that is subtly off (wrong corner order, half-pixel
//! or letterbox drift, mirrored strip) in a way synthetic maps cannot: the recogniser only reads
//! the plate when the strip is upright and tight.

mod common;

use common::*;
use vigil_core::BoxPx;
use vigil_infer::SessionOptions;
use vigil_infer::ocr::{TextDetector, TextRecognizer};
use vigil_infer::textbox::{DbParams, extract_boxes};
use vigil_infer::warp::rectify;

#[test]
fn detected_plate_box_rectifies_into_a_readable_strip() {
    let file = "hyperlpr_dataset_0.jpg";
    let (_, plate, b, _) = scene_labels()
        .into_iter()
        .find(|l| l.0 == file)
        .expect("label of hyperlpr_dataset_0.jpg");
    let label = BoxPx::new(b[0], b[1], b[2], b[3]);
    let scene = load(&testdata().join("scenes").join(file));

    let mut det =
        TextDetector::new(manifest("ppocr-det"), &model_dir(), &SessionOptions::default()).expect("load");
    let map = det.prob_map(scene.view()).expect("run");
    let boxes = extract_boxes(&map, &DbParams::default()).expect("boxes");
    let best = boxes
        .iter()
        .max_by(|a, b| a.bounds().iou(&label).total_cmp(&b.bounds().iou(&label)))
        .unwrap_or_else(|| panic!("no text boxes in {file}"));
    let iou = best.bounds().iou(&label);
    assert!(
        iou > 0.4,
        "best box {best:?} has IoU {iou} with the plate {label:?}; all boxes: {boxes:?}"
    );
    assert!(best.score >= 0.5 && best.angle_deg.abs() < 15.0, "{best:?}");

    let strip = rectify(scene.view(), best.corners).expect("rectify");
    assert!(
        strip.width > 2 * strip.height,
        "strip {}×{} is not a horizontal plate",
        strip.width,
        strip.height
    );
    let mut rec =
        TextRecognizer::new(manifest("ppocr-rec"), &model_dir(), &SessionOptions::default()).expect("load");
    let outs = rec.recognize(&[strip.view()]).expect("run");
    let o = &outs[0];
    let text = greedy_text(o, rec.dictionary());
    eprintln!(
        "box {best:?} (IoU {iou:.2}), strip {}×{}, read {text:?}",
        strip.width, strip.height
    );
    // The label is 川AF058Y; the province glyph is the least reliable part of a greedy read.
    assert!(
        text.contains("AF058"),
        "read {text:?} from the rectified strip, label {plate}"
    );
}
