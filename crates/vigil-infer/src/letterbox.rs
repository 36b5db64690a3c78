//! Letterbox geometry and the HWC u8 → NCHW f32 tensor writer.
//!
//! The geometry ([`Letterbox`]) is pure and exact: it maps boxes from model-input pixels back to
//! source-frame pixels. The writer resizes with `fast_image_resize` (SIMD bilinear) into a reused
//! byte buffer, then fills the model's input tensor through per-channel lookup tables, so the
//! per-pixel work is one table load and one store per channel — no float maths, no bounds checks
//! in the inner loop.

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{PixelType, ResizeAlg, ResizeOptions, Resizer};
use vigil_core::BoxPx;
use vigil_core::model::{ColorOrder, InputSpec, Letterbox as Placement};

/// Where a source image sits on the model canvas after a keep-aspect resize.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Letterbox {
    /// Source size in pixels.
    pub src_w: u32,
    /// Source height in pixels.
    pub src_h: u32,
    /// Canvas (model input) width.
    pub dst_w: u32,
    /// Canvas height.
    pub dst_h: u32,
    /// Resize factor source → canvas.
    pub scale: f32,
    /// Width of the resized image on the canvas.
    pub resized_w: u32,
    /// Height of the resized image on the canvas.
    pub resized_h: u32,
    /// Left padding in canvas pixels.
    pub pad_x: u32,
    /// Top padding in canvas pixels.
    pub pad_y: u32,
}

impl Letterbox {
    /// Computes the placement of a `src_w`×`src_h` image on a `dst_w`×`dst_h` canvas, or `None`
    /// when any size is zero.
    pub fn new(src_w: u32, src_h: u32, dst_w: u32, dst_h: u32, placement: Placement) -> Option<Self> {
        if src_w == 0 || src_h == 0 || dst_w == 0 || dst_h == 0 {
            return None;
        }
        let scale = (dst_w as f32 / src_w as f32).min(dst_h as f32 / src_h as f32);
        // Truncation as in the reference implementations (int(w * r)); never below 1 pixel.
        let resized_w = ((src_w as f32 * scale) as u32).clamp(1, dst_w);
        let resized_h = ((src_h as f32 * scale) as u32).clamp(1, dst_h);
        let (pad_x, pad_y) = match placement {
            Placement::TopLeft => (0, 0),
            Placement::Center => ((dst_w - resized_w) / 2, (dst_h - resized_h) / 2),
        };
        Some(Self {
            src_w,
            src_h,
            dst_w,
            dst_h,
            scale,
            resized_w,
            resized_h,
            pad_x,
            pad_y,
        })
    }

    /// Maps a box from canvas pixels back to source pixels, clipped to the source frame.
    pub fn to_source(&self, b: BoxPx) -> BoxPx {
        // Use the exact per-axis ratio of the resize that was performed (resized/src), not the
        // nominal scale, so back-mapping is exact even after truncation.
        let sx = self.src_w as f32 / self.resized_w as f32;
        let sy = self.src_h as f32 / self.resized_h as f32;
        let (px, py) = (self.pad_x as f32, self.pad_y as f32);
        BoxPx::new(
            (b.x1 - px) * sx,
            (b.y1 - py) * sy,
            (b.x2 - px) * sx,
            (b.y2 - py) * sy,
        )
        .clip(self.src_w, self.src_h)
    }

    /// Maps a box from source pixels onto the canvas (inverse of [`Letterbox::to_source`]).
    pub fn to_canvas(&self, b: BoxPx) -> BoxPx {
        let sx = self.resized_w as f32 / self.src_w as f32;
        let sy = self.resized_h as f32 / self.src_h as f32;
        let (px, py) = (self.pad_x as f32, self.pad_y as f32);
        BoxPx::new(b.x1 * sx + px, b.y1 * sy + py, b.x2 * sx + px, b.y2 * sy + py)
    }
}

/// Per-channel byte → normalised float tables, in the model's channel order.
#[derive(Debug, Clone)]
pub struct NormTables {
    lut: [[f32; 256]; 3],
}

impl NormTables {
    /// Builds the tables for `value = (byte * scale - mean[c]) / std[c]`.
    pub fn new(spec: &InputSpec) -> Self {
        let mut lut = [[0f32; 256]; 3];
        for (c, table) in lut.iter_mut().enumerate() {
            for (b, v) in table.iter_mut().enumerate() {
                *v = (b as f32 * spec.scale - spec.mean[c]) / spec.std[c];
            }
        }
        Self { lut }
    }

