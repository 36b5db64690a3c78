//! The appsink end of a camera pipeline: one decoded sample → one [`Frame`] in the queue.
//!
//! Runs on a GStreamer streaming thread, so it never blocks: it maps the buffer, copies the pixels
//! once into an `Arc<[u8]>` (keeping the row stride GStreamer chose) and pushes with drop-oldest.

use crate::queue::FrameSender;
use crate::status::SourceCounters;
use gstreamer as gst;
use gstreamer_app as gst_app;
use gstreamer_video as gst_video;
use gstreamer_video::prelude::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};
use vigil_core::{CameraId, Frame, PixelFormat};

/// Everything the appsink callback needs; cloned into the callback closure.
#[derive(Debug, Clone)]
pub(crate) struct FrameSink {
    /// Camera id stamped on every frame.
    pub camera: CameraId,
    /// Pixel order negotiated on the appsink caps.
    pub format: PixelFormat,
    /// Per-camera frame sequence, kept across reconnects so gaps stay meaningful.
    pub seq: Arc<AtomicU64>,
    /// Queue into analysis.
    pub queue: FrameSender,
    /// Counters (last frame time).
    pub counters: Arc<SourceCounters>,
}

impl FrameSink {
    /// Installs the callback on `appsink`.
    pub fn attach(self, appsink: &gst_app::AppSink) {
        appsink.set_callbacks(
            gst_app::AppSinkCallbacks::builder()
                .new_sample(move |sink| {
                    let sample = sink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                    self.on_sample(&sample)?;
                    Ok(gst::FlowSuccess::Ok)
                })
                .build(),
        );
    }

    /// Converts one sample and queues it.
    fn on_sample(&self, sample: &gst::Sample) -> Result<(), gst::FlowError> {
        let buffer = sample.buffer().ok_or(gst::FlowError::Error)?;
        let caps = sample.caps().ok_or(gst::FlowError::NotNegotiated)?;
        let info = gst_video::VideoInfo::from_caps(caps).map_err(|_| gst::FlowError::NotNegotiated)?;
        let vframe = gst_video::VideoFrameRef::from_buffer_ref_readable(buffer, &info)
            .map_err(|_| gst::FlowError::Error)?;
        let stride = usize::try_from(vframe.plane_stride()[0]).map_err(|_| gst::FlowError::NotSupported)?;
        let height = vframe.height();
        let plane = vframe.plane_data(0).map_err(|_| gst::FlowError::Error)?;
        // The last row may be unpadded, so take at most what is there.
        let len = (stride * height as usize).min(plane.len());
        let data: Arc<[u8]> = Arc::from(&plane[..len]);
        let captured_at = SystemTime::now();
        let frame = Frame {
            camera: self.camera.clone(),
            seq: self.seq.fetch_add(1, Ordering::Relaxed),
            pts_ns: buffer.pts().map_or(0, |t| t.nseconds()),
            captured_at,
            width: vframe.width(),
            height,
            stride,
            format: self.format,
            data,
        };
        let unix_ns = captured_at
            .duration_since(UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64);
        self.counters.last_frame_unix_ns.store(unix_ns, Ordering::Relaxed);
        self.queue.push(frame);
        Ok(())
    }
}
