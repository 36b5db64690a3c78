//! Perspective rectification: a text quadrilateral in a frame → an upright, packed RGB strip for
//! the recogniser.
//!
//! As PaddleOCR's `get_rotate_crop_image`: the strip is as wide as the longer horizontal edge and
//! as tall as the longer vertical edge, filled through the homography from the strip rectangle to
//! the quad, and turned 90° when it comes out tall (text running vertically). Differences: the
//! sampling is bilinear (PaddleOCR uses bicubic; at plate sizes the recogniser cannot tell), and
//! pixel centres are mapped (`i + 0.5`), so an identity quad reproduces the image exactly.
//!
//! The homography is solved from the four correspondences as an 8×8 linear system by Gaussian
//! elimination with partial pivoting. Quads that are not a proper convex quadrilateral in
//! top-left, top-right, bottom-right, bottom-left order are rejected before solving, because the
//! solver alone would happily return a singular or sign-flipping map for them.

use crate::letterbox::Rgb8View;
use vigil_core::PointPx;
use vigil_core::model::ColorOrder;

/// Largest strip side accepted, in pixels; a larger request is a caller bug, not a plate.
pub const MAX_OUT_SIDE: u32 = 4096;

/// A 3×3 projective map, row-major, with the last entry fixed to 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Homography(pub [f64; 9]);

impl Homography {
    /// The homography taking each `from[i]` to `to[i]`.
    pub fn from_points(from: [(f64, f64); 4], to: [(f64, f64); 4]) -> Result<Self, String> {
        // x' = (h0 x + h1 y + h2) / (h6 x + h7 y + 1), y' likewise with h3..h5.
        let mut a = [[0f64; 9]; 8];
        for (i, (&(x, y), &(xp, yp))) in from.iter().zip(&to).enumerate() {
            a[2 * i] = [x, y, 1.0, 0.0, 0.0, 0.0, -x * xp, -y * xp, xp];
            a[2 * i + 1] = [0.0, 0.0, 0.0, x, y, 1.0, -x * yp, -y * yp, yp];
        }
        let h = solve8(a)?;
        let m = [h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], 1.0];
        let det = m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6])
            + m[2] * (m[3] * m[7] - m[4] * m[6]);
        if !det.is_finite() || det.abs() < 1e-12 {
            return Err(format!("homography is singular (det {det:e})"));
        }
        Ok(Self(m))
    }

    /// Maps a point; `None` where it goes to infinity.
    pub fn apply(&self, x: f64, y: f64) -> Option<(f64, f64)> {
        let h = &self.0;
        let w = h[6] * x + h[7] * y + h[8];
        if w.abs() < 1e-12 {
            return None;
        }
        Some(((h[0] * x + h[1] * y + h[2]) / w, (h[3] * x + h[4] * y + h[5]) / w))
    }
}

/// Solves the 8×8 system whose augmented matrix is `a` (last column = right-hand side).
fn solve8(mut a: [[f64; 9]; 8]) -> Result<[f64; 8], String> {
    // Pivots are compared with the matrix's own scale so the test is unit-free.
    let scale = a
        .iter()
        .flat_map(|r| r[..8].iter())
        .fold(0f64, |m, v| m.max(v.abs()));
    if !scale.is_finite() || scale == 0.0 {
        return Err("homography system has no finite, non-zero coefficients".into());
    }
    for col in 0..8 {
        let pivot = (col..8)
            .max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))
            .unwrap_or(col);
        if a[pivot][col].abs() <= 1e-12 * scale {
            return Err(format!("homography system is singular at column {col}"));
        }
        a.swap(col, pivot);
        let pivot_row = a[col];
        for row in a.iter_mut().skip(col + 1) {
            let f = row[col] / pivot_row[col];
            if f != 0.0 {
                for (v, p) in row.iter_mut().zip(pivot_row).skip(col) {
                    *v -= f * p;
                }
            }
        }
    }
    let mut x = [0f64; 8];
    for row in (0..8).rev() {
        let s: f64 = (row + 1..8).map(|k| a[row][k] * x[k]).sum();
        x[row] = (a[row][8] - s) / a[row][row];
    }
    if x.iter().all(|v| v.is_finite()) {
        Ok(x)
    } else {
        Err("homography solution is not finite".into())
    }
}

fn pt(p: PointPx) -> (f64, f64) {
    (p.x as f64, p.y as f64)
}

