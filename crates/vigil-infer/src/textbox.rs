//! DB post-processing: the text detector's probability map → rotated text boxes in source pixels.
//!
//! This follows PaddleOCR's `DBPostProcess` (binarise, components, min-area rectangle, score,
//! unclip, min-area rectangle again, order corners) so the thresholds tuned for PP-OCR carry over,
//! with three deliberate differences, each for a reason:
//! - components are 8-connected pixel sets found by flood fill instead of OpenCV contours; the
//!   convex hull only needs each row's leftmost and rightmost pixel, so no contour tracing;
//! - the candidate cap keeps the *largest* components (PaddleOCR keeps the first contours found),
//!   so a speckled map cannot crowd out the plate;
//! - coordinates are shifted by half a pixel before mapping to the source (pixel `x` covers
//!   `[x, x+1)`), where PaddleOCR scales pixel indices and so drifts half a map pixel up-left.
//!
//! Unclipping a rectangle by the polygon offset `d = area × ratio / perimeter` grows each side by
//! `d` (the round joins of the offset never reach past the grown sides), so it is done in closed
//! form instead of with a polygon clipper. Everything here is pure and allocation-light.

use crate::letterbox::Letterbox;
use crate::ocr::ProbMap;
use vigil_core::{BoxPx, PointPx};

/// How a candidate's score (mean text probability) is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScoreMode {
    /// Mean over map pixels inside the min-area rectangle (PaddleOCR's default "fast" mode).
    #[default]
    Box,
    /// Mean over the component's own pixels (PaddleOCR's "slow" mode, at pixel resolution).
    Component,
}

/// Knobs of the DB post-processing, with PaddleOCR's meaning.
#[derive(Debug, Clone, PartialEq)]
pub struct DbParams {
    /// Map pixels with probability above this are text (default 0.3, PaddleOCR's `thresh`).
    pub thresh: f32,
    /// Candidates whose mean probability is below this are dropped (default 0.5; plates usually
    /// score 0.6 or more).
    pub box_thresh: f32,
    /// How far the shrunk DB kernel is grown back: offset = area × ratio / perimeter (default 1.6).
    pub unclip_ratio: f32,
    /// Boxes whose short side is below this many map pixels are noise (default 3, as PaddleOCR).
    pub min_size: f32,
    /// At most this many candidates (the largest components) are scored (default 100).
    pub max_candidates: usize,
    /// Dilate the binary mask with a 2×2 kernel first, joining characters split by a thin gap
    /// (default false, as PaddleOCR).
    pub dilate: bool,
    /// How the score is measured (default [`ScoreMode::Box`]).
    pub score_mode: ScoreMode,
    /// Boxes whose top-left corners are within this many source pixels vertically count as one
    /// line and are ordered left to right (default 10, as PaddleOCR's `sorted_boxes`).
    pub same_line_px: f32,
}

impl Default for DbParams {
    fn default() -> Self {
        Self {
            thresh: 0.3,
            box_thresh: 0.5,
            unclip_ratio: 1.6,
            min_size: 3.0,
            max_candidates: 100,
            dilate: false,
            score_mode: ScoreMode::Box,
            same_line_px: 10.0,
        }
    }
}

impl DbParams {
    /// Checks that every knob is a usable number.
    pub fn validate(&self) -> Result<(), String> {
        let unit = |name: &str, v: f32| {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(format!(
                    "DB {name} {v} is outside 0..=1 (it is a probability; PaddleOCR uses 0.3 / 0.5)"
                ))
            }
        };
        unit("thresh", self.thresh)?;
        unit("box_thresh", self.box_thresh)?;
        for (name, v) in [
            ("unclip_ratio", self.unclip_ratio),
            ("min_size", self.min_size),
            ("same_line_px", self.same_line_px),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(format!("DB {name} {v} must be a finite number ≥ 0"));
            }
        }
        Ok(())
    }
}

/// One detected text region: a rotated rectangle in source pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TextBox {
    /// Corners in source pixels: top-left, top-right, bottom-right, bottom-left, each clipped to
    /// the frame (as PaddleOCR does).
    pub corners: [PointPx; 4],
    /// Mean text probability (see [`ScoreMode`]), 0..=1.
    pub score: f32,
    /// Angle of the top edge from horizontal, degrees, positive = clockwise on screen (y down).
    pub angle_deg: f32,
    /// Length of the top edge in source pixels.
    pub width_px: f32,
    /// Length of the left edge in source pixels.
    pub height_px: f32,
}

impl TextBox {
    /// Axis-aligned bounds of the corners.
    pub fn bounds(&self) -> BoxPx {
        let xs = self.corners.map(|p| p.x);
        let ys = self.corners.map(|p| p.y);
        let min = |v: [f32; 4]| v.into_iter().fold(f32::INFINITY, f32::min);
        let max = |v: [f32; 4]| v.into_iter().fold(f32::NEG_INFINITY, f32::max);
        BoxPx::new(min(xs), min(ys), max(xs), max(ys))
    }
}

