//! One supervisor thread per camera: connect, watch, reconnect, stop.
//!
//! ```text
//!            ┌──────────── first frame ───────────┐
//!            ▼                                    │
//!  start → Connecting ──error/stall/EOS──► Backoff ──delay──► Connecting
//!            │  ▲                                  │
//!            │  └──── file EOS + loop ─────────────┘ (no delay)
//!            ├── missing plugin / broken file (policy fail) ──► Failed
//!            └── stop() or file EOS + stop ──► Stopped
//! ```
//!
//! The loop follows moonfire-nvr's streamer: `run_once` builds a fresh pipeline and runs it until
//! something ends it, then the pure [`decide`] says what to do next. Each camera has its own thread
//! and pipeline, so a camera stuck in a slow connect cannot delay another. Stop is signalled by
//! dropping a channel sender, which wakes both the bus poll and the backoff sleep. How long a
//! retry waits is [`crate::reconnect`]'s business.

use crate::backoff::{BackoffPolicy, JitterRng};
use crate::config::{EosPolicy, MediaErrorPolicy, SourceKind, SourceSettings};
use crate::error::{IngestError, SourceError, SourceErrorKind};
use crate::pipeline::{ErrorContext, SourcePipeline};
use crate::queue::frame_queue;
use crate::reconnect::RetryPacer;
use crate::sink::FrameSink;
use crate::status::{CameraState, CameraStatus, SourceCounters};
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TryRecvError, bounded};
use gstreamer as gst;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use vigil_core::Frame;

/// Supervision knobs shared by all cameras.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SupervisorPolicy {
    /// Reconnect delays.
    pub backoff: BackoffPolicy,
    /// No frame for this long (while connecting or streaming) → restart. Default: 10 s.
    pub stall_timeout: Duration,
    /// How often the supervisor looks at the bus, the stop signal and the watchdog. Default: 100 ms.
    pub poll_interval: Duration,
    /// For this long after a camera loses a stream that delivered frames, its retries wait at
    /// most [`recovery_delay`](Self::recovery_delay) instead of backing off further (see
    /// [`crate::reconnect`]). Default: 60 s.
    pub recovery_window: Duration,
    /// Longest wait between retries inside the recovery window (jitter still shortens it).
    /// Default: 1 s.
    pub recovery_delay: Duration,
    /// RTSP: a connection attempt, or the answer to one RTSP request, that takes longer than this
    /// fails (rtspsrc `tcp-timeout`; GStreamer's own default is 20 s, which is how long a retry
    /// against a rebooting, silent camera used to hang). Default: 2 s.
    pub connect_timeout: Duration,
}

impl Default for SupervisorPolicy {
    fn default() -> Self {
        Self {
            backoff: BackoffPolicy::default(),
            stall_timeout: Duration::from_secs(10),
            poll_interval: Duration::from_millis(100),
            recovery_window: Duration::from_secs(60),
            recovery_delay: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(2),
        }
    }
}

/// How one pipeline run ended.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RunOutcome {
    /// `stop()` was called.
    StopRequested,
    /// End of stream after `frames` frames in this run.
    Eos {
        /// Frames delivered during the run.
        frames: u64,
        /// Position reached and duration declared by the container, where both are known.
        reached: Option<(Duration, Duration)>,
    },
    /// The run failed.
    Failed {
        /// What went wrong (redacted).
        error: SourceError,
        /// Whether at least one frame arrived (then backoff restarts from its first step).
        streamed: bool,
    },
}

/// What the supervisor does after a run.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Decision {
    /// Stop the camera (state `Stopped`).
    Stop,
    /// Start again at once (file loop).
    RestartNow,
    /// Record the error, wait a backoff delay, reconnect.
    Retry(SourceError),
    /// Record the error and give up (state `Failed`).
    Fail(SourceError),
}

