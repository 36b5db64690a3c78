//! YOLOX output `[1, anchors, 5 + classes]`: grid + stride decoding, objectness × class score.

use super::{ClassFilter, ScoreThresholds};
use crate::nms::Candidate;
use vigil_core::BoxPx;

/// Number of anchor rows for an input size and strides (sum of (W/s)·(H/s)).
pub fn yolox_anchor_count(input_w: u32, input_h: u32, strides: &[u32]) -> usize {
    strides
        .iter()
        .filter(|s| **s > 0)
        .map(|s| (input_w / s) as usize * (input_h / s) as usize)
        .sum()
}

/// Decodes a YOLOX output (already sigmoid-activated objectness and class scores, as in the
/// official export) into candidates in input pixels. `data` is the row-major `[anchors, 5 + nc]`
/// block of one image.
pub fn decode_yolox(
    data: &[f32],
    num_classes: usize,
    input_w: u32,
    input_h: u32,
    strides: &[u32],
    thresholds: &ScoreThresholds,
    keep: ClassFilter<'_>,
) -> Result<Vec<Candidate>, String> {
    let row = 5 + num_classes;
    let anchors = yolox_anchor_count(input_w, input_h, strides);
    if data.len() != anchors * row {
        return Err(format!(
            "YOLOX output has {} values; input {input_w}×{input_h} with strides {strides:?} and {num_classes} classes needs [{anchors}, {row}] = {}",
            data.len(),
            anchors * row
        ));
    }
    let min_t = thresholds.min();
    let mut out = Vec::new();
    let mut rows = data.chunks_exact(row);
    for &s in strides.iter().filter(|s| **s > 0) {
        let (gw, gh) = (input_w / s, input_h / s);
        for gy in 0..gh {
            for gx in 0..gw {
                let Some(r) = rows.next() else {
                    return Err("YOLOX output shorter than its grid".into());
                };
                let obj = r[4];
                if obj.is_nan() || obj < min_t {
                    continue; // also skips NaN
                }
                let sf = s as f32;
                let cx = (r[0] + gx as f32) * sf;
                let cy = (r[1] + gy as f32) * sf;
                let w = r[2].exp() * sf;
                let h = r[3].exp() * sf;
                for (c, &p) in r[5..].iter().enumerate() {
                    let score = obj * p;
                    let class = c as u16;
                    if score >= thresholds.for_class(class)
                        && keep.is_none_or(|k| k.get(c).copied().unwrap_or(false))
                    {
                        out.push(Candidate {
                            class,
                            score,
                            bbox: BoxPx::from_center(cx, cy, w, h),
                        });
                    }
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchor_count_matches_yolox_nano() {
        assert_eq!(yolox_anchor_count(416, 416, &[8, 16, 32]), 3549);
    }

    #[test]
    fn decodes_one_synthetic_anchor() {
        // 2 classes, 32×32 input, strides [16, 32] → 4 + 1 anchors.
        let nc = 2;
        let mut data = vec![0f32; 5 * (5 + nc)];
        // anchor (gx=1, gy=0) at stride 16: centre offset 0.5 → cx = 24, cy = 8; w = h = 16.
        let r = &mut data[(5 + nc)..2 * (5 + nc)];
        r.copy_from_slice(&[0.5, 0.5, 0.0, 0.0, 0.9, 0.1, 0.8]);
        let out =
            decode_yolox(&data, nc, 32, 32, &[16, 32], &ScoreThresholds::uniform(0.3), None).expect("ok");
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].class, 1);
        assert!((out[0].score - 0.72).abs() < 1e-6);
        assert_eq!(out[0].bbox, BoxPx::new(16.0, 0.0, 32.0, 16.0));
    }

    #[test]
    fn class_filter_and_nan_objectness() {
        let nc = 2;
        let mut data = vec![0f32; 5 * (5 + nc)];
        data[..7].copy_from_slice(&[0.0, 0.0, 0.0, 0.0, f32::NAN, 0.9, 0.9]);
        data[7..14].copy_from_slice(&[0.0, 0.0, 0.0, 0.0, 0.9, 0.9, 0.9]);
        let keep = [true, false];
        let out = decode_yolox(
            &data,
            nc,
            32,
            32,
            &[16, 32],
            &ScoreThresholds::uniform(0.3),
            Some(&keep),
        )
        .expect("ok");
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].class, 0);
    }

    #[test]
    fn wrong_shape_is_an_error() {
        let e = decode_yolox(
            &[0.0; 10],
            80,
            416,
            416,
            &[8, 16, 32],
            &ScoreThresholds::uniform(0.3),
            None,
        );
        assert!(e.expect_err("shape").contains("[3549, 85]"));
    }
}