/// A candidate in map coordinates (continuous: pixel `x` covers `[x, x+1)`), before mapping.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MapBox {
    /// Corners in map coordinates: top-left, top-right, bottom-right, bottom-left.
    pub corners: [PointPx; 4],
    /// Mean text probability.
    pub score: f32,
}

/// A rotated rectangle: centre, unit direction of its `half_w` side, half side lengths.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RotRect {
    /// Centre x.
    pub cx: f64,
    /// Centre y.
    pub cy: f64,
    /// Unit vector along the first side (x component).
    pub ux: f64,
    /// Unit vector along the first side (y component).
    pub uy: f64,
    /// Half length of the side along `u`.
    pub half_w: f64,
    /// Half length of the side across `u`.
    pub half_h: f64,
}

impl RotRect {
    /// Area.
    pub fn area(&self) -> f64 {
        4.0 * self.half_w * self.half_h
    }

    /// Shorter side length.
    pub fn short_side(&self) -> f64 {
        2.0 * self.half_w.min(self.half_h)
    }

    /// The rectangle with every side pushed outward by `d`.
    pub fn grown(&self, d: f64) -> RotRect {
        RotRect {
            half_w: self.half_w + d,
            half_h: self.half_h + d,
            ..*self
        }
    }

    /// The four corners, in cyclic order (not yet top-left first).
    pub fn corners(&self) -> [(f64, f64); 4] {
        let (vx, vy) = (-self.uy, self.ux);
        let c = |sw: f64, sh: f64| {
            (
                self.cx + sw * self.half_w * self.ux + sh * self.half_h * vx,
                self.cy + sw * self.half_w * self.uy + sh * self.half_h * vy,
            )
        };
        [c(-1.0, -1.0), c(1.0, -1.0), c(1.0, 1.0), c(-1.0, 1.0)]
    }

    /// True when `(x, y)` lies inside, allowing `tol` outside each side.
    pub fn contains(&self, x: f64, y: f64, tol: f64) -> bool {
        let (dx, dy) = (x - self.cx, y - self.cy);
        let along = dx * self.ux + dy * self.uy;
        let across = -dx * self.uy + dy * self.ux;
        along.abs() <= self.half_w + tol && across.abs() <= self.half_h + tol
    }
}

/// Convex hull of integer points (Andrew's monotone chain), counter-clockwise in the maths sense
/// (`cross > 0` turns), collinear points removed. Sorts `pts` in place.
pub fn convex_hull(pts: &mut [(i32, i32)]) -> Vec<(i32, i32)> {
    pts.sort_unstable();
    let n = pts.len();
    if n <= 2 {
        let mut v = pts.to_vec();
        v.dedup();
        return v;
    }
    let cross = |o: (i32, i32), a: (i32, i32), b: (i32, i32)| {
        (a.0 as i64 - o.0 as i64) * (b.1 as i64 - o.1 as i64)
            - (a.1 as i64 - o.1 as i64) * (b.0 as i64 - o.0 as i64)
    };
    let mut hull: Vec<(i32, i32)> = Vec::with_capacity(2 * n);
    for &p in pts.iter() {
        while hull.len() >= 2 && cross(hull[hull.len() - 2], hull[hull.len() - 1], p) <= 0 {
            hull.pop();
        }
        hull.push(p);
    }
    let lower = hull.len() + 1;
    for &p in pts.iter().rev().skip(1) {
        while hull.len() >= lower && cross(hull[hull.len() - 2], hull[hull.len() - 1], p) <= 0 {
            hull.pop();
        }
        hull.push(p);
    }
    hull.pop();
    hull.dedup();
    hull
}

