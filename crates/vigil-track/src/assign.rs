//! Optimal one-to-one assignment of tracks to detections by IoU, with a minimum IoU.
//!
//! The objective is ByteTrack's (`lap.lapjv(cost, extend_cost=True, cost_limit=thresh)`):
//! maximise `Σ (IoU − min_iou)` over the chosen pairs, each pair having `IoU > min_iou`. Leaving a
//! track and a detection both unmatched costs `1 − min_iou`, matching them costs `1 − IoU`, so a
//! pair is taken only when it beats leaving both free *and* the choice is globally best.
//!
//! Why not greedy by IoU descending: when two people walk side by side, a greedy pass can give
//! the best-overlapping detection to the wrong track and leave the right track with nothing,
//! which is an id switch; the optimum avoids that.
//!
//! Cost: pairs are first split into connected components of the "IoU above the minimum" graph
//! (union-find). In real scenes most components are a single track with a single detection and
//! need no solver at all; only clusters of overlapping objects go to the O(n³) Hungarian solver
//! (shortest augmenting paths with potentials, the Jonker-Volgenant formulation), on a matrix
//! padded with "leave unmatched" rows and columns.

// Matrix code reads as the maths when written with indices; iterator chains would hide it.
#![allow(clippy::needless_range_loop)]

use vigil_core::BoxPx;

/// A cost larger than any real one (costs are in 0..=1): marks pairs that must not be matched.
const FORBIDDEN: f64 = 1e9;

/// Matches `tracks` to `dets` maximising total IoU above `min_iou`; returns `(track, det)` index
/// pairs, each index at most once, each pair with `IoU > min_iou`. `allowed(t, d)` can veto a
/// pair (e.g. different classes).
pub(crate) fn match_by_iou(
    tracks: &[BoxPx],
    dets: &[BoxPx],
    min_iou: f32,
    allowed: impl Fn(usize, usize) -> bool,
) -> Vec<(usize, usize)> {
    let (nt, nd) = (tracks.len(), dets.len());
    if nt == 0 || nd == 0 {
        return Vec::new();
    }
    // Candidate edges: (track, det, cost).
    let mut edges: Vec<(usize, usize, f64)> = Vec::new();
    for (t, tb) in tracks.iter().enumerate() {
        for (d, db) in dets.iter().enumerate() {
            if !allowed(t, d) {
                continue;
            }
            let iou = tb.iou(db);
            if iou > min_iou {
                edges.push((t, d, 1.0 - iou as f64));
            }
        }
    }
    let limit = 1.0 - min_iou as f64;

    // Components of the bipartite graph; node ids: tracks 0..nt, detections nt..nt+nd.
    let mut uf = UnionFind::new(nt + nd);
    for &(t, d, _) in &edges {
        uf.union(t, nt + d);
    }
    let mut by_root: Vec<Vec<usize>> = vec![Vec::new(); nt + nd];
    for (e, &(t, _, _)) in edges.iter().enumerate() {
        by_root[uf.find(t)].push(e);
    }

    let mut out = Vec::new();
    for comp in by_root.iter().filter(|c| !c.is_empty()) {
        if let [e] = comp[..] {
            out.push((edges[e].0, edges[e].1));
            continue;
        }
        let mut rows: Vec<usize> = comp.iter().map(|&e| edges[e].0).collect();
        let mut cols: Vec<usize> = comp.iter().map(|&e| edges[e].1).collect();
        rows.sort_unstable();
        rows.dedup();
        cols.sort_unstable();
        cols.dedup();
        let mut cost = vec![vec![FORBIDDEN; cols.len()]; rows.len()];
        for &e in comp {
            let (t, d, c) = edges[e];
            // Both searches succeed: t and d were collected from these very edges.
            if let (Ok(r), Ok(k)) = (rows.binary_search(&t), cols.binary_search(&d)) {
                cost[r][k] = c;
            }
        }
        for (r, k) in solve_with_limit(&cost, limit) {
            out.push((rows[r], cols[k]));
        }
    }
    out.sort_unstable();
    out
}

