//! Telling a wall-clock jump from time passing, so retention never prunes on a jump alone.
//!
//! Between two observations the monotonic clock says how much time really passed; the wall
//! clock should have advanced by the same amount. If it advanced by more than [`TOLERANCE`]
//! beyond that, or went back by more, the wall clock jumped (an operator or a bad NTP source
//! set it, or the host resumed from suspend, during which the monotonic clock stands still).
//!
//! Age-based pruning then measures age against a *trusted now*: the previous trusted now plus
//! the monotonic time passed, but never ahead of the wall clock. A jump forward therefore does
//! not age anything; a jump back makes the trusted now follow the wall clock back (pruning
//! less, never more). A forward jump that was a genuine correction delays age-based pruning by
//! its size until the next restart; count-based retention is unaffected.

use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};

/// Largest disagreement between the two clocks that is not a jump (NTP slews far less).
pub const TOLERANCE: Duration = Duration::from_secs(5);

/// What the wall clock did since the previous observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockStep {
    /// Advanced with the monotonic clock.
    Steady,
    /// Advanced this much more than the monotonic clock did.
    JumpedForward(SignedDuration),
    /// Fell this much behind the monotonic clock (went back).
    JumpedBack(SignedDuration),
}

/// The two clocks at the previous observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockGuard {
    wall: Timestamp,
    mono: Instant,
    trusted: Timestamp,
}

impl ClockGuard {
    /// Starts from the clocks as they are now (the wall clock is trusted at start).
    pub fn new(wall: Timestamp, mono: Instant) -> Self {
        Self {
            wall,
            mono,
            trusted: wall,
        }
    }

    /// Takes the clocks' new readings; returns what the wall clock did and the trusted now.
    pub fn observe(&mut self, wall: Timestamp, mono: Instant) -> (ClockStep, Timestamp) {
        // An Instant older than the last one (not possible from Instant::now) counts as none passed.
        let passed = mono.saturating_duration_since(self.mono);
        let passed_signed = SignedDuration::try_from(passed).unwrap_or(SignedDuration::MAX);
        let skew = wall.duration_since(self.wall).saturating_sub(passed_signed);
        let tolerance = SignedDuration::try_from(TOLERANCE).unwrap_or(SignedDuration::MAX);
        let step = if skew > tolerance {
            ClockStep::JumpedForward(skew)
        } else if skew < -tolerance {
            ClockStep::JumpedBack(-skew)
        } else {
            ClockStep::Steady
        };
        let advanced = self.trusted.checked_add(passed_signed).unwrap_or(self.trusted);
        self.trusted = advanced.min(wall);
        self.wall = wall;
        self.mono = mono;
        (step, self.trusted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    #[test]
    fn time_passing_is_steady_and_trusted() {
        let m0 = Instant::now();
        let mut g = ClockGuard::new(t("2024-05-01T12:00:00Z"), m0);
        let (step, now) = g.observe(t("2024-05-01T12:01:00.5Z"), m0 + Duration::from_secs(60));
        assert_eq!(step, ClockStep::Steady);
        assert_eq!(
            now,
            t("2024-05-01T12:01:00Z"),
            "trusted follows the monotonic clock"
        );
    }

    #[test]
    fn a_forward_jump_is_reported_and_does_not_age_anything() {
        let m0 = Instant::now();
        let mut g = ClockGuard::new(t("2024-05-01T12:00:00Z"), m0);
        let (step, now) = g.observe(t("2024-05-03T12:00:31Z"), m0 + Duration::from_secs(31));
        assert_eq!(step, ClockStep::JumpedForward(SignedDuration::from_hours(48)));
        assert_eq!(now, t("2024-05-01T12:00:31Z"));
        // Later passes are steady again, and the trusted now keeps the real pace.
        let (step, now) = g.observe(t("2024-05-03T12:01:31Z"), m0 + Duration::from_secs(91));
        assert_eq!(step, ClockStep::Steady);
        assert_eq!(now, t("2024-05-01T12:01:31Z"));
    }

    #[test]
    fn a_backward_jump_is_reported_and_trusted_follows_the_wall_clock_back() {
        let m0 = Instant::now();
        let mut g = ClockGuard::new(t("2024-05-03T12:00:00Z"), m0);
        let (step, now) = g.observe(t("2024-05-01T12:00:10Z"), m0 + Duration::from_secs(10));
        assert_eq!(step, ClockStep::JumpedBack(SignedDuration::from_hours(48)));
        assert_eq!(now, t("2024-05-01T12:00:10Z"));
    }

    #[test]
    fn skew_within_the_tolerance_is_not_a_jump() {
        let m0 = Instant::now();
        let mut g = ClockGuard::new(t("2024-05-01T12:00:00Z"), m0);
        let (step, _) = g.observe(t("2024-05-01T12:01:04Z"), m0 + Duration::from_secs(60));
        assert_eq!(step, ClockStep::Steady);
        let (step, _) = g.observe(t("2024-05-01T12:02:02Z"), m0 + Duration::from_secs(120));
        assert_eq!(
            step,
            ClockStep::Steady,
            "2 s behind the monotonic clock in this pass"
        );
        let (step, _) = g.observe(t("2024-05-01T12:02:14Z"), m0 + Duration::from_secs(180));
        assert_eq!(step, ClockStep::JumpedBack(SignedDuration::from_secs(48)));
    }
}
