//! Slow pan across a still image, so a served still is real video: objects move between frames
//! (trackers and plate voting need that) while staying fully in view at the ends of the sweep.

/// Pixels to cut from each side of the source image for one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crop {
    /// Columns cut on the left.
    pub left: u32,
    /// Columns cut on the right.
    pub right: u32,
    /// Rows cut at the top.
    pub top: u32,
    /// Rows cut at the bottom.
    pub bottom: u32,
}

/// Fraction of the image the moving window covers, per axis.
const WINDOW: f64 = 0.8;
/// Length of one left→right→left sweep, in seconds.
const SWEEP_S: f64 = 6.0;

/// Window size (even, for 4:2:0 chroma) for an image of `width_px × height_px`.
pub fn window_size(width_px: u32, height_px: u32) -> (u32, u32) {
    let side = |v: u32| (((f64::from(v) * WINDOW) as u32) & !1).max(2).min(v);
    (side(width_px), side(height_px))
}

/// Crop of frame number `frame` at `fps` for an image of `width_px × height_px`: a window of
/// [`window_size`] moving horizontally in a triangle wave, vertically centred.
pub fn pan_crop(frame: u64, fps: u32, width_px: u32, height_px: u32) -> Crop {
    let (win_w, win_h) = window_size(width_px, height_px);
    let slack_x = width_px - win_w;
    let slack_y = height_px - win_h;
    let period_frames = (SWEEP_S * f64::from(fps.max(1))).max(2.0);
    let phase = (frame as f64 % period_frames) / period_frames; // 0..1
    let tri = if phase < 0.5 {
        phase * 2.0
    } else {
        2.0 - phase * 2.0
    }; // 0..1..0
    // Even offsets keep chroma planes aligned.
    let left = ((f64::from(slack_x) * tri) as u32 & !1).min(slack_x);
    let top = (slack_y / 2) & !1;
    Crop {
        left,
        right: slack_x - left,
        top,
        bottom: slack_y - top,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn window_moves_and_returns() {
        let at = |f| pan_crop(f, 10, 1000, 500).left;
        assert_eq!(at(0), 0);
        assert!(at(15) > at(5), "moving right in the first half");
        assert_eq!(at(30), 200, "far right at half period");
        assert!(at(45) < at(30), "moving back");
        assert_eq!(at(60), 0, "back at the start after one sweep");
    }

    proptest! {
        #[test]
        fn crop_keeps_a_constant_even_window_inside_the_image(
            frame in 0u64..100_000, fps in 1u32..60, w in 2u32..4000, h in 2u32..4000,
        ) {
            let c = pan_crop(frame, fps, w, h);
            let (ww, wh) = window_size(w, h);
            prop_assert_eq!(w - c.left - c.right, ww);
            prop_assert_eq!(h - c.top - c.bottom, wh);
            prop_assert!(ww.is_multiple_of(2) && wh.is_multiple_of(2));
            prop_assert!(c.left.is_multiple_of(2) && c.top.is_multiple_of(2));
        }
    }
}
