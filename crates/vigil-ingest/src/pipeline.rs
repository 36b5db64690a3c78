//! Building one camera's GStreamer pipeline.
//!
//! ```text
//! rtspsrc ─┬─ RTP H.264/H.265 ─► rtph26Xdepay ─► h26Xparse ─┐
//!          └─ other RTP ───────► parsebin ──────────────────┤
//! urisourcebin ────────────────► parsebin ──────────────────┴─► decoder ─► [videorate] ─► [videoscale ─► caps ≤ max]
//!                                                                          drop-only,
//!      ─► videoconvert ─► appsink (RGB/BGR, max-buffers=1, drop, sync per source)    max-rate
//! ```
//!
//! The first video stream is decoded; others go to a fakesink. `parsebin` depayloads and parses
//! whatever arrives (AVI, MP4, MKV, other RTP payloads); RTP H.264/H.265 — what cameras send —
//! gets an explicit depayloader + parser instead (see [`rtp_depay_parse`] for why). The decoder
//! is chosen by us from the parsed caps ([`crate::decoder`]) rather than by decodebin's ranking,
//! which lets a camera override it. Frames are dropped to the analysis rate right after the
//! decoder — before colour conversion and scaling, the expensive steps.

use crate::config::{RtspTransport, SourceKind, SourceSettings};
use crate::decoder::{Codec, DecoderChoice, best_decoder_for_caps, choose_decoder, element_available};
use crate::error::{SourceError, SourceErrorKind};
use crate::rate_gate::RateGate;
use crate::redact::Redactor;
use crate::sink::FrameSink;
use crate::supervisor::SupervisorPolicy;
use gstreamer as gst;
use gstreamer::glib;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use gstreamer_video as gst_video;
use std::sync::Mutex;

/// A built pipeline; dropping it sets it to `Null` (stops threads, closes sockets).
#[derive(Debug)]
pub(crate) struct SourcePipeline {
    pipeline: gst::Pipeline,
}

/// Context for turning GStreamer errors into [`SourceError`]s.
#[derive(Debug, Clone)]
pub(crate) struct ErrorContext {
    /// Camera id.
    pub camera: String,
    /// Redacted URI.
    pub uri: String,
    /// Hides the camera's password in messages.
    pub redactor: Redactor,
}

impl ErrorContext {
    /// Context for `settings`.
    pub fn new(settings: &SourceSettings) -> Self {
        Self {
            camera: settings.camera.to_string(),
            uri: settings.redacted_uri(),
            redactor: settings.redactor(),
        }
    }

    /// An error of `kind` with a redacted message.
    pub fn error(&self, kind: SourceErrorKind, message: &str) -> SourceError {
        SourceError {
            camera: self.camera.clone(),
            uri: self.uri.clone(),
            kind,
            message: self.redactor.redact(message),
        }
    }

    /// An error from a bus error message.
    pub fn bus_error(&self, err: &gst::message::Error) -> SourceError {
        let element = err
            .src()
            .map(|s| s.name().to_string())
            .unwrap_or_else(|| "pipeline".into());
        let main = err.error().to_string();
        let detail = err
            .debug()
            .and_then(|d| debug_detail(&d, &main))
            .map(|d| format!(" ({d})"))
            .unwrap_or_default();
        let message = format!("{element}: {main}{detail}");
        self.error(classify(&err.error()), &message)
    }
}

/// The informative tail of a GStreamer debug string.
///
/// Debug strings read `file.c(123): function (): /GstPipeline:p/GstRTSPSrc:src:\nNot Found (404)`;
/// only the last line says something an operator can use.
fn debug_detail(debug: &str, main: &str) -> Option<String> {
    let last = debug.lines().map(str::trim).rfind(|l| !l.is_empty())?;
    (last != main && !last.ends_with(':')).then(|| last.to_owned())
}

/// Maps a GStreamer error domain/code to a failure class.
pub fn classify(err: &glib::Error) -> SourceErrorKind {
    if let Some(code) = err.kind::<gst::ResourceError>() {
        return match code {
            gst::ResourceError::NotAuthorized => SourceErrorKind::Unauthorized,
            gst::ResourceError::NotFound => SourceErrorKind::NotFound,
            _ => SourceErrorKind::Unreachable,
        };
    }
    if let Some(code) = err.kind::<gst::StreamError>() {
        return match code {
            gst::StreamError::CodecNotFound => SourceErrorKind::MissingElement,
            gst::StreamError::Decode
            | gst::StreamError::Demux
            | gst::StreamError::Format
            | gst::StreamError::WrongType
            | gst::StreamError::TypeNotFound
            | gst::StreamError::Decrypt
            | gst::StreamError::DecryptNokey => SourceErrorKind::BadMedia,
            _ => SourceErrorKind::Other,
        };
    }
    match err.kind::<gst::CoreError>() {
        Some(gst::CoreError::MissingPlugin) => SourceErrorKind::MissingElement,
        _ => SourceErrorKind::Other,
    }
}