fn dist(a: PointPx, b: PointPx) -> f32 {
    (a.x - b.x).hypot(a.y - b.y)
}

/// Checks that corners form a convex quadrilateral ordered top-left, top-right, bottom-right,
/// bottom-left (clockwise on screen), with no three corners (nearly) collinear.
pub fn check_quad(corners: &[PointPx; 4]) -> Result<(), String> {
    if corners.iter().any(|p| !(p.x.is_finite() && p.y.is_finite())) {
        return Err(format!("quad has a non-finite corner: {corners:?}"));
    }
    let p = corners.map(pt);
    let longest = (0..4)
        .map(|i| dist(corners[i], corners[(i + 1) % 4]) as f64)
        .fold(0.0, f64::max);
    // Twice a corner triangle's area, relative to the longest side squared: a sliver this thin
    // means three corners are collinear.
    let min_cross = 1e-4 * longest * longest;
    for i in 0..4 {
        let (a, b, c) = (p[i], p[(i + 1) % 4], p[(i + 2) % 4]);
        let cross = (b.0 - a.0) * (c.1 - b.1) - (b.1 - a.1) * (c.0 - b.0);
        if cross.abs() <= min_cross || longest == 0.0 {
            return Err(format!(
                "quad is degenerate (corners {i}..{} are collinear): {corners:?}",
                i + 2
            ));
        }
        if cross < 0.0 {
            return Err(format!(
                "quad is not convex or not in top-left, top-right, bottom-right, bottom-left order: {corners:?}"
            ));
        }
    }
    Ok(())
}

/// Warps the quad `corners` (source pixels, top-left, top-right, bottom-right, bottom-left) of
/// `img` onto an `out_w`×`out_h` strip: packed rows, 3 bytes per pixel, in `img`'s channel
/// order. Samples bilinearly; points outside the image take the nearest edge pixel.
pub fn warp_quad(
    img: Rgb8View<'_>,
    corners: [PointPx; 4],
    out_w: u32,
    out_h: u32,
) -> Result<Vec<u8>, String> {
    img.validate()?;
    if !(1..=MAX_OUT_SIDE).contains(&out_w) || !(1..=MAX_OUT_SIDE).contains(&out_h) {
        return Err(format!(
            "strip size {out_w}×{out_h} is outside 1..={MAX_OUT_SIDE}"
        ));
    }
    check_quad(&corners)?;
    let (w, h) = (out_w as f64, out_h as f64);
    let hm = Homography::from_points([(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)], corners.map(pt))?;
    let m = hm.0;
    let (iw, ih) = (img.width as usize, img.height as usize);
    let (max_x, max_y) = ((iw - 1) as f64, (ih - 1) as f64);
    let row_len = out_w as usize * 3;
    let mut out = vec![0u8; row_len * out_h as usize];
    for (j, out_row) in out.chunks_exact_mut(row_len).enumerate() {
        let v = j as f64 + 0.5;
        // Numerators and denominator are linear in u, so step them along the row.
        let (mut nx, mut ny, mut nw) = (
            m[0] * 0.5 + m[1] * v + m[2],
            m[3] * 0.5 + m[4] * v + m[5],
            m[6] * 0.5 + m[7] * v + m[8],
        );
        for dst in out_row.chunks_exact_mut(3) {
            // A convex, correctly ordered quad keeps nw > 0 inside the strip; the clamps defend
            // against rounding at the edges.
            let inv = if nw.abs() > 1e-12 { 1.0 / nw } else { 0.0 };
            let (x, y) = (nx * inv - 0.5, ny * inv - 0.5);
            let x = if x.is_finite() { x.clamp(0.0, max_x) } else { 0.0 };
            let y = if y.is_finite() { y.clamp(0.0, max_y) } else { 0.0 };
            let (x0, y0) = (x as usize, y as usize);
            let (x1, y1) = ((x0 + 1).min(iw - 1), (y0 + 1).min(ih - 1));
            let (ax, ay) = ((x - x0 as f64) as f32, (y - y0 as f64) as f32);
            let (r0, r1) = (y0 * img.stride, y1 * img.stride);
            let (p00, p01) = (&img.data[r0 + x0 * 3..][..3], &img.data[r0 + x1 * 3..][..3]);
            let (p10, p11) = (&img.data[r1 + x0 * 3..][..3], &img.data[r1 + x1 * 3..][..3]);
            for c in 0..3 {
                let top = p00[c] as f32 + (p01[c] as f32 - p00[c] as f32) * ax;
                let bottom = p10[c] as f32 + (p11[c] as f32 - p10[c] as f32) * ax;
                dst[c] = (top + (bottom - top) * ay + 0.5).clamp(0.0, 255.0) as u8;
            }
            nx += m[0];
            ny += m[3];
            nw += m[6];
        }
    }
    Ok(out)
}

