//! Shared helpers for the model tests: where models and media are, and how to load them.
//! Missing models or media fail the test with the fix, never skip it.
#![allow(dead_code)]

#[allow(unused_imports)] // each test binary uses a different subset
pub use vigil_testkit::{manifest, model_dir, root, testdata};

use vigil_core::model::ColorOrder;
use vigil_infer::ImageView;

/// An RGB image in memory.
pub struct Rgb {
    pub width: u32,
    pub height: u32,
    pub data: Vec<u8>,
}

impl Rgb {
    pub fn view(&self) -> ImageView<'_> {
        ImageView {
            width: self.width,
            height: self.height,
            stride: self.width as usize * 3,
            color: ColorOrder::Rgb,
            data: &self.data,
        }
    }

    pub fn crop(&self, x1: u32, y1: u32, x2: u32, y2: u32) -> Rgb {
        let (x2, y2) = (x2.min(self.width), y2.min(self.height));
        let mut data = Vec::with_capacity(((x2 - x1) * (y2 - y1) * 3) as usize);
        for y in y1..y2 {
            let s = ((y * self.width + x1) * 3) as usize;
            data.extend_from_slice(&self.data[s..s + ((x2 - x1) * 3) as usize]);
        }
        Rgb {
            width: x2 - x1,
            height: y2 - y1,
            data,
        }
    }
}

pub fn load(path: &std::path::Path) -> Rgb {
    let img = image::open(path)
        .unwrap_or_else(|e| panic!("decoding {}: {e}", path.display()))
        .to_rgb8();
    Rgb {
        width: img.width(),
        height: img.height(),
        data: img.into_raw(),
    }
}

/// Frame `index` (0-based decode order) of vtest.avi, decoded by GStreamer's command-line tool.
pub fn vtest_frame(index: u32) -> Rgb {
    let dir = tempfile::tempdir().expect("tempdir");
    let video = testdata().join("vtest.avi");
    let status = std::process::Command::new("gst-launch-1.0")
        .arg("-q")
        .args(format!("filesrc location={} ! avidemux ! avdec_msmpeg4 ! identity eos-after={} ! videoconvert ! video/x-raw,format=RGB ! multifilesink location={}/f_%05d.rgb max-files=1", video.display(), index + 2, dir.path().display()).split(' ').collect::<Vec<_>>())
        .status()
        .expect("gst-launch-1.0 (run `make setup`)");
    assert!(status.success(), "gst-launch-1.0 failed decoding vtest.avi");
    let data = std::fs::read(dir.path().join(format!("f_{index:05}.rgb"))).expect("decoded frame");
    assert_eq!(data.len(), 768 * 576 * 3);
    Rgb {
        width: 768,
        height: 576,
        data,
    }
}

/// Reads `labels.csv` of the scenes folder: (file, plate, x1, y1, x2, y2, confidence).
pub fn scene_labels() -> Vec<(String, String, [f32; 4], String)> {
    let text = std::fs::read_to_string(testdata().join("scenes/labels.csv")).expect("labels.csv");
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let b: Vec<f32> = f.get(3..7)?.iter().filter_map(|v| v.parse().ok()).collect();
            if b.len() != 4 {
                return None;
            }
            Some((
                f[0].to_string(),
                f[1].to_string(),
                [b[0], b[1], b[2], b[3]],
                f[7].to_string(),
            ))
        })
        .collect()
}

/// Plain greedy CTC (argmax per step, collapse repeats, drop blanks), separators removed: the
/// baseline reading the model tests compare against.
pub fn greedy_text(o: &vigil_infer::ocr::CtcOutput, dictionary: &[String]) -> String {
    let mut text = String::new();
    let mut prev = 0usize;
    for t in 0..o.steps {
        let row = &o.probs[t * o.classes..(t + 1) * o.classes];
        let best = row
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map_or(0, |(i, _)| i);
        if best != 0 && best != prev {
            text.push_str(&dictionary[best]);
        }
        prev = best;
    }
    text.chars().filter(|c| !matches!(c, '·' | ' ' | '.')).collect()
}
