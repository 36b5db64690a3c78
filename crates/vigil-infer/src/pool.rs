//! The detector worker pool: a fair scheduler over per-camera queues feeding N worker threads.
//!
//! * **Submit never blocks on inference.** Each camera has a small queue (default 2). When it is
//!   full the *oldest* frame is dropped and counted: a late video frame is worth less than a fresh
//!   one. `submit` only takes a short mutex.
//! * **Fairness.** Workers pick frames round-robin across cameras with pending frames, one per
//!   camera per turn, so a flooding camera cannot starve a quiet one.
//! * **Batching.** A worker takes up to `max_batch` frames per turn (from different cameras when
//!   several are pending) when its model accepts a batch dimension; fixed-batch models run 1.
//! * **Order.** Several frames of one camera may be in flight on different workers; results are
//!   released per camera strictly in submission order through a small reorder buffer.
//! * **Output channel.** Unbounded on purpose: its producer is bounded by inference throughput
//!   and its consumer (tracking + rules, microseconds per frame) is far faster; its depth is
//!   visible through [`WorkerPool::output_backlog`].
//! * **Shutdown.** [`WorkerPool::shutdown`] stops intake, lets workers finish queued and in-flight
//!   frames, and joins them.

use crate::error::InferError;
use crate::stats::PoolStats;
use crossbeam_channel::{Receiver, Sender};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use vigil_core::{CameraId, Detection, Frame};

/// Something that turns frames into detections; one instance per worker thread.
pub trait FrameDetector: Send + 'static {
    /// Largest batch the model takes in one run (1 for fixed-batch models).
    fn max_batch(&self) -> usize;
    /// Runs the model on `frames`, returning one detection list per frame, in order.
    fn detect_frames(&mut self, frames: &[&Frame]) -> Result<Vec<Vec<Detection>>, InferError>;
}

/// Pool settings.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    /// Frames each camera may have waiting; beyond that the oldest is dropped.
    pub queue_per_camera: usize,
    /// Upper bound on frames per model run (also capped by the model's own limit).
    pub max_batch: usize,
    /// Name used for worker threads and in logs (the model name).
    pub name: String,
    /// Results (each holding its frame) waiting for the consumer; when the consumer falls
    /// this far behind, a finished result is dropped and counted like a queue drop (video
    /// drops, never blocks), so a slow consumer cannot pin an unbounded number of frames.
    pub results_capacity: usize,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            queue_per_camera: 2,
            max_batch: 8,
            name: "detector".into(),
            results_capacity: 1024,
        }
    }
}

/// One frame's result.
#[derive(Debug)]
pub struct FrameResult {
    /// The analysed frame (pixels shared, not copied).
    pub frame: Frame,
    /// What the detector found, or why it failed.
    pub detections: Result<Vec<Detection>, Arc<InferError>>,
    /// Time the frame waited before a worker took it.
    pub queue_wait: Duration,
    /// Duration of the model run that included this frame.
    pub inference: Duration,
    /// Number of frames in that run.
    pub batch: usize,
}

struct Queued {
    frame: Frame,
    enqueued: Instant,
}

struct CamSlot {
    queue: VecDeque<Queued>,
    next_ticket: u64,
    next_release: u64,
    done: BTreeMap<u64, FrameResult>,
}

struct State {
    cams: Vec<CamSlot>,
    index: HashMap<CameraId, usize>,
    rr: usize,
    closed: bool,
}

struct Shared {
    state: Mutex<State>,
    work: Condvar,
    stats: Arc<PoolStats>,
    cfg: PoolConfig,
    out: Sender<FrameResult>,
}

/// The pool. Dropping it shuts it down.
pub struct WorkerPool {
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<()>>,
    out_rx: Receiver<FrameResult>,
}

impl std::fmt::Debug for WorkerPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerPool")
            .field("name", &self.shared.cfg.name)
            .field("workers", &self.workers.len())
            .finish()
    }
}

/// A clonable handle for submitting frames from other threads.
#[derive(Clone)]
pub struct Submitter {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Submitter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Submitter")
            .field("pool", &self.shared.cfg.name)
            .finish()
    }
}

impl Submitter {
    /// As [`WorkerPool::submit`].
    pub fn submit(&self, frame: Frame) -> bool {
        submit(&self.shared, frame)
    }
}

