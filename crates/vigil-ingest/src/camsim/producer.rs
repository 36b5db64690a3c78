//! Per-mount producer: decodes the source (file or still) at real-time pace and hands raw frames
//! to whichever RTSP media currently serves the mount.
//!
//! Decoding runs in its own pipeline, independent of RTSP clients, so a file can loop by a plain
//! flushing seek at EOS and the served stream's timestamps (stamped by `appsrc do-timestamp`) stay
//! continuous across loops; the RTSP media pipelines come and go with their clients.

use super::pan::pan_crop;
use super::{CamsimSource, MountSpec};
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use std::sync::{Arc, Mutex};

/// Where a producer delivers frames: the appsrc of the mount's current media, if any.
#[derive(Debug, Default)]
pub(crate) struct Outlet {
    /// Appsrc of the live media; `None` while no client is connected.
    pub appsrc: Option<gst_app::AppSrc>,
    /// Caps of the produced frames, applied to each new appsrc.
    pub caps: Option<gst::Caps>,
}

/// A running producer pipeline; dropping it stops the pipeline.
pub(crate) struct Producer {
    pipeline: gst::Pipeline,
    /// Keeps the EOS-loop bus watch alive.
    _watch: gst::bus::BusWatchGuard,
}

impl Drop for Producer {
    fn drop(&mut self) {
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}

/// gst-launch description of the decode part for `spec` (everything up to the appsink).
fn description(spec: &MountSpec) -> String {
    let size = match (spec.width, spec.height) {
        (Some(w), Some(h)) => format!(",width={w},height={h},pixel-aspect-ratio=1/1"),
        (Some(w), None) => format!(",width={w}"),
        (None, Some(h)) => format!(",height={h}"),
        (None, None) => String::new(),
    };
    let fps = spec.fps.max(1);
    let out = format!("video/x-raw,format=I420{size},framerate={fps}/1");
    match &spec.source {
        CamsimSource::File(path) => format!(
            "filesrc location=\"{}\" ! decodebin ! videoconvert ! videoscale ! videorate ! {out} ! appsink name=out",
            path.display()
        ),
        // Converted to I420 once, before the pan: decoders emit formats videocrop cannot take
        // (pngdec gives ARGB64 for 16-bit PNGs), and the stream is encoded as I420 anyway.
        CamsimSource::Still(path) => format!(
            "filesrc location=\"{}\" ! decodebin ! videoconvert ! video/x-raw,format=I420 \
             ! imagefreeze is-live=false ! video/x-raw,framerate={fps}/1 ! videocrop name=pan \
             ! videoscale ! videoconvert ! {out} ! appsink name=out",
            path.display()
        ),
    }
}

impl Producer {
    /// Builds and starts the producer for `spec`, feeding `outlet`. Must be called with the
    /// camsim main context as thread default (the bus watch attaches to it).
    pub fn start(spec: &MountSpec, outlet: Arc<Mutex<Outlet>>) -> Result<Self, String> {
        let desc = description(spec);
        let pipeline = gst::parse::launch(&desc)
            .map_err(|e| format!("{}: cannot build `{desc}`: {e}", spec.path))?
            .downcast::<gst::Pipeline>()
            .map_err(|_| format!("{}: launch description is not a pipeline", spec.path))?;
        let appsink = pipeline
            .by_name("out")
            .and_then(|e| e.downcast::<gst_app::AppSink>().ok())
            .ok_or_else(|| format!("{}: no appsink", spec.path))?;
        // Real-time pace, like a camera; a stalled consumer never backs up into decoding.
        appsink.set_sync(true);
        appsink.set_max_buffers(2);
        appsink.set_drop(true);
        appsink.set_callbacks(
            gst_app::AppSinkCallbacks::builder()
                .new_sample(move |sink| {
                    let sample = sink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                    forward(&outlet, &sample);
                    Ok(gst::FlowSuccess::Ok)
                })
                .build(),
        );
        if let Some(pan) = pipeline.by_name("pan") {
            install_pan(&pan, spec.fps.max(1));
        }
        let weak = pipeline.downgrade();
        let path = spec.path.clone();
        let bus = pipeline
            .bus()
            .ok_or_else(|| format!("{path}: pipeline without bus"))?;
        let watch = bus
            .add_watch(move |_bus, msg| {
                let Some(pipeline) = weak.upgrade() else {
                    return gst::glib::ControlFlow::Break;
                };
                match msg.view() {
                    gst::MessageView::Eos(_) => {
                        // Loop the file: flush back to the start.
                        if let Err(e) = pipeline.seek_simple(gst::SeekFlags::FLUSH, gst::ClockTime::ZERO) {
                            tracing::warn!(mount = %path, error = %e, "camsim: loop seek failed");
                        }
                    }
                    gst::MessageView::Error(err) => {
                        tracing::warn!(mount = %path, error = %err.error(), "camsim: producer error");
                    }
                    _ => {}
                }
                gst::glib::ControlFlow::Continue
            })
            .map_err(|e| format!("{}: bus watch: {e}", spec.path))?;
        let producer = Self {
            pipeline,
            _watch: watch,
        };
        producer.wait_preroll(spec)?;
        Ok(producer)
    }

