//! Decode throughput measurement, exposed as `vigil bench ingest` and
//! `examples/ingest_bench.rs`.
//!
//! Runs the real camera pipeline ([`crate::CameraSource`]) on a file at full speed (no clock
//! sync, no rate limiting), with a consumer that takes every frame, and reports frames per second
//! and the process CPU time spent.

use crate::config::{CameraSourceConfig, EosPolicy};
use crate::error::IngestError;
use crate::status::CameraState;
use crate::supervisor::{CameraSource, SupervisorPolicy};
use gstreamer as gst;
use gstreamer::prelude::*;
use std::path::Path;
use std::time::{Duration, Instant};
use vigil_core::Frame;

/// Result of one decode run.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodeStats {
    /// Frames decoded, converted and queued by the pipeline.
    pub frames: u64,
    /// Frames the consumer took (fewer than `frames` when the queue dropped some).
    pub received: u64,
    /// Frame size (last frame).
    pub width: u32,
    /// Frame height (last frame).
    pub height: u32,
    /// Wall time from start to end of stream.
    pub wall: Duration,
    /// Process CPU time (user + system, all threads) spent meanwhile.
    pub cpu: Duration,
}

impl DecodeStats {
    /// Frames per wall-clock second.
    pub fn fps(&self) -> f64 {
        self.frames as f64 / self.wall.as_secs_f64().max(1e-9)
    }

    /// CPU milliseconds per frame.
    pub fn cpu_ms_per_frame(&self) -> f64 {
        self.cpu.as_secs_f64() * 1e3 / self.frames.max(1) as f64
    }
}

/// Decodes `path` once through the camera pipeline as fast as possible.
///
/// `decoder` overrides the decoder element (e.g. `avdec_h264` to force software decoding).
/// Fails if the file does not play to the end within `timeout`.
pub fn bench_decode(
    path: &Path,
    decoder: Option<&str>,
    timeout: Duration,
) -> Result<DecodeStats, IngestError> {
    decode_each("bench", path, decoder, 8, timeout, |_| {})
}

/// Decodes `path` once through the camera pipeline (no clock sync, no rate limit) and hands
/// every frame the pipeline queues to `on_frame`, in order, as frames of camera `camera`. With a small `queue_capacity` a
/// slow `on_frame` makes the queue drop the oldest frames (counted in `frames` but not in
/// `received`); room for the whole file delivers every frame. Fails if the file does not play
/// to the end within `timeout`.
pub fn decode_each(
    camera: &str,
    path: &Path,
    decoder: Option<&str>,
    queue_capacity: usize,
    timeout: Duration,
    mut on_frame: impl FnMut(Frame),
) -> Result<DecodeStats, IngestError> {
    let abs = path.canonicalize().map_err(|e| IngestError::Io {
        context: format!("bench input {}", path.display()),
        source: e,
    })?;
    let mut cfg = CameraSourceConfig::new(camera, format!("file://{}", abs.display()));
    cfg.decoder = decoder.map(str::to_owned);
    cfg.on_eos = EosPolicy::Stop;
    cfg.queue_capacity = queue_capacity;
    let mut settings = cfg.validate().map_err(|e| IngestError::Bench(e.to_string()))?;
    settings.sync_to_clock = false;
    let cpu_start = process_cpu_time();
    let started = Instant::now();
    let mut source = CameraSource::start(settings, SupervisorPolicy::default())?;
    let frames = source.frames();
    let status = source.status();
    let (mut width, mut height, mut received) = (0u32, 0u32, 0u64);
    let mut take = |f: Frame| {
        (width, height) = (f.width, f.height);
        received += 1;
        on_frame(f);
    };
    let deadline = started + timeout;
    loop {
        match frames.recv_timeout(Duration::from_millis(50)) {
            Ok(f) => take(f),
            Err(_) if matches!(status.state(), CameraState::Stopped | CameraState::Failed) => break,
            Err(_) => {}
        }
        if Instant::now() > deadline {
            break;
        }
    }
    // Frames still queued when the state changed.
    while let Ok(f) = frames.try_recv() {
        take(f);
    }
    let wall = started.elapsed();
    let cpu = process_cpu_time().saturating_sub(cpu_start);
    let state = status.state();
    source.stop(Duration::from_secs(5))?;
    if state != CameraState::Stopped {
        let why = status
            .last_error()
            .map_or_else(|| format!("state {}", state.as_str()), |e| e.to_string());
        return Err(IngestError::Bench(format!(
            "bench decode of {} did not finish: {why}",
            path.display()
        )));
    }
    Ok(DecodeStats {
        frames: status.frames_in(),
        received,
        width,
        height,
        wall,
        cpu,
    })
}

