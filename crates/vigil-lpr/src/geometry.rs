//! Crop and margin geometry: vehicle box → pixel region of the frame, zero-copy sub-views, and
//! mapping plate quads from region pixels back to frame pixels.
//!
//! All pure; the reader composes them. Coordinates are continuous pixels (pixel `x` covers
//! `[x, x+1)`), as in [`vigil_core::BoxPx`].

use vigil_core::{BoxPx, PointPx};
use vigil_infer::ImageView;
use vigil_infer::warp::Strip;

/// An integer pixel rectangle inside a frame: columns `x..x + width`, rows `y..y + height`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PixelRect {
    /// Left column.
    pub x: u32,
    /// Top row.
    pub y: u32,
    /// Width in pixels (≥ 1).
    pub width: u32,
    /// Height in pixels (≥ 1).
    pub height: u32,
}

impl PixelRect {
    /// The rectangle as a box in frame pixels.
    pub fn to_box(self) -> BoxPx {
        BoxPx::new(
            self.x as f32,
            self.y as f32,
            (self.x + self.width) as f32,
            (self.y + self.height) as f32,
        )
    }
}

/// Margins added around a vehicle box before plate localisation, as fractions of the box's own
/// width (left and right each) and height (top and bottom each).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Margins {
    /// Added on the left and on the right, × box width.
    pub x: f32,
    /// Added above, × box height.
    pub top: f32,
    /// Added below, × box height (detector boxes often stop at the bumper, above the plate).
    pub bottom: f32,
}

/// The pixel region covering `b` grown by `m`, snapped outward to whole pixels and clipped to a
/// `frame_w`×`frame_h` frame. `None` when the box is not finite, the margins are negative or
/// not finite, or nothing of it lies inside the frame.
pub fn region_with_margin(b: BoxPx, m: Margins, frame_w: u32, frame_h: u32) -> Option<PixelRect> {
    if !b.is_finite() || ![m.x, m.top, m.bottom].iter().all(|v| v.is_finite() && *v >= 0.0) {
        return None;
    }
    let (w, h) = (b.width(), b.height());
    let grown = BoxPx::new(
        b.x1 - m.x * w,
        b.y1 - m.top * h,
        b.x2 + m.x * w,
        b.y2 + m.bottom * h,
    );
    pixel_rect(grown, frame_w, frame_h)
}

/// The smallest whole-pixel rectangle covering `b`, clipped to the frame; `None` when empty.
pub fn pixel_rect(b: BoxPx, frame_w: u32, frame_h: u32) -> Option<PixelRect> {
    if !b.is_finite() {
        return None;
    }
    let c = b.clip(frame_w, frame_h);
    let (x1, y1) = (c.x1.floor() as u32, c.y1.floor() as u32);
    let (x2, y2) = (c.x2.ceil() as u32, c.y2.ceil() as u32);
    (x2 > x1 && y2 > y1).then_some(PixelRect {
        x: x1,
        y: y1,
        width: x2 - x1,
        height: y2 - y1,
    })
}

/// A zero-copy view of `r` inside `img` (same rows, offset start). `None` when `r` does not lie
/// inside the image or the image buffer is inconsistent.
pub fn sub_view<'a>(img: ImageView<'a>, r: PixelRect) -> Option<ImageView<'a>> {
    img.validate().ok()?;
    let inside = r.width > 0
        && r.height > 0
        && r.x.checked_add(r.width)? <= img.width
        && r.y.checked_add(r.height)? <= img.height;
    if !inside {
        return None;
    }
    let start = r.y as usize * img.stride + r.x as usize * 3;
    let view = ImageView {
        width: r.width,
        height: r.height,
        stride: img.stride,
        color: img.color,
        data: img.data.get(start..)?,
    };
    view.validate().ok()?;
    Some(view)
}

/// Shifts a quad from region pixels to frame pixels (the region's top-left is at `origin`).
pub fn offset_quad(q: [PointPx; 4], origin: PointPx) -> [PointPx; 4] {
    q.map(|p| PointPx {
        x: p.x + origin.x,
        y: p.y + origin.y,
    })
}