    /// Starts the pipeline and waits until it has decoded its first frame, so that a source
    /// GStreamer cannot serve is refused at start, naming the file, rather than logged later as
    /// "Internal data stream error" while clients get nothing.
    fn wait_preroll(&self, spec: &MountSpec) -> Result<(), String> {
        let (kind, file) = match &spec.source {
            CamsimSource::File(p) => ("video file", p),
            CamsimSource::Still(p) => ("still image", p),
        };
        let refuse = |why: String| {
            format!(
                "mount {}: cannot serve {kind} {}: {why} (convert it to an 8-bit JPEG/PNG or an H.264 file)",
                spec.path,
                file.display()
            )
        };
        let started = self.pipeline.set_state(gst::State::Playing);
        let settled = started.is_ok()
            && self
                .pipeline
                .state(gst::ClockTime::from_seconds(PREROLL_TIMEOUT_S))
                .0
                .is_ok();
        if settled {
            return Ok(());
        }
        // The bus watch has not run yet (the main loop starts after setup): the error is queued.
        let detail = self
            .pipeline
            .bus()
            .and_then(|bus| bus.pop_filtered(&[gst::MessageType::Error]))
            .and_then(|msg| match msg.view() {
                gst::MessageView::Error(err) => Some(describe(err)),
                _ => None,
            })
            .unwrap_or_else(|| "the pipeline did not start".into());
        Err(refuse(detail))
    }
}

/// How long a producer may take to decode its first frame before camsim gives up on it.
const PREROLL_TIMEOUT_S: u64 = 15;

/// "message (detail)" of a GStreamer error: the last debug line when it says more than the
/// message (e.g. the caps that failed to negotiate), not the source-location line
/// (`file.c(123): function (): /GstPipeline:…`) that is all some errors carry.
fn describe(err: &gst::message::Error) -> String {
    let main = err.error().to_string();
    let detail = err.debug().and_then(|d| {
        let last = d.lines().map(str::trim).rfind(|l| !l.is_empty())?.to_owned();
        (last != main && !last.contains("): ")).then_some(last)
    });
    match detail {
        Some(detail) => format!("{main} ({detail})"),
        None => main,
    }
}

/// Pushes one decoded frame to the current media, re-stamped by the media's appsrc.
fn forward(outlet: &Mutex<Outlet>, sample: &gst::Sample) {
    let Ok(mut outlet) = outlet.lock() else { return };
    if let Some(caps) = sample.caps_owned()
        && outlet.caps.as_ref() != Some(&caps)
    {
        if let Some(src) = &outlet.appsrc {
            src.set_caps(Some(&caps));
        }
        outlet.caps = Some(caps);
    }
    let (Some(src), Some(buffer)) = (outlet.appsrc.clone(), sample.buffer_owned()) else {
        return;
    };
    // The outlet's lock is not needed for the push itself.
    drop(outlet);
    // Clear timestamps so `do-timestamp` stamps the media's running time (continuous across loops).
    let mut buffer = buffer;
    {
        let b = buffer.make_mut();
        b.set_pts(gst::ClockTime::NONE);
        b.set_dts(gst::ClockTime::NONE);
    }
    // Fails while the media is starting or going away; the frame is simply not sent. The media's
    // `unprepared` handler (media_factory) detaches a media that is gone.
    let _ = src.push_buffer(buffer);
}

/// Moves the crop window of `videocrop` before each frame reaches it.
fn install_pan(crop: &gst::Element, fps: u32) {
    let Some(pad) = crop.static_pad("sink") else {
        return;
    };
    let element = crop.downgrade();
    let frame = std::sync::atomic::AtomicU64::new(0);
    pad.add_probe(gst::PadProbeType::BUFFER, move |pad, _info| {
        let Some(element) = element.upgrade() else {
            return gst::PadProbeReturn::Ok;
        };
        let size = pad.current_caps().and_then(|caps| {
            let s = caps.structure(0)?;
            Some((s.get::<i32>("width").ok()?, s.get::<i32>("height").ok()?))
        });
        if let Some((w, h)) = size
            && w > 1
            && h > 1
        {
            let n = frame.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let c = pan_crop(n, fps, w as u32, h as u32);
            element.set_property("left", c.left as i32);
            element.set_property("right", c.right as i32);
            element.set_property("top", c.top as i32);
            element.set_property("bottom", c.bottom as i32);
        }
        gst::PadProbeReturn::Ok
    });
}