/// Encodes a synthetic H.264 clip (moving SMPTE bars) into a Matroska file.
pub fn make_test_clip(
    path: &Path,
    width: u32,
    height: u32,
    frames: u32,
    fps: u32,
) -> Result<(), IngestError> {
    crate::init()?;
    let desc = format!(
        "videotestsrc num-buffers={frames} horizontal-speed=4 ! video/x-raw,width={width},height={height},framerate={fps}/1 \
         ! x264enc speed-preset=ultrafast key-int-max={fps} ! h264parse ! matroskamux ! filesink location=\"{}\"",
        path.display()
    );
    let pipeline =
        gst::parse::launch(&desc).map_err(|e| IngestError::Bench(format!("clip pipeline: {e}")))?;
    let bus = pipeline
        .bus()
        .ok_or_else(|| IngestError::Bench("clip pipeline without bus".into()))?;
    pipeline
        .set_state(gst::State::Playing)
        .map_err(|e| IngestError::Bench(format!("clip pipeline: {e}")))?;
    let result = match bus.timed_pop_filtered(
        gst::ClockTime::from_seconds(300),
        &[gst::MessageType::Eos, gst::MessageType::Error],
    ) {
        Some(msg) => match msg.view() {
            gst::MessageView::Error(e) => {
                Err(IngestError::Bench(format!("clip encoding failed: {}", e.error())))
            }
            _ => Ok(()),
        },
        None => Err(IngestError::Bench("clip encoding timed out".into())),
    };
    let _ = pipeline.set_state(gst::State::Null);
    result
}

/// CPU time (user + system) of this process, from `/proc/self/stat`; zero where unavailable.
pub fn process_cpu_time() -> Duration {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| parse_proc_stat_cpu(&s))
        .unwrap_or_default()
}

/// Clock ticks per second of `/proc` times (USER_HZ, 100 on every mainstream Linux build).
const USER_HZ: u64 = 100;

/// CPU time (user + system) of process `pid`, from `/proc/<pid>/stat`.
pub fn cpu_time_of(pid: u32) -> Option<Duration> {
    parse_proc_stat_cpu(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// utime + stime from the text of `/proc/<pid>/stat`.
pub fn parse_proc_stat_cpu(stat: &str) -> Option<Duration> {
    // The command name may contain spaces and parentheses; fields resume after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Field 3 (state) is fields[0]; utime is field 14, stime field 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 1000 / USER_HZ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_stat_parsing_skips_odd_command_names() {
        let stat = "1234 (my (odd) cmd) S 1 1234 1234 0 -1 4194560 500 0 0 0 250 50 0 0 20 0 8 0 100 0";
        assert_eq!(parse_proc_stat_cpu(stat), Some(Duration::from_millis(3000)));
        assert_eq!(parse_proc_stat_cpu("garbage"), None);
    }

    #[test]
    fn own_cpu_time_is_readable_and_grows() {
        let before = process_cpu_time();
        let mut x = 0u64;
        let t = Instant::now();
        while t.elapsed() < Duration::from_millis(100) {
            x = x.wrapping_mul(31).wrapping_add(7);
        }
        std::hint::black_box(x);
        assert!(process_cpu_time() > before);
    }

    #[test]
    fn stats_rates() {
        let s = DecodeStats {
            frames: 300,
            received: 300,
            width: 1,
            height: 1,
            wall: Duration::from_secs(2),
            cpu: Duration::from_secs(3),
        };
        assert!((s.fps() - 150.0).abs() < 1e-9);
        assert!((s.cpu_ms_per_frame() - 10.0).abs() < 1e-9);
    }
}