/// Minimum-cost partial assignment: each row and column is matched at most once, a pair is
/// taken only if its cost is below `limit` (leaving a row and a column unmatched costs `limit`).
pub(crate) fn solve_with_limit(cost: &[Vec<f64>], limit: f64) -> Vec<(usize, usize)> {
    let n = cost.len();
    let m = cost.first().map_or(0, Vec::len);
    if n == 0 || m == 0 {
        return Vec::new();
    }
    // Square matrix of size n + m: [[C, L/2], [L/2, 0]]; row i may take any "dummy" column at
    // L/2, column j any dummy row at L/2, dummies pair among themselves for free.
    let size = n + m;
    let half = limit / 2.0;
    let mut ext = vec![vec![0.0; size]; size];
    for (i, row) in ext.iter_mut().enumerate() {
        for (j, cell) in row.iter_mut().enumerate() {
            *cell = match (i < n, j < m) {
                (true, true) => cost[i].get(j).copied().unwrap_or(FORBIDDEN),
                (true, false) | (false, true) => half,
                (false, false) => 0.0,
            };
        }
    }
    let assignment = hungarian(&ext);
    assignment
        .iter()
        .enumerate()
        .filter(|&(i, &j)| i < n && j < m && cost[i][j] < limit)
        .map(|(i, &j)| (i, j))
        .collect()
}

