//! Slant correction of rectified strips.
//!
//! The DB detector returns a *rotated rectangle* (minimum-area box). A plate seen from the side
//! is a parallelogram in the image: its top and bottom edges tilt, its sides stay near
//! vertical. Warping the rectangle levels the text line but leaves the characters sheared, and
//! the rectangle's ends cut into the first and last characters — the recogniser then misreads
//! exactly the province character it needs most.
//!
//! The classic remedy from document OCR: find the shear `k` that makes the vertical strokes
//! vertical, measured as the sharpest vertical projection profile of horizontal gradients
//! (strokes line up into tall, narrow peaks when the shear is right), then warp the source
//! again through the sheared quad. Everything here is pure.

use vigil_core::PointPx;
use vigil_infer::warp::{Homography, Strip};

/// Shears tried, as horizontal pixels per pixel of height, both directions.
pub const MAX_SLANT: f32 = 0.7;
/// Step between tried shears.
const SLANT_STEP: f32 = 0.02;

/// The shear `k` (x offset per row, positive = strokes lean right going down) that best aligns
/// the vertical strokes of `strip`, in `[-MAX_SLANT, MAX_SLANT]`; 0 for strips too small to
/// tell.
pub fn estimate_slant(strip: &Strip) -> f32 {
    let (w, h) = (strip.width as usize, strip.height as usize);
    if w < 8 || h < 6 || strip.data.len() < w * h * 3 {
        return 0.0;
    }
    let grey: Vec<f32> = strip
        .data
        .chunks_exact(3)
        .map(|p| (p[0] as f32 + p[1] as f32 + p[2] as f32) / 3.0)
        .collect();
    // Horizontal gradient magnitude: high on vertical strokes, zero on horizontal ones. The
    // top and bottom 10 % are skipped (plate frame, rivets, neighbouring text).
    let (y0, y1) = (h / 10, h - h / 10);
    let mut pts: Vec<(f32, f32, f32)> = Vec::with_capacity((y1 - y0) * w);
    let mid = h as f32 / 2.0;
    for y in y0..y1 {
        let row = &grey[y * w..(y + 1) * w];
        for x in 0..w - 1 {
            let g = (row[x + 1] - row[x]).abs();
            if g > 8.0 {
                pts.push((x as f32 + 0.5, y as f32 - mid, g));
            }
        }
    }
    if pts.is_empty() {
        return 0.0;
    }
    let pad = (MAX_SLANT * mid).ceil() as usize + 1;
    let mut bins = vec![0f32; w + 2 * pad];
    let steps = (MAX_SLANT / SLANT_STEP).round() as i32;
    let mut best = (f32::NEG_INFINITY, 0.0f32);
    for i in -steps..=steps {
        let k = i as f32 * SLANT_STEP;
        bins.fill(0.0);
        for &(x, dy, g) in &pts {
            let b = (x - k * dy).round() as isize + pad as isize;
            if let Some(v) = usize::try_from(b).ok().and_then(|b| bins.get_mut(b)) {
                *v += g;
            }
        }
        let score: f32 = bins.iter().map(|v| v * v).sum();
        // Prefer the smaller shear on ties, so an unslanted strip stays at exactly 0.
        if score > best.0 * 1.0001 || (score >= best.0 && k.abs() < best.1.abs()) {
            best = (score, k);
        }
    }
    best.1
}

/// The source quad whose rectification removes shear `k` from the strip that `quad` (source
/// pixels, top-left first) produced at `strip_w`×`strip_h`: its sides follow the slanted
/// strokes, and it is widened so the ends of the line are kept. `None` when the quad is
/// degenerate.
pub fn sheared_quad(quad: [PointPx; 4], strip_w: u32, strip_h: u32, k: f32) -> Option<[PointPx; 4]> {
    let (w, h) = (strip_w as f64, strip_h as f64);
    let to = quad.map(|p| (p.x as f64, p.y as f64));
    let hm = Homography::from_points([(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)], to).ok()?;
    let k = k as f64;
    let half = h / 2.0;
    // In strip coordinates a stroke is x = c + k (y − h/2). The new quad's left side is the
    // stroke through the strip's left edge at whichever end reaches further out, and likewise
    // on the right, so nothing of the line is cut.
    let reach = k.abs() * half;
    let strip_pts = [
        (-reach - k * half, 0.0),
        (w + reach - k * half, 0.0),
        (w + reach + k * half, h),
        (-reach + k * half, h),
    ];
    let mut out = [PointPx { x: 0.0, y: 0.0 }; 4];
    for (o, (x, y)) in out.iter_mut().zip(strip_pts) {
        let (sx, sy) = hm.apply(x, y)?;
        *o = PointPx {
            x: sx as f32,
            y: sy as f32,
        };
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_core::model::ColorOrder;

    /// A light strip with dark vertical bars sheared by `k` (x shifts by k per row below the
    /// middle).
    fn bars(w: u32, h: u32, k: f32) -> Strip {
        let mut data = Vec::with_capacity((w * h * 3) as usize);
        for y in 0..h {
            for x in 0..w {
                let xs = x as f32 + 0.5 - k * (y as f32 - h as f32 / 2.0);
                let dark = xs.rem_euclid(16.0) < 4.0;
                let v = if dark { 30 } else { 220 };
                data.extend_from_slice(&[v, v, v]);
            }
        }
        Strip {
            width: w,
            height: h,
            color: ColorOrder::Rgb,
            data,
        }
    }

    #[test]
    fn slant_of_sheared_bars_is_found() {
        for k in [-0.4f32, -0.2, 0.0, 0.25, 0.5] {
            let got = estimate_slant(&bars(160, 40, k));
            assert!((got - k).abs() <= 0.041, "drawn with {k}, estimated {got}");
        }
    }

    #[test]
    fn flat_strips_have_no_slant() {
        let flat = Strip {
            width: 50,
            height: 20,
            color: ColorOrder::Rgb,
            data: vec![128; 50 * 20 * 3],
        };
        assert_eq!(estimate_slant(&flat), 0.0);
        let tiny = Strip {
            width: 4,
            height: 4,
            color: ColorOrder::Rgb,
            data: vec![0; 48],
        };
        assert_eq!(estimate_slant(&tiny), 0.0);
    }

    #[test]
    fn sheared_quad_of_an_axis_aligned_quad_is_a_parallelogram() {
        let p = |x: f32, y: f32| PointPx { x, y };
        // Strip 100×20 taken 1:1 from the rectangle (10,10)-(110,30).
        let q = [p(10.0, 10.0), p(110.0, 10.0), p(110.0, 30.0), p(10.0, 30.0)];
        let s = sheared_quad(q, 100, 20, 0.5).expect("solvable");
        let close = |a: PointPx, x: f32, y: f32| (a.x - x).abs() < 1e-3 && (a.y - y).abs() < 1e-3;
        // reach = 5: the sides lean right going down by 10 px over 20 rows.
        assert!(close(s[0], 0.0, 10.0), "{s:?}");
        assert!(close(s[1], 110.0, 10.0), "{s:?}");
        assert!(close(s[2], 120.0, 30.0), "{s:?}");
        assert!(close(s[3], 10.0, 30.0), "{s:?}");
        let same = sheared_quad(q, 100, 20, 0.0).expect("solvable");
        assert!(same.iter().zip(&q).all(|(a, b)| close(*a, b.x, b.y)), "{same:?}");
    }
}