    /// The normalised value of `byte` in model channel `c`.
    pub fn value(&self, c: usize, byte: u8) -> f32 {
        self.lut[c % 3][byte as usize]
    }
}

/// Reusable state for writing letterboxed input tensors: the resizer and its scratch buffers.
pub struct Preprocessor {
    resizer: Resizer,
    resized: Vec<u8>,
    compact: Vec<u8>,
    tables: NormTables,
    pad_value: u8,
    placement: Placement,
    model_color: ColorOrder,
}

impl std::fmt::Debug for Preprocessor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Preprocessor")
            .field("placement", &self.placement)
            .finish_non_exhaustive()
    }
}

/// A borrowed packed 3-channel image.
#[derive(Debug, Clone, Copy)]
pub struct Rgb8View<'a> {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Bytes per row (≥ 3 × width).
    pub stride: usize,
    /// Channel order of `data`.
    pub color: ColorOrder,
    /// Pixel bytes, at least `stride × (height - 1) + 3 × width` long.
    pub data: &'a [u8],
}

impl Rgb8View<'_> {
    /// Checks that the buffer holds the image it claims to.
    pub fn validate(&self) -> Result<(), String> {
        if self.width == 0 || self.height == 0 {
            return Err(format!("image is {}×{}", self.width, self.height));
        }
        let row = self.width as usize * 3;
        if self.stride < row {
            return Err(format!(
                "stride {} is less than 3 × width {}",
                self.stride, self.width
            ));
        }
        let need = self.stride * (self.height as usize - 1) + row;
        if self.data.len() < need {
            return Err(format!(
                "buffer has {} bytes, {}×{} with stride {} needs {need}",
                self.data.len(),
                self.width,
                self.height,
                self.stride
            ));
        }
        Ok(())
    }
}

impl Preprocessor {
    /// Creates a preprocessor for a model input.
    pub fn new(spec: &InputSpec) -> Self {
        Self {
            resizer: Resizer::new(),
            resized: Vec::new(),
            compact: Vec::new(),
            tables: NormTables::new(spec),
            pad_value: spec.pad_value,
            placement: spec.letterbox,
            model_color: spec.color,
        }
    }

    /// Letterboxes `img` onto a `dst_w`×`dst_h` canvas and writes it as CHW floats into `out`
    /// (length `3 × dst_w × dst_h`). Returns the placement for mapping boxes back.
    pub fn write_chw(
        &mut self,
        img: Rgb8View<'_>,
        dst_w: u32,
        dst_h: u32,
        out: &mut [f32],
    ) -> Result<Letterbox, String> {
        img.validate()?;
        let plane = dst_w as usize * dst_h as usize;
        if out.len() != plane * 3 {
            return Err(format!(
                "tensor buffer has {} floats, needs {}",
                out.len(),
                plane * 3
            ));
        }
        let lb = Letterbox::new(img.width, img.height, dst_w, dst_h, self.placement)
            .ok_or_else(|| "zero-sized canvas".to_string())?;
        self.resize(img, &lb)?;
        // Channel c of the model reads source channel `map[c]`.
        let map = if img.color == self.model_color {
            [0, 1, 2]
        } else {
            [2, 1, 0]
        };
        let rw = lb.resized_w as usize;
        let (w, pad_x, pad_y) = (dst_w as usize, lb.pad_x as usize, lb.pad_y as usize);
        let (p0, rest) = out.split_at_mut(plane);
        let (p1, p2) = rest.split_at_mut(plane);
        let mut planes = [p0, p1, p2];
        // Padding first, only where the image does not go (the canvas is mostly image: filling
        // it all and then overwriting would write the tensor twice).
        for (c, dst) in planes.iter_mut().enumerate() {
            let pad = self.tables.value(c, self.pad_value);
            dst[..pad_y * w].fill(pad);
            dst[(pad_y + lb.resized_h as usize) * w..].fill(pad);
            for y in pad_y..pad_y + lb.resized_h as usize {
                dst[y * w..y * w + pad_x].fill(pad);
                dst[y * w + pad_x + rw..(y + 1) * w].fill(pad);
            }
        }
        // Then one pass over the resized pixels, each channel through its table into its plane.
        let [l0, l1, l2] = [&self.tables.lut[0], &self.tables.lut[1], &self.tables.lut[2]];
        let [d0, d1, d2] = &mut planes;
        for (y, row) in self.resized.chunks_exact(rw * 3).enumerate() {
            let start = (y + pad_y) * w + pad_x;
            let (r0, r1, r2) = (
                &mut d0[start..start + rw],
                &mut d1[start..start + rw],
                &mut d2[start..start + rw],
            );
            for (((px, a), b), c) in row.chunks_exact(3).zip(r0).zip(r1).zip(r2) {
                *a = l0[px[map[0]] as usize];
                *b = l1[px[map[1]] as usize];
                *c = l2[px[map[2]] as usize];
            }
        }
        Ok(lb)
    }

