//! Identity breaks measured without ground truth: where tracks begin and end.
//!
//! On a fixed camera people and vehicles enter and leave through the frame edges (or known
//! doors). A track that *begins* in the middle of the frame, shortly after and close to where
//! another track *ended*, is almost always the same object under a new id — a fragment: the
//! tracker lost it (occlusion, a missed detection run) and started over. Counting those
//! "re-births" estimates identity switches on real video that has no labelled identities, and
//! catches regressions in association, the motion model and track memory.

use std::collections::BTreeMap;
use vigil_core::BoxPx;
use vigil_core::track::TrackId;

/// How fragments are recognised.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FragmentParams {
    /// Frame width in pixels.
    pub frame_w: f32,
    /// Frame height in pixels.
    pub frame_h: f32,
    /// A box closer than this to a frame edge is "at the edge" (entering or leaving).
    pub edge_margin_px: f32,
    /// A re-birth must begin at most this many frames after the other track's last frame.
    pub rejoin_frames: usize,
    /// … and its first box centre at most this many of the ended box's heights away.
    pub rejoin_heights: f32,
}

/// Result of [`fragments`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FragmentReport {
    /// Distinct track ids reported.
    pub tracks: usize,
    /// Tracks whose first box lies away from the frame edges (after the first frame).
    pub interior_births: usize,
    /// Interior births that continue a track which ended just before, close by: estimated
    /// identity switches.
    pub rebirths: usize,
    /// The (ended, reborn) id pairs behind `rebirths`.
    pub pairs: Vec<(TrackId, TrackId)>,
}

struct Span {
    first: usize,
    last: usize,
    first_box: BoxPx,
    last_box: BoxPx,
}

fn at_edge(b: &BoxPx, p: &FragmentParams) -> bool {
    b.x1 <= p.edge_margin_px
        || b.y1 <= p.edge_margin_px
        || b.x2 >= p.frame_w - p.edge_margin_px
        || b.y2 >= p.frame_h - p.edge_margin_px
}

/// Scans per-frame reported tracks (`tracks[f]` = the (id, box) pairs of frame `f`, e.g. from
/// [`crate::eval::reported_boxes`]) for interior births and re-births. Each ended track can
/// explain at most one re-birth (the nearest in time).
pub fn fragments(tracks: &[Vec<(TrackId, BoxPx)>], p: &FragmentParams) -> FragmentReport {
    let mut spans: BTreeMap<TrackId, Span> = BTreeMap::new();
    for (f, frame) in tracks.iter().enumerate() {
        for &(id, b) in frame {
            spans
                .entry(id)
                .and_modify(|s| {
                    s.last = f;
                    s.last_box = b;
                })
                .or_insert(Span {
                    first: f,
                    last: f,
                    first_box: b,
                    last_box: b,
                });
        }
    }
    let mut report = FragmentReport {
        tracks: spans.len(),
        ..Default::default()
    };
    let mut births: Vec<(TrackId, &Span)> = spans
        .iter()
        .filter(|(_, s)| s.first > 0 && !at_edge(&s.first_box, p))
        .map(|(id, s)| (*id, s))
        .collect();
    births.sort_by_key(|(id, s)| (s.first, *id));
    report.interior_births = births.len();
    let mut claimed: Vec<TrackId> = Vec::new();
    for (id, born) in births {
        let c = born.first_box.center();
        let best = spans
            .iter()
            .filter(|(other, s)| {
                **other != id
                    && !claimed.contains(other)
                    && s.last < born.first
                    && born.first - s.last <= p.rejoin_frames
                    && !at_edge(&s.last_box, p)
            })
            .filter(|(_, s)| {
                let e = s.last_box.center();
                let reach = p.rejoin_heights * s.last_box.height().max(1.0);
                (e.x - c.x).hypot(e.y - c.y) <= reach
            })
            .max_by_key(|(other, s)| (s.last, std::cmp::Reverse(**other)));
        if let Some((ended, _)) = best {
            claimed.push(*ended);
            report.rebirths += 1;
            report.pairs.push((*ended, id));
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: FragmentParams = FragmentParams {
        frame_w: 1000.0,
        frame_h: 500.0,
        edge_margin_px: 10.0,
        rejoin_frames: 10,
        rejoin_heights: 1.0,
    };

    fn b(x: f32, y: f32) -> BoxPx {
        BoxPx::new(x, y, x + 20.0, y + 50.0)
    }

    /// A walker from the left edge to x = 900, one id for frames `ids[i].0..`.
    fn walk(ids: &[(usize, u64)], frames: usize, y: f32) -> Vec<Vec<(TrackId, BoxPx)>> {
        (0..frames)
            .map(|f| {
                let id = ids.iter().rev().find(|(from, _)| f >= *from).map(|(_, id)| *id);
                id.map(|id| vec![(TrackId(id), b(f as f32 * 10.0, y))])
                    .unwrap_or_default()
            })
            .collect()
    }

    #[test]
    fn one_clean_track_has_no_fragments() {
        let r = fragments(&walk(&[(0, 1)], 90, 100.0), &P);
        assert_eq!((r.tracks, r.interior_births, r.rebirths), (1, 0, 0));
    }

    #[test]
    fn a_new_id_mid_path_is_a_rebirth() {
        let r = fragments(&walk(&[(0, 1), (40, 2)], 90, 100.0), &P);
        assert_eq!((r.tracks, r.interior_births, r.rebirths), (2, 1, 1));
        assert_eq!(r.pairs, vec![(TrackId(1), TrackId(2))]);
    }

    #[test]
    fn a_gap_longer_than_the_rejoin_window_is_a_birth_but_not_a_rebirth() {
        let mut t = walk(&[(0, 1), (40, 2)], 90, 100.0);
        for frame in t.iter_mut().take(40).skip(25) {
            frame.clear();
        }
        let r = fragments(&t, &P);
        assert_eq!((r.interior_births, r.rebirths), (1, 0));
    }

    #[test]
    fn entries_at_the_edge_and_far_births_are_not_rebirths() {
        // Two walkers: the second enters at the left edge later; a third appears in the
        // interior far below the first walker's end point.
        let mut t = walk(&[(0, 1)], 50, 100.0);
        t.extend(walk(&[(0, 2)], 40, 300.0));
        let far = b(480.0, 420.0);
        t[60].push((TrackId(3), far));
        t[61].push((TrackId(3), far));
        let r = fragments(&t, &P);
        assert_eq!(r.tracks, 3);
        assert_eq!((r.interior_births, r.rebirths), (1, 0), "{r:?}");
    }

    #[test]
    fn each_ended_track_explains_one_rebirth() {
        let mut t = walk(&[(0, 1)], 40, 100.0);
        let near = b(400.0, 100.0);
        t.extend(vec![vec![(TrackId(2), near), (TrackId(3), b(405.0, 110.0))]; 5]);
        let r = fragments(&t, &P);
        assert_eq!((r.interior_births, r.rebirths), (2, 1), "{r:?}");
    }
}
