//! A per-camera monotonic clock built from frame presentation timestamps.
//!
//! Durations are measured on pts because the wall clock can be stepped (NTP, an operator). But a
//! stream that reconnects may restart its pts at 0; a plain difference would then be negative
//! (or, unsigned, huge) and every dwell timer would misfire. [`MonoClock`] turns pts into a time
//! that never goes backwards: a backwards jump is treated as zero elapsed time, and time keeps
//! counting from there.

/// Monotonic nanoseconds derived from a pts sequence.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MonoClock {
    /// Last pts seen, if any.
    last_pts: Option<u64>,
    /// Current monotonic time.
    now_ns: u64,
}

impl MonoClock {
    /// Feeds the next frame's pts and returns the monotonic time for it.
    pub fn advance(&mut self, pts_ns: u64) -> u64 {
        if let Some(last) = self.last_pts {
            // Backwards (restart) counts as no time passing; forwards adds the gap.
            self.now_ns = self.now_ns.saturating_add(pts_ns.saturating_sub(last));
        }
        self.last_pts = Some(pts_ns);
        self.now_ns
    }

    /// The monotonic time of the last frame.
    pub fn now_ns(&self) -> u64 {
        self.now_ns
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn restart_counts_as_no_time_then_continues() {
        let mut c = MonoClock::default();
        assert_eq!(c.advance(5_000), 0, "the first frame is time zero");
        assert_eq!(c.advance(9_000), 4_000);
        assert_eq!(c.advance(1_000), 4_000, "pts restarted");
        assert_eq!(c.advance(3_000), 6_000);
    }

    proptest! {
        #[test]
        fn never_goes_backwards_and_tracks_forward_gaps(pts in proptest::collection::vec(0u64..1_000_000, 1..50)) {
            let mut c = MonoClock::default();
            let mut prev = 0;
            for w in pts.windows(2) {
                c.advance(w[0]);
                let before = c.now_ns();
                let now = c.advance(w[1]);
                prop_assert!(now >= prev);
                prop_assert_eq!(now - before, w[1].saturating_sub(w[0]));
                prev = now;
            }
        }
    }
}