/// Strip size for a quad, as PaddleOCR: the longer horizontal edge by the longer vertical edge,
/// truncated to whole pixels, at least 1 and at most [`MAX_OUT_SIDE`].
pub fn crop_size(corners: &[PointPx; 4]) -> (u32, u32) {
    let [tl, tr, br, bl] = *corners;
    let w = dist(tl, tr).max(dist(bl, br));
    let h = dist(tl, bl).max(dist(tr, br));
    let side = |v: f32| {
        if v.is_finite() {
            (v as u32).clamp(1, MAX_OUT_SIDE)
        } else {
            1
        }
    };
    (side(w), side(h))
}

/// Grows a quad by `dx_frac` of its width on the left and on the right and `dy_frac` of its
/// height at the top and at the bottom, along its own edges (negative values shrink it).
pub fn expand_quad(corners: [PointPx; 4], dx_frac: f32, dy_frac: f32) -> [PointPx; 4] {
    let [tl, tr, br, bl] = corners;
    let lerp = |p: PointPx, from: PointPx, to: PointPx, f: f32| PointPx {
        x: p.x + (to.x - from.x) * f,
        y: p.y + (to.y - from.y) * f,
    };
    // Each corner moves outward along the two edges that meet there.
    let tl2 = lerp(lerp(tl, tr, tl, dx_frac), bl, tl, dy_frac);
    let tr2 = lerp(lerp(tr, tl, tr, dx_frac), br, tr, dy_frac);
    let br2 = lerp(lerp(br, bl, br, dx_frac), tr, br, dy_frac);
    let bl2 = lerp(lerp(bl, br, bl, dx_frac), tl, bl, dy_frac);
    [tl2, tr2, br2, bl2]
}

/// Rotates a packed 3-byte-per-pixel image 90° counter-clockwise (as `numpy.rot90`): the top row
/// becomes the left column. Returns the rotated bytes; the size becomes `height × width`.
pub fn rotate90_ccw(data: &[u8], width: u32, height: u32) -> Vec<u8> {
    let (w, h) = (width as usize, height as usize);
    let mut out = Vec::with_capacity(w * h * 3);
    for i in 0..w {
        // New row i is old column w-1-i, read top to bottom.
        for j in 0..h {
            let s = (j * w + (w - 1 - i)) * 3;
            out.extend_from_slice(data.get(s..s + 3).unwrap_or(&[0, 0, 0]));
        }
    }
    out
}

/// An owned, packed 3-channel image: a rectified text strip.
#[derive(Debug, Clone, PartialEq)]
pub struct Strip {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Channel order (that of the source image).
    pub color: ColorOrder,
    /// Packed rows, `width × height × 3` bytes.
    pub data: Vec<u8>,
}

impl Strip {
    /// Borrows the strip as an image view (e.g. for `TextRecognizer::recognize`).
    pub fn view(&self) -> Rgb8View<'_> {
        Rgb8View {
            width: self.width,
            height: self.height,
            stride: self.width as usize * 3,
            color: self.color,
            data: &self.data,
        }
    }
}