/// Axis-aligned bounds of a quad.
pub fn quad_bounds(q: &[PointPx; 4]) -> BoxPx {
    let min = |f: fn(&PointPx) -> f32| q.iter().map(f).fold(f32::INFINITY, f32::min);
    let max = |f: fn(&PointPx) -> f32| q.iter().map(f).fold(f32::NEG_INFINITY, f32::max);
    BoxPx::new(min(|p| p.x), min(|p| p.y), max(|p| p.x), max(|p| p.y))
}

/// The axis-aligned rectangle `b` as a quad (top-left, top-right, bottom-right, bottom-left).
pub fn box_quad(b: BoxPx) -> [PointPx; 4] {
    [
        PointPx { x: b.x1, y: b.y1 },
        PointPx { x: b.x2, y: b.y1 },
        PointPx { x: b.x2, y: b.y2 },
        PointPx { x: b.x1, y: b.y2 },
    ]
}

/// Intersection area over the area of `inner` (how much of `inner` lies inside `outer`).
pub fn coverage(inner: &BoxPx, outer: &BoxPx) -> f32 {
    let ix = (inner.x2.min(outer.x2) - inner.x1.max(outer.x1)).max(0.0);
    let iy = (inner.y2.min(outer.y2) - inner.y1.max(outer.y1)).max(0.0);
    let a = inner.area();
    if a > 0.0 { ix * iy / a } else { 0.0 }
}

