//! Capped exponential backoff and the circuit state derived from consecutive failures.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Retry settings of one sink (`[sinks.retry]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryConfig {
    /// Pause after the first failure. Default 200 ms.
    #[serde(default = "default_initial_ms")]
    pub initial_backoff_ms: u64,
    /// Longest pause; doubling stops here. Default 30 000 ms.
    #[serde(default = "default_max_ms")]
    pub max_backoff_ms: u64,
    /// Upper bound on one publish (connect + send + ack) before it counts as failed.
    /// Default 15 000 ms.
    #[serde(default = "default_publish_timeout_ms")]
    pub publish_timeout_ms: u64,
    /// Consecutive failures after which the sink is reported `down` (one failure makes it
    /// `degraded`). Default 5.
    #[serde(default = "default_down_after")]
    pub down_after_failures: u32,
}

fn default_initial_ms() -> u64 {
    200
}
fn default_max_ms() -> u64 {
    30_000
}
fn default_publish_timeout_ms() -> u64 {
    15_000
}
fn default_down_after() -> u32 {
    5
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            initial_backoff_ms: default_initial_ms(),
            max_backoff_ms: default_max_ms(),
            publish_timeout_ms: default_publish_timeout_ms(),
            down_after_failures: default_down_after(),
        }
    }
}

/// Health of a sink as seen by its delivery loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CircuitState {
    /// Last publish succeeded.
    Up,
    /// Failing, fewer than `down_after_failures` times in a row.
    Degraded,
    /// Failing `down_after_failures` times or more in a row.
    Down,
}

impl CircuitState {
    /// State after `consecutive_failures` failures in a row.
    pub fn from_failures(consecutive_failures: u32, down_after: u32) -> Self {
        match consecutive_failures {
            0 => CircuitState::Up,
            n if n >= down_after.max(1) => CircuitState::Down,
            _ => CircuitState::Degraded,
        }
    }

    /// Numeric form for a gauge: 0 up, 1 degraded, 2 down.
    pub fn as_u8(self) -> u8 {
        self as u8
    }

    /// Inverse of [`CircuitState::as_u8`] (unknown values read as `Down`).
    pub fn from_u8(v: u8) -> Self {
        match v {
            0 => CircuitState::Up,
            1 => CircuitState::Degraded,
            _ => CircuitState::Down,
        }
    }
}

/// Pause before retry number `attempt` (0 = first retry): `initial × 2^attempt`, capped at
/// `max`, then scaled by `0.8 + 0.4 × unit` (`unit` in 0..1) so that many sinks failing
/// together do not retry in lock-step. Never exceeds `max`.
pub fn backoff(attempt: u32, config: &RetryConfig, unit: f64) -> Duration {
    let max = config.max_backoff_ms.max(1);
    let base = config
        .initial_backoff_ms
        .max(1)
        .saturating_mul(1u64 << attempt.min(32))
        .min(max);
    let jitter = 0.8 + 0.4 * unit.clamp(0.0, 1.0);
    Duration::from_millis(((base as f64 * jitter) as u64).clamp(1, max))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn doubles_then_caps() {
        let c = RetryConfig {
            initial_backoff_ms: 100,
            max_backoff_ms: 1000,
            ..Default::default()
        };
        let ms = |a| backoff(a, &c, 0.5).as_millis();
        assert_eq!(
            [ms(0), ms(1), ms(2), ms(3), ms(4), ms(60)],
            [100, 200, 400, 800, 1000, 1000]
        );
    }

    #[test]
    fn circuit_from_failures() {
        assert_eq!(CircuitState::from_failures(0, 3), CircuitState::Up);
        assert_eq!(CircuitState::from_failures(2, 3), CircuitState::Degraded);
        assert_eq!(CircuitState::from_failures(3, 3), CircuitState::Down);
        for s in [CircuitState::Up, CircuitState::Degraded, CircuitState::Down] {
            assert_eq!(CircuitState::from_u8(s.as_u8()), s);
        }
    }

    proptest! {
        #[test]
        fn never_above_max_and_monotone(a in 0u32..100, unit in 0.0f64..1.0, init in 1u64..5000, max in 1u64..100_000) {
            let c = RetryConfig { initial_backoff_ms: init, max_backoff_ms: max, ..Default::default() };
            prop_assert!(backoff(a, &c, unit) <= Duration::from_millis(max));
            prop_assert!(backoff(a, &c, 0.5) <= backoff(a + 1, &c, 0.5));
        }
    }
}