fn submit(sh: &Shared, frame: Frame) -> bool {
    let mut st = lock(&sh.state);
    if st.closed {
        return false;
    }
    let idx = match st.index.get(&frame.camera) {
        Some(i) => *i,
        None => {
            let i = st.cams.len();
            st.index.insert(frame.camera.clone(), i);
            st.cams.push(CamSlot {
                queue: VecDeque::new(),
                next_ticket: 0,
                next_release: 0,
                done: BTreeMap::new(),
            });
            i
        }
    };
    let slot = &mut st.cams[idx];
    slot.queue.push_back(Queued {
        frame,
        enqueued: Instant::now(),
    });
    sh.stats.frames_in.fetch_add(1, Ordering::Relaxed);
    while slot.queue.len() > sh.cfg.queue_per_camera.max(1) {
        if let Some(old) = slot.queue.pop_front() {
            sh.stats.camera_dropped.inc(&old.frame.camera);
        }
        sh.stats.frames_dropped.fetch_add(1, Ordering::Relaxed);
    }
    drop(st);
    sh.work.notify_one();
    true
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    // A worker that panicked mid-update leaves consistent queues (all updates are single pushes
    // and pops), so continuing with the poisoned state is safe and keeps other cameras running.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl WorkerPool {
    /// Starts one worker thread per detector.
    pub fn new<D: FrameDetector>(detectors: Vec<D>, cfg: PoolConfig) -> Result<Self, std::io::Error> {
        let (out, out_rx) = crossbeam_channel::bounded(cfg.results_capacity.max(1));
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                cams: Vec::new(),
                index: HashMap::new(),
                rr: 0,
                closed: false,
            }),
            work: Condvar::new(),
            stats: Arc::new(PoolStats::default()),
            cfg,
            out,
        });
        let mut workers = Vec::new();
        for (i, det) in detectors.into_iter().enumerate() {
            let sh = shared.clone();
            let name = format!("{}-w{i}", sh.cfg.name);
            workers.push(
                std::thread::Builder::new()
                    .name(name)
                    .spawn(move || worker(sh, det))?,
            );
        }
        Ok(Self {
            shared,
            workers,
            out_rx,
        })
    }

    /// Hands a frame to the pool; never waits for inference. Returns `false` if the pool is shut
    /// down (the frame is discarded).
    pub fn submit(&self, frame: Frame) -> bool {
        submit(&self.shared, frame)
    }

    /// A cheap handle other threads (one per camera) use to submit frames.
    pub fn submitter(&self) -> Submitter {
        Submitter {
            shared: self.shared.clone(),
        }
    }

    /// Results, per camera in submission order.
    pub fn results(&self) -> &Receiver<FrameResult> {
        &self.out_rx
    }

    /// Results produced but not yet taken by the consumer.
    pub fn output_backlog(&self) -> usize {
        self.out_rx.len()
    }

    /// Counters and histograms.
    pub fn stats(&self) -> Arc<PoolStats> {
        self.shared.stats.clone()
    }

    /// Stops intake, processes what is queued, waits for the workers (at most `timeout`; workers
    /// still busy after that are left to finish on their own and reported as `false`).
    pub fn shutdown(mut self, timeout: Duration) -> bool {
        self.close_and_join(timeout)
    }

    fn close_and_join(&mut self, timeout: Duration) -> bool {
        lock(&self.shared.state).closed = true;
        self.shared.work.notify_all();
        let deadline = Instant::now() + timeout;
        let mut all = true;
        for w in self.workers.drain(..) {
            while !w.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            if w.is_finished() {
                let _ = w.join();
            } else {
                all = false;
            }
        }
        all
    }
}

impl Drop for WorkerPool {
    fn drop(&mut self) {
        if !self.workers.is_empty() {
            self.close_and_join(Duration::from_secs(10));
        }
    }
}

/// Takes up to `max` frames, one per camera per round-robin turn, starting after the camera
/// served last. Returns (camera index, ticket, frame, enqueued).
fn take_batch(st: &mut State, max: usize) -> Vec<(usize, u64, Queued)> {
    let n = st.cams.len();
    let mut batch = Vec::new();
    if n == 0 {
        return batch;
    }
    let mut idle_turns = 0;
    while batch.len() < max && idle_turns < n {
        let i = st.rr % n;
        st.rr = (st.rr + 1) % n;
        let slot = &mut st.cams[i];
        match slot.queue.pop_front() {
            Some(q) => {
                let t = slot.next_ticket;
                slot.next_ticket += 1;
                batch.push((i, t, q));
                idle_turns = 0;
            }
            None => idle_turns += 1,
        }
    }
    batch
}

