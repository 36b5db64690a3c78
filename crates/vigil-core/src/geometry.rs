//! Axis-aligned boxes and points, in pixel or normalised coordinates.

use serde::{Deserialize, Serialize};

/// A point in source-frame pixels (x right, y down, origin top-left).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PointPx {
    /// Horizontal position in pixels.
    pub x: f32,
    /// Vertical position in pixels.
    pub y: f32,
}

/// A point normalised to the frame size: (0,0) top-left, (1,1) bottom-right.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PointNorm {
    /// Horizontal position as a fraction of the frame width.
    pub x: f32,
    /// Vertical position as a fraction of the frame height.
    pub y: f32,
}

impl PointNorm {
    /// Converts to pixels of a frame of the given size.
    pub fn to_px(self, width: u32, height: u32) -> PointPx {
        PointPx {
            x: self.x * width as f32,
            y: self.y * height as f32,
        }
    }
}

/// An axis-aligned box in source-frame pixels; `x1 <= x2`, `y1 <= y2` for a valid box.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BoxPx {
    /// Left edge.
    pub x1: f32,
    /// Top edge.
    pub y1: f32,
    /// Right edge.
    pub x2: f32,
    /// Bottom edge.
    pub y2: f32,
}

impl BoxPx {
    /// Builds a box from its corners.
    pub const fn new(x1: f32, y1: f32, x2: f32, y2: f32) -> Self {
        Self { x1, y1, x2, y2 }
    }

    /// Builds a box from its centre and size.
    pub fn from_center(cx: f32, cy: f32, w: f32, h: f32) -> Self {
        Self::new(cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0)
    }

    /// Width, zero for inverted or degenerate boxes.
    pub fn width(&self) -> f32 {
        (self.x2 - self.x1).max(0.0)
    }

    /// Height, zero for inverted or degenerate boxes.
    pub fn height(&self) -> f32 {
        (self.y2 - self.y1).max(0.0)
    }

    /// Area in square pixels; zero for degenerate boxes and for boxes with NaN corners.
    pub fn area(&self) -> f32 {
        let a = self.width() * self.height();
        if a.is_finite() { a } else { 0.0 }
    }

    /// Centre point.
    pub fn center(&self) -> PointPx {
        PointPx {
            x: (self.x1 + self.x2) / 2.0,
            y: (self.y1 + self.y2) / 2.0,
        }
    }

    /// Bottom-centre point: where a standing person or a vehicle touches the ground, the point
    /// zone and line rules use.
    pub fn bottom_center(&self) -> PointPx {
        PointPx {
            x: (self.x1 + self.x2) / 2.0,
            y: self.y2,
        }
    }

    /// Intersection over union; 0 when either box is empty or a corner is NaN.
    pub fn iou(&self, other: &BoxPx) -> f32 {
        let ix = (self.x2.min(other.x2) - self.x1.max(other.x1)).max(0.0);
        let iy = (self.y2.min(other.y2) - self.y1.max(other.y1)).max(0.0);
        let inter = ix * iy;
        let union = self.area() + other.area() - inter;
        if union > 0.0 && inter.is_finite() {
            inter / union
        } else {
            0.0
        }
    }

    /// Clips the box to a frame of `width` × `height` pixels.
    pub fn clip(&self, width: u32, height: u32) -> BoxPx {
        let (w, h) = (width as f32, height as f32);
        BoxPx::new(
            self.x1.clamp(0.0, w),
            self.y1.clamp(0.0, h),
            self.x2.clamp(0.0, w),
            self.y2.clamp(0.0, h),
        )
    }

    /// True when `other` lies entirely inside this box.
    pub fn contains_box(&self, other: &BoxPx) -> bool {
        other.x1 >= self.x1 && other.y1 >= self.y1 && other.x2 <= self.x2 && other.y2 <= self.y2
    }

    /// True when every corner is a finite number.
    pub fn is_finite(&self) -> bool {
        self.x1.is_finite() && self.y1.is_finite() && self.x2.is_finite() && self.y2.is_finite()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iou_of_identical_boxes_is_one() {
        let b = BoxPx::new(10.0, 10.0, 20.0, 30.0);
        assert!((b.iou(&b) - 1.0).abs() < 1e-6);
    }

    #[test]
    fn iou_of_disjoint_and_degenerate_boxes_is_zero() {
        let a = BoxPx::new(0.0, 0.0, 10.0, 10.0);
        assert_eq!(a.iou(&BoxPx::new(20.0, 20.0, 30.0, 30.0)), 0.0);
        assert_eq!(a.iou(&BoxPx::new(5.0, 5.0, 5.0, 9.0)), 0.0);
        assert_eq!(a.iou(&BoxPx::new(f32::NAN, 0.0, 10.0, 10.0)), 0.0);
    }

    #[test]
    fn iou_half_overlap() {
        let a = BoxPx::new(0.0, 0.0, 10.0, 10.0);
        let b = BoxPx::new(5.0, 0.0, 15.0, 10.0);
        assert!((a.iou(&b) - 50.0 / 150.0).abs() < 1e-6);
    }

    #[test]
    fn clip_keeps_box_inside_frame() {
        let b = BoxPx::new(-5.0, -1.0, 700.0, 50.0).clip(640, 480);
        assert_eq!(b, BoxPx::new(0.0, 0.0, 640.0, 50.0));
    }
}
