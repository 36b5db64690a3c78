//! Ultralytics YOLOv8 / YOLO11 output `[1, 4 + classes, anchors]`: channel-major, centre-size
//! boxes in input pixels, class scores already sigmoid-activated, no objectness.

use super::{ClassFilter, ScoreThresholds};
use crate::nms::Candidate;
use vigil_core::BoxPx;

/// Decodes the channel-major block `[4 + nc, anchors]` of one image.
pub fn decode_yolov8(
    data: &[f32],
    num_classes: usize,
    thresholds: &ScoreThresholds,
    keep: ClassFilter<'_>,
) -> Result<Vec<Candidate>, String> {
    let channels = 4 + num_classes;
    if data.is_empty() || !data.len().is_multiple_of(channels) {
        return Err(format!(
            "YOLOv8 output has {} values, not a multiple of 4 + {num_classes} classes = {channels}",
            data.len()
        ));
    }
    let n = data.len() / channels;
    let ch = |c: usize| &data[c * n..(c + 1) * n];
    let (xs, ys, ws, hs) = (ch(0), ch(1), ch(2), ch(3));
    let min_t = thresholds.min();
    let mut out = Vec::new();
    for c in 0..num_classes {
        if keep.is_some_and(|k| !k.get(c).copied().unwrap_or(false)) {
            continue;
        }
        let class = c as u16;
        let t = thresholds.for_class(class).max(min_t);
        for (i, &score) in ch(4 + c).iter().enumerate() {
            if score >= t {
                out.push(Candidate {
                    class,
                    score,
                    bbox: BoxPx::from_center(xs[i], ys[i], ws[i], hs[i]),
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_channel_major_layout() {
        // 2 classes, 3 anchors.
        #[rustfmt::skip]
        let data = [
            10.0, 50.0, 90.0,   // cx
            10.0, 50.0, 90.0,   // cy
            4.0, 8.0, 2.0,      // w
            4.0, 8.0, 2.0,      // h
            0.1, 0.95, 0.2,     // class 0
            0.7, 0.1, f32::NAN, // class 1
        ];
        let out = decode_yolov8(&data, 2, &ScoreThresholds::uniform(0.5), None).expect("ok");
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].class, 0);
        assert_eq!(out[0].bbox, BoxPx::new(46.0, 46.0, 54.0, 54.0));
        assert_eq!(out[1].class, 1);
        assert_eq!(out[1].bbox, BoxPx::new(8.0, 8.0, 12.0, 12.0));
    }

    #[test]
    fn wrong_channel_count_is_an_error() {
        let e = decode_yolov8(&[0.0; 7], 2, &ScoreThresholds::uniform(0.5), None).expect_err("shape");
        assert!(e.contains("4 + 2 classes"), "{e}");
    }
}
