//! Privacy masks: polygons of a camera's view (a neighbour's window, a private garden) whose
//! pixels are blacked out before a frame is stored or sent anywhere — alert snapshots, the
//! API's live snapshot, the plate reader — and whose detections are ignored.
//!
//! The detector itself sees the unmasked frame (masking before inference would cost a frame copy
//! for every camera on the hot path); what it finds inside a mask is dropped right after, before
//! tracking, so nothing inside a mask can raise an alert or be read.

use serde::Deserialize;
use vigil_core::{Detection, Frame, PointPx};
use vigil_rules::Coords;
use vigil_rules::geometry::{ShapeProblem, point_in_polygon, validate_polygon};

/// One mask as written: `[[camera.privacy_mask]]` with `points` (and `coords`, default
/// normalised like zones).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaskConfig {
    /// `normalized` (fractions of the frame, default) or `pixels`.
    #[serde(default)]
    pub coords: Coords,
    /// Polygon corners, at least 3, not self-intersecting.
    pub points: Vec<[f64; 2]>,
}

impl MaskConfig {
    /// The mask in pixels of a `width × height` frame, checked (≥ 3 points, inside the frame,
    /// not self-intersecting).
    pub fn polygon_px(&self, width: u32, height: u32) -> Result<Vec<PointPx>, ShapeProblem> {
        let (sx, sy) = match self.coords {
            Coords::Normalized => (f64::from(width), f64::from(height)),
            Coords::Pixels => (1.0, 1.0),
        };
        let poly: Vec<PointPx> = self
            .points
            .iter()
            .map(|[x, y]| PointPx {
                x: (x * sx) as f32,
                y: (y * sy) as f32,
            })
            .collect();
        validate_polygon(&poly, width as f32, height as f32)?;
        Ok(poly)
    }
}

/// A camera's masks in frame pixels.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Masks {
    polys: Vec<Vec<PointPx>>,
}

impl Masks {
    /// Masks for a `width × height` stream; `Err` names the bad mask (1-based) and why.
    pub fn resolve(cfgs: &[MaskConfig], width: u32, height: u32) -> Result<Self, String> {
        let mut polys = Vec::with_capacity(cfgs.len());
        for (i, m) in cfgs.iter().enumerate() {
            let poly = m
                .polygon_px(width, height)
                .map_err(|e| format!("privacy_mask {}: {e}", i + 1))?;
            polys.push(poly);
        }
        Ok(Self { polys })
    }

    /// True when there is nothing to mask.
    pub fn is_empty(&self) -> bool {
        self.polys.is_empty()
    }

    /// True when the detection's box centre lies inside a mask.
    pub fn hides(&self, d: &Detection) -> bool {
        let c = PointPx {
            x: (d.bbox.x1 + d.bbox.x2) / 2.0,
            y: (d.bbox.y1 + d.bbox.y2) / 2.0,
        };
        self.polys.iter().any(|p| point_in_polygon(c, p))
    }

    /// A copy of `frame` with every mask filled black (pixel centres inside a polygon).
    pub fn apply(&self, frame: &Frame) -> Frame {
        if self.polys.is_empty() {
            return frame.clone();
        }
        let mut data = frame.data.to_vec();
        for poly in &self.polys {
            fill_polygon(&mut data, frame.stride, frame.width, frame.height, poly);
        }
        Frame {
            data: data.into(),
            ..frame.clone()
        }
    }
}