/// Minimum-area enclosing rectangle of a convex hull (as from [`convex_hull`]), by rotating
/// calipers: one side of the optimum lies on a hull edge, and the three other support points
/// only move forward as the edge turns, so the whole sweep is linear in the hull size.
pub fn min_area_rect(hull: &[(i32, i32)]) -> Option<RotRect> {
    let p: Vec<(f64, f64)> = hull.iter().map(|&(x, y)| (x as f64, y as f64)).collect();
    let n = p.len();
    match n {
        0 => return None,
        1 => {
            return Some(RotRect {
                cx: p[0].0,
                cy: p[0].1,
                ux: 1.0,
                uy: 0.0,
                half_w: 0.0,
                half_h: 0.0,
            });
        }
        2 => {
            let (dx, dy) = (p[1].0 - p[0].0, p[1].1 - p[0].1);
            let len = dx.hypot(dy);
            return Some(RotRect {
                cx: (p[0].0 + p[1].0) / 2.0,
                cy: (p[0].1 + p[1].1) / 2.0,
                ux: dx / len,
                uy: dy / len,
                half_w: len / 2.0,
                half_h: 0.0,
            });
        }
        _ => {}
    }
    let at = |i: usize| p[i % n];
    let dot = |a: (f64, f64), b: (f64, f64)| a.0 * b.0 + a.1 * b.1;
    let sub = |a: (f64, f64), b: (f64, f64)| (a.0 - b.0, a.1 - b.1);
    let (mut j, mut k, mut m) = (1usize, 1usize, 1usize);
    let mut best: Option<(f64, RotRect)> = None;
    for i in 0..n {
        let base = at(i);
        let e = sub(at(i + 1), base);
        let len = e.0.hypot(e.1);
        let e = (e.0 / len, e.1 / len);
        // Inward normal: the hull turns left (cross > 0), so the interior is on the left.
        let nrm = (-e.1, e.0);
        // Support points, each advanced while the next hull point is strictly better; they
        // stay in order j ≤ k ≤ m ≤ i + n, so the caps only guard against rounding.
        j = j.max(i + 1);
        while j < i + n && dot(sub(at(j + 1), at(j)), e) > 0.0 {
            j += 1;
        }
        k = k.max(j);
        while k < i + n && dot(sub(at(k + 1), at(k)), nrm) > 0.0 {
            k += 1;
        }
        m = m.max(k);
        while m < i + n && dot(sub(at(m + 1), at(m)), e) < 0.0 {
            m += 1;
        }
        let hi = dot(sub(at(j), base), e);
        let lo = dot(sub(at(m), base), e).min(0.0);
        let h = dot(sub(at(k), base), nrm);
        let area = (hi - lo) * h;
        if best.as_ref().is_none_or(|(a, _)| area < *a) {
            let mid = (lo + hi) / 2.0;
            let rect = RotRect {
                cx: base.0 + e.0 * mid + nrm.0 * h / 2.0,
                cy: base.1 + e.1 * mid + nrm.1 * h / 2.0,
                ux: e.0,
                uy: e.1,
                half_w: (hi - lo) / 2.0,
                half_h: h / 2.0,
            };
            best = Some((area, rect));
        }
    }
    best.map(|(_, r)| r)
}

/// Orders four corners as PaddleOCR does: the two leftmost are top-left (upper) and bottom-left,
/// the two rightmost top-right (upper) and bottom-right. For a rectangle this is always a
/// clockwise-on-screen cycle.
pub fn order_corners(pts: [(f64, f64); 4]) -> [PointPx; 4] {
    let mut s = pts;
    s.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (tl, bl) = if s[0].1 <= s[1].1 {
        (s[0], s[1])
    } else {
        (s[1], s[0])
    };
    let (tr, br) = if s[2].1 <= s[3].1 {
        (s[2], s[3])
    } else {
        (s[3], s[2])
    };
    [tl, tr, br, bl].map(|(x, y)| PointPx {
        x: x as f32,
        y: y as f32,
    })
}

/// Maps a point from canvas (map) pixels to source pixels with the formula of
/// [`Letterbox::to_source`], clamped to the source frame.
pub fn point_to_source(lb: &Letterbox, p: PointPx) -> PointPx {
    let sx = lb.src_w as f32 / lb.resized_w.max(1) as f32;
    let sy = lb.src_h as f32 / lb.resized_h.max(1) as f32;
    PointPx {
        x: ((p.x - lb.pad_x as f32) * sx).clamp(0.0, lb.src_w as f32),
        y: ((p.y - lb.pad_y as f32) * sy).clamp(0.0, lb.src_h as f32),
    }
}

/// One 8-connected component of the binary mask.
struct Component {
    /// Range of its pixel indices in the shared pixel list.
    pixels: std::ops::Range<usize>,
    y_min: usize,
    y_max: usize,
}

/// Binary mask of `data > thresh` (NaN is background), optionally dilated by a 2×2 kernel with
/// OpenCV's anchor, i.e. each pixel also takes its left, upper and upper-left neighbours.
fn binarise(data: &[f32], w: usize, h: usize, thresh: f32, dilate: bool) -> Vec<bool> {
    let mask: Vec<bool> = data.iter().map(|&v| v > thresh).collect();
    if !dilate {
        return mask;
    }
    let mut out = mask.clone();
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            let left = x > 0 && mask[i - 1];
            let up = y > 0 && mask[i - w];
            let diag = x > 0 && y > 0 && mask[i - w - 1];
            out[i] = mask[i] || left || up || diag;
        }
    }
    out
}