/// `img` with `px` columns added left and right and `py` rows above and below, each a copy of
/// the nearest edge pixel (so the recogniser sees a margin of plate, not a hard border).
/// `None` when the image buffer is inconsistent.
pub fn pad_replicate(img: ImageView<'_>, px: u32, py: u32) -> Option<Strip> {
    img.validate().ok()?;
    let (w, h) = (img.width as usize, img.height as usize);
    let (ow, oh) = (w + 2 * px as usize, h + 2 * py as usize);
    let mut data = Vec::with_capacity(ow * oh * 3);
    for y in 0..oh {
        let sy = y.saturating_sub(py as usize).min(h - 1);
        let row = img.data.get(sy * img.stride..sy * img.stride + w * 3)?;
        let (first, last) = (row.get(..3)?, row.get((w - 1) * 3..)?);
        for _ in 0..px {
            data.extend_from_slice(first);
        }
        data.extend_from_slice(row);
        for _ in 0..px {
            data.extend_from_slice(last);
        }
    }
    Some(Strip {
        width: u32::try_from(ow).ok()?,
        height: u32::try_from(oh).ok()?,
        color: img.color,
        data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use vigil_core::model::ColorOrder;

    const M: Margins = Margins {
        x: 0.1,
        top: 0.0,
        bottom: 0.2,
    };

    #[test]
    fn margins_grow_by_fractions_of_the_box_and_snap_outward() {
        // 100×50 box at (10.5, 20.2): +10 px left/right, +10 px below, snapped outward.
        let r = region_with_margin(BoxPx::new(10.5, 20.2, 110.5, 70.2), M, 1000, 1000).expect("inside");
        assert_eq!(
            r,
            PixelRect {
                x: 0,
                y: 20,
                width: 121,
                height: 61
            }
        );
    }

    #[test]
    fn margins_are_clipped_to_the_frame() {
        let r = region_with_margin(BoxPx::new(-5.0, 90.0, 50.0, 130.0), M, 64, 100).expect("inside");
        assert_eq!((r.x, r.y, r.x + r.width, r.y + r.height), (0, 90, 56, 100));
        assert!(region_with_margin(BoxPx::new(200.0, 200.0, 300.0, 300.0), M, 64, 100).is_none());
        assert!(region_with_margin(BoxPx::new(f32::NAN, 0.0, 5.0, 5.0), M, 64, 100).is_none());
        let neg = Margins { x: -0.1, ..M };
        assert!(region_with_margin(BoxPx::new(0.0, 0.0, 5.0, 5.0), neg, 64, 100).is_none());
    }

    #[test]
    fn sub_view_reads_the_right_pixels_with_the_parent_stride() {
        // 5×4 image, pixel (x, y) = [x, y, 7]; stride padded by 2 bytes.
        let stride = 5 * 3 + 2;
        let mut data = vec![0u8; stride * 4];
        for y in 0..4 {
            for x in 0..5 {
                data[y * stride + x * 3..y * stride + x * 3 + 3].copy_from_slice(&[x as u8, y as u8, 7]);
            }
        }
        let img = ImageView {
            width: 5,
            height: 4,
            stride,
            color: ColorOrder::Rgb,
            data: &data,
        };
        let r = PixelRect {
            x: 2,
            y: 1,
            width: 3,
            height: 3,
        };
        let v = sub_view(img, r).expect("inside");
        assert_eq!((v.width, v.height, v.stride), (3, 3, stride));
        let px = |x: usize, y: usize| &v.data[y * v.stride + x * 3..y * v.stride + x * 3 + 3];
        assert_eq!(px(0, 0), [2, 1, 7]);
        assert_eq!(px(2, 2), [4, 3, 7]);
        let outside = PixelRect { x: 3, ..r };
        assert!(sub_view(img, outside).is_none());
    }

    #[test]
    fn quads_map_back_to_frame_bounds() {
        let q = box_quad(BoxPx::new(1.0, 2.0, 11.0, 6.0));
        let f = offset_quad(q, PointPx { x: 100.0, y: 50.0 });
        assert_eq!(quad_bounds(&f), BoxPx::new(101.0, 52.0, 111.0, 56.0));
    }

    #[test]
    fn coverage_is_the_share_of_the_inner_box() {
        let outer = BoxPx::new(0.0, 0.0, 10.0, 10.0);
        assert_eq!(coverage(&BoxPx::new(5.0, 5.0, 15.0, 15.0), &outer), 0.25);
        assert_eq!(coverage(&BoxPx::new(1.0, 1.0, 2.0, 2.0), &outer), 1.0);
        assert_eq!(coverage(&BoxPx::new(1.0, 1.0, 1.0, 2.0), &outer), 0.0);
    }

    #[test]
    fn replicate_padding_copies_the_edge_pixels() {
        // 2×2 image: [1 2 / 3 4] (grey values), padded by 1 column and 1 row.
        let data: Vec<u8> = [1u8, 2, 3, 4].iter().flat_map(|&v| [v, v, v]).collect();
        let img = ImageView {
            width: 2,
            height: 2,
            stride: 6,
            color: ColorOrder::Bgr,
            data: &data,
        };
        let s = pad_replicate(img, 1, 1).expect("valid");
        assert_eq!((s.width, s.height, s.color), (4, 4, ColorOrder::Bgr));
        let grey: Vec<u8> = s.data.chunks(3).map(|p| p[0]).collect();
        assert_eq!(grey, [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
        let same = pad_replicate(img, 0, 0).expect("valid");
        assert_eq!(same.data, data);
    }

    proptest! {
        /// The region always contains the (clipped) box, stays inside the frame, and its view
        /// is valid.
        #[test]
        fn region_contains_the_box_and_fits_the_frame(
            x in -50.0f32..700.0, y in -50.0f32..500.0, w in 1.0f32..400.0, h in 1.0f32..300.0,
            mx in 0.0f32..0.5, mt in 0.0f32..0.5, mb in 0.0f32..0.5,
        ) {
            let (fw, fh) = (640u32, 480u32);
            let b = BoxPx::new(x, y, x + w, y + h);
            let m = Margins { x: mx, top: mt, bottom: mb };
            if let Some(r) = region_with_margin(b, m, fw, fh) {
                prop_assert!(r.x + r.width <= fw && r.y + r.height <= fh);
                let clipped = b.clip(fw, fh);
                prop_assert!(r.to_box().contains_box(&clipped));
                let data = vec![0u8; (fw * fh * 3) as usize];
                let img = ImageView { width: fw, height: fh, stride: fw as usize * 3, color: ColorOrder::Rgb, data: &data };
                prop_assert!(sub_view(img, r).is_some());
            } else {
                prop_assert!(b.clip(fw, fh).area() == 0.0);
            }
        }
    }
}