/// Minimum-cost perfect assignment of a square matrix; returns the column of each row.
///
/// Shortest augmenting paths with row/column potentials (Kuhn-Munkres in the
/// Jonker-Volgenant style), O(n³).
pub(crate) fn hungarian(cost: &[Vec<f64>]) -> Vec<usize> {
    let n = cost.len();
    // 1-based with a virtual column 0, as in the classic formulation.
    let mut u = vec![0.0; n + 1];
    let mut v = vec![0.0; n + 1];
    let mut row_of_col = vec![0usize; n + 1];
    let mut way = vec![0usize; n + 1];
    for i in 1..=n {
        row_of_col[0] = i;
        let mut j0 = 0usize;
        let mut minv = vec![f64::INFINITY; n + 1];
        let mut used = vec![false; n + 1];
        loop {
            used[j0] = true;
            let i0 = row_of_col[j0];
            let mut delta = f64::INFINITY;
            let mut j1 = 0usize;
            for j in 1..=n {
                if used[j] {
                    continue;
                }
                let cur = cost[i0 - 1][j - 1] - u[i0] - v[j];
                if cur < minv[j] {
                    minv[j] = cur;
                    way[j] = j0;
                }
                if minv[j] < delta {
                    delta = minv[j];
                    j1 = j;
                }
            }
            // A square matrix of finite costs always has an unused column here; the guard keeps
            // a NaN cost from looping forever.
            if j1 == 0 {
                break;
            }
            for j in 0..=n {
                if used[j] {
                    u[row_of_col[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
            if row_of_col[j0] == 0 {
                break;
            }
        }
        loop {
            let j1 = way[j0];
            row_of_col[j0] = row_of_col[j1];
            j0 = j1;
            if j0 == 0 {
                break;
            }
        }
    }
    let mut col_of_row = vec![0usize; n];
    for j in 1..=n {
        if row_of_col[j] > 0 {
            col_of_row[row_of_col[j] - 1] = j - 1;
        }
    }
    col_of_row
}

/// Disjoint sets with path halving.
struct UnionFind {
    parent: Vec<usize>,
}

impl UnionFind {
    fn new(n: usize) -> Self {
        Self {
            parent: (0..n).collect(),
        }
    }

    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            self.parent[ra] = rb;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Best objective by brute force: try every partial matching.
    fn brute_force(cost: &[Vec<f64>], limit: f64) -> f64 {
        fn go(i: usize, cost: &[Vec<f64>], limit: f64, used: &mut Vec<bool>) -> f64 {
            if i == cost.len() {
                return 0.0;
            }
            // Leave row i unmatched: gains nothing.
            let mut best = go(i + 1, cost, limit, used);
            for j in 0..used.len() {
                if !used[j] && cost[i][j] < limit {
                    used[j] = true;
                    best = best.max(limit - cost[i][j] + go(i + 1, cost, limit, used));
                    used[j] = false;
                }
            }
            best
        }
        let m = cost.first().map_or(0, Vec::len);
        go(0, cost, limit, &mut vec![false; m])
    }

    fn gain(cost: &[Vec<f64>], limit: f64, pairs: &[(usize, usize)]) -> f64 {
        pairs.iter().map(|&(i, j)| limit - cost[i][j]).sum()
    }

    #[test]
    fn hungarian_finds_the_known_optimum() {
        let c = vec![vec![4.0, 1.0, 3.0], vec![2.0, 0.0, 5.0], vec![3.0, 2.0, 2.0]];
        let a = hungarian(&c);
        let total: f64 = a.iter().enumerate().map(|(i, &j)| c[i][j]).sum();
        assert_eq!(total, 5.0);
        let mut cols = a.clone();
        cols.sort_unstable();
        assert_eq!(cols, vec![0, 1, 2]);
    }

    #[test]
    fn optimal_beats_greedy_on_side_by_side_objects() {
        // Greedy takes (0,0) at IoU 0.9 and leaves track 1 with nothing above the minimum;
        // the optimum matches both.
        let cost = vec![vec![0.1, 0.2], vec![0.3, 1.0]];
        let pairs = solve_with_limit(&cost, 0.8);
        assert_eq!(pairs, vec![(0, 1), (1, 0)]);
    }

    #[test]
    fn pairs_at_or_over_the_limit_stay_unmatched() {
        let cost = vec![vec![0.8, 0.95], vec![0.9, 0.5]];
        assert_eq!(solve_with_limit(&cost, 0.8), vec![(1, 1)]);
    }

    #[test]
    fn match_by_iou_respects_veto_and_min_iou() {
        let a = BoxPx::new(0.0, 0.0, 10.0, 10.0);
        let b = BoxPx::new(100.0, 0.0, 110.0, 10.0);
        let tracks = [a, b];
        let dets = [
            BoxPx::new(101.0, 0.0, 111.0, 10.0),
            BoxPx::new(1.0, 0.0, 11.0, 10.0),
        ];
        assert_eq!(
            match_by_iou(&tracks, &dets, 0.3, |_, _| true),
            vec![(0, 1), (1, 0)]
        );
        assert_eq!(match_by_iou(&tracks, &dets, 0.3, |t, _| t == 1), vec![(1, 0)]);
        assert_eq!(match_by_iou(&tracks, &dets, 0.95, |_, _| true), vec![]);
        assert_eq!(match_by_iou(&[], &dets, 0.3, |_, _| true), vec![]);
    }

    proptest! {
        /// The solver reaches the brute-force optimum, and never reuses a row or column.
        #[test]
        fn solver_is_optimal_and_one_to_one(
            n in 1usize..5, m in 1usize..5,
            vals in prop::collection::vec(0.0f64..1.0, 25),
            limit in 0.2f64..0.95,
        ) {
            let cost: Vec<Vec<f64>> = (0..n).map(|i| (0..m).map(|j| vals[i * 5 + j]).collect()).collect();
            let pairs = solve_with_limit(&cost, limit);
            let mut rows: Vec<_> = pairs.iter().map(|p| p.0).collect();
            let mut cols: Vec<_> = pairs.iter().map(|p| p.1).collect();
            rows.sort_unstable(); rows.dedup();
            cols.sort_unstable(); cols.dedup();
            prop_assert_eq!(rows.len(), pairs.len());
            prop_assert_eq!(cols.len(), pairs.len());
            for &(i, j) in &pairs { prop_assert!(cost[i][j] < limit); }
            let best = brute_force(&cost, limit);
            prop_assert!((gain(&cost, limit, &pairs) - best).abs() < 1e-9, "got {:?}, best {}", pairs, best);
        }

        /// Splitting into components changes nothing: match_by_iou equals the whole-matrix solve.
        #[test]
        fn components_give_the_same_total_as_one_big_solve(
            boxes in prop::collection::vec((0.0f32..200.0, 0.0f32..200.0, 5.0f32..60.0, 5.0f32..60.0), 2..12),
            split in 1usize..11,
        ) {
            let split = split.min(boxes.len() - 1);
            let all: Vec<BoxPx> = boxes.iter().map(|&(x, y, w, h)| BoxPx::new(x, y, x + w, y + h)).collect();
            let (tracks, dets) = all.split_at(split);
            let min_iou = 0.1f32;
            let pairs = match_by_iou(tracks, dets, min_iou, |_, _| true);
            let cost: Vec<Vec<f64>> = tracks.iter().map(|t| dets.iter().map(|d| {
                let iou = t.iou(d);
                if iou > min_iou { 1.0 - iou as f64 } else { FORBIDDEN }
            }).collect()).collect();
            let limit = 1.0 - min_iou as f64;
            let whole = solve_with_limit(&cost, limit);
            prop_assert!((gain(&cost, limit, &pairs) - gain(&cost, limit, &whole)).abs() < 1e-6);
        }
    }
}
