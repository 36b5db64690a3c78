//! Per-camera event counts shared between a stage and whoever reports on it (metrics, API,
//! status lines): a stage that drops a camera's frame says so here, so every drop shows in that
//! camera's figures and not only in a stage-wide total.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use crate::frame::CameraId;

/// Counts per camera; cheap to bump (one short lock, no allocation after a camera's first).
#[derive(Debug, Default)]
pub struct PerCamera(Mutex<HashMap<CameraId, u64>>);

impl PerCamera {
    fn map(&self) -> MutexGuard<'_, HashMap<CameraId, u64>> {
        // Plain counters: a panic elsewhere cannot leave them inconsistent.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds one for `camera`.
    pub fn inc(&self, camera: &CameraId) {
        let mut m = self.map();
        match m.get_mut(camera) {
            Some(n) => *n += 1,
            None => {
                m.insert(camera.clone(), 1);
            }
        }
    }

    /// The count for the camera named `id` (0 when none).
    pub fn get(&self, id: &str) -> u64 {
        self.map()
            .iter()
            .find(|(c, _)| c.as_str() == id)
            .map_or(0, |(_, n)| *n)
    }

    /// Every camera's count.
    pub fn snapshot(&self) -> Vec<(CameraId, u64)> {
        self.map().iter().map(|(c, n)| (c.clone(), *n)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_each_camera_apart() {
        let p = PerCamera::default();
        let (a, b) = (CameraId::new("a"), CameraId::new("b"));
        p.inc(&a);
        p.inc(&a);
        p.inc(&b);
        assert_eq!((p.get("a"), p.get("b"), p.get("c")), (2, 1, 0));
        assert_eq!(p.snapshot().len(), 2);
    }
}
