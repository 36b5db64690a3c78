//! Decoded video frames as they travel from ingest to inference.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

/// Identifier of a camera as written in the pipeline file (`[[camera]] id = "gate-1"`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CameraId(pub Arc<str>);

impl CameraId {
    /// Creates an id from any string.
    pub fn new(id: impl AsRef<str>) -> Self {
        Self(Arc::from(id.as_ref()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CameraId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Byte order of the packed 3-channel pixels in a [`Frame`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PixelFormat {
    /// Red, green, blue — one byte each.
    Rgb8,
    /// Blue, green, red — one byte each (OpenCV order, what YOLOX was trained on).
    Bgr8,
}

/// One decoded frame of one camera.
///
/// Pixel data is reference-counted so that handing a frame to several consumers (detector,
/// snapshot store, UI) never copies it.
#[derive(Debug, Clone)]
pub struct Frame {
    /// Camera that produced the frame.
    pub camera: CameraId,
    /// Sequence number per camera, starting at 0 and counting every frame handed to analysis
    /// (gaps mean frames were dropped after decoding).
    pub seq: u64,
    /// Presentation timestamp from the stream, in nanoseconds since the stream start.
    pub pts_ns: u64,
    /// Wall-clock time at which the frame left the decoder.
    pub captured_at: SystemTime,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Bytes from the start of one row to the start of the next (≥ 3 × width).
    pub stride: usize,
    /// Channel order of `data`.
    pub format: PixelFormat,
    /// Packed pixels, `stride × height` bytes.
    pub data: Arc<[u8]>,
}

impl Frame {
    /// The bytes of row `y` without stride padding, or `None` past the last row.
    pub fn row(&self, y: u32) -> Option<&[u8]> {
        let start = self.stride.checked_mul(y as usize)?;
        self.data.get(start..start + self.width as usize * 3)
    }
}
