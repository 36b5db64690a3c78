//! Execution provider choice: a provider this build or the loaded library lacks falls back to
//! CPU with the same results; an unknown provider name is an error naming the model and the name.

mod common;

use common::*;
use vigil_infer::{DetectParams, Detector, InferError, SessionOptions};

fn detector(providers: &[&str]) -> Result<Detector, InferError> {
    Detector::new(
        manifest("yolox-nano"),
        &model_dir(),
        &SessionOptions {
            providers: providers.iter().map(|p| p.to_string()).collect(),
            ..Default::default()
        },
    )
}

#[test]
fn missing_accelerators_fall_back_to_cpu_with_identical_detections() {
    let frame = vtest_frame(100);
    let params = DetectParams::default();
    let cpu = detector(&[])
        .expect("cpu")
        .detect(frame.view(), &params)
        .expect("run");
    // This machine has no GPU and the CPU wheel of ONNX Runtime: both providers are skipped
    // (with a warning) and the session runs on CPU.
    let fallback = detector(&["cuda", "tensorrt", "openvino", "cpu"])
        .expect("falls back to cpu")
        .detect(frame.view(), &params)
        .expect("run");
    assert!(!cpu.is_empty());
    assert_eq!(cpu.len(), fallback.len());
    for (a, b) in cpu.iter().zip(&fallback) {
        assert_eq!(a.label, b.label);
        assert!(a.bbox.iou(&b.bbox) > 0.999, "{a:?} vs {b:?}");
    }
}

#[test]
fn an_unknown_provider_is_an_error_naming_model_and_provider() {
    let e = detector(&["gpu"]).expect_err("unknown provider");
    let msg = e.to_string();
    assert!(msg.contains("yolox-nano"), "{msg}");
    assert!(msg.contains("'gpu'"), "{msg}");
    assert!(msg.contains("cuda, tensorrt, openvino or cpu"), "{msg}");
}