fn make(factory: &str, ctx: &ErrorContext) -> Result<gst::Element, SourceError> {
    gst::ElementFactory::make(factory).build().map_err(|e| {
        ctx.error(
            SourceErrorKind::MissingElement,
            &format!("cannot create element `{factory}`: {e}"),
        )
    })
}

impl SourcePipeline {
    /// Builds (but does not start) the pipeline for `settings`, delivering frames to `sink`.
    pub fn build(
        settings: &SourceSettings,
        policy: &SupervisorPolicy,
        sink: FrameSink,
    ) -> Result<Self, SourceError> {
        let ctx = ErrorContext::new(settings);
        let pipeline = gst::Pipeline::with_name(&format!("camera-{}", settings.camera));
        let tail_entry = build_tail(&pipeline, settings, sink, &ctx)?;
        let source = build_source(settings, policy, &ctx)?;
        pipeline
            .add(&source)
            .map_err(|e| ctx.error(SourceErrorKind::Other, &e.to_string()))?;
        let weak_pipeline = pipeline.downgrade();
        let settings_for_pads = settings.clone();
        let weak_entry = tail_entry.downgrade();
        source.connect_pad_added(move |src, pad| {
            let (Some(pipeline), Some(entry)) = (weak_pipeline.upgrade(), weak_entry.upgrade()) else {
                return;
            };
            if let Err(e) = on_source_pad(&pipeline, pad, &entry, &settings_for_pads) {
                gst::element_error!(
                    src,
                    gst::CoreError::Negotiation,
                    ("{}", e),
                    ["linking source pad"]
                );
            }
        });
        Ok(Self { pipeline })
    }

    /// Sets the pipeline to `Playing`.
    pub fn start(&self, ctx: &ErrorContext) -> Result<(), SourceError> {
        self.pipeline
            .set_state(gst::State::Playing)
            .map(|_| ())
            .map_err(|_| {
                // The bus usually holds the specific error; fall back to a generic one.
                self.pipeline
                    .bus()
                    .and_then(|bus| bus.pop_filtered(&[gst::MessageType::Error]))
                    .and_then(|msg| match msg.view() {
                        gst::MessageView::Error(err) => Some(ctx.bus_error(err)),
                        _ => None,
                    })
                    .unwrap_or_else(|| ctx.error(SourceErrorKind::Other, "pipeline refused to start"))
            })
    }

    /// Current position and total duration, where the pipeline knows them.
    pub fn progress(&self) -> (Option<gst::ClockTime>, Option<gst::ClockTime>) {
        (
            self.pipeline.query_position::<gst::ClockTime>(),
            self.pipeline.query_duration::<gst::ClockTime>(),
        )
    }

    /// The pipeline bus (polled by the supervisor).
    pub fn bus(&self) -> Option<gst::Bus> {
        self.pipeline.bus()
    }
}

