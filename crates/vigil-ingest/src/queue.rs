//! Bounded per-camera frame hand-off with drop-oldest.
//!
//! A late frame is worthless to a live analytics system, so when the consumer falls behind the
//! OLDEST queued frame is discarded and the new one is kept. Implementation: a bounded crossbeam
//! channel; the producer keeps a clone of the receiving end and, when `try_send` reports `Full`,
//! pops one frame from it (counting a drop) and tries again. This never blocks the GStreamer
//! streaming thread, keeps the consumer side a plain `crossbeam_channel::Receiver` (usable in
//! `select!` across cameras) and bounds the queue length by the channel capacity.

use crate::status::SourceCounters;
use crossbeam_channel::{Receiver, Sender, TryRecvError, TrySendError, bounded};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use vigil_core::Frame;

/// What happened to a pushed frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushOutcome {
    /// The frame was queued without loss.
    Queued,
    /// The frame was queued after discarding this many older frames.
    DroppedOldest(u32),
    /// The queue stayed full even after draining (other producers racing); the new frame was
    /// discarded instead. Cannot happen with the single producer per camera used here.
    DroppedNewest,
}

/// Producing end of a camera's frame queue; owned by the appsink callback.
#[derive(Debug, Clone)]
pub struct FrameSender {
    /// Where frames go.
    tx: Sender<Frame>,
    /// Clone of the consumer end, used only to discard the oldest frame when full.
    drain: Receiver<Frame>,
    /// Shared per-camera counters (frames_in, frames_dropped).
    counters: Arc<SourceCounters>,
}

/// Creates a camera queue of `capacity` frames (at least 1).
pub fn frame_queue(capacity: usize, counters: Arc<SourceCounters>) -> (FrameSender, Receiver<Frame>) {
    let (tx, rx) = bounded(capacity.max(1));
    (
        FrameSender {
            tx,
            drain: rx.clone(),
            counters,
        },
        rx,
    )
}

impl FrameSender {
    /// Bound on drain-and-retry rounds; one suffices with a single producer.
    const MAX_ROUNDS: u32 = 4;

    /// Queues `frame`, discarding the oldest queued frames if the queue is full. Never blocks.
    pub fn push(&self, frame: Frame) -> PushOutcome {
        let mut frame = frame;
        let mut dropped = 0u32;
        for _ in 0..Self::MAX_ROUNDS {
            match self.tx.try_send(frame) {
                Ok(()) => {
                    self.counters.frames_in.fetch_add(1, Ordering::Relaxed);
                    return if dropped == 0 {
                        PushOutcome::Queued
                    } else {
                        PushOutcome::DroppedOldest(dropped)
                    };
                }
                Err(TrySendError::Full(back)) => {
                    frame = back;
                    match self.drain.try_recv() {
                        Ok(_oldest) => {
                            dropped += 1;
                            self.counters.frames_dropped.fetch_add(1, Ordering::Relaxed);
                        }
                        // The consumer emptied it in between: just retry.
                        Err(TryRecvError::Empty) => {}
                        Err(TryRecvError::Disconnected) => break,
                    }
                }
                // Unreachable while `drain` holds a receiver; treat as a drop of the new frame.
                Err(TrySendError::Disconnected(_)) => break,
            }
        }
        self.counters.frames_in.fetch_add(1, Ordering::Relaxed);
        self.counters.frames_dropped.fetch_add(1, Ordering::Relaxed);
        PushOutcome::DroppedNewest
    }

    /// Frames currently queued.
    pub fn len(&self) -> usize {
        self.tx.len()
    }

    /// Whether no frame is queued.
    pub fn is_empty(&self) -> bool {
        self.tx.is_empty()
    }

    /// Queue capacity in frames.
    pub fn capacity(&self) -> usize {
        self.tx.capacity().unwrap_or(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;
    use vigil_core::{CameraId, PixelFormat};

    fn frame(seq: u64) -> Frame {
        Frame {
            camera: CameraId::new("t"),
            seq,
            pts_ns: seq,
            captured_at: SystemTime::now(),
            width: 1,
            height: 1,
            stride: 3,
            format: PixelFormat::Rgb8,
            data: Arc::from(vec![0u8; 3]),
        }
    }

    #[test]
    fn full_queue_keeps_the_newest_frames() {
        let counters = Arc::new(SourceCounters::default());
        let (tx, rx) = frame_queue(2, counters.clone());
        let outcomes: Vec<PushOutcome> = (0..5).map(|i| tx.push(frame(i))).collect();
        assert_eq!(outcomes[..2], [PushOutcome::Queued, PushOutcome::Queued]);
        assert!(outcomes[2..].iter().all(|o| *o == PushOutcome::DroppedOldest(1)));
        assert_eq!(tx.len(), 2);
        let kept: Vec<u64> = rx.try_iter().map(|f| f.seq).collect();
        assert_eq!(kept, [3, 4]);
        assert_eq!(counters.frames_in.load(Ordering::Relaxed), 5);
        assert_eq!(counters.frames_dropped.load(Ordering::Relaxed), 3);
    }

    #[test]
    fn concurrent_consumer_never_sees_more_than_capacity_and_order_is_kept() {
        let counters = Arc::new(SourceCounters::default());
        let (tx, rx) = frame_queue(3, counters.clone());
        let consumer = std::thread::spawn(move || {
            let mut last = None;
            let mut got = 0u64;
            while let Ok(f) = rx.recv_timeout(std::time::Duration::from_millis(200)) {
                assert!(rx.len() <= 3);
                if let Some(l) = last {
                    assert!(f.seq > l, "frames out of order: {} after {l}", f.seq);
                }
                last = Some(f.seq);
                got += 1;
            }
            got
        });
        for i in 0..20_000 {
            tx.push(frame(i));
            assert!(tx.len() <= 3);
        }
        let got = consumer.join().expect("consumer thread");
        let dropped = counters.frames_dropped.load(Ordering::Relaxed);
        assert_eq!(
            got + dropped,
            20_000,
            "every frame is either delivered or counted as dropped"
        );
    }
}
