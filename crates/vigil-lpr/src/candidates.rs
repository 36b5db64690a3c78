//! Pure candidate logic between localisation and recognition: which text lines are worth
//! reading, which two lines form a double-row plate, how their recogniser outputs join, and
//! which of several overlapping reads to keep.

use vigil_core::BoxPx;
use vigil_core::plate::PlateRead;

use crate::config::PlateReaderConfig;
use crate::geometry::{coverage, quad_bounds};
use crate::localise::Quad;

/// True when a quad's size and shape can be a plate or one line of a double-row plate.
pub fn plate_like(q: &Quad, cfg: &PlateReaderConfig) -> bool {
    let (w, h) = (q.width_px(), q.height_px());
    let aspect = if h > 0.0 { w / h } else { f32::INFINITY };
    w >= cfg.min_plate_width_px
        && h >= cfg.min_plate_height_px
        && (cfg.min_aspect..=cfg.max_aspect).contains(&aspect)
}

/// Plate-like quads, highest score × area first, at most `cfg.max_candidates`.
pub fn select_candidates(quads: Vec<Quad>, cfg: &PlateReaderConfig) -> Vec<Quad> {
    let mut keep: Vec<Quad> = quads.into_iter().filter(|q| plate_like(q, cfg)).collect();
    let weight = |q: &Quad| q.score * q.width_px() * q.height_px();
    keep.sort_by(|a, b| weight(b).total_cmp(&weight(a)));
    keep.truncate(cfg.max_candidates);
    keep
}

/// Pairs `(top, bottom)` of quads that look like the two lines of a double-row plate (yellow
/// truck and bus plates: province + letter small on top, five characters large below).
///
/// The top line is lower and narrower than the bottom one, sits just above it (gap under 60 %
/// of the bottom line's height, overlap allowed because DB unclips both) and is horizontally
/// centred over it. Each quad is in at most one pair, matched to its nearest partner.
pub fn double_row_pairs(quads: &[Quad]) -> Vec<(usize, usize)> {
    let b: Vec<BoxPx> = quads.iter().map(|q| quad_bounds(&q.corners)).collect();
    let mut pairs: Vec<(f32, usize, usize)> = Vec::new();
    for (t, top) in b.iter().enumerate() {
        for (u, bottom) in b.iter().enumerate() {
            let (th, bh) = (top.height(), bottom.height());
            let cx = (top.x1 + top.x2) / 2.0;
            let gap = bottom.y1 - top.y2;
            let fits = t != u
                && th < bh
                && top.width() < bottom.width()
                && top.width() > 0.25 * bottom.width()
                && (bottom.x1..=bottom.x2).contains(&cx)
                && top.y1 < bottom.y1
                && gap < 0.6 * bh
                && gap > -0.5 * th;
            if fits {
                pairs.push((gap.abs(), t, u));
            }
        }
    }
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut used = vec![false; quads.len()];
    let mut out = Vec::new();
    for (_, t, u) in pairs {
        if !used[t] && !used[u] {
            used[t] = true;
            used[u] = true;
            out.push((t, u));
        }
    }
    out
}

/// Joins two `[T, C]` recogniser outputs in reading order, with one pure-blank step between
/// them so that a character ending the first line and the same character starting the second
/// stay two characters.
pub fn concat_ctc(first: &[f32], second: &[f32], classes: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(first.len() + classes + second.len());
    out.extend_from_slice(first);
    if classes > 0 {
        out.push(1.0);
        out.extend(std::iter::repeat_n(0.0, classes - 1));
    }
    out.extend_from_slice(second);
    out
}

/// True when two plate boxes are the same plate: they overlap by IoU ≥ 0.3 or one lies mostly
/// (≥ 60 %) inside the other.
pub fn same_plate(a: &BoxPx, b: &BoxPx) -> bool {
    a.iou(b) >= 0.3 || coverage(a, b) >= 0.6 || coverage(b, a) >= 0.6
}

/// Keeps the most confident read of each plate (reads without a box are all kept).
pub fn suppress_duplicates(mut reads: Vec<PlateRead>) -> Vec<PlateRead> {
    reads.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    let mut kept: Vec<PlateRead> = Vec::with_capacity(reads.len());
    for r in reads {
        let dup = r.box_px.is_some_and(|b| {
            kept.iter()
                .any(|k| k.box_px.is_some_and(|kb| same_plate(&b, &kb)))
        });
        if !dup {
            kept.push(r);
        }
    }
    kept
}