fn worker<D: FrameDetector>(sh: Arc<Shared>, mut det: D) {
    let max = sh.cfg.max_batch.min(det.max_batch()).max(1);
    loop {
        let batch = {
            let mut st = lock(&sh.state);
            loop {
                let b = take_batch(&mut st, max);
                if !b.is_empty() {
                    break b;
                }
                if st.closed {
                    return;
                }
                st = sh.work.wait(st).unwrap_or_else(|p| p.into_inner());
            }
        };
        let now = Instant::now();
        let frames: Vec<&Frame> = batch.iter().map(|(_, _, q)| &q.frame).collect();
        let started = Instant::now();
        let result = det.detect_frames(&frames);
        let inference = started.elapsed();
        sh.stats.inference.observe(inference);
        sh.stats.observe_batch(batch.len());
        let n = batch.len();
        let mut per_frame: Vec<Result<Vec<Detection>, Arc<InferError>>> = match result {
            Ok(v) if v.len() == n => v.into_iter().map(Ok).collect(),
            Ok(v) => {
                let e = Arc::new(InferError::ShapeMismatch {
                    model: sh.cfg.name.clone(),
                    problem: format!("detector returned {} results for {n} frames", v.len()),
                });
                vec![Err(e); n]
            }
            Err(e) => {
                tracing::warn!(pool = %sh.cfg.name, error = %e, "inference failed");
                vec![Err(Arc::new(e)); n]
            }
        };
        let mut st = lock(&sh.state);
        for ((cam, ticket, q), dets) in batch.into_iter().zip(per_frame.drain(..)) {
            if dets.is_err() {
                sh.stats.errors.fetch_add(1, Ordering::Relaxed);
            }
            let wait = now.saturating_duration_since(q.enqueued);
            sh.stats.queue_wait.observe(wait);
            let slot = &mut st.cams[cam];
            slot.done.insert(
                ticket,
                FrameResult {
                    frame: q.frame,
                    detections: dets,
                    queue_wait: wait,
                    inference,
                    batch: n,
                },
            );
            // Release in order; `try_send` never blocks, so doing it under the lock keeps
            // per-camera order across workers. A consumer that far behind loses this result
            // (counted as a drop of its camera's frame), never the pool's progress.
            while let Some(r) = slot.done.remove(&slot.next_release) {
                slot.next_release += 1;
                match sh.out.try_send(r) {
                    Ok(()) => {
                        sh.stats.frames_out.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(crossbeam_channel::TrySendError::Full(r)) => {
                        sh.stats.frames_dropped.fetch_add(1, Ordering::Relaxed);
                        sh.stats.results_dropped.fetch_add(1, Ordering::Relaxed);
                        sh.stats.camera_dropped.inc(&r.frame.camera);
                    }
                    Err(crossbeam_channel::TrySendError::Disconnected(_)) => {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;
    use vigil_core::PixelFormat;

    /// A stand-in detector whose cost is a sleep; used only to test scheduling logic.
    struct Sleepy {
        per_frame: Duration,
        batch: usize,
    }

    impl FrameDetector for Sleepy {
        fn max_batch(&self) -> usize {
            self.batch
        }
        fn detect_frames(&mut self, frames: &[&Frame]) -> Result<Vec<Vec<Detection>>, InferError> {
            std::thread::sleep(self.per_frame * frames.len() as u32);
            Ok(frames.iter().map(|_| Vec::new()).collect())
        }
    }

    fn frame(cam: &str, seq: u64) -> Frame {
        Frame {
            camera: CameraId::new(cam),
            seq,
            pts_ns: seq * 100_000_000,
            captured_at: SystemTime::now(),
            width: 1,
            height: 1,
            stride: 3,
            format: PixelFormat::Rgb8,
            data: Arc::from(vec![0u8; 3]),
        }
    }

    #[test]
    fn flooding_camera_does_not_starve_a_quiet_one() {
        let dets = (0..2)
            .map(|_| Sleepy {
                per_frame: Duration::from_millis(5),
                batch: 1,
            })
            .collect();
        let pool = WorkerPool::new(
            dets,
            PoolConfig {
                queue_per_camera: 2,
                ..Default::default()
            },
        )
        .expect("pool");
        let results = pool.results().clone();
        let mut quiet_sent = 0;
        for i in 0..400u64 {
            pool.submit(frame("flood", i));
            if i % 20 == 0 {
                pool.submit(frame("quiet", quiet_sent));
                quiet_sent += 1;
            }
            std::thread::sleep(Duration::from_micros(250));
        }
        let stats = pool.stats();
        assert!(pool.shutdown(Duration::from_secs(5)));
        let got: Vec<FrameResult> = results.try_iter().collect();
        let quiet = got.iter().filter(|r| r.frame.camera.as_str() == "quiet").count() as u64;
        let flood = got.iter().filter(|r| r.frame.camera.as_str() == "flood").count();
        assert_eq!(quiet, quiet_sent, "every quiet frame is served");
        assert!(flood > 20, "the flooding camera is served too ({flood})");
        assert!(
            stats.frames_dropped.load(Ordering::Relaxed) > 0,
            "the flood overflows its queue"
        );
        assert_eq!(stats.frames_out.load(Ordering::Relaxed) as usize, got.len());
    }

    #[test]
    fn results_are_in_submission_order_per_camera_across_workers() {
        let dets = (0..3)
            .map(|_| Sleepy {
                per_frame: Duration::from_millis(1),
                batch: 4,
            })
            .collect();
        let pool = WorkerPool::new(
            dets,
            PoolConfig {
                queue_per_camera: 1000,
                ..Default::default()
            },
        )
        .expect("pool");
        let results = pool.results().clone();
        for i in 0..200 {
            pool.submit(frame("a", i));
            pool.submit(frame("b", i));
        }
        assert!(pool.shutdown(Duration::from_secs(10)));
        let mut last: HashMap<String, i64> = HashMap::new();
        let mut n = 0;
        for r in results.try_iter() {
            let l = last.entry(r.frame.camera.to_string()).or_insert(-1);
            assert!(
                r.frame.seq as i64 > *l,
                "out of order: {} after {}",
                r.frame.seq,
                l
            );
            *l = r.frame.seq as i64;
            n += 1;
        }
        assert_eq!(n, 400, "nothing lost with deep queues");
    }

    #[test]
    fn drop_oldest_keeps_the_newest_frames() {
        // No workers: nothing is consumed, so the queue holds the newest two.
        let pool = WorkerPool::new(
            Vec::<Sleepy>::new(),
            PoolConfig {
                queue_per_camera: 2,
                ..Default::default()
            },
        )
        .expect("pool");
        for i in 0..10 {
            pool.submit(frame("c", i));
        }
        pool.submit(frame("d", 0));
        let st = lock(&pool.shared.state);
        let seqs: Vec<u64> = st.cams[0].queue.iter().map(|q| q.frame.seq).collect();
        assert_eq!(seqs, vec![8, 9]);
        assert_eq!(pool.stats().frames_dropped.load(Ordering::Relaxed), 8);
        // Each camera's figures show its own drops.
        assert_eq!(pool.stats().camera_dropped.get("c"), 8);
        assert_eq!(pool.stats().camera_dropped.get("d"), 0);
    }

    #[test]
    fn a_consumer_far_behind_loses_results_counted_per_camera_not_memory() {
        let dets = vec![Sleepy {
            per_frame: Duration::from_millis(1),
            batch: 1,
        }];
        let pool = WorkerPool::new(
            dets,
            PoolConfig {
                queue_per_camera: 1000,
                results_capacity: 4,
                ..Default::default()
            },
        )
        .expect("pool");
        let (results, st) = (pool.results().clone(), pool.stats());
        for i in 0..20 {
            pool.submit(frame("slow", i));
        }
        assert!(pool.shutdown(Duration::from_secs(10)));
        assert_eq!(results.len(), 4, "never more results held than the capacity");
        assert_eq!(st.results_dropped.load(Ordering::Relaxed), 16);
        assert_eq!(st.camera_dropped.get("slow"), 16);
        assert_eq!(st.frames_out.load(Ordering::Relaxed), 4);
    }

    #[test]
    fn batches_mix_cameras() {
        let mut st = State {
            cams: Vec::new(),
            index: HashMap::new(),
            rr: 0,
            closed: false,
        };
        for c in 0..3 {
            let mut q = VecDeque::new();
            for s in 0..3 {
                q.push_back(Queued {
                    frame: frame(&format!("c{c}"), s),
                    enqueued: Instant::now(),
                });
            }
            st.cams.push(CamSlot {
                queue: q,
                next_ticket: 0,
                next_release: 0,
                done: BTreeMap::new(),
            });
        }
        let b = take_batch(&mut st, 4);
        let cams: Vec<usize> = b.iter().map(|(c, _, _)| *c).collect();
        assert_eq!(cams, vec![0, 1, 2, 0]);
        let next = take_batch(&mut st, 1);
        assert_eq!(next[0].0, 1, "round robin continues where it stopped");
    }

    #[test]
    fn submit_after_shutdown_is_refused() {
        let pool = WorkerPool::new(
            vec![Sleepy {
                per_frame: Duration::ZERO,
                batch: 1,
            }],
            PoolConfig::default(),
        )
        .expect("pool");
        let shared = pool.shared.clone();
        assert!(pool.shutdown(Duration::from_secs(1)));
        assert!(lock(&shared.state).closed);
    }
}