/// Decides the next step from a run's outcome and the camera's policies. Pure.
pub(crate) fn decide(
    outcome: RunOutcome,
    kind: SourceKind,
    on_eos: EosPolicy,
    on_media_error: MediaErrorPolicy,
    ctx: &ErrorContext,
) -> Decision {
    let media_error = |error: SourceError| match on_media_error {
        MediaErrorPolicy::Fail => Decision::Fail(error),
        MediaErrorPolicy::Retry => Decision::Retry(error),
    };
    match (outcome, kind) {
        (RunOutcome::StopRequested, _) => Decision::Stop,
        (RunOutcome::Eos { .. }, SourceKind::Rtsp) => {
            Decision::Retry(ctx.error(SourceErrorKind::EndOfStream, "server ended the stream"))
        }
        (RunOutcome::Eos { frames: 0, .. }, SourceKind::Uri) => media_error(ctx.error(
            SourceErrorKind::BadMedia,
            "stream ended before the first frame (empty, truncated or not a video)",
        )),
        (
            RunOutcome::Eos {
                reached: Some((position, duration)),
                ..
            },
            SourceKind::Uri,
        ) if ends_early(position, duration) => media_error(ctx.error(
            SourceErrorKind::BadMedia,
            &format!(
                "file ended at {:.1} s of the {:.1} s its header declares: truncated",
                position.as_secs_f64(),
                duration.as_secs_f64()
            ),
        )),
        (RunOutcome::Eos { .. }, SourceKind::Uri) => match on_eos {
            EosPolicy::Loop => Decision::RestartNow,
            EosPolicy::Stop => Decision::Stop,
        },
        (RunOutcome::Failed { error, .. }, _) if error.kind == SourceErrorKind::MissingElement => {
            Decision::Fail(error)
        }
        (RunOutcome::Failed { error, .. }, SourceKind::Uri)
            if matches!(error.kind, SourceErrorKind::BadMedia | SourceErrorKind::NotFound) =>
        {
            media_error(error)
        }
        (RunOutcome::Failed { error, .. }, _) => Decision::Retry(error),
    }
}

/// Whether a file that stopped at `position` of a declared `duration` is cut short. Demuxers
/// (avidemux, matroskademux) play a truncated file up to the cut and then send a normal EOS, so
/// this comparison is the only sign. The tolerance absorbs headers that round the duration.
pub(crate) fn ends_early(position: Duration, duration: Duration) -> bool {
    let tolerance = Duration::from_secs(1).max(duration / 20);
    position + tolerance < duration
}

/// A running camera: supervisor thread, frame queue and status.
#[derive(Debug)]
pub struct CameraSource {
    status: CameraStatus,
    frames: Receiver<Frame>,
    /// Dropping it tells the supervisor to stop.
    stop_tx: Option<Sender<()>>,
    /// Disconnected when the supervisor thread has returned.
    done_rx: Receiver<()>,
    thread: Option<JoinHandle<()>>,
}

impl CameraSource {
    /// Default deadline for [`CameraSource::stop`] when dropped.
    pub const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(5);

    /// Starts supervising the camera on its own thread.
    pub fn start(settings: SourceSettings, policy: SupervisorPolicy) -> Result<Self, IngestError> {
        crate::init()?;
        let counters = Arc::new(SourceCounters::default());
        let (queue, frames) = frame_queue(settings.queue_capacity, counters.clone());
        let status = CameraStatus::new(
            settings.camera.clone(),
            settings.redacted_uri(),
            counters,
            frames.clone(),
        );
        let (stop_tx, stop_rx) = bounded::<()>(1);
        let (done_tx, done_rx) = bounded::<()>(1);
        let sup = Supervision {
            sink: FrameSink {
                camera: settings.camera.clone(),
                format: settings.format,
                seq: Arc::new(AtomicU64::new(0)),
                queue,
                counters: status.counters().clone(),
            },
            ctx: ErrorContext::new(&settings),
            settings,
            policy,
            status: status.clone(),
            stop_rx,
        };
        let thread = std::thread::Builder::new()
            .name(format!("cam-{}", sup.settings.camera))
            .spawn(move || {
                // Dropped on return (or panic): tells `stop` the thread is done.
                let _done = done_tx;
                sup.run();
            })
            .map_err(|e| IngestError::Io {
                context: "spawning camera supervisor thread".into(),
                source: e,
            })?;
        Ok(Self {
            status,
            frames,
            stop_tx: Some(stop_tx),
            done_rx,
            thread: Some(thread),
        })
    }

