//! Alert snapshots: the whole frame as a JPEG below a size cap, scaled down by a whole factor
//! when the frame is wider than `[node] snapshot_max_width_px` (the alert's
//! `detection.frame_size_px` says what the box is measured in).
//!
//! Why scale: a 4K frame takes seconds to encode at each quality step on a small CPU and rarely
//! fits the cap anyway; halving it first makes the encode ~4× cheaper and the image useful.
//! Quality steps down until the image fits the cap; if even the lowest step does not fit, the
//! alert goes out without a snapshot (and says so in the log) rather than with an unbounded
//! payload.

use image::ExtendedColorType;
use image::codecs::jpeg::JpegEncoder;
use vigil_core::{Frame, PixelFormat};

/// JPEG qualities tried, best first.
const QUALITIES: [u8; 4] = [80, 65, 50, 35];

/// Default `[node] snapshot_max_width_px`: full HD, so 1080p and smaller frames are not scaled.
pub const DEFAULT_MAX_WIDTH_PX: u32 = 1920;

/// The whole factor a frame `width` wide is divided by to be at most `max_width` wide
/// (`max_width` 0: never scaled).
pub fn scale_factor(width: u32, max_width: u32) -> u32 {
    if max_width == 0 || width <= max_width {
        1
    } else {
        width.div_ceil(max_width)
    }
}

/// Tightly packed RGB rows of a frame (converting BGR, dropping stride padding), each output
/// pixel the average of a `factor` × `factor` block; returns the pixels and their size.
fn rgb_rows(frame: &Frame, factor: u32) -> Option<(Vec<u8>, u32, u32)> {
    let f = factor.max(1) as usize;
    let (w, h) = (frame.width as usize / f, frame.height as usize / f);
    if w == 0 || h == 0 {
        return None;
    }
    let (ri, bi) = match frame.format {
        PixelFormat::Rgb8 => (0, 2),
        PixelFormat::Bgr8 => (2, 0),
    };
    let mut out = Vec::with_capacity(w * h * 3);
    if f == 1 {
        for y in 0..h {
            let row = frame.row(y as u32)?;
            for px in row.chunks_exact(3).take(w) {
                out.extend_from_slice(&[px[ri], px[1], px[bi]]);
            }
        }
        return Some((out, w as u32, h as u32));
    }
    let mut acc = vec![0u32; w * 3];
    let n = (f * f) as u32;
    for y in 0..h {
        acc.iter_mut().for_each(|a| *a = 0);
        for dy in 0..f {
            let row = frame.row((y * f + dy) as u32)?;
            for (x, a) in acc.chunks_exact_mut(3).enumerate() {
                let block = row.get(x * f * 3..(x + 1) * f * 3)?;
                for px in block.chunks_exact(3) {
                    a[0] += u32::from(px[ri]);
                    a[1] += u32::from(px[1]);
                    a[2] += u32::from(px[bi]);
                }
            }
        }
        out.extend(acc.iter().map(|a| ((a + n / 2) / n) as u8));
    }
    Some((out, w as u32, h as u32))
}

/// Encodes `frame` as a JPEG of at most `max_bytes`, scaled down to at most `max_width_px`
/// wide (0 = the frame's own size); `None` when it cannot fit or the frame buffer is
/// inconsistent.
pub fn jpeg(frame: &Frame, max_bytes: usize, max_width_px: u32) -> Option<Vec<u8>> {
    let (rgb, w, h) = rgb_rows(frame, scale_factor(frame.width, max_width_px))?;
    for q in QUALITIES {
        let mut buf = Vec::new();
        let mut enc = JpegEncoder::new_with_quality(&mut buf, q);
        if let Err(e) = enc.encode(&rgb, w, h, ExtendedColorType::Rgb8) {
            tracing::warn!(camera = %frame.camera, error = %e, "snapshot encoding failed");
            return None;
        }
        if buf.len() <= max_bytes {
            return Some(buf);
        }
    }
    tracing::warn!(camera = %frame.camera, max_bytes, "snapshot larger than the cap at every quality; sent without one");
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use vigil_core::CameraId;

    fn frame(format: PixelFormat, stride_pad: usize) -> Frame {
        let (w, h) = (64u32, 48u32);
        let stride = w as usize * 3 + stride_pad;
        let mut data = vec![0u8; stride * h as usize];
        for y in 0..h as usize {
            for x in 0..w as usize {
                // Pure red in the frame's own channel order.
                let px = &mut data[y * stride + x * 3..y * stride + x * 3 + 3];
                px.copy_from_slice(if format == PixelFormat::Rgb8 {
                    &[220, 0, 0]
                } else {
                    &[0, 0, 220]
                });
            }
        }
        Frame {
            camera: CameraId::new("c"),
            seq: 0,
            pts_ns: 0,
            captured_at: std::time::SystemTime::UNIX_EPOCH,
            width: w,
            height: h,
            stride,
            format,
            data: Arc::from(data),
        }
    }

    #[test]
    fn bgr_frames_come_out_with_the_right_colours_and_size() {
        for (fmt, pad) in [(PixelFormat::Rgb8, 0), (PixelFormat::Bgr8, 4)] {
            let jpg = jpeg(&frame(fmt, pad), 1 << 20, 0).expect("encodes");
            let img = image::load_from_memory(&jpg).expect("decodes").to_rgb8();
            assert_eq!(img.dimensions(), (64, 48));
            let p = img.get_pixel(32, 24).0;
            assert!(p[0] > 180 && p[1] < 40 && p[2] < 40, "{fmt:?}: {p:?}");
        }
    }

    #[test]
    fn the_cap_is_respected() {
        let f = frame(PixelFormat::Rgb8, 0);
        assert!(jpeg(&f, 10, 0).is_none(), "nothing fits 10 bytes");
        let small = jpeg(&f, 1 << 20, 0).expect("fits");
        assert!(small.len() < 1 << 20);
    }

    #[test]
    fn wide_frames_are_scaled_down_by_a_whole_factor_keeping_colours() {
        assert_eq!(scale_factor(3840, 1920), 2);
        assert_eq!(scale_factor(2560, 1920), 2);
        assert_eq!(scale_factor(1920, 1920), 1);
        assert_eq!(scale_factor(7680, 1920), 4);
        assert_eq!(scale_factor(7680, 0), 1);
        let f = frame(PixelFormat::Bgr8, 4);
        let jpg = jpeg(&f, 1 << 20, 20).expect("encodes");
        let img = image::load_from_memory(&jpg).expect("decodes").to_rgb8();
        assert_eq!(img.dimensions(), (16, 12), "64x48 / 4");
        let p = img.get_pixel(8, 6).0;
        assert!(p[0] > 180 && p[1] < 40 && p[2] < 40, "{p:?}");
    }
}