/// Votes the reads of several variants of one crop: the text with the largest summed
/// confidence wins (ties: the earlier variant), represented by its most confident read.
pub fn vote_variants(reads: Vec<PlateRead>) -> Option<PlateRead> {
    let mut totals: Vec<(String, f32)> = Vec::new();
    for r in &reads {
        match totals.iter_mut().find(|(t, _)| *t == r.text) {
            Some((_, sum)) => *sum += r.confidence,
            None => totals.push((r.text.clone(), r.confidence)),
        }
    }
    let mut winner: Option<&(String, f32)> = None;
    for t in &totals {
        if winner.is_none_or(|w| t.1 > w.1) {
            winner = Some(t);
        }
    }
    let text = winner?.0.clone();
    reads
        .into_iter()
        .filter(|r| r.text == text)
        .max_by(|a, b| a.confidence.total_cmp(&b.confidence))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::box_quad;

    fn quad(x1: f32, y1: f32, x2: f32, y2: f32, score: f32) -> Quad {
        Quad {
            corners: box_quad(BoxPx::new(x1, y1, x2, y2)),
            score,
        }
    }

    fn read(text: &str, conf: f32, b: BoxPx) -> PlateRead {
        PlateRead {
            text: text.into(),
            confidence: conf,
            char_confidences: vec![conf; text.chars().count()],
            format: "cn-ordinary".into(),
            box_px: Some(b),
            colour: None,
        }
    }

    #[test]
    fn plate_like_filters_by_size_and_shape() {
        let cfg = PlateReaderConfig::default();
        assert!(
            plate_like(&quad(0.0, 0.0, 90.0, 28.0, 0.8), &cfg),
            "ordinary plate"
        );
        assert!(!plate_like(&quad(0.0, 0.0, 10.0, 4.0, 0.8), &cfg), "too small");
        assert!(
            !plate_like(&quad(0.0, 0.0, 30.0, 60.0, 0.8), &cfg),
            "vertical text"
        );
        assert!(
            !plate_like(&quad(0.0, 0.0, 400.0, 20.0, 0.8), &cfg),
            "long slogan line"
        );
    }

    #[test]
    fn candidates_are_capped_largest_and_surest_first() {
        let cfg = PlateReaderConfig {
            max_candidates: 2,
            ..Default::default()
        };
        let q = vec![
            quad(0.0, 0.0, 40.0, 12.0, 0.9),
            quad(0.0, 0.0, 120.0, 36.0, 0.6),
            quad(0.0, 0.0, 5.0, 2.0, 1.0),
            quad(0.0, 0.0, 80.0, 24.0, 0.9),
        ];
        let got = select_candidates(q, &cfg);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].width_px(), 120.0);
        assert_eq!(got[1].width_px(), 80.0);
    }

    #[test]
    fn double_row_lines_pair_and_side_by_side_lines_do_not() {
        // Top line (province + letter) above a wider, taller bottom line; plus an unrelated
        // line beside it.
        let q = vec![
            quad(130.0, 100.0, 200.0, 125.0, 0.8),
            quad(100.0, 128.0, 240.0, 170.0, 0.9),
            quad(300.0, 128.0, 420.0, 170.0, 0.9),
        ];
        assert_eq!(double_row_pairs(&q), vec![(0, 1)]);
        // Same lines far apart vertically: no pair.
        let far = vec![q[0], quad(100.0, 200.0, 240.0, 242.0, 0.9)];
        assert!(double_row_pairs(&far).is_empty());
        // A bigger line on top is not a double-row plate.
        let inverted = vec![q[1], quad(130.0, 172.0, 200.0, 197.0, 0.8)];
        assert!(double_row_pairs(&inverted).is_empty());
    }

    #[test]
    fn concatenation_separates_the_lines_with_a_blank_step() {
        let a = [0.1, 0.9, 0.0, 0.2, 0.8, 0.0];
        let b = [0.0, 0.7, 0.3];
        let c = concat_ctc(&a, &b, 3);
        assert_eq!(
            c,
            vec![0.1, 0.9, 0.0, 0.2, 0.8, 0.0, 1.0, 0.0, 0.0, 0.0, 0.7, 0.3]
        );
    }

    #[test]
    fn variants_vote_by_summed_confidence() {
        let b = BoxPx::new(0.0, 0.0, 94.0, 24.0);
        let got = vote_variants(vec![
            read("皖AX7991", 0.6, b),
            read("皖AX799L", 0.4, b),
            read("皖AX799L", 0.35, b),
        ])
        .expect("reads");
        assert_eq!((got.text.as_str(), got.confidence), ("皖AX799L", 0.4));
        let tie = vote_variants(vec![read("皖A11111", 0.5, b), read("皖A22222", 0.5, b)]).expect("reads");
        assert_eq!(tie.text, "皖A11111", "ties go to the earlier variant");
        assert!(vote_variants(Vec::new()).is_none());
    }

    #[test]
    fn duplicates_keep_the_most_confident_read() {
        let b = BoxPx::new(10.0, 10.0, 110.0, 40.0);
        let inside = BoxPx::new(12.0, 12.0, 100.0, 38.0);
        let elsewhere = BoxPx::new(300.0, 10.0, 400.0, 40.0);
        let kept = suppress_duplicates(vec![
            read("京A12345", 0.5, b),
            read("京A12346", 0.9, inside),
            read("沪B99999", 0.4, elsewhere),
        ]);
        let texts: Vec<&str> = kept.iter().map(|r| r.text.as_str()).collect();
        assert_eq!(texts, ["京A12346", "沪B99999"]);
    }
}