    /// Status handle (cheap to clone).
    pub fn status(&self) -> CameraStatus {
        self.status.clone()
    }

    /// The consumer end of this camera's frame queue (clones share the queue).
    pub fn frames(&self) -> Receiver<Frame> {
        self.frames.clone()
    }

    /// Signals the supervisor to stop without waiting.
    pub fn signal_stop(&mut self) {
        self.stop_tx = None;
    }

    /// Stops the camera: the pipeline goes to `Null` and the thread is joined. Waits at most
    /// `timeout`; past it the thread is detached and an error returned.
    pub fn stop(&mut self, timeout: Duration) -> Result<(), IngestError> {
        self.signal_stop();
        self.wait_stopped(Instant::now() + timeout, timeout)
    }

    fn wait_stopped(&mut self, deadline: Instant, timeout: Duration) -> Result<(), IngestError> {
        let Some(thread) = self.thread.take() else {
            return Ok(());
        };
        let left = deadline.saturating_duration_since(Instant::now());
        match self.done_rx.recv_timeout(left) {
            Err(RecvTimeoutError::Timeout) => Err(IngestError::StopTimeout {
                what: format!("camera `{}` supervisor", self.status.camera()),
                timeout_ms: timeout.as_millis() as u64,
            }),
            // The thread has returned (or is past its last statement): join cannot block long.
            _ => {
                let _ = thread.join();
                Ok(())
            }
        }
    }
}

impl Drop for CameraSource {
    fn drop(&mut self) {
        if self.thread.is_some() {
            let _ = self.stop(Self::DEFAULT_STOP_TIMEOUT);
        }
    }
}

/// Stops many cameras in parallel within one shared deadline; returns the ones that timed out.
pub fn stop_all(sources: &mut [CameraSource], timeout: Duration) -> Vec<IngestError> {
    sources.iter_mut().for_each(CameraSource::signal_stop);
    let deadline = Instant::now() + timeout;
    sources
        .iter_mut()
        .filter_map(|s| s.wait_stopped(deadline, timeout).err())
        .collect()
}

/// State owned by the supervisor thread.
struct Supervision {
    settings: SourceSettings,
    policy: SupervisorPolicy,
    status: CameraStatus,
    sink: FrameSink,
    ctx: ErrorContext,
    stop_rx: Receiver<()>,
}

impl Supervision {
    fn stop_requested(&self) -> bool {
        !matches!(self.stop_rx.try_recv(), Err(TryRecvError::Empty))
    }

    fn run(self) {
        let camera = self.settings.camera.clone();
        let uri = self.settings.redacted_uri();
        let mut rng = JitterRng::for_key(camera.as_str());
        let mut pacer = RetryPacer::default();
        loop {
            self.status.set_state(CameraState::Connecting);
            tracing::info!(%camera, %uri, "connecting");
            let outcome = self.run_once();
            if matches!(
                outcome,
                RunOutcome::Failed { streamed: true, .. } | RunOutcome::Eos { frames: 1.., .. }
            ) {
                pacer.stream_lost(Instant::now());
            }
            let s = &self.settings;
            match decide(outcome, s.kind, s.on_eos, s.on_media_error, &self.ctx) {
                Decision::Stop => break,
                Decision::RestartNow => tracing::debug!(%camera, "end of file, looping"),
                Decision::Fail(error) => {
                    tracing::error!(%camera, %error, "camera failed, not retrying");
                    self.status.set_error(error);
                    self.status.set_state(CameraState::Failed);
                    return;
                }
                Decision::Retry(error) => {
                    let delay = pacer.next_delay(&self.policy, Instant::now(), rng.next_unit());
                    tracing::warn!(%camera, %error, delay_ms = delay.as_millis() as u64, "camera down, retrying");
                    self.status.set_error(error);
                    self.status.set_state(CameraState::Backoff);
                    if !matches!(self.stop_rx.recv_timeout(delay), Err(RecvTimeoutError::Timeout)) {
                        break;
                    }
                    self.status.counters().reconnects.fetch_add(1, Ordering::Relaxed);
                }
            }
            if self.stop_requested() {
                break;
            }
        }
        self.status.set_state(CameraState::Stopped);
        tracing::info!(%camera, "stopped");
    }

