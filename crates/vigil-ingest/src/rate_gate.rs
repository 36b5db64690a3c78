//! Analysis-rate gate on presentation timestamps.
//!
//! `videorate drop-only=true max-rate=N` already drops surplus frames of a constant-rate stream
//! before conversion. It passes *everything* when the caps say `framerate=0/1` (variable rate —
//! common with IP cameras that omit the H.264 VUI timing), so this gate, placed right after
//! videorate, enforces the rate from the timestamps themselves. For constant-rate input it admits
//! every frame videorate let through.

/// Admits frames on a grid of one per interval of presentation time, so the long-run rate equals
/// the target even when it does not divide the input rate (30 → 7 fps gives 7, not 7.5).
#[derive(Debug, Clone)]
pub struct RateGate {
    /// Target spacing between admitted frames, in nanoseconds; 0 = admit everything.
    interval_ns: u64,
    /// How early a frame may be and still count as on time, in nanoseconds.
    slack_ns: u64,
    /// Grid point from which the next frame is due; `None` before the first frame.
    next_due_ns: Option<u64>,
}

impl RateGate {
    /// Timestamps may be early by this fraction of the interval and still count as on time (RTP
    /// clocks of 90 kHz do not divide every frame interval evenly).
    const SLACK: f64 = 0.125;

    /// A gate for `fps` frames per second; `None` or a non-positive rate admits everything.
    pub fn new(fps: Option<f64>) -> Self {
        let interval_ns = match fps {
            Some(f) if f.is_finite() && f > 0.0 => (1e9 / f) as u64,
            _ => 0,
        };
        Self {
            interval_ns,
            slack_ns: (interval_ns as f64 * Self::SLACK) as u64,
            next_due_ns: None,
        }
    }

    /// Whether the frame with timestamp `pts_ns` goes to analysis.
    pub fn admit(&mut self, pts_ns: u64) -> bool {
        if self.interval_ns == 0 {
            return true;
        }
        let next = match self.next_due_ns {
            // Far in the past: the stream restarted (seek, loop, reconnect) — resync on it.
            Some(due) if pts_ns + 2 * self.interval_ns < due => pts_ns + self.interval_ns,
            Some(due) if pts_ns + self.slack_ns < due => return false,
            // On time: stay on the grid so the average rate is exact.
            Some(due) if pts_ns < due + self.interval_ns => due + self.interval_ns,
            // Late by more than an interval (a gap in the stream): restart the grid here.
            _ => pts_ns + self.interval_ns,
        };
        self.next_due_ns = Some(next);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MS: u64 = 1_000_000;

    fn admitted(gate: &mut RateGate, pts: impl IntoIterator<Item = u64>) -> Vec<u64> {
        pts.into_iter().filter(|&p| gate.admit(p)).collect()
    }

    #[test]
    fn twenty_five_to_five_keeps_every_fifth() {
        let mut g = RateGate::new(Some(5.0));
        let got = admitted(&mut g, (0..50).map(|i| i * 40 * MS));
        assert_eq!(got, (0..10).map(|i| i * 200 * MS).collect::<Vec<_>>());
    }

    #[test]
    fn already_reduced_stream_passes_whole() {
        let mut g = RateGate::new(Some(5.0));
        let pts: Vec<u64> = (0..20).map(|i| i * 200 * MS).collect();
        assert_eq!(admitted(&mut g, pts.clone()), pts);
    }

    #[test]
    fn no_rate_admits_all() {
        let mut g = RateGate::new(None);
        assert_eq!(admitted(&mut g, [0, 1, 1, 2]).len(), 4);
    }

    #[test]
    fn restart_of_timestamps_resyncs() {
        let mut g = RateGate::new(Some(5.0));
        assert!(g.admit(10_000 * MS));
        assert!(
            g.admit(0),
            "a stream restart must not blank the camera until pts catches up"
        );
        assert!(!g.admit(40 * MS));
    }

    #[test]
    fn uneven_ratio_keeps_the_average_rate() {
        let mut g = RateGate::new(Some(7.0));
        // 30 s of 30 fps.
        let n = admitted(&mut g, (0..900u64).map(|i| i * 1_000_000_000 / 30)).len();
        assert!((209..=211).contains(&n), "{n} frames in 30 s at 7 fps");
    }

    proptest! {
        #[test]
        fn admitted_rate_never_exceeds_target(
            fps in 1.0f64..30.0,
            gaps in proptest::collection::vec(1u64..100, 1..400),
        ) {
            let mut g = RateGate::new(Some(fps));
            let mut pts = 0u64;
            let mut admitted_pts = Vec::new();
            for gap in gaps {
                pts += gap * MS;
                if g.admit(pts) {
                    admitted_pts.push(pts);
                }
            }
            // Over any window the count stays within the target rate plus one frame (and the slack).
            let interval = 1e9 / fps;
            for (i, &a) in admitted_pts.iter().enumerate() {
                for (j, &b) in admitted_pts.iter().enumerate().skip(i + 1) {
                    let bound = (b - a) as f64 / interval + RateGate::SLACK + 1.0 + 1e-9;
                    prop_assert!(((j - i) as f64) < bound, "{} frames in {} ns", j - i + 1, b - a);
                }
            }
        }
    }
}
