//! Reconnect delays: capped exponential backoff with jitter.
//!
//! Jitter spreads the reconnects of many cameras that dropped together (a switch reboot) so they
//! do not hammer the NVR in lockstep. The delay is a pure function of the attempt number and a
//! uniform random number, so it is tested without waiting; [`JitterRng`] supplies the randomness.

use std::time::Duration;

/// Backoff parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackoffPolicy {
    /// Delay before the first retry. Default: 500 ms.
    pub initial: Duration,
    /// Upper bound of any delay. Default: 30 s.
    pub max: Duration,
    /// Growth factor per failed attempt (≥ 1). Default: 2.
    pub multiplier: f64,
    /// Fraction of the delay that is randomised away (0 = none, 1 = anywhere in 0..delay).
    /// Default: 0.2.
    pub jitter: f64,
}

impl Default for BackoffPolicy {
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(30),
            multiplier: 2.0,
            jitter: 0.2,
        }
    }
}

impl BackoffPolicy {
    /// Delay before retry number `attempt` (0 = first retry after a failure).
    ///
    /// `unit` is a uniform random number in `[0, 1)`; the result lies in
    /// `[base × (1 − jitter), base]` where `base = min(max, initial × multiplier^attempt)`, so the
    /// cap is never exceeded and the delay never collapses to zero unless `jitter` is 1.
    pub fn delay(&self, attempt: u32, unit: f64) -> Duration {
        let initial_s = self.initial.as_secs_f64();
        let max_s = self.max.as_secs_f64().max(initial_s);
        let growth = self.multiplier.max(1.0).powi(attempt.min(1_000) as i32);
        let base_s = (initial_s * growth).min(max_s);
        let jitter = self.jitter.clamp(0.0, 1.0);
        let unit = if unit.is_finite() {
            unit.clamp(0.0, 1.0)
        } else {
            0.0
        };
        Duration::from_secs_f64(base_s * (1.0 - jitter * unit))
    }
}

/// Small deterministic PRNG (SplitMix64) for jitter; seeded per camera so cameras differ.
#[derive(Debug, Clone)]
pub struct JitterRng(u64);

impl JitterRng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// A generator seeded from `key` (the camera id) and the current time.
    pub fn for_key(key: &str) -> Self {
        let mut seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        for b in key.bytes() {
            seed = (seed ^ u64::from(b)).wrapping_mul(0x100_0000_01B3);
        }
        Self(seed)
    }

    /// Next uniform number in `[0, 1)`.
    pub fn next_unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn no_jitter() -> BackoffPolicy {
        BackoffPolicy {
            jitter: 0.0,
            ..BackoffPolicy::default()
        }
    }

    #[test]
    fn doubles_until_the_cap() {
        let p = no_jitter();
        let got: Vec<u128> = (0..10).map(|a| p.delay(a, 0.5).as_millis()).collect();
        assert_eq!(
            got,
            [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000]
        );
    }

    #[test]
    fn huge_attempt_numbers_stay_at_the_cap() {
        assert_eq!(no_jitter().delay(u32::MAX, 0.0), Duration::from_secs(30));
    }

    #[test]
    fn jitter_only_shortens() {
        let p = BackoffPolicy::default();
        assert_eq!(p.delay(3, 0.0), Duration::from_secs(4));
        let d = p.delay(3, 0.999).as_secs_f64();
        assert!((3.2..3.21).contains(&d), "{d}");
    }

    #[test]
    fn rng_is_uniform_enough_and_varies() {
        let mut r = JitterRng::new(42);
        let xs: Vec<f64> = (0..10_000).map(|_| r.next_unit()).collect();
        assert!(xs.iter().all(|x| (0.0..1.0).contains(x)));
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        assert!((0.48..0.52).contains(&mean), "{mean}");
        let below = xs.iter().filter(|&&x| x < 0.1).count();
        assert!((800..1200).contains(&below), "{below}");
    }

    proptest! {
        #[test]
        fn delay_is_bounded_and_monotonic_in_attempt(
            initial_ms in 1u64..5_000, max_ms in 1u64..120_000, mult in 1.0f64..4.0,
            jitter in 0.0f64..1.0, attempt in 0u32..64, unit in 0.0f64..1.0,
        ) {
            let p = BackoffPolicy {
                initial: Duration::from_millis(initial_ms),
                max: Duration::from_millis(max_ms),
                multiplier: mult,
                jitter,
            };
            let cap = Duration::from_millis(max_ms.max(initial_ms)) + Duration::from_micros(1);
            let d = p.delay(attempt, unit);
            prop_assert!(d <= cap);
            prop_assert!(d.as_secs_f64() >= p.delay(attempt, 0.0).as_secs_f64() * (1.0 - jitter) - 1e-9);
            // Without jitter the next attempt never waits less.
            prop_assert!(p.delay(attempt + 1, 0.0) >= p.delay(attempt, 0.0));
        }
    }
}