/// Flood-fills the mask into 8-connected components. `pixels` receives every foreground pixel
/// index, grouped by component.
fn components(mut mask: Vec<bool>, w: usize, h: usize, pixels: &mut Vec<u32>) -> Vec<Component> {
    let mut out = Vec::new();
    let mut stack: Vec<u32> = Vec::new();
    for start in 0..mask.len() {
        if !mask[start] {
            continue;
        }
        mask[start] = false;
        stack.push(start as u32);
        let first = pixels.len();
        let (mut y_min, mut y_max) = (usize::MAX, 0);
        while let Some(i) = stack.pop() {
            pixels.push(i);
            let (x, y) = (i as usize % w, i as usize / w);
            y_min = y_min.min(y);
            y_max = y_max.max(y);
            for ny in y.saturating_sub(1)..=(y + 1).min(h - 1) {
                for nx in x.saturating_sub(1)..=(x + 1).min(w - 1) {
                    let j = ny * w + nx;
                    if mask[j] {
                        mask[j] = false;
                        stack.push(j as u32);
                    }
                }
            }
        }
        out.push(Component {
            pixels: first..pixels.len(),
            y_min,
            y_max,
        });
    }
    out
}

/// Hull-relevant points of a component: each row's leftmost and rightmost pixel (pixel centres
/// at integer coordinates, like OpenCV contours).
fn extreme_points(pix: &[u32], c: &Component, w: usize) -> Vec<(i32, i32)> {
    let rows = c.y_max - c.y_min + 1;
    let mut lo = vec![usize::MAX; rows];
    let mut hi = vec![0usize; rows];
    for &i in pix {
        let (x, y) = (i as usize % w, i as usize / w - c.y_min);
        lo[y] = lo[y].min(x);
        hi[y] = hi[y].max(x);
    }
    let mut pts = Vec::with_capacity(2 * rows);
    for (r, (&l, &h)) in lo.iter().zip(&hi).enumerate() {
        if l != usize::MAX {
            let y = (r + c.y_min) as i32;
            pts.push((l as i32, y));
            if h != l {
                pts.push((h as i32, y));
            }
        }
    }
    pts
}

/// Probability as a score term: non-finite values count as zero.
fn prob(v: f32) -> f64 {
    if v.is_finite() { v as f64 } else { 0.0 }
}

