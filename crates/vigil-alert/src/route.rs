//! Which alerts a sink carries.
//!
//! A sink may carry a subset of alerts (e.g. only `plate.*` at `high` or above, only the gate
//! cameras). The route is evaluated once, at enqueue time, and the list of sinks that must carry
//! the alert is stored with it: the alert leaves the outbox when exactly those sinks have
//! acknowledged it, and a sink never has to skip over entries it will not carry on restart.

use serde::{Deserialize, Serialize};

use crate::meta::{AlertMeta, Severity};

/// Filter of a sink; an empty list means "all".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// Rule kinds to carry: exact (`plate.hotlist`) or a prefix ending in `.*` (`plate.*`).
    /// Empty (default): every kind.
    #[serde(default)]
    pub kinds: Vec<String>,
    /// Lowest severity to carry. Default: every severity.
    #[serde(default)]
    pub min_severity: Option<Severity>,
    /// Camera ids to carry. Empty (default): every camera.
    #[serde(default)]
    pub cameras: Vec<String>,
}

impl RouteConfig {
    /// True when a sink with this route must carry the alert described by `meta`.
    pub fn matches(&self, meta: &AlertMeta) -> bool {
        let kind_ok = self.kinds.is_empty() || self.kinds.iter().any(|k| kind_matches(k, &meta.kind));
        let severity_ok = self.min_severity.is_none_or(|min| meta.severity >= min);
        let camera_ok = self.cameras.is_empty() || self.cameras.contains(&meta.camera);
        kind_ok && severity_ok && camera_ok
    }
}

/// `pattern` is `a.b` (exact) or `a.*` (`a` itself or anything below it).
fn kind_matches(pattern: &str, kind: &str) -> bool {
    match pattern.strip_suffix(".*") {
        Some(prefix) => {
            kind == prefix
                || kind
                    .strip_prefix(prefix)
                    .is_some_and(|rest| rest.starts_with('.'))
        }
        None => pattern == kind || pattern == "*",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_route_carries_everything() {
        let m = AlertMeta::for_test("c1", "zone.enter", Severity::Info);
        assert!(RouteConfig::default().matches(&m));
    }

    #[test]
    fn filters_by_kind_prefix_severity_and_camera() {
        let route = RouteConfig {
            kinds: vec!["plate.*".into(), "zone.enter".into()],
            min_severity: Some(Severity::High),
            cameras: vec!["gate-1".into()],
        };
        let ok = AlertMeta::for_test("gate-1", "plate.hotlist", Severity::High);
        assert!(route.matches(&ok));
        assert!(route.matches(&AlertMeta {
            kind: "zone.enter".into(),
            ..ok.clone()
        }));
        assert!(!route.matches(&AlertMeta {
            kind: "plates.x".into(),
            ..ok.clone()
        }));
        assert!(!route.matches(&AlertMeta {
            kind: "zone.exit".into(),
            ..ok.clone()
        }));
        assert!(!route.matches(&AlertMeta {
            severity: Severity::Medium,
            ..ok.clone()
        }));
        assert!(!route.matches(&AlertMeta {
            camera: "gate-2".into(),
            ..ok
        }));
    }
}