/// Even-odd scanline fill of a packed 3-byte-per-pixel buffer.
fn fill_polygon(data: &mut [u8], stride: usize, width: u32, height: u32, poly: &[PointPx]) {
    let mut xs: Vec<f32> = Vec::with_capacity(poly.len());
    for y in 0..height {
        let yc = y as f32 + 0.5;
        xs.clear();
        for (i, a) in poly.iter().enumerate() {
            let b = poly[(i + 1) % poly.len()];
            // Half-open rule: each edge counts for rows in [min y, max y).
            if (a.y <= yc) != (b.y <= yc) {
                xs.push(a.x + (yc - a.y) / (b.y - a.y) * (b.x - a.x));
            }
        }
        xs.sort_by(f32::total_cmp);
        for pair in xs.chunks_exact(2) {
            // Pixel x is inside when its centre x + 0.5 lies in [x0, x1).
            let x0 = (pair[0] - 0.5).ceil().max(0.0) as usize;
            let x1 = ((pair[1] - 0.5).ceil().max(0.0) as usize).min(width as usize);
            if x0 >= x1 {
                continue;
            }
            let row = y as usize * stride;
            if let Some(px) = data.get_mut(row + x0 * 3..row + x1 * 3) {
                px.fill(0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use vigil_core::{BoxPx, CameraId, ClassId, PixelFormat};

    fn white(w: u32, h: u32) -> Frame {
        Frame {
            camera: CameraId::new("c"),
            seq: 0,
            pts_ns: 0,
            captured_at: std::time::SystemTime::UNIX_EPOCH,
            width: w,
            height: h,
            stride: w as usize * 3,
            format: PixelFormat::Bgr8,
            data: Arc::from(vec![255u8; (w * h * 3) as usize]),
        }
    }

    fn mask(points: &[[f64; 2]]) -> MaskConfig {
        MaskConfig {
            coords: Coords::Normalized,
            points: points.to_vec(),
        }
    }

    #[test]
    fn masked_pixels_are_black_and_the_rest_untouched() {
        let f = white(100, 50);
        let m = Masks::resolve(
            &[mask(&[[0.0, 0.0], [0.5, 0.0], [0.5, 1.0], [0.0, 1.0]])],
            100,
            50,
        )
        .expect("valid");
        let out = m.apply(&f);
        let px = |x: usize, y: usize| &out.data[y * out.stride + x * 3..y * out.stride + x * 3 + 3];
        assert_eq!(px(0, 0), [0, 0, 0]);
        assert_eq!(px(49, 49), [0, 0, 0]);
        assert_eq!(px(50, 0), [255, 255, 255]);
        assert_eq!(px(99, 25), [255, 255, 255]);
        let black = out.data.chunks_exact(3).filter(|p| p == &[0, 0, 0]).count();
        assert_eq!(black, 50 * 50, "exactly the left half");
        assert_eq!(f.data[0], 255, "the original frame is not modified");
    }

    #[test]
    fn triangles_fill_about_half_their_box_and_detections_inside_are_hidden() {
        let m = Masks::resolve(
            &[MaskConfig {
                coords: Coords::Pixels,
                points: vec![[0.0, 0.0], [40.0, 0.0], [0.0, 40.0]],
            }],
            40,
            40,
        )
        .expect("valid");
        let out = m.apply(&white(40, 40));
        let black = out.data.chunks_exact(3).filter(|p| p == &[0, 0, 0]).count();
        assert!((780..=820).contains(&black), "{black} of 800 expected");
        let det = |x: f32, y: f32| Detection {
            class: ClassId(0),
            label: "person".into(),
            bbox: BoxPx::new(x - 2.0, y - 2.0, x + 2.0, y + 2.0),
            score: 0.9,
        };
        assert!(m.hides(&det(5.0, 5.0)));
        assert!(!m.hides(&det(35.0, 35.0)));
    }

    #[test]
    fn bad_masks_are_named() {
        let e = Masks::resolve(&[mask(&[[0.0, 0.0], [1.0, 1.0]])], 10, 10).expect_err("2 points");
        assert!(e.starts_with("privacy_mask 1:"), "{e}");
        let e = Masks::resolve(&[mask(&[[0.0, 0.0], [2.0, 0.0], [0.0, 1.0]])], 10, 10).expect_err("outside");
        assert!(e.contains("privacy_mask 1"), "{e}");
    }
}