/// Mean probability over pixels whose centres lie inside `rect` (index coordinates).
fn box_mean(data: &[f32], w: usize, h: usize, rect: &RotRect) -> f64 {
    let cs = rect.corners();
    let (mut x_lo, mut x_hi, mut y_lo, mut y_hi) =
        (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
    for (x, y) in cs {
        (x_lo, x_hi, y_lo, y_hi) = (x_lo.min(x), x_hi.max(x), y_lo.min(y), y_hi.max(y));
    }
    let clamp = |v: f64, max: usize| (v.max(0.0) as usize).min(max);
    let (x0, x1) = (clamp(x_lo.floor(), w - 1), clamp(x_hi.ceil(), w - 1));
    let (y0, y1) = (clamp(y_lo.floor(), h - 1), clamp(y_hi.ceil(), h - 1));
    let (mut sum, mut n) = (0.0f64, 0usize);
    for y in y0..=y1 {
        for x in x0..=x1 {
            // A small tolerance keeps pixels whose centres sit exactly on an edge.
            if rect.contains(x as f64, y as f64, 1e-3) {
                sum += prob(data[y * w + x]);
                n += 1;
            }
        }
    }
    if n == 0 { 0.0 } else { sum / n as f64 }
}

/// Runs DB post-processing on a raw map and returns candidates in map coordinates, unsorted.
pub fn boxes_in_map(width: u32, height: u32, data: &[f32], params: &DbParams) -> Result<Vec<MapBox>, String> {
    params.validate()?;
    let (w, h) = (width as usize, height as usize);
    if data.len() != w * h {
        return Err(format!(
            "probability map has {} values, {width}×{height} needs {}",
            data.len(),
            w * h
        ));
    }
    if u32::try_from(w * h).is_err() {
        return Err(format!(
            "probability map {width}×{height} is too large (pixel indices are 32-bit)"
        ));
    }
    if w == 0 || h == 0 {
        return Ok(Vec::new());
    }
    let mask = binarise(data, w, h, params.thresh, params.dilate);
    let mut pixels = Vec::new();
    let comps = components(mask, w, h, &mut pixels);
    let min_size = params.min_size as f64;
    let mut candidates: Vec<(usize, RotRect, &Component)> = comps
        .iter()
        .filter_map(|c| {
            let pix = &pixels[c.pixels.clone()];
            let mut pts = extreme_points(pix, c, w);
            let rect = min_area_rect(&convex_hull(&mut pts))?;
            (rect.short_side() >= min_size).then_some((pix.len(), rect, c))
        })
        .collect();
    // Largest first, so the cap drops the least text-like candidates.
    candidates.sort_by_key(|c| std::cmp::Reverse(c.0));
    candidates.truncate(params.max_candidates);
    let mut out = Vec::with_capacity(candidates.len());
    for (count, rect, c) in candidates {
        let score = match params.score_mode {
            ScoreMode::Box => box_mean(data, w, h, &rect),
            ScoreMode::Component => {
                pixels[c.pixels.clone()]
                    .iter()
                    .map(|&i| prob(data[i as usize]))
                    .sum::<f64>()
                    / count as f64
            }
        };
        if score < params.box_thresh as f64 {
            continue;
        }
        let perimeter = 4.0 * (rect.half_w + rect.half_h);
        let d = if perimeter > 0.0 {
            rect.area() * params.unclip_ratio as f64 / perimeter
        } else {
            0.0
        };
        let grown = rect.grown(d);
        if grown.short_side() < min_size + 2.0 {
            continue;
        }
        // Pixel centres → continuous coordinates.
        let corners = grown.corners().map(|(x, y)| (x + 0.5, y + 0.5));
        out.push(MapBox {
            corners: order_corners(corners),
            score: score as f32,
        });
    }
    Ok(out)
}

/// Sorts boxes top to bottom, then left to right within a line (PaddleOCR's `sorted_boxes`).
pub fn sort_reading_order(boxes: &mut [TextBox], same_line_px: f32) {
    boxes.sort_by(|a, b| {
        let (pa, pb) = (a.corners[0], b.corners[0]);
        pa.y.total_cmp(&pb.y).then(pa.x.total_cmp(&pb.x))
    });
    for i in 0..boxes.len().saturating_sub(1) {
        for j in (0..=i).rev() {
            let (a, b) = (boxes[j].corners[0], boxes[j + 1].corners[0]);
            if (b.y - a.y).abs() < same_line_px && b.x < a.x {
                boxes.swap(j, j + 1);
            } else {
                break;
            }
        }
    }
}

/// Extracts text boxes from a detector map, in source pixels and reading order.
pub fn extract_boxes(map: &ProbMap, params: &DbParams) -> Result<Vec<TextBox>, String> {
    let found = boxes_in_map(map.width, map.height, &map.data, params)?;
    let mut boxes: Vec<TextBox> = found
        .into_iter()
        .map(|b| {
            let corners = b.corners.map(|p| point_to_source(&map.placement, p));
            let [tl, tr, _, bl] = corners;
            TextBox {
                corners,
                score: b.score,
                angle_deg: (tr.y - tl.y).atan2(tr.x - tl.x).to_degrees(),
                width_px: (tr.x - tl.x).hypot(tr.y - tl.y),
                height_px: (bl.x - tl.x).hypot(bl.y - tl.y),
            }
        })
        .collect();
    sort_reading_order(&mut boxes, params.same_line_px);
    Ok(boxes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use vigil_core::model::Letterbox as Placement;

    /// A map with probability `p` where `inside(x, y)` holds (pixel indices), 0.02 elsewhere.
    fn draw(w: u32, h: u32, p: f32, inside: impl Fn(f64, f64) -> bool) -> Vec<f32> {
        (0..w * h)
            .map(|i| {
                if inside((i % w) as f64, (i / w) as f64) {
                    p
                } else {
                    0.02
                }
            })
            .collect()
    }

    fn identity_map(w: u32, h: u32, data: Vec<f32>) -> ProbMap {
        ProbMap {
            width: w,
            height: h,
            data,
            placement: Letterbox::new(w, h, w, h, Placement::TopLeft).expect("sizes"),
        }
    }

    /// Expected unclipped edges of a filled pixel rectangle `[x1, x2) × [y1, y2)`: the hull of
    /// pixel centres is one pixel smaller per axis, grown by d = area × ratio / perimeter.
    fn expected_rect(x1: f32, y1: f32, x2: f32, y2: f32, ratio: f32) -> [f32; 4] {
        let (w0, h0) = (x2 - x1 - 1.0, y2 - y1 - 1.0);
        let d = w0 * h0 * ratio / (2.0 * (w0 + h0));
        [x1 + 0.5 - d, y1 + 0.5 - d, x2 - 0.5 + d, y2 - 0.5 + d]
    }

    fn close(a: PointPx, x: f32, y: f32, tol: f32) -> bool {
        (a.x - x).abs() <= tol && (a.y - y).abs() <= tol
    }

    #[test]
    fn axis_aligned_rectangle_gives_one_box_with_unclipped_corners() {
        let data = draw(200, 100, 0.9, |x, y| {
            (40.0..120.0).contains(&x) && (30.0..50.0).contains(&y)
        });
        let boxes = extract_boxes(&identity_map(200, 100, data), &DbParams::default()).expect("valid");
        assert_eq!(boxes.len(), 1, "{boxes:?}");
        let b = boxes[0];
        let [l, t, r, bt] = expected_rect(40.0, 30.0, 120.0, 50.0, 1.6);
        let [tl, tr, br, bl] = b.corners;
        assert!(
            close(tl, l, t, 1.0) && close(tr, r, t, 1.0) && close(br, r, bt, 1.0) && close(bl, l, bt, 1.0),
            "{b:?}"
        );
        assert!(b.angle_deg.abs() < 0.5 && (b.score - 0.9).abs() < 1e-3, "{b:?}");
        assert!((b.width_px - (r - l)).abs() < 1.0 && (b.height_px - (bt - t)).abs() < 1.0);
    }

    fn rotated_case(angle_deg: f64) {
        let (cx, cy, hw, hh) = (120.3, 80.7, 50.0, 12.0);
        let (s, c) = angle_deg.to_radians().sin_cos();
        let data = draw(240, 160, 0.8, |x, y| {
            let (dx, dy) = (x - cx, y - cy);
            (dx * c + dy * s).abs() <= hw && (-dx * s + dy * c).abs() <= hh
        });
        let boxes = extract_boxes(&identity_map(240, 160, data), &DbParams::default()).expect("valid");
        assert_eq!(boxes.len(), 1, "{boxes:?}");
        let b = boxes[0];
        assert!(
            (b.angle_deg as f64 - angle_deg).abs() < 1.5,
            "angle {} for {angle_deg}",
            b.angle_deg
        );
        // Each corner sits in its own quadrant of the rectangle's frame (pixel centres are at
        // +0.5 in continuous coordinates).
        let signs = [(-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0)];
        for (p, (su, sv)) in b.corners.iter().zip(signs) {
            let (dx, dy) = (p.x as f64 - cx - 0.5, p.y as f64 - cy - 0.5);
            let (along, across) = (dx * c + dy * s, -dx * s + dy * c);
            assert!(
                along * su > hw && across * sv > hh,
                "corner {p:?} of {b:?} is in the wrong place"
            );
        }
        // The unclip offset for the ~100×24 kernel is about 15.5 px per side.
        let d = (2.0 * hw) * (2.0 * hh) * 1.6 / (2.0 * (2.0 * hw + 2.0 * hh));
        assert!((b.width_px as f64 - (2.0 * hw + 2.0 * d)).abs() < 2.5, "{b:?}");
        assert!((b.height_px as f64 - (2.0 * hh + 2.0 * d)).abs() < 2.5, "{b:?}");
    }

    #[test]
    fn rotated_rectangle_gives_its_angle_and_ordered_corners() {
        rotated_case(20.0);
        rotated_case(-20.0);
        rotated_case(7.0);
        rotated_case(35.0);
    }

    #[test]
    fn two_blobs_give_two_boxes_in_reading_order() {
        // Lower blob first in scan order would be wrong; a left/right pair on one line.
        let data = draw(200, 120, 0.9, |x, y| {
            ((120.0..180.0).contains(&x) && (10.0..30.0).contains(&y))
                || ((20.0..80.0).contains(&x) && (14.0..34.0).contains(&y))
                || ((60.0..140.0).contains(&x) && (70.0..100.0).contains(&y))
        });
        let boxes = extract_boxes(&identity_map(200, 120, data), &DbParams::default()).expect("valid");
        assert_eq!(boxes.len(), 3, "{boxes:?}");
        let centres: Vec<(f32, f32)> = boxes
            .iter()
            .map(|b| (b.bounds().center().x, b.bounds().center().y))
            .collect();
        // Same line (tops 4 px apart): left before right even though the right one is higher.
        assert!(
            centres[0].0 < 60.0 && centres[1].0 > 140.0 && centres[2].1 > 80.0,
            "{centres:?}"
        );
    }

    #[test]
    fn empty_and_degenerate_maps_give_no_boxes() {
        let p = DbParams::default();
        assert!(
            extract_boxes(&identity_map(64, 32, vec![0.0; 64 * 32]), &p)
                .expect("valid")
                .is_empty()
        );
        assert!(boxes_in_map(0, 0, &[], &p).expect("valid").is_empty());
        assert!(
            boxes_in_map(4, 4, &[0.5; 15], &p)
                .expect_err("short")
                .contains("16")
        );
        let bad = DbParams {
            thresh: f32::NAN,
            ..Default::default()
        };
        assert!(boxes_in_map(4, 4, &[0.5; 16], &bad).is_err());
    }

    #[test]
    fn nan_values_do_not_panic_or_leak_into_scores() {
        let mut data = draw(100, 60, 0.9, |x, y| {
            (10.0..70.0).contains(&x) && (20.0..40.0).contains(&y)
        });
        for (i, v) in data.iter_mut().enumerate() {
            if i % 7 == 0 {
                *v = f32::NAN;
            } else if i % 31 == 0 {
                *v = f32::INFINITY;
            }
        }
        for score_mode in [ScoreMode::Box, ScoreMode::Component] {
            let p = DbParams {
                score_mode,
                box_thresh: 0.0,
                ..Default::default()
            };
            let boxes = extract_boxes(&identity_map(100, 60, data.clone()), &p).expect("valid");
            assert!(
                boxes
                    .iter()
                    .all(|b| b.score.is_finite() && b.corners.iter().all(|c| c.x.is_finite())),
                "{boxes:?}"
            );
        }
        let all_nan = identity_map(30, 20, vec![f32::NAN; 600]);
        assert!(
            extract_boxes(&all_nan, &DbParams::default())
                .expect("valid")
                .is_empty()
        );
    }

    #[test]
    fn speckles_are_removed_and_a_real_blob_survives() {
        let data = draw(120, 80, 1.0, |x, y| {
            let speck = ((x as u32).is_multiple_of(13) && (y as u32).is_multiple_of(11)) // single pixels
                || ((50.0..52.0).contains(&x) && (5.0..7.0).contains(&y)) // 2×2
                || ((100.0..103.0).contains(&x) && (5.0..8.0).contains(&y)); // 3×3
            speck || ((30.0..40.0).contains(&x) && (50.0..56.0).contains(&y))
        });
        let boxes = extract_boxes(&identity_map(120, 80, data), &DbParams::default()).expect("valid");
        assert_eq!(boxes.len(), 1, "{boxes:?}");
        assert!(
            boxes[0]
                .bounds()
                .contains_box(&BoxPx::new(30.0, 50.0, 40.0, 56.0))
        );
    }

    #[test]
    fn box_thresh_drops_faint_blobs() {
        let data = draw(80, 40, 0.4, |x, y| {
            (10.0..60.0).contains(&x) && (10.0..25.0).contains(&y)
        });
        let map = identity_map(80, 40, data);
        assert!(
            extract_boxes(&map, &DbParams::default())
                .expect("valid")
                .is_empty()
        );
        let lax = DbParams {
            box_thresh: 0.35,
            ..Default::default()
        };
        assert_eq!(extract_boxes(&map, &lax).expect("valid").len(), 1);
    }

    #[test]
    fn box_score_counts_background_inside_the_rectangle_component_score_does_not() {
        // An L shape: its rectangle is half background.
        let data = draw(100, 100, 0.9, |x, y| {
            ((10.0..70.0).contains(&x) && (10.0..20.0).contains(&y))
                || ((10.0..20.0).contains(&x) && (10.0..70.0).contains(&y))
        });
        let score = |score_mode| {
            let p = DbParams {
                score_mode,
                box_thresh: 0.0,
                ..Default::default()
            };
            extract_boxes(&identity_map(100, 100, data.clone()), &p).expect("valid")[0].score
        };
        let (fast, exact) = (score(ScoreMode::Box), score(ScoreMode::Component));
        assert!(
            (exact - 0.9).abs() < 1e-4 && fast < 0.6,
            "box {fast}, component {exact}"
        );
    }

    #[test]
    fn dilation_joins_blobs_split_by_a_one_pixel_gap() {
        let data = draw(100, 40, 0.9, |x, y| {
            (10.0..90.0).contains(&x) && x != 50.0 && (10.0..25.0).contains(&y)
        });
        let map = identity_map(100, 40, data);
        assert_eq!(extract_boxes(&map, &DbParams::default()).expect("valid").len(), 2);
        let p = DbParams {
            dilate: true,
            ..Default::default()
        };
        assert_eq!(extract_boxes(&map, &p).expect("valid").len(), 1);
    }

    #[test]
    fn candidate_cap_keeps_the_largest_components() {
        // Six blobs along x, the k-th one k+4 pixels wide.
        let data = draw(240, 30, 0.9, |x, y| {
            (0..6).any(|k| {
                let x0 = 5.0 + 40.0 * k as f64;
                (x0..x0 + 4.0 + k as f64).contains(&x)
            }) && (10.0..18.0).contains(&y)
        });
        let p = DbParams {
            max_candidates: 3,
            ..Default::default()
        };
        let boxes = extract_boxes(&identity_map(240, 30, data), &p).expect("valid");
        assert_eq!(boxes.len(), 3);
        assert!(boxes.iter().all(|b| b.bounds().center().x > 120.0), "{boxes:?}");
    }

    #[test]
    fn boxes_are_mapped_through_the_letterbox() {
        let lb = Letterbox::new(1280, 720, 640, 352, Placement::TopLeft).expect("sizes");
        let data = draw(640, 352, 0.9, |x, y| {
            (100.0..200.0).contains(&x) && (100.0..130.0).contains(&y)
        });
        let map = ProbMap {
            width: 640,
            height: 352,
            data,
            placement: lb,
        };
        let boxes = extract_boxes(&map, &DbParams::default()).expect("valid");
        assert_eq!(boxes.len(), 1);
        let [l, t, r, b] = expected_rect(100.0, 100.0, 200.0, 130.0, 1.6);
        let want = lb.to_source(BoxPx::new(l, t, r, b));
        let got = boxes[0].bounds();
        let tol = 1280.0 / lb.resized_w as f32;
        assert!(
            (got.x1 - want.x1).abs() < tol
                && (got.y2 - want.y2).abs() < tol
                && (got.x2 - want.x2).abs() < tol,
            "{got:?} vs {want:?}"
        );
    }

    /// Brute force: the best rectangle over every hull edge direction.
    fn brute_min_area(hull: &[(i32, i32)]) -> f64 {
        let n = hull.len();
        (0..n)
            .map(|i| {
                let (a, b) = (hull[i], hull[(i + 1) % n]);
                let (ex, ey) = ((b.0 - a.0) as f64, (b.1 - a.1) as f64);
                let len = ex.hypot(ey);
                let (ex, ey) = (ex / len, ey / len);
                let (mut lo, mut hi, mut lo2, mut hi2) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
                for &(x, y) in hull {
                    let (px, py) = (x as f64, y as f64);
                    lo = lo.min(px * ex + py * ey);
                    hi = hi.max(px * ex + py * ey);
                    lo2 = lo2.min(-px * ey + py * ex);
                    hi2 = hi2.max(-px * ey + py * ex);
                }
                (hi - lo) * (hi2 - lo2)
            })
            .fold(f64::MAX, f64::min)
    }

    proptest! {
        /// Calipers find the same minimum as trying every edge, and the rectangle holds every point.
        #[test]
        fn calipers_match_brute_force(pts in prop::collection::vec((0i32..60, 0i32..60), 3..40)) {
            let mut work = pts.clone();
            let hull = convex_hull(&mut work);
            prop_assume!(hull.len() >= 3);
            let rect = min_area_rect(&hull).expect("hull");
            prop_assert!((rect.area() - brute_min_area(&hull)).abs() < 1e-6 * (1.0 + rect.area()), "{} vs {}", rect.area(), brute_min_area(&hull));
            for &(x, y) in &pts {
                prop_assert!(rect.contains(x as f64, y as f64, 1e-6), "({x},{y}) outside {rect:?}");
            }
        }

        /// Any filled axis-aligned rectangle gives one box that holds it, grown by the unclip
        /// offset and no more.
        #[test]
        fn axis_aligned_rectangles_are_contained_with_expected_area(
            x1 in 0u32..120, y1 in 0u32..60, w in 5u32..60, h in 5u32..30, p in 0.55f32..1.0,
        ) {
            let (x2, y2) = ((x1 + w).min(159), (y1 + h).min(95));
            prop_assume!(x2 - x1 >= 5 && y2 - y1 >= 5);
            let (fx1, fy1, fx2, fy2) = (x1 as f64, y1 as f64, x2 as f64, y2 as f64);
            let data = draw(160, 96, p, |x, y| (fx1..fx2).contains(&x) && (fy1..fy2).contains(&y));
            let boxes = extract_boxes(&identity_map(160, 96, data), &DbParams::default()).expect("valid");
            prop_assert_eq!(boxes.len(), 1);
            let b = boxes[0];
            let rect = BoxPx::new(x1 as f32, y1 as f32, x2 as f32, y2 as f32);
            let bounds = b.bounds();
            prop_assert!(bounds.contains_box(&rect), "{bounds:?} does not hold {rect:?}");
            // Expected size, clipped to the map like the box is.
            let [l, t, r, bt] = expected_rect(rect.x1, rect.y1, rect.x2, rect.y2, 1.6);
            let want = BoxPx::new(l, t, r, bt).clip(160, 96);
            prop_assert!((bounds.area() - want.area()).abs() <= want.width() + want.height() + 2.0, "{bounds:?} vs {want:?}");
        }

        /// The point mapping agrees with the existing box mapping.
        #[test]
        fn point_mapping_matches_letterbox_to_source(
            src_w in 16u32..2000, src_h in 16u32..2000, center in any::<bool>(), x in 0.0f32..640.0, y in 0.0f32..640.0,
        ) {
            let lb = Letterbox::new(src_w, src_h, 640, 640, if center { Placement::Center } else { Placement::TopLeft }).expect("sizes");
            let want = lb.to_source(BoxPx::new(x, y, x, y));
            let got = point_to_source(&lb, PointPx { x, y });
            prop_assert!((got.x - want.x1).abs() < 1e-3 && (got.y - want.y1).abs() < 1e-3);
        }
    }
}
