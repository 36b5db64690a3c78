//! Per-camera status: state machine value, counters, last error, last frame time.
//!
//! [`CameraStatus`] is a cheap-clone handle (an `Arc`) read by the API, metrics and tests while
//! the supervisor and the appsink callback write to it with atomics — no lock on the frame path.

use crate::error::SourceError;
use crossbeam_channel::Receiver;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use vigil_core::{CameraId, Frame};

/// Supervisor state of one camera.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CameraState {
    /// Pipeline built and starting; no frame yet in this attempt.
    Connecting,
    /// Frames are arriving.
    Streaming,
    /// Waiting before the next reconnect attempt.
    Backoff,
    /// Gave up (missing plugin, broken file under the `fail` policy); needs operator action.
    Failed,
    /// Stopped on request or at the end of a file under the `stop` policy.
    Stopped,
}

impl CameraState {
    fn from_u8(v: u8) -> Self {
        match v {
            0 => Self::Connecting,
            1 => Self::Streaming,
            2 => Self::Backoff,
            3 => Self::Failed,
            _ => Self::Stopped,
        }
    }

    fn as_u8(self) -> u8 {
        match self {
            Self::Connecting => 0,
            Self::Streaming => 1,
            Self::Backoff => 2,
            Self::Failed => 3,
            Self::Stopped => 4,
        }
    }

    /// Lower-case name for logs and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connecting => "connecting",
            Self::Streaming => "streaming",
            Self::Backoff => "backoff",
            Self::Failed => "failed",
            Self::Stopped => "stopped",
        }
    }
}

/// Counters shared by the appsink callback, the queue and the supervisor.
#[derive(Debug, Default)]
pub struct SourceCounters {
    /// Frames pushed into the queue (after rate limiting).
    pub frames_in: AtomicU64,
    /// Frames discarded by the queue (drop-oldest).
    pub frames_dropped: AtomicU64,
    /// Decoder errors and warnings reported on the bus.
    pub decode_errors: AtomicU64,
    /// Reconnect attempts after a failure (not counting file loops).
    pub reconnects: AtomicU64,
    /// Wall-clock time of the last frame, ns since the Unix epoch; 0 = none yet.
    pub last_frame_unix_ns: AtomicU64,
}

/// Shared state behind a [`CameraStatus`].
#[derive(Debug)]
struct StatusShared {
    camera: CameraId,
    /// Redacted URI, for display.
    uri: String,
    state: AtomicU8,
    counters: Arc<SourceCounters>,
    last_error: Mutex<Option<SourceError>>,
    /// Clone of the frame queue's consumer end, only to read its length.
    queue: Receiver<Frame>,
}

/// Cheap-clone handle on one camera's live status.
#[derive(Debug, Clone)]
pub struct CameraStatus {
    shared: Arc<StatusShared>,
}

/// A consistent-enough copy of a camera's status at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusSnapshot {
    /// Camera id.
    pub camera: CameraId,
    /// Redacted source URI.
    pub uri: String,
    /// Current state.
    pub state: CameraState,
    /// Frames put into the queue.
    pub frames_in: u64,
    /// Frames taken by consumers (= in − dropped − queued).
    pub frames_out: u64,
    /// Frames discarded because the consumer was behind.
    pub frames_dropped: u64,
    /// Frames waiting in the queue now.
    pub queued: usize,
    /// Decoder errors/warnings.
    pub decode_errors: u64,
    /// Reconnect attempts.
    pub reconnects: u64,
    /// Last failure (redacted), kept after recovery for diagnosis.
    pub last_error: Option<SourceError>,
    /// Wall-clock time of the newest frame.
    pub last_frame_at: Option<SystemTime>,
}

