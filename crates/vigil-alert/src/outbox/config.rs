//! Outbox settings and the full-outbox admission policy (a pure function).

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;
use crate::event::DEFAULT_SNAPSHOT_CAP_BYTES;
use crate::meta::Severity;
use crate::route::RouteConfig;

/// Outbox settings. Sizes count the stored bytes (event body plus a small header).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboxConfig {
    /// Node name, written into each event's `source` (`vigil/<node>/<camera>`). Default `vigil`.
    #[serde(default = "default_node")]
    pub node: String,
    /// Soft limit on entries: above it only `high`/`critical` alerts are accepted. Default 100 000.
    #[serde(default = "default_max_entries")]
    pub max_entries: u64,
    /// Soft limit on bytes, as for `max_entries`. Default 1 GiB.
    #[serde(default = "default_max_bytes")]
    pub max_bytes: u64,
    /// Hard cap on entries: nothing is accepted above it. Default 125 000.
    #[serde(default = "default_hard_max_entries")]
    pub hard_max_entries: u64,
    /// Hard cap on bytes. Default 1.25 GiB.
    #[serde(default = "default_hard_max_bytes")]
    pub hard_max_bytes: u64,
    /// Largest snapshot (before base64) embedded in an event; larger ones are left out and
    /// flagged `snapshot_truncated`. Default 256 KiB.
    #[serde(default = "default_snapshot_cap")]
    pub snapshot_cap_bytes: usize,
    /// While the file cannot be written (disk full, I/O error) at most this many accepted
    /// alerts wait in memory for it to work again; more are lost (counted). Default 10 000.
    #[serde(default = "default_held_max_entries")]
    pub held_max_entries: usize,
    /// The same bound in bytes (event bodies and headers). Default 64 MiB.
    #[serde(default = "default_held_max_bytes")]
    pub held_max_bytes: u64,
    /// Sinks and their routes; filled by the daemon from the sink configs, not from the file.
    #[serde(skip)]
    pub sinks: Vec<SinkRoute>,
}

/// A sink name and which alerts it must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinkRoute {
    /// Sink name (unique; used as its cursor key in the outbox file).
    pub name: String,
    /// Which alerts it carries.
    pub route: RouteConfig,
}

fn default_node() -> String {
    "vigil".into()
}
fn default_max_entries() -> u64 {
    100_000
}
fn default_max_bytes() -> u64 {
    1 << 30
}
fn default_hard_max_entries() -> u64 {
    125_000
}
fn default_hard_max_bytes() -> u64 {
    (1 << 30) + (1 << 28)
}
fn default_snapshot_cap() -> usize {
    DEFAULT_SNAPSHOT_CAP_BYTES
}
fn default_held_max_entries() -> usize {
    10_000
}
fn default_held_max_bytes() -> u64 {
    64 << 20
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self {
            node: default_node(),
            max_entries: default_max_entries(),
            max_bytes: default_max_bytes(),
            hard_max_entries: default_hard_max_entries(),
            hard_max_bytes: default_hard_max_bytes(),
            snapshot_cap_bytes: default_snapshot_cap(),
            held_max_entries: default_held_max_entries(),
            held_max_bytes: default_held_max_bytes(),
            sinks: Vec::new(),
        }
    }
}

impl OutboxConfig {
    /// Adds a sink that must carry the alerts `route` matches.
    pub fn with_sink(mut self, name: impl Into<String>, route: RouteConfig) -> Self {
        self.sinks.push(SinkRoute {
            name: name.into(),
            route,
        });
        self
    }

    /// Checks limits and sink names.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            sink: "outbox".into(),
            message,
        };
        if self.hard_max_entries < self.max_entries || self.hard_max_bytes < self.max_bytes {
            return Err(invalid(
                "hard_max_entries/hard_max_bytes must be ≥ max_entries/max_bytes".into(),
            ));
        }
        if self.max_entries == 0 || self.max_bytes == 0 {
            return Err(invalid("max_entries and max_bytes must be > 0".into()));
        }
        let mut names: Vec<&str> = self.sinks.iter().map(|s| s.name.as_str()).collect();
        names.sort_unstable();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(invalid(format!(
                "sink name {:?} is used twice; names must be unique",
                w[0]
            )));
        }
        Ok(())
    }
}

/// Outcome of the full-outbox policy for one alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Store it.
    Accept,
    /// Over the soft limit and below `high`.
    RefuseSoft,
    /// Over the hard cap.
    RefuseHard,
}

/// Decides whether an alert of `size_bytes` and `severity` may enter an outbox that holds
/// `entries` entries and `bytes` bytes.
pub fn admit(
    config: &OutboxConfig,
    entries: u64,
    bytes: u64,
    size_bytes: u64,
    severity: Severity,
) -> Admission {
    let after_bytes = bytes.saturating_add(size_bytes);
    if entries >= config.hard_max_entries || after_bytes > config.hard_max_bytes {
        Admission::RefuseHard
    } else if (entries >= config.max_entries || after_bytes > config.max_bytes) && severity < Severity::High {
        Admission::RefuseSoft
    } else {
        Admission::Accept
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn small() -> OutboxConfig {
        OutboxConfig {
            max_entries: 10,
            max_bytes: 1000,
            hard_max_entries: 12,
            hard_max_bytes: 1200,
            ..Default::default()
        }
    }

    #[test]
    fn soft_limit_refuses_only_below_high() {
        let c = small();
        assert_eq!(admit(&c, 9, 0, 10, Severity::Low), Admission::Accept);
        assert_eq!(admit(&c, 10, 0, 10, Severity::Medium), Admission::RefuseSoft);
        assert_eq!(admit(&c, 10, 0, 10, Severity::High), Admission::Accept);
        assert_eq!(admit(&c, 0, 995, 10, Severity::Info), Admission::RefuseSoft);
        assert_eq!(admit(&c, 12, 0, 10, Severity::Critical), Admission::RefuseHard);
        assert_eq!(admit(&c, 0, 1195, 10, Severity::Critical), Admission::RefuseHard);
    }

    #[test]
    fn validate_rejects_inverted_limits_and_duplicate_names() {
        assert!(
            OutboxConfig {
                hard_max_entries: 5,
                ..small()
            }
            .validate()
            .is_err()
        );
        let dup = small()
            .with_sink("a", RouteConfig::default())
            .with_sink("a", RouteConfig::default());
        assert!(dup.validate().is_err());
        assert!(small().with_sink("a", RouteConfig::default()).validate().is_ok());
    }

    proptest! {
        /// Whatever the state, an accepted alert never takes the outbox past the hard cap, and
        /// below-high alerts never take it past the soft limit.
        #[test]
        fn accepted_alerts_respect_the_caps(entries in 0u64..20, bytes in 0u64..1500, size in 0u64..300, sev in 0usize..5) {
            let c = small();
            let severity = [Severity::Info, Severity::Low, Severity::Medium, Severity::High, Severity::Critical][sev];
            if admit(&c, entries, bytes, size, severity) == Admission::Accept {
                prop_assert!(entries < c.hard_max_entries && bytes + size <= c.hard_max_bytes);
                if severity < Severity::High {
                    prop_assert!(entries < c.max_entries && bytes + size <= c.max_bytes);
                }
            }
        }
    }
}
