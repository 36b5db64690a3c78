//! Non-maximum suppression: class-aware, NaN-safe, O(n log n + n·k).
//!
//! Candidates are sorted by score once; each kept box suppresses later boxes of the same class
//! whose IoU exceeds the threshold. Boxes with non-finite corners or scores, and degenerate
//! (zero-area) boxes, are dropped before sorting so they can neither win nor suppress.

use vigil_core::BoxPx;

/// A box before suppression, in any pixel space.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    /// Class index.
    pub class: u16,
    /// Score 0..1.
    pub score: f32,
    /// Box.
    pub bbox: BoxPx,
}

/// Keeps the best boxes: per class when `class_aware`, across classes otherwise. At most
/// `max_out` boxes are returned, best first.
pub fn nms(
    mut cands: Vec<Candidate>,
    iou_threshold: f32,
    class_aware: bool,
    max_out: usize,
) -> Vec<Candidate> {
    cands.retain(|c| c.score.is_finite() && c.bbox.is_finite() && c.bbox.area() > 0.0);
    cands.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Candidate> = Vec::new();
    'next: for c in cands {
        if kept.len() >= max_out {
            break;
        }
        for k in &kept {
            if (!class_aware || k.class == c.class) && k.bbox.iou(&c.bbox) > iou_threshold {
                continue 'next;
            }
        }
        kept.push(c);
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(class: u16, score: f32, x1: f32, y1: f32, x2: f32, y2: f32) -> Candidate {
        Candidate {
            class,
            score,
            bbox: BoxPx::new(x1, y1, x2, y2),
        }
    }

    #[test]
    fn empty_in_empty_out() {
        assert!(nms(vec![], 0.45, true, 100).is_empty());
    }

    #[test]
    fn overlapping_same_class_keeps_best() {
        let out = nms(
            vec![c(0, 0.6, 0., 0., 10., 10.), c(0, 0.9, 1., 1., 11., 11.)],
            0.45,
            true,
            100,
        );
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].score, 0.9);
    }

    #[test]
    fn class_aware_keeps_both_classes_agnostic_does_not() {
        let v = vec![c(2, 0.8, 0., 0., 10., 10.), c(7, 0.7, 0., 0., 10., 10.)];
        assert_eq!(nms(v.clone(), 0.45, true, 100).len(), 2);
        assert_eq!(nms(v, 0.45, false, 100).len(), 1);
    }

    #[test]
    fn nan_and_degenerate_boxes_are_dropped_not_kept() {
        let v = vec![
            c(0, f32::NAN, 0., 0., 10., 10.),
            c(0, 0.9, f32::NAN, 0., 10., 10.),
            c(0, 0.95, 5., 5., 5., 20.),
            c(0, 0.5, 0., 0., 10., 10.),
        ];
        let out = nms(v, 0.45, true, 100);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].score, 0.5);
    }

    #[test]
    fn max_out_caps_results() {
        let v: Vec<_> = (0..50)
            .map(|i| c(0, 0.5, i as f32 * 20., 0., i as f32 * 20. + 10., 10.))
            .collect();
        assert_eq!(nms(v, 0.45, true, 10).len(), 10);
    }

    #[test]
    fn threshold_is_exclusive() {
        // IoU exactly 1/3: kept at threshold 1/3 + ε… and suppressed below it.
        let v = vec![c(0, 0.9, 0., 0., 10., 10.), c(0, 0.8, 5., 0., 15., 10.)];
        assert_eq!(nms(v.clone(), 0.34, true, 10).len(), 2);
        assert_eq!(nms(v, 0.33, true, 10).len(), 1);
    }
}