    fn resize(&mut self, img: Rgb8View<'_>, lb: &Letterbox) -> Result<(), String> {
        let row = img.width as usize * 3;
        let src_bytes: &[u8] = if img.stride == row {
            &img.data[..row * img.height as usize]
        } else {
            // fast_image_resize wants tightly packed rows; padded strides are rare (odd widths).
            self.compact.clear();
            for y in 0..img.height as usize {
                self.compact
                    .extend_from_slice(&img.data[y * img.stride..y * img.stride + row]);
            }
            &self.compact
        };
        let src =
            ImageRef::new(img.width, img.height, src_bytes, PixelType::U8x3).map_err(|e| e.to_string())?;
        self.resized
            .resize(lb.resized_w as usize * lb.resized_h as usize * 3, 0);
        let mut dst = Image::from_slice_u8(lb.resized_w, lb.resized_h, &mut self.resized, PixelType::U8x3)
            .map_err(|e| e.to_string())?;
        let opts =
            ResizeOptions::new().resize_alg(ResizeAlg::Convolution(fast_image_resize::FilterType::Bilinear));
        self.resizer
            .resize(&src, &mut dst, &opts)
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn yolox_vtest_geometry() {
        let lb = Letterbox::new(768, 576, 416, 416, Placement::TopLeft).expect("valid");
        assert_eq!((lb.resized_w, lb.resized_h, lb.pad_x, lb.pad_y), (416, 312, 0, 0));
    }

    #[test]
    fn center_placement_splits_padding() {
        let lb = Letterbox::new(1920, 1080, 640, 640, Placement::Center).expect("valid");
        assert_eq!((lb.resized_w, lb.resized_h), (640, 360));
        assert_eq!((lb.pad_x, lb.pad_y), (0, 140));
    }

    #[test]
    fn zero_sizes_are_rejected() {
        assert!(Letterbox::new(0, 10, 416, 416, Placement::TopLeft).is_none());
    }

    proptest! {
        /// Back-mapping a box that was mapped onto the canvas gives the box back.
        #[test]
        fn box_round_trip_is_exact(
            src_w in 16u32..4000, src_h in 16u32..3000,
            center in any::<bool>(),
            fx1 in 0.0f32..0.9, fy1 in 0.0f32..0.9, fw in 0.01f32..0.1, fh in 0.01f32..0.1,
        ) {
            let placement = if center { Placement::Center } else { Placement::TopLeft };
            let lb = Letterbox::new(src_w, src_h, 416, 416, placement).expect("valid");
            let b = BoxPx::new(fx1 * src_w as f32, fy1 * src_h as f32, (fx1 + fw) * src_w as f32, (fy1 + fh) * src_h as f32);
            let back = lb.to_source(lb.to_canvas(b));
            let tol = 1e-3 * src_w.max(src_h) as f32;
            prop_assert!((back.x1 - b.x1).abs() < tol && (back.y1 - b.y1).abs() < tol);
            prop_assert!((back.x2 - b.x2).abs() < tol && (back.y2 - b.y2).abs() < tol);
        }

        /// A solid rectangle drawn on a synthetic image lands where the geometry says, in the
        /// tensor, and the padding holds the pad value.
        #[test]
        fn rectangle_lands_where_geometry_says(
            w in 64u32..900, h in 64u32..700, center in any::<bool>(),
            rx in 0.1f32..0.5, ry in 0.1f32..0.5,
        ) {
            let placement = if center { Placement::Center } else { Placement::TopLeft };
            let spec = InputSpec { name: "x".into(), shape: vec![1, 3, 128, 128], color: ColorOrder::Rgb, scale: 1.0,
                mean: [0.0; 3], std: [1.0; 3], pad_value: 114, letterbox: placement };
            let mut img = vec![0u8; (w * h * 3) as usize];
            let (x1, y1) = ((rx * w as f32) as u32, (ry * h as f32) as u32);
            let (x2, y2) = (x1 + w / 3, y1 + h / 3);
            for y in y1..y2 { for x in x1..x2 { img[((y * w + x) * 3) as usize] = 255; } }
            let mut pre = Preprocessor::new(&spec);
            let mut out = vec![0f32; 3 * 128 * 128];
            let lb = pre.write_chw(Rgb8View { width: w, height: h, stride: (w * 3) as usize, color: ColorOrder::Rgb, data: &img }, 128, 128, &mut out).expect("ok");
            let cb = lb.to_canvas(BoxPx::new(x1 as f32, y1 as f32, x2 as f32, y2 as f32));
            // Centre of the rectangle is red; a canvas corner outside the image is padding.
            let (cx, cy) = (((cb.x1 + cb.x2) / 2.0) as usize, ((cb.y1 + cb.y2) / 2.0) as usize);
            prop_assert!(out[cy * 128 + cx] > 200.0);
            prop_assert!(out[128 * 128 + cy * 128 + cx] < 50.0);
            let corner = 127 * 128 + 127;
            if lb.resized_w < 127 || lb.resized_h < 127 {
                prop_assert_eq!(out[corner], 114.0);
            }
        }
    }

    proptest! {
        /// Every tensor value is written (the buffer is reused between frames: stale values
        /// must not survive), and everything outside the placed image is the pad value.
        #[test]
        fn every_value_is_written_and_padding_is_exact(
            w in 1u32..400, h in 1u32..400, center in any::<bool>(), byte in any::<u8>(),
        ) {
            let placement = if center { Placement::Center } else { Placement::TopLeft };
            let spec = InputSpec { name: "x".into(), shape: vec![1, 3, 64, 96], color: ColorOrder::Bgr, scale: 1.0 / 255.0,
                mean: [0.1, 0.2, 0.3], std: [0.5, 0.5, 0.5], pad_value: 114, letterbox: placement };
            let img = vec![byte; (w * h * 3) as usize];
            let mut pre = Preprocessor::new(&spec);
            let mut out = vec![f32::NAN; 3 * 96 * 64];
            let lb = pre.write_chw(Rgb8View { width: w, height: h, stride: (w * 3) as usize, color: ColorOrder::Rgb, data: &img }, 96, 64, &mut out).expect("ok");
            let tables = NormTables::new(&spec);
            for c in 0..3 {
                for y in 0..64u32 {
                    for x in 0..96u32 {
                        let v = out[c * 96 * 64 + (y * 96 + x) as usize];
                        let inside = x >= lb.pad_x && x < lb.pad_x + lb.resized_w && y >= lb.pad_y && y < lb.pad_y + lb.resized_h;
                        // A uniform image resizes to the same byte everywhere.
                        let want = tables.value(c, if inside { byte } else { 114 });
                        prop_assert!((v - want).abs() < 1e-6, "c {} ({}, {}): {} vs {}", c, x, y, v, want);
                    }
                }
            }
        }
    }

    #[test]
    fn channel_swap_and_stride_padding() {
        // 2×1 image, BGR bytes with one byte of row padding; model wants RGB.
        let data = [10u8, 20, 30, 40, 50, 60, 0];
        let spec = InputSpec {
            name: "x".into(),
            shape: vec![1, 3, 1, 2],
            color: ColorOrder::Rgb,
            scale: 1.0,
            mean: [0.0; 3],
            std: [1.0; 3],
            pad_value: 0,
            letterbox: Placement::TopLeft,
        };
        let mut pre = Preprocessor::new(&spec);
        let mut out = vec![0f32; 6];
        pre.write_chw(
            Rgb8View {
                width: 2,
                height: 1,
                stride: 7,
                color: ColorOrder::Bgr,
                data: &data,
            },
            2,
            1,
            &mut out,
        )
        .expect("ok");
        assert_eq!(out, vec![30.0, 60.0, 20.0, 50.0, 10.0, 40.0]);
    }

    #[test]
    fn short_buffer_is_an_error_not_a_panic() {
        let spec = InputSpec {
            name: "x".into(),
            shape: vec![1, 3, 8, 8],
            color: ColorOrder::Rgb,
            scale: 1.0,
            mean: [0.0; 3],
            std: [1.0; 3],
            pad_value: 0,
            letterbox: Placement::TopLeft,
        };
        let mut pre = Preprocessor::new(&spec);
        let mut out = vec![0f32; 3 * 64];
        let e = pre.write_chw(
            Rgb8View {
                width: 10,
                height: 10,
                stride: 30,
                color: ColorOrder::Rgb,
                data: &[0; 100],
            },
            8,
            8,
            &mut out,
        );
        assert!(e.expect_err("short").contains("needs"));
    }
}
