//! Alert snapshots: the whole frame as a JPEG, at the frame's own resolution so that the
//! alert's detection box (frame pixels) applies to the image as is, and below a size cap.
//!
//! Quality steps down until the image fits the cap; if even the lowest step does not fit, the
//! alert goes out without a snapshot (and says so in the log) rather than with an unbounded
//! payload.

use image::ExtendedColorType;
use image::codecs::jpeg::JpegEncoder;
use vigil_core::{Frame, PixelFormat};

/// JPEG qualities tried, best first.
const QUALITIES: [u8; 4] = [80, 65, 50, 35];

/// Tightly packed RGB rows of a frame (converting BGR, dropping stride padding).
fn rgb_rows(frame: &Frame) -> Option<Vec<u8>> {
    let row_bytes = frame.width as usize * 3;
    let mut out = Vec::with_capacity(row_bytes * frame.height as usize);
    for y in 0..frame.height {
        let row = frame.row(y)?;
        match frame.format {
            PixelFormat::Rgb8 => out.extend_from_slice(row),
            PixelFormat::Bgr8 => {
                for px in row.chunks_exact(3) {
                    out.extend_from_slice(&[px[2], px[1], px[0]]);
                }
            }
        }
    }
    Some(out)
}

/// Encodes `frame` as a JPEG of at most `max_bytes`; `None` when it cannot fit or the frame
/// buffer is inconsistent.
pub fn jpeg(frame: &Frame, max_bytes: usize) -> Option<Vec<u8>> {
    let rgb = rgb_rows(frame)?;
    for q in QUALITIES {
        let mut buf = Vec::new();
        let mut enc = JpegEncoder::new_with_quality(&mut buf, q);
        if let Err(e) = enc.encode(&rgb, frame.width, frame.height, ExtendedColorType::Rgb8) {
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
            let jpg = jpeg(&frame(fmt, pad), 1 << 20).expect("encodes");
            let img = image::load_from_memory(&jpg).expect("decodes").to_rgb8();
            assert_eq!(img.dimensions(), (64, 48));
            let p = img.get_pixel(32, 24).0;
            assert!(p[0] > 180 && p[1] < 40 && p[2] < 40, "{fmt:?}: {p:?}");
        }
    }

    #[test]
    fn the_cap_is_respected() {
        let f = frame(PixelFormat::Rgb8, 0);
        assert!(jpeg(&f, 10).is_none(), "nothing fits 10 bytes");
        let small = jpeg(&f, 1 << 20).expect("fits");
        assert!(small.len() < 1 << 20);
    }
}
