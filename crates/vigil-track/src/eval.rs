//! Scoring a tracker against ground truth: identity switches, matches, misses, false positives.
//!
//! The matching follows CLEAR-MOT (Bernardin & Stiefelhagen, 2008): in each frame a ground-truth
//! object first keeps the track it was matched to last time if that track still overlaps it,
//! then the remaining objects and tracks are matched optimally by IoU. An identity switch is a
//! ground-truth object matched to a different track id than the last time it was matched. Used
//! by this crate's tests and by anything that evaluates a tracker on labelled video.

use crate::TrackUpdate;
use crate::assign::match_by_iou;
use std::collections::{BTreeMap, HashMap};
use vigil_core::BoxPx;
use vigil_core::track::TrackId;

/// One ground-truth object in one frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GtBox {
    /// Identity of the real object, stable across frames.
    pub object: u64,
    /// Its true box in source-frame pixels.
    pub bbox: BoxPx,
}

/// Result of [`score_tracks`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdReport {
    /// Times a ground-truth object changed the track id it was matched to.
    pub id_switches: usize,
    /// Object-frames matched to a track.
    pub matches: usize,
    /// Object-frames with no track.
    pub misses: usize,
    /// Track-frames with no object.
    pub false_positives: usize,
    /// Per ground-truth object, the distinct track ids it was matched to, in order of first
    /// match; one id per object is perfect tracking.
    pub track_ids: BTreeMap<u64, Vec<TrackId>>,
}

/// The tracks an evaluation should see from one update: confirmed and matched in this frame,
/// as ByteTrack reports them.
pub fn reported_boxes(update: &TrackUpdate) -> Vec<(TrackId, BoxPx)> {
    update
        .tracks
        .iter()
        .filter(|t| t.is_observed())
        .map(|t| (t.id, t.bbox))
        .collect()
}

/// Scores per-frame tracker output against per-frame ground truth. `gt[f]` and `tracks[f]` are
/// frame `f`; a frame missing from the shorter list counts as empty. A ground-truth object and a
/// track match when their IoU exceeds `min_iou` (0.5 is the usual choice).
pub fn score_tracks(gt: &[Vec<GtBox>], tracks: &[Vec<(TrackId, BoxPx)>], min_iou: f32) -> IdReport {
    let mut report = IdReport::default();
    let mut last: HashMap<u64, TrackId> = HashMap::new();
    let frames = gt.len().max(tracks.len());
    for f in 0..frames {
        let g = gt.get(f).map_or(&[][..], Vec::as_slice);
        let t = tracks.get(f).map_or(&[][..], Vec::as_slice);
        let mut g_used = vec![false; g.len()];
        let mut t_used = vec![false; t.len()];
        let mut pairs = Vec::new();
        // Keep last frame's correspondences that still hold.
        for (gi, gb) in g.iter().enumerate() {
            let Some(prev) = last.get(&gb.object) else {
                continue;
            };
            if let Some(ti) = t
                .iter()
                .position(|(id, b)| id == prev && gb.bbox.iou(b) > min_iou)
                && !t_used[ti]
            {
                g_used[gi] = true;
                t_used[ti] = true;
                pairs.push((gi, ti));
            }
        }
        // Match the rest optimally.
        let g_rest: Vec<usize> = (0..g.len()).filter(|&i| !g_used[i]).collect();
        let t_rest: Vec<usize> = (0..t.len()).filter(|&i| !t_used[i]).collect();
        let gb: Vec<BoxPx> = g_rest.iter().map(|&i| g[i].bbox).collect();
        let tb: Vec<BoxPx> = t_rest.iter().map(|&i| t[i].1).collect();
        for (a, b) in match_by_iou(&gb, &tb, min_iou, |_, _| true) {
            pairs.push((g_rest[a], t_rest[b]));
            t_used[t_rest[b]] = true;
        }
        for &(gi, ti) in &pairs {
            let id = t[ti].0;
            let ids = report.track_ids.entry(g[gi].object).or_default();
            if !ids.contains(&id) {
                ids.push(id);
            }
            if let Some(prev) = last.insert(g[gi].object, id)
                && prev != id
            {
                report.id_switches += 1;
            }
        }
        report.matches += pairs.len();
        report.misses += g.len() - pairs.len();
        report.false_positives += t.len() - pairs.len();
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gt(object: u64, x: f32) -> GtBox {
        GtBox {
            object,
            bbox: BoxPx::new(x, 0.0, x + 10.0, 20.0),
        }
    }

    fn tr(id: u64, x: f32) -> (TrackId, BoxPx) {
        (TrackId(id), BoxPx::new(x, 0.0, x + 10.0, 20.0))
    }

    #[test]
    fn a_swap_of_two_ids_counts_two_switches() {
        let g = vec![vec![gt(1, 0.0), gt(2, 50.0)]; 3];
        let t = vec![
            vec![tr(10, 0.0), tr(20, 50.0)],
            vec![tr(20, 0.0), tr(10, 50.0)],
            vec![tr(20, 0.0), tr(10, 50.0)],
        ];
        let r = score_tracks(&g, &t, 0.5);
        assert_eq!(
            (r.id_switches, r.matches, r.misses, r.false_positives),
            (2, 6, 0, 0)
        );
        assert_eq!(r.track_ids[&1], vec![TrackId(10), TrackId(20)]);
    }

    #[test]
    fn a_new_id_after_a_gap_counts_one_switch_and_the_misses() {
        let g = vec![vec![gt(1, 0.0)]; 4];
        let t = vec![vec![tr(1, 0.0)], vec![], vec![tr(2, 0.0)], vec![tr(2, 0.0)]];
        let r = score_tracks(&g, &t, 0.5);
        assert_eq!(
            (r.id_switches, r.matches, r.misses, r.false_positives),
            (1, 3, 1, 0)
        );
        assert_eq!(r.track_ids[&1], vec![TrackId(1), TrackId(2)]);
    }

    #[test]
    fn far_tracks_are_false_positives_and_keep_no_identity() {
        let g = vec![vec![gt(1, 0.0)], vec![gt(1, 0.0)]];
        let t = vec![vec![tr(1, 0.0), tr(9, 500.0)], vec![tr(1, 1.0)]];
        let r = score_tracks(&g, &t, 0.5);
        assert_eq!(
            (r.id_switches, r.matches, r.misses, r.false_positives),
            (0, 2, 0, 1)
        );
        assert_eq!(r.track_ids[&1], vec![TrackId(1)]);
    }

    #[test]
    fn previous_correspondence_wins_over_a_slightly_better_overlap() {
        // Object 1 keeps track 1 even though track 2 overlaps it marginally better this frame.
        let g = vec![vec![gt(1, 0.0)], vec![gt(1, 0.0)]];
        let t = vec![vec![tr(1, 0.0)], vec![tr(1, 1.5), tr(2, 0.5)]];
        let r = score_tracks(&g, &t, 0.5);
        assert_eq!(r.id_switches, 0);
        assert_eq!(r.false_positives, 1);
    }
}