    /// Builds a pipeline and runs it until error, EOS, stall or stop. The pipeline is set to
    /// `Null` (dropped) before returning.
    fn run_once(&self) -> RunOutcome {
        if let Some(path) = self.settings.uri.strip_prefix("file://") {
            let path = crate::config::percent_decode(path);
            if let Err(problem) = crate::media_check::check_file(std::path::Path::new(&path)) {
                return RunOutcome::Failed {
                    error: self.ctx.error(SourceErrorKind::BadMedia, &problem),
                    streamed: false,
                };
            }
        }
        let pipeline = match SourcePipeline::build(&self.settings, &self.policy, self.sink.clone()) {
            Ok(p) => p,
            Err(error) => {
                return RunOutcome::Failed {
                    error,
                    streamed: false,
                };
            }
        };
        if let Err(error) = pipeline.start(&self.ctx) {
            return RunOutcome::Failed {
                error,
                streamed: false,
            };
        }
        let Some(bus) = pipeline.bus() else {
            let error = self.ctx.error(SourceErrorKind::Other, "pipeline has no bus");
            return RunOutcome::Failed {
                error,
                streamed: false,
            };
        };
        let counters = self.status.counters().clone();
        let start_count = counters.frames_in.load(Ordering::Relaxed);
        let mut seen = start_count;
        let mut last_progress = Instant::now();
        let poll = gst::ClockTime::from_nseconds(self.policy.poll_interval.as_nanos() as u64);
        loop {
            if self.stop_requested() {
                return RunOutcome::StopRequested;
            }
            let streamed = seen != start_count;
            if let Some(msg) = bus.timed_pop(poll) {
                match msg.view() {
                    gst::MessageView::Error(err) => {
                        return RunOutcome::Failed {
                            error: self.ctx.bus_error(err),
                            streamed,
                        };
                    }
                    gst::MessageView::Eos(_) => {
                        let frames = counters.frames_in.load(Ordering::Relaxed) - start_count;
                        let progress = pipeline.progress();
                        tracing::debug!(camera = %self.settings.camera, frames, ?progress, "end of stream");
                        let reached = match progress {
                            (Some(pos), Some(dur)) if dur > gst::ClockTime::ZERO => Some((
                                Duration::from_nanos(pos.nseconds()),
                                Duration::from_nanos(dur.nseconds()),
                            )),
                            _ => None,
                        };
                        return RunOutcome::Eos { frames, reached };
                    }
                    gst::MessageView::Warning(w) => {
                        if w.error().kind::<gst::StreamError>() == Some(gst::StreamError::Decode) {
                            counters.decode_errors.fetch_add(1, Ordering::Relaxed);
                        }
                        let text = self.ctx.redactor.redact(&w.error().to_string());
                        tracing::debug!(camera = %self.settings.camera, warning = %text, "pipeline warning");
                    }
                    _ => {}
                }
            }
            let now_count = counters.frames_in.load(Ordering::Relaxed);
            if now_count != seen {
                if seen == start_count {
                    self.status.set_state(CameraState::Streaming);
                    tracing::info!(camera = %self.settings.camera, "streaming");
                }
                seen = now_count;
                last_progress = Instant::now();
            } else if last_progress.elapsed() >= self.policy.stall_timeout {
                let msg = format!("no frame for {} ms", self.policy.stall_timeout.as_millis());
                return RunOutcome::Failed {
                    error: self.ctx.error(SourceErrorKind::Stalled, &msg),
                    streamed,
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::Redactor;

    fn ctx() -> ErrorContext {
        ErrorContext {
            camera: "c".into(),
            uri: "rtsp://h/".into(),
            redactor: Redactor::new(["hunter2"]),
        }
    }

    fn failed(kind: SourceErrorKind) -> RunOutcome {
        RunOutcome::Failed {
            error: ctx().error(kind, "boom hunter2"),
            streamed: false,
        }
    }

    use EosPolicy::{Loop, Stop};
    use MediaErrorPolicy::{Fail, Retry};
    use SourceKind::{Rtsp, Uri};

    #[test]
    fn live_sources_always_retry_except_missing_plugins() {
        for kind in [
            SourceErrorKind::Unauthorized,
            SourceErrorKind::NotFound,
            SourceErrorKind::Unreachable,
            SourceErrorKind::BadMedia,
            SourceErrorKind::Stalled,
            SourceErrorKind::Other,
        ] {
            assert!(
                matches!(decide(failed(kind), Rtsp, Loop, Fail, &ctx()), Decision::Retry(_)),
                "{kind:?}"
            );
        }
        assert!(matches!(
            decide(failed(SourceErrorKind::MissingElement), Rtsp, Loop, Retry, &ctx()),
            Decision::Fail(_)
        ));
        assert!(matches!(
            decide(
                RunOutcome::Eos {
                    frames: 9,
                    reached: None
                },
                Rtsp,
                Stop,
                Fail,
                &ctx()
            ),
            Decision::Retry(_)
        ));
    }

    #[test]
    fn files_follow_their_policies() {
        assert_eq!(
            decide(
                RunOutcome::Eos {
                    frames: 9,
                    reached: None
                },
                Uri,
                Loop,
                Fail,
                &ctx()
            ),
            Decision::RestartNow
        );
        assert_eq!(
            decide(
                RunOutcome::Eos {
                    frames: 9,
                    reached: None
                },
                Uri,
                Stop,
                Fail,
                &ctx()
            ),
            Decision::Stop
        );
        assert!(matches!(
            decide(failed(SourceErrorKind::BadMedia), Uri, Loop, Fail, &ctx()),
            Decision::Fail(_)
        ));
        assert!(matches!(
            decide(failed(SourceErrorKind::NotFound), Uri, Loop, Retry, &ctx()),
            Decision::Retry(_)
        ));
        assert!(matches!(
            decide(failed(SourceErrorKind::Unreachable), Uri, Loop, Fail, &ctx()),
            Decision::Retry(_)
        ));
    }

    #[test]
    fn eos_without_frames_is_broken_media() {
        match decide(
            RunOutcome::Eos {
                frames: 0,
                reached: None,
            },
            Uri,
            Loop,
            Fail,
            &ctx(),
        ) {
            Decision::Fail(e) => assert_eq!(e.kind, SourceErrorKind::BadMedia),
            other => panic!("expected Fail, got {other:?}"),
        }
    }

    #[test]
    fn file_ending_long_before_its_declared_duration_is_truncated() {
        let s = Duration::from_secs;
        assert!(ends_early(s(1), s(79)));
        assert!(
            !ends_early(Duration::from_millis(79_400), s(80)),
            "rounding of the header is tolerated"
        );
        assert!(!ends_early(s(80), s(80)));
        let eos = RunOutcome::Eos {
            frames: 10,
            reached: Some((s(1), s(79))),
        };
        match decide(eos.clone(), Uri, Loop, Fail, &ctx()) {
            Decision::Fail(e) => {
                assert_eq!(e.kind, SourceErrorKind::BadMedia);
                assert!(e.message.contains("truncated"), "{e}");
            }
            other => panic!("expected Fail, got {other:?}"),
        }
        assert!(matches!(
            decide(eos, Uri, Loop, Retry, &ctx()),
            Decision::Retry(_)
        ));
        let whole = RunOutcome::Eos {
            frames: 795,
            reached: Some((s(79), s(79))),
        };
        assert_eq!(decide(whole, Uri, Loop, Fail, &ctx()), Decision::RestartNow);
    }

    #[test]
    fn stop_wins_and_messages_are_redacted() {
        assert_eq!(
            decide(RunOutcome::StopRequested, Rtsp, Loop, Retry, &ctx()),
            Decision::Stop
        );
        match decide(failed(SourceErrorKind::Other), Rtsp, Loop, Retry, &ctx()) {
            Decision::Retry(e) => assert!(!e.to_string().contains("hunter2"), "{e}"),
            other => panic!("expected Retry, got {other:?}"),
        }
    }
}