impl CameraStatus {
    /// A status in state `Connecting` with zeroed counters.
    pub(crate) fn new(
        camera: CameraId,
        uri: String,
        counters: Arc<SourceCounters>,
        queue: Receiver<Frame>,
    ) -> Self {
        let shared = StatusShared {
            camera,
            uri,
            state: AtomicU8::new(CameraState::Connecting.as_u8()),
            counters,
            last_error: Mutex::new(None),
            queue,
        };
        Self {
            shared: Arc::new(shared),
        }
    }

    /// Camera id.
    pub fn camera(&self) -> &CameraId {
        &self.shared.camera
    }

    /// Current state.
    pub fn state(&self) -> CameraState {
        CameraState::from_u8(self.shared.state.load(Ordering::Acquire))
    }

    pub(crate) fn set_state(&self, state: CameraState) {
        self.shared.state.store(state.as_u8(), Ordering::Release);
    }

    pub(crate) fn set_error(&self, error: SourceError) {
        if let Ok(mut slot) = self.shared.last_error.lock() {
            *slot = Some(error);
        }
    }

    /// The last error, if any.
    pub fn last_error(&self) -> Option<SourceError> {
        self.shared.last_error.lock().ok().and_then(|e| e.clone())
    }

    /// Shared counters (for the supervisor and pipeline).
    pub(crate) fn counters(&self) -> &Arc<SourceCounters> {
        &self.shared.counters
    }

    /// Frames pushed so far.
    pub fn frames_in(&self) -> u64 {
        self.shared.counters.frames_in.load(Ordering::Relaxed)
    }

    /// Time since the last frame, or `None` before the first.
    pub fn since_last_frame(&self) -> Option<Duration> {
        self.last_frame_at().map(|t| t.elapsed().unwrap_or_default())
    }

    fn last_frame_at(&self) -> Option<SystemTime> {
        match self.shared.counters.last_frame_unix_ns.load(Ordering::Relaxed) {
            0 => None,
            ns => Some(UNIX_EPOCH + Duration::from_nanos(ns)),
        }
    }

    /// Copies every field.
    pub fn snapshot(&self) -> StatusSnapshot {
        let c = &self.shared.counters;
        let frames_in = c.frames_in.load(Ordering::Relaxed);
        let frames_dropped = c.frames_dropped.load(Ordering::Relaxed);
        let queued = self.shared.queue.len();
        StatusSnapshot {
            camera: self.shared.camera.clone(),
            uri: self.shared.uri.clone(),
            state: self.state(),
            frames_in,
            frames_out: frames_in
                .saturating_sub(frames_dropped)
                .saturating_sub(queued as u64),
            frames_dropped,
            queued,
            decode_errors: c.decode_errors.load(Ordering::Relaxed),
            reconnects: c.reconnects.load(Ordering::Relaxed),
            last_error: self.last_error(),
            last_frame_at: self.last_frame_at(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_through_the_atomic() {
        for s in [
            CameraState::Connecting,
            CameraState::Streaming,
            CameraState::Backoff,
            CameraState::Failed,
            CameraState::Stopped,
        ] {
            assert_eq!(CameraState::from_u8(s.as_u8()), s);
        }
    }

    #[test]
    fn frames_out_is_derived_by_conservation() {
        let counters = Arc::new(SourceCounters::default());
        let (tx, rx) = crate::queue::frame_queue(2, counters.clone());
        let status = CameraStatus::new(CameraId::new("c"), "rtsp://h/".into(), counters, rx.clone());
        for seq in 0..5 {
            tx.push(Frame {
                camera: CameraId::new("c"),
                seq,
                pts_ns: 0,
                captured_at: SystemTime::now(),
                width: 1,
                height: 1,
                stride: 3,
                format: vigil_core::PixelFormat::Bgr8,
                data: Arc::from(vec![0u8; 3]),
            });
        }
        let _taken = rx.try_recv().expect("one frame");
        let s = status.snapshot();
        assert_eq!(
            (s.frames_in, s.frames_dropped, s.queued, s.frames_out),
            (5, 3, 1, 1)
        );
    }
}
