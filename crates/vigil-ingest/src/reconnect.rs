//! Reconnect pacing: how long a camera waits before its next connection attempt.
//!
//! Two cases need opposite answers. A camera that was streaming and just lost its stream is most
//! likely in a short outage (server restart, camera reboot, switch hiccup): every second it waits
//! after the server is back is a second of lost video, so its retries stay at most
//! [`SupervisorPolicy::recovery_delay`] apart for [`SupervisorPolicy::recovery_window`]. A camera
//! that never streamed, or has been down longer than the window, is probably misconfigured or
//! gone: its delays grow exponentially up to [`BackoffPolicy::max`] so that it does not hammer
//! the network or the NVR. Growth after the window continues from the recovery cap, not from
//! where an uncapped series would have got to, so a camera back a little after the window is not
//! made to wait the full maximum.
//!
//! [`BackoffPolicy::max`]: crate::BackoffPolicy::max

use crate::backoff::BackoffPolicy;
use crate::supervisor::SupervisorPolicy;
use std::time::{Duration, Instant};

/// Per-camera retry state; pure (time and randomness are passed in).
#[derive(Debug, Clone, Default)]
pub(crate) struct RetryPacer {
    /// Failed attempts since the last run that delivered frames.
    attempt: u32,
    /// When the camera last lost a stream that delivered frames.
    lost_at: Option<Instant>,
}

impl RetryPacer {
    /// A run that delivered frames ended at `now`: the series starts again, in recovery.
    pub fn stream_lost(&mut self, now: Instant) {
        self.attempt = 0;
        self.lost_at = Some(now);
    }

    /// Whether the camera lost a stream less than the recovery window before `now`.
    pub fn recovering(&self, policy: &SupervisorPolicy, now: Instant) -> bool {
        self.lost_at
            .is_some_and(|t| now.saturating_duration_since(t) < policy.recovery_window)
    }

    /// Delay before the next attempt, made at `now`; `unit` is uniform in `[0, 1)` for jitter.
    pub fn next_delay(&mut self, policy: &SupervisorPolicy, now: Instant, unit: f64) -> Duration {
        if !self.recovering(policy, now) {
            let delay = policy.backoff.delay(self.attempt, unit);
            self.attempt = self.attempt.saturating_add(1);
            return delay;
        }
        // Jitter is applied below the cap, so cameras that dropped together still spread out.
        let capped = BackoffPolicy {
            max: policy.backoff.max.min(policy.recovery_delay),
            ..policy.backoff
        };
        let delay = capped.delay(self.attempt, unit);
        // Stop counting once the cap is reached: after the window, growth resumes from here.
        if policy.backoff.delay(self.attempt, 0.0) < policy.recovery_delay {
            self.attempt = self.attempt.saturating_add(1);
        }
        delay
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> SupervisorPolicy {
        SupervisorPolicy {
            backoff: BackoffPolicy {
                jitter: 0.0,
                ..BackoffPolicy::default()
            },
            ..SupervisorPolicy::default()
        }
    }

    /// Delays of `n` consecutive failures, each attempt taking `attempt_cost` plus its delay.
    fn series(pacer: &mut RetryPacer, start: Instant, n: usize, attempt_cost: Duration) -> Vec<u128> {
        let p = policy();
        let mut now = start;
        (0..n)
            .map(|_| {
                let d = pacer.next_delay(&p, now, 0.5);
                now += d + attempt_cost;
                d.as_millis()
            })
            .collect()
    }

    #[test]
    fn a_camera_that_never_streamed_backs_off_to_the_maximum() {
        let got = series(&mut RetryPacer::default(), Instant::now(), 9, Duration::ZERO);
        assert_eq!(got, [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    }

    #[test]
    fn a_camera_that_was_streaming_retries_at_least_every_second_during_the_window() {
        let start = Instant::now();
        let mut pacer = RetryPacer::default();
        pacer.stream_lost(start);
        // 10 s of outage: every wait ≤ 1 s, so the first attempt after the server returns comes
        // within 1 s (the old series waited 8 s here).
        let got = series(&mut pacer, start, 12, Duration::from_millis(10));
        assert_eq!(got[..2], [500, 1000]);
        assert!(got.iter().all(|&d| d <= 1000), "{got:?}");
    }

    #[test]
    fn after_the_window_growth_resumes_from_the_cap_and_reaches_the_maximum() {
        let p = policy();
        let start = Instant::now();
        let mut pacer = RetryPacer::default();
        pacer.stream_lost(start);
        let mut now = start;
        while pacer.recovering(&p, now) {
            now += pacer.next_delay(&p, now, 0.5);
        }
        let got = series(&mut pacer, now, 7, Duration::ZERO);
        assert_eq!(got, [1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    }

    #[test]
    fn jitter_spreads_capped_delays() {
        let p = SupervisorPolicy::default();
        let now = Instant::now();
        let mut a = RetryPacer::default();
        a.stream_lost(now);
        let mut b = a.clone();
        for _ in 0..3 {
            a.next_delay(&p, now, 0.0);
            b.next_delay(&p, now, 0.0);
        }
        let (da, db) = (a.next_delay(&p, now, 0.0), b.next_delay(&p, now, 0.99));
        assert_eq!(da, p.recovery_delay);
        assert!(db < da && db >= p.recovery_delay.mul_f64(0.8), "{db:?}");
    }

    #[test]
    fn a_new_stream_restarts_the_series() {
        let p = policy();
        let start = Instant::now();
        let mut pacer = RetryPacer::default();
        let _ = series(&mut pacer, start, 6, Duration::ZERO);
        let later = start + Duration::from_secs(600);
        pacer.stream_lost(later);
        assert_eq!(pacer.next_delay(&p, later, 0.5), Duration::from_millis(500));
    }
}
