//! Lock-free counters and histograms the worker pool fills and the daemon exports.
//!
//! Kept free of any metrics library so the inference crate stays small; the daemon maps these
//! onto Prometheus families at scrape time.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds (seconds) of the latency buckets: 1 ms … 10 s, roughly ×2 apart.
pub const LATENCY_BUCKETS_S: [f64; 14] = [
    0.001, 0.002, 0.005, 0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.2, 0.5, 1.0, 2.5, 10.0,
];

/// A fixed-bucket histogram of durations (cumulative counts computed at read time).
#[derive(Debug, Default)]
pub struct DurationHistogram {
    buckets: [AtomicU64; LATENCY_BUCKETS_S.len() + 1],
    sum_ns: AtomicU64,
    count: AtomicU64,
}

impl DurationHistogram {
    /// Records one observation.
    pub fn observe(&self, d: Duration) {
        let s = d.as_secs_f64();
        let i = LATENCY_BUCKETS_S
            .iter()
            .position(|b| s <= *b)
            .unwrap_or(LATENCY_BUCKETS_S.len());
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        self.sum_ns
            .fetch_add(d.as_nanos().min(u64::MAX as u128) as u64, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    /// Per-bucket (non-cumulative) counts; the last entry is the +Inf overflow bucket.
    pub fn bucket_counts(&self) -> Vec<u64> {
        self.buckets.iter().map(|b| b.load(Ordering::Relaxed)).collect()
    }

    /// Sum of all observations.
    pub fn sum(&self) -> Duration {
        Duration::from_nanos(self.sum_ns.load(Ordering::Relaxed))
    }

    /// Number of observations.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// Approximate quantile (upper bound of the bucket holding it), `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let counts = self.bucket_counts();
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return None;
        }
        let want = (q.clamp(0.0, 1.0) * total as f64).ceil().max(1.0) as u64;
        let mut acc = 0;
        for (i, c) in counts.iter().enumerate() {
            acc += c;
            if acc >= want {
                return Some(LATENCY_BUCKETS_S.get(i).copied().unwrap_or(f64::INFINITY));
            }
        }
        None
    }
}

/// Counters and histograms of one worker pool (one model).
#[derive(Debug, Default)]
pub struct PoolStats {
    /// Frames accepted by `submit`.
    pub frames_in: AtomicU64,
    /// Frames whose detections were delivered.
    pub frames_out: AtomicU64,
    /// Frames dropped because their camera's queue was full (oldest dropped first), or their
    /// result because the consumer was too far behind.
    pub frames_dropped: AtomicU64,
    /// Finished results dropped because the consumer was `results_capacity` behind (included in
    /// `frames_dropped`).
    pub results_dropped: AtomicU64,
    /// Every drop, per camera (the camera's own figures show them).
    pub camera_dropped: vigil_core::counts::PerCamera,
    /// Inference calls that failed (the frame's result carries the error).
    pub errors: AtomicU64,
    /// Time per model run (one batch).
    pub inference: DurationHistogram,
    /// Time a frame waited in its queue before a worker took it.
    pub queue_wait: DurationHistogram,
    /// Batch sizes, as counts per size 1..=16 (index 0 = size 1; larger batches land in the last).
    pub batch_sizes: [AtomicU64; 16],
}

impl PoolStats {
    pub(crate) fn observe_batch(&self, n: usize) {
        let i = n.clamp(1, 16) - 1;
        self.batch_sizes[i].fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_quantiles_follow_buckets() {
        let h = DurationHistogram::default();
        for _ in 0..90 {
            h.observe(Duration::from_micros(1500));
        }
        for _ in 0..10 {
            h.observe(Duration::from_millis(150));
        }
        assert_eq!(h.count(), 100);
        assert_eq!(h.quantile(0.5), Some(0.002));
        assert_eq!(h.quantile(0.99), Some(0.2));
        assert!(DurationHistogram::default().quantile(0.5).is_none());
    }
}