/// Rectifies a text quad into an upright strip sized by [`crop_size`]; a strip at least 1.5×
/// taller than wide is turned 90° counter-clockwise, as PaddleOCR does.
pub fn rectify(img: Rgb8View<'_>, corners: [PointPx; 4]) -> Result<Strip, String> {
    let (w, h) = crop_size(&corners);
    let data = warp_quad(img, corners, w, h)?;
    if h as f32 / w as f32 >= 1.5 {
        Ok(Strip {
            width: h,
            height: w,
            color: img.color,
            data: rotate90_ccw(&data, w, h),
        })
    } else {
        Ok(Strip {
            width: w,
            height: h,
            color: img.color,
            data,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(x: f32, y: f32) -> PointPx {
        PointPx { x, y }
    }

    fn rect(x1: f32, y1: f32, x2: f32, y2: f32) -> [PointPx; 4] {
        [p(x1, y1), p(x2, y1), p(x2, y2), p(x1, y2)]
    }

    fn view(w: u32, h: u32, data: &[u8]) -> Rgb8View<'_> {
        Rgb8View {
            width: w,
            height: h,
            stride: w as usize * 3,
            color: ColorOrder::Rgb,
            data,
        }
    }

    fn noise(n: usize) -> Vec<u8> {
        (0..n)
            .map(|i| ((i * 7919 + i / 3 * 104_729) % 251) as u8)
            .collect()
    }

    #[test]
    fn identity_quad_reproduces_the_image_even_with_padded_rows() {
        let (w, h, stride) = (37u32, 23u32, 37 * 3 + 5);
        let data = noise(stride * h as usize);
        let img = Rgb8View {
            width: w,
            height: h,
            stride,
            color: ColorOrder::Bgr,
            data: &data,
        };
        let out = warp_quad(img, rect(0.0, 0.0, w as f32, h as f32), w, h).expect("warp");
        let packed: Vec<u8> = data
            .chunks(stride)
            .flat_map(|r| r[..w as usize * 3].to_vec())
            .collect();
        assert_eq!(out, packed);
        // An integer sub-rectangle is an exact crop.
        let out = warp_quad(img, rect(10.0, 5.0, 30.0, 15.0), 20, 10).expect("warp");
        let crop: Vec<u8> = (5..15)
            .flat_map(|y| data[y * stride + 30..y * stride + 90].to_vec())
            .collect();
        assert_eq!(out, crop);
    }

    const PLATE_W: u32 = 200;
    const PLATE_H: u32 = 60;
    /// Bar colours and their left edges on the synthetic plate (12 px wide each).
    const BARS: [([u8; 3], u32); 4] = [
        ([230, 30, 30], 30),
        ([30, 220, 40], 72),
        ([40, 60, 235], 114),
        ([240, 220, 20], 156),
    ];

    /// A light plate with a dark body and four coloured vertical bars.
    fn plate() -> Vec<u8> {
        let mut img = Vec::with_capacity((PLATE_W * PLATE_H * 3) as usize);
        for y in 0..PLATE_H {
            for x in 0..PLATE_W {
                let body = (8..192).contains(&x) && (8..52).contains(&y);
                let bar = BARS
                    .iter()
                    .find(|(_, x0)| (*x0..x0 + 12).contains(&x) && (14..46).contains(&y));
                img.extend_from_slice(&match (bar, body) {
                    (Some((c, _)), _) => *c,
                    (None, true) => [30, 30, 50],
                    (None, false) => [225, 225, 225],
                });
            }
        }
        img
    }

    /// Renders the plate scaled by `s` and rotated by `deg` about the centre of a 420×320 grey
    /// canvas (own forward similarity, nearest sampling); returns the canvas and the plate corners.
    fn rotated_plate(deg: f64, s: f64) -> (Vec<u8>, [PointPx; 4]) {
        let (cw, ch) = (420u32, 320u32);
        let (c, r) = ((cw as f64 / 2.0, ch as f64 / 2.0), deg.to_radians());
        let (sn, cs) = r.sin_cos();
        let (pw, ph) = (PLATE_W as f64, PLATE_H as f64);
        let fwd = |u: f64, v: f64| {
            let (du, dv) = ((u - pw / 2.0) * s, (v - ph / 2.0) * s);
            (c.0 + du * cs - dv * sn, c.1 + du * sn + dv * cs)
        };
        let src = plate();
        let mut out = Vec::with_capacity((cw * ch * 3) as usize);
        for y in 0..ch {
            for x in 0..cw {
                let (dx, dy) = (x as f64 + 0.5 - c.0, y as f64 + 0.5 - c.1);
                let (u, v) = (
                    (dx * cs + dy * sn) / s + pw / 2.0,
                    (-dx * sn + dy * cs) / s + ph / 2.0,
                );
                if (0.0..pw).contains(&u) && (0.0..ph).contains(&v) {
                    let i = ((v as u32 * PLATE_W + u as u32) * 3) as usize;
                    out.extend_from_slice(&src[i..i + 3]);
                } else {
                    out.extend_from_slice(&[128, 128, 128]);
                }
            }
        }
        let corners = [(0.0, 0.0), (pw, 0.0), (pw, ph), (0.0, ph)].map(|(u, v)| {
            let (x, y) = fwd(u, v);
            p(x as f32, y as f32)
        });
        (out, corners)
    }

    /// Columns whose mean over the bar rows is closest to `colour`, as (first, last).
    fn bar_columns(strip: &[u8], w: usize, colour: [u8; 3]) -> (usize, usize) {
        let cols: Vec<bool> = (0..w)
            .map(|x| {
                let mut d = 0.0;
                for y in 18..42 {
                    let i = (y * w + x) * 3;
                    d += (0..3)
                        .map(|c| (strip[i + c] as f32 - colour[c] as f32).abs())
                        .sum::<f32>();
                }
                d / 24.0 < 60.0
            })
            .collect();
        let first = cols.iter().position(|&b| b).unwrap_or(usize::MAX);
        let last = cols.iter().rposition(|&b| b).unwrap_or(0);
        (first, last)
    }

    #[test]
    fn rotated_synthetic_plates_come_back_with_bars_in_place() {
        let reference = plate();
        for (deg, scale) in [(-25.0, 1.0), (-8.0, 1.3), (12.0, 0.8), (30.0, 1.1)] {
            let (canvas, corners) = rotated_plate(deg, scale);
            let strip = rectify(view(420, 320, &canvas), corners).expect("rectify");
            // PaddleOCR sizing: edge lengths of the scaled plate, truncated (so maybe 1 px short).
            let (want_w, want_h) = ((200.0 * scale).round() as u32, (60.0 * scale).round() as u32);
            assert!(
                want_w - strip.width <= 1 && want_h - strip.height <= 1,
                "at {deg}°: strip {}×{}, plate {want_w}×{want_h}",
                strip.width,
                strip.height
            );
            let fixed = warp_quad(view(420, 320, &canvas), corners, PLATE_W, PLATE_H).expect("warp");
            let mut last_end = 0;
            for (colour, x0) in BARS {
                let (first, last) = bar_columns(&fixed, PLATE_W as usize, colour);
                assert!(
                    first.abs_diff(x0 as usize) <= 2
                        && last.abs_diff(x0 as usize + 11) <= 2
                        && first > last_end,
                    "{deg}°: bar {colour:?} at {first}..={last}, drawn at {x0}..={}",
                    x0 + 11
                );
                last_end = last;
            }
            // Away from the edges, the whole plate matches (two resamplings blur the edges).
            let mut diff = 0.0;
            let mut n = 0.0;
            for y in 4..56 {
                for x in 4..196 {
                    let i = (y * PLATE_W as usize + x) * 3;
                    diff += (0..3)
                        .map(|c| (fixed[i + c] as f32 - reference[i + c] as f32).abs())
                        .sum::<f32>();
                    n += 3.0;
                }
            }
            assert!(diff / n < 12.0, "{deg}°: mean abs difference {}", diff / n);
        }
    }

    #[test]
    fn tall_quads_are_turned_so_the_top_is_on_the_left() {
        // A 20×80 vertical region, red at its top, blue at its bottom.
        let (w, h) = (60u32, 100u32);
        let mut img = vec![200u8; (w * h * 3) as usize];
        for y in 10..90u32 {
            for x in 20..40u32 {
                let i = ((y * w + x) * 3) as usize;
                let c: [u8; 3] = if y < 20 {
                    [255, 0, 0]
                } else if y >= 80 {
                    [0, 0, 255]
                } else {
                    [0, 0, 0]
                };
                img[i..i + 3].copy_from_slice(&c);
            }
        }
        let strip = rectify(view(w, h, &img), rect(20.0, 10.0, 40.0, 90.0)).expect("rectify");
        assert_eq!((strip.width, strip.height), (80, 20));
        let px = |x: usize, y: usize| &strip.data[(y * 80 + x) * 3..(y * 80 + x) * 3 + 3];
        assert_eq!(px(2, 10), [255, 0, 0]);
        assert_eq!(px(77, 10), [0, 0, 255]);
        // Under the 1.5 ratio it stays as it is.
        let strip = rectify(view(w, h, &img), rect(20.0, 10.0, 40.0, 39.0)).expect("rectify");
        assert_eq!((strip.width, strip.height), (20, 29));
    }

    #[test]
    fn degenerate_quads_and_bad_inputs_are_errors() {
        let img = vec![0u8; 30 * 20 * 3];
        let v = view(30, 20, &img);
        let collinear = [p(0.0, 0.0), p(10.0, 0.0), p(20.0, 0.0), p(5.0, 10.0)];
        assert!(
            warp_quad(v, collinear, 10, 5)
                .expect_err("collinear")
                .contains("collinear")
        );
        assert!(warp_quad(v, [p(3.0, 3.0); 4], 10, 5).is_err());
        assert!(
            warp_quad(
                v,
                [p(0.0, 0.0), p(f32::NAN, 0.0), p(9.0, 9.0), p(0.0, 9.0)],
                10,
                5
            )
            .is_err()
        );
        let bowtie = [p(0.0, 0.0), p(10.0, 10.0), p(10.0, 0.0), p(0.0, 10.0)];
        assert!(
            warp_quad(v, bowtie, 10, 5)
                .expect_err("bow-tie")
                .contains("order")
        );
        let mirrored = [p(0.0, 0.0), p(0.0, 10.0), p(10.0, 10.0), p(10.0, 0.0)];
        assert!(warp_quad(v, mirrored, 10, 5).is_err());
        assert!(warp_quad(v, rect(0.0, 0.0, 10.0, 10.0), 0, 5).is_err());
        assert!(warp_quad(v, rect(0.0, 0.0, 10.0, 10.0), MAX_OUT_SIDE + 1, 5).is_err());
        assert!(warp_quad(view(30, 21, &img), rect(0.0, 0.0, 10.0, 10.0), 10, 5).is_err());
        assert!(rectify(v, collinear).is_err());
    }

    #[test]
    fn expand_quad_grows_a_rectangle_by_the_fractions() {
        let out = expand_quad(rect(10.0, 10.0, 110.0, 40.0), 0.1, 0.2);
        assert_eq!(out, rect(0.0, 4.0, 120.0, 46.0));
        assert_eq!(expand_quad(out, 0.0, 0.0), out);
    }

    #[test]
    fn rotation_matches_numpy_rot90() {
        // 3×2 image of pixel ids; rot90 gives rows [2,5], [1,4], [0,3].
        let data: Vec<u8> = (0..6).flat_map(|i| [i, i, i]).collect();
        let out: Vec<u8> = rotate90_ccw(&data, 3, 2).chunks(3).map(|c| c[0]).collect();
        assert_eq!(out, [2, 5, 1, 4, 0, 3]);
    }

    proptest! {
        /// The solved homography sends every strip corner to its quad corner.
        #[test]
        fn homography_hits_all_four_corners(
            cx in 50.0f64..500.0, cy in 50.0f64..500.0, w in 20.0f64..300.0, h in 8.0f64..100.0,
            deg in -40.0f64..40.0, jitter in prop::array::uniform8(-0.15f64..0.15),
        ) {
            let (s, c) = deg.to_radians().sin_cos();
            let quad: [(f64, f64); 4] = [(-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0)].map(|(a, b)| (a * w / 2.0, b * h / 2.0));
            let mut q = quad;
            for (i, v) in q.iter_mut().enumerate() {
                let (x, y) = (v.0 + jitter[2 * i] * w, v.1 + jitter[2 * i + 1] * h);
                *v = (cx + x * c - y * s, cy + x * s + y * c);
            }
            let from = [(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)];
            let hm = Homography::from_points(from, q).expect("solvable");
            for (f, t) in from.iter().zip(&q) {
                let (x, y) = hm.apply(f.0, f.1).expect("finite");
                prop_assert!((x - t.0).abs() < 1e-6 * (1.0 + t.0.abs()) && (y - t.1).abs() < 1e-6 * (1.0 + t.1.abs()));
            }
        }

        /// Arbitrary corners and sizes never panic: the result is a full strip or an error.
        #[test]
        fn arbitrary_quads_never_panic(
            c in prop::array::uniform8(prop_oneof![-1e6f32..1e6, -50.0f32..80.0, Just(f32::NAN), Just(f32::INFINITY)]),
            ow in 0u32..64, oh in 0u32..64,
        ) {
            let img = noise(40 * 30 * 3);
            let quad = [p(c[0], c[1]), p(c[2], c[3]), p(c[4], c[5]), p(c[6], c[7])];
            if let Ok(out) = warp_quad(view(40, 30, &img), quad, ow, oh) {
                prop_assert_eq!(out.len(), (ow * oh * 3) as usize);
            }
            let (sw, sh) = crop_size(&quad);
            if sw * sh <= 256 * 256 {
                let _ = rectify(view(40, 30, &img), quad);
            }
        }
    }
}