impl Drop for SourcePipeline {
    fn drop(&mut self) {
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}

/// Creates rtspsrc or urisourcebin with the camera's settings.
fn build_source(
    settings: &SourceSettings,
    policy: &SupervisorPolicy,
    ctx: &ErrorContext,
) -> Result<gst::Element, SourceError> {
    match settings.kind {
        SourceKind::Rtsp => {
            let src = make("rtspsrc", ctx)?;
            src.set_property("location", settings.uri.as_str());
            src.set_property("latency", settings.latency_ms);
            // Fail a hung connect or request quickly; the supervisor's retry is the better wait.
            let timeout_us = u64::try_from(policy.connect_timeout.as_micros()).unwrap_or(u64::MAX);
            src.set_property("tcp-timeout", timeout_us.max(1));
            // A late frame is useless to analytics; do not let the jitter buffer grow.
            src.set_property("drop-on-latency", true);
            let protocols = match settings.transport {
                RtspTransport::Tcp => "tcp",
                RtspTransport::Udp => "udp",
                RtspTransport::Auto => "udp+udp-mcast+tcp",
            };
            src.set_property_from_str("protocols", protocols);
            if let Some(creds) = &settings.credentials {
                src.set_property("user-id", creds.username.as_str());
                src.set_property("user-pw", creds.password.expose());
            }
            Ok(src)
        }
        SourceKind::Uri => {
            let src = make("urisourcebin", ctx)?;
            src.set_property("uri", settings.uri.as_str());
            if let Some(creds) = settings.credentials.clone() {
                // HTTP sources (souphttpsrc) take credentials as properties, like rtspsrc.
                src.connect("source-setup", false, move |args| {
                    if let Some(Ok(source)) = args.get(1).map(|v| v.get::<gst::Element>())
                        && source.find_property("user-id").is_some()
                        && source.find_property("user-pw").is_some()
                    {
                        source.set_property("user-id", creds.username.as_str());
                        source.set_property("user-pw", creds.password.expose());
                    }
                    None
                });
            }
            Ok(src)
        }
    }
}

/// Builds [videorate] → [videoscale → caps] → videoconvert → appsink; returns the first element.
fn build_tail(
    pipeline: &gst::Pipeline,
    settings: &SourceSettings,
    sink: FrameSink,
    ctx: &ErrorContext,
) -> Result<gst::Element, SourceError> {
    let mut chain = Vec::new();
    // Without an analysis rate there is nothing to drop, and videorate would only cost a frame
    // of latency (it holds one buffer back to pick the closest) and swallow the last frame.
    if let Some(fps) = settings.analysis_fps {
        let rate = make("videorate", ctx)?;
        rate.set_property("drop-only", true);
        // `max-rate`, not a `framerate=N/1` capsfilter: fixed caps fail to negotiate when the
        // camera is slower than N, and neither drops anything on `framerate=0/1` streams.
        rate.set_property("max-rate", (fps.ceil() as i32).max(1));
        // Enforces the exact analysis rate also for variable-rate (framerate=0/1) streams,
        // where videorate passes everything; see rate_gate.rs.
        let gate = Mutex::new(RateGate::new(Some(fps)));
        if let Some(pad) = rate.static_pad("src") {
            pad.add_probe(gst::PadProbeType::BUFFER, move |_pad, info| {
                let pts = info.buffer().and_then(|b| b.pts());
                let admit = match (pts, gate.lock()) {
                    (Some(pts), Ok(mut gate)) => gate.admit(pts.nseconds()),
                    _ => true,
                };
                if admit {
                    gst::PadProbeReturn::Ok
                } else {
                    gst::PadProbeReturn::Drop
                }
            });
        }
        chain.push(rate);
    }
    if settings.max_width.is_some() || settings.max_height.is_some() {
        let scale = make("videoscale", ctx)?;
        let size_caps = gst::Caps::builder("video/x-raw")
            .field(
                "width",
                gst::IntRange::new(1, settings.max_width.map_or(i32::MAX, |w| w as i32)),
            )
            .field(
                "height",
                gst::IntRange::new(1, settings.max_height.map_or(i32::MAX, |h| h as i32)),
            )
            // Square pixels, so videoscale keeps the display aspect ratio when it fixates.
            .field("pixel-aspect-ratio", gst::Fraction::new(1, 1))
            .build();
        let filter = make("capsfilter", ctx)?;
        filter.set_property("caps", &size_caps);
        chain.push(scale);
        chain.push(filter);
    }
    chain.push(make("videoconvert", ctx)?);
    let format = match sink.format {
        vigil_core::PixelFormat::Rgb8 => gst_video::VideoFormat::Rgb,
        vigil_core::PixelFormat::Bgr8 => gst_video::VideoFormat::Bgr,
    };
    let appsink = gst_app::AppSink::builder()
        .caps(&gst_video::VideoCapsBuilder::new().format(format).build())
        .max_buffers(1)
        .drop(true)
        .sync(settings.sync_to_clock)
        .enable_last_sample(false)
        .build();
    sink.attach(&appsink);
    chain.push(appsink.upcast());
    pipeline
        .add_many(&chain)
        .map_err(|e| ctx.error(SourceErrorKind::Other, &e.to_string()))?;
    gst::Element::link_many(&chain).map_err(|e| ctx.error(SourceErrorKind::Other, &e.to_string()))?;
    Ok(chain[0].clone())
}

/// Source pad appeared: video goes through a parsebin, anything else into a fakesink.
fn on_source_pad(
    pipeline: &gst::Pipeline,
    pad: &gst::Pad,
    entry: &gst::Element,
    settings: &SourceSettings,
) -> Result<(), String> {
    let caps = pad.current_caps().unwrap_or_else(|| pad.query_caps(None));
    let is_video = caps.structure(0).is_some_and(|s| {
        // RTP pads say `media=video`; urisourcebin pads carry container caps we cannot judge yet.
        s.name() != "application/x-rtp" || s.get::<&str>("media").is_ok_and(|m| m == "video")
    });
    if !is_video {
        return link_to_fakesink(pipeline, pad);
    }
    if let Some((depay, parser)) = rtp_depay_parse(&caps) {
        return link_rtp_chain(pipeline, pad, entry, settings, depay, parser);
    }
    let parse = gst::ElementFactory::make("parsebin")
        .build()
        .map_err(|e| format!("parsebin: {e}"))?;
    pipeline.add(&parse).map_err(|e| e.to_string())?;
    let weak_pipeline = pipeline.downgrade();
    let weak_entry = entry.downgrade();
    let settings = settings.clone();
    parse.connect_pad_added(move |parse, pad| {
        let (Some(pipeline), Some(entry)) = (weak_pipeline.upgrade(), weak_entry.upgrade()) else {
            return;
        };
        if let Err((kind, msg)) = on_parsed_pad(&pipeline, pad, &entry, &settings) {
            match kind {
                SourceErrorKind::MissingElement => {
                    gst::element_error!(
                        parse,
                        gst::CoreError::MissingPlugin,
                        ("{}", msg),
                        ["choosing decoder"]
                    )
                }
                _ => gst::element_error!(
                    parse,
                    gst::CoreError::Negotiation,
                    ("{}", msg),
                    ["linking decoder"]
                ),
            }
        }
    });
    let sink_pad = parse.static_pad("sink").ok_or("parsebin has no sink pad")?;
    pad.link(&sink_pad)
        .map_err(|e| format!("source → parsebin: {e:?}"))?;
    parse.sync_state_with_parent().map_err(|e| e.to_string())?;
    Ok(())
}

/// The explicit depayloader and parser for RTP H.264/H.265.
///
/// `parsebin` would plug the same two elements, but lets the depayloader output NAL-aligned
/// byte-stream; the parser's NAL → access-unit step then loses the first slice of frames coded
/// as several slices (what `x264enc tune=zerolatency` and many IP cameras send), and the top
/// of every frame decodes as garbage. Linked directly, the parser negotiates access units with
/// the decoder and frames come out whole.
fn rtp_depay_parse(caps: &gst::CapsRef) -> Option<(&'static str, &'static str)> {
    let s = caps.structure(0)?;
    if s.name() != "application/x-rtp" {
        return None;
    }
    match s.get::<&str>("encoding-name").ok()?.to_ascii_uppercase().as_str() {
        "H264" => Some(("rtph264depay", "h264parse")),
        "H265" => Some(("rtph265depay", "h265parse")),
        _ => None,
    }
}

/// Links `pad` → depayloader → parser, then the decoder as for any parsed stream.
fn link_rtp_chain(
    pipeline: &gst::Pipeline,
    pad: &gst::Pad,
    entry: &gst::Element,
    settings: &SourceSettings,
    depay: &str,
    parser: &str,
) -> Result<(), String> {
    let make = |name: &str| {
        gst::ElementFactory::make(name)
            .build()
            .map_err(|e| format!("{name}: {e} (install gstreamer1.0-plugins-good / -bad)"))
    };
    let (d, p) = (make(depay)?, make(parser)?);
    pipeline.add_many([&d, &p]).map_err(|e| e.to_string())?;
    d.link(&p).map_err(|e| format!("{depay} → {parser}: {e}"))?;
    let src = p
        .static_pad("src")
        .ok_or_else(|| format!("{parser} has no src pad"))?;
    on_parsed_pad(pipeline, &src, entry, settings).map_err(|(_, msg)| msg)?;
    let sink = d
        .static_pad("sink")
        .ok_or_else(|| format!("{depay} has no sink pad"))?;
    pad.link(&sink).map_err(|e| format!("source → {depay}: {e:?}"))?;
    p.sync_state_with_parent().map_err(|e| e.to_string())?;
    d.sync_state_with_parent().map_err(|e| e.to_string())?;
    Ok(())
}

/// Parsed elementary stream appeared: choose and link a decoder for the first video stream.
fn on_parsed_pad(
    pipeline: &gst::Pipeline,
    pad: &gst::Pad,
    entry: &gst::Element,
    settings: &SourceSettings,
) -> Result<(), (SourceErrorKind, String)> {
    let other = |e: String| (SourceErrorKind::Other, e);
    let caps = pad.current_caps().unwrap_or_else(|| pad.query_caps(None));
    let name = caps
        .structure(0)
        .map(|s| s.name().to_string())
        .unwrap_or_default();
    let entry_sink = entry
        .static_pad("sink")
        .ok_or_else(|| other("first tail element has no sink pad".into()))?;
    if !name.starts_with("video/") || entry_sink.is_linked() {
        return link_to_fakesink(pipeline, pad).map_err(other);
    }
    if name == "video/x-raw" {
        return pad
            .link(&entry_sink)
            .map(|_| ())
            .map_err(|e| other(format!("raw video → tail: {e:?}")));
    }
    let codec = Codec::from_caps_name(&name);
    let choice =
        choose_decoder(codec, settings.decoder.as_deref(), element_available).map_err(|missing| {
            (
                SourceErrorKind::MissingElement,
                format!("no decoder for {name}: `{missing}` not installed"),
            )
        })?;
    let factory = match &choice {
        DecoderChoice::Override(n) => gst::ElementFactory::find(n),
        DecoderChoice::Preferred(n) => gst::ElementFactory::find(n),
        DecoderChoice::ByRank => best_decoder_for_caps(&caps),
    }
    .ok_or_else(|| {
        (
            SourceErrorKind::MissingElement,
            format!("no installed decoder accepts {name}"),
        )
    })?;
    if matches!(choice, DecoderChoice::Override(_)) && !factory.can_sink_any_caps(&caps) {
        let msg = format!(
            "decoder override `{}` cannot decode {name}; remove or fix `decoder`",
            factory.name()
        );
        return Err((SourceErrorKind::MissingElement, msg));
    }
    let decoder = factory
        .create()
        .build()
        .map_err(|e| other(format!("{}: {e}", factory.name())))?;
    tracing::info!(
        camera = %settings.camera,
        uri = %settings.redacted_uri(),
        codec = %name,
        decoder = %factory.name(),
        choice = ?choice,
        "decoder selected"
    );
    pipeline.add(&decoder).map_err(|e| other(e.to_string()))?;
    let dec_sink = decoder
        .static_pad("sink")
        .ok_or_else(|| other("decoder has no sink pad".into()))?;
    pad.link(&dec_sink)
        .map_err(|e| other(format!("parsebin → {}: {e:?}", factory.name())))?;
    decoder
        .link(entry)
        .map_err(|e| other(format!("{} → tail: {e}", factory.name())))?;
    decoder
        .sync_state_with_parent()
        .map_err(|e| other(e.to_string()))?;
    Ok(())
}

/// Sinks an unused stream so that its source does not fail with `not-linked`.
fn link_to_fakesink(pipeline: &gst::Pipeline, pad: &gst::Pad) -> Result<(), String> {
    let sink = gst::ElementFactory::make("fakesink")
        .property("sync", false)
        .property("async", false)
        .build()
        .map_err(|e| format!("fakesink: {e}"))?;
    pipeline.add(&sink).map_err(|e| e.to_string())?;
    let sink_pad = sink.static_pad("sink").ok_or("fakesink has no sink pad")?;
    pad.link(&sink_pad)
        .map_err(|e| format!("unused stream → fakesink: {e:?}"))?;
    sink.sync_state_with_parent().map_err(|e| e.to_string())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_strings_are_reduced_to_their_last_line() {
        let d = "../gst/rtsp/gstrtspsrc.c(6895): gst_rtspsrc_send (): /GstPipeline:camera-a/GstRTSPSrc:src:\nNot Found (404)";
        assert_eq!(debug_detail(d, "Not found").as_deref(), Some("Not Found (404)"));
        assert_eq!(debug_detail("same", "same"), None);
        assert_eq!(debug_detail("gstfoo.c(1): f (): /GstPipeline:p/X:y:", "m"), None);
    }

    #[test]
    fn error_domains_map_to_kinds() {
        let cases = [
            (
                glib::Error::new(gst::ResourceError::NotAuthorized, "401"),
                SourceErrorKind::Unauthorized,
            ),
            (
                glib::Error::new(gst::ResourceError::NotFound, "404"),
                SourceErrorKind::NotFound,
            ),
            (
                glib::Error::new(gst::ResourceError::OpenReadWrite, "refused"),
                SourceErrorKind::Unreachable,
            ),
            (
                glib::Error::new(gst::StreamError::Demux, "bad avi"),
                SourceErrorKind::BadMedia,
            ),
            (
                glib::Error::new(gst::StreamError::CodecNotFound, "no dec"),
                SourceErrorKind::MissingElement,
            ),
            (
                glib::Error::new(gst::CoreError::MissingPlugin, "x"),
                SourceErrorKind::MissingElement,
            ),
            (
                glib::Error::new(gst::StreamError::Failed, "internal"),
                SourceErrorKind::Other,
            ),
        ];
        for (err, want) in cases {
            assert_eq!(classify(&err), want, "{err}");
        }
    }
}
