//! Zones (polygons) and lines as configured, and their resolved pixel forms.
//!
//! Operators draw zones on a snapshot; whether the numbers are fractions of the frame or pixels
//! is said once per shape (`coords`), and everything is converted to source-frame pixels when
//! the engine is built, so the per-frame tests never convert again.

use serde::{Deserialize, Serialize};
use vigil_core::PointPx;

use crate::geometry::{ShapeProblem, point_in_polygon, validate_line, validate_polygon};

/// Coordinate space of a zone's or line's points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Coords {
    /// Fractions of the frame: (0,0) top-left, (1,1) bottom-right. The default, because it
    /// survives a change of the camera's resolution.
    #[default]
    #[serde(alias = "normalised")]
    Normalized,
    /// Source-frame pixels; must lie inside the stream's resolution.
    Pixels,
}

/// Size of the camera's frames in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameSize {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

impl Coords {
    /// Largest allowed (x, y) for points in this space.
    fn max(self, frame: FrameSize) -> (f32, f32) {
        match self {
            Coords::Normalized => (1.0, 1.0),
            Coords::Pixels => (frame.width as f32, frame.height as f32),
        }
    }

    /// Converts one configured point to pixels.
    fn to_px(self, [x, y]: [f32; 2], frame: FrameSize) -> PointPx {
        match self {
            Coords::Normalized => PointPx {
                x: x * frame.width as f32,
                y: y * frame.height as f32,
            },
            Coords::Pixels => PointPx { x, y },
        }
    }
}

/// A zone (electronic fence) as written in the pipeline file.
///
/// ```toml
/// [[camera.zone]]
/// id = "yard"
/// coords = "normalized"          # default; or "pixels"
/// points = [[0.1, 0.5], [0.9, 0.5], [0.9, 1.0], [0.1, 1.0]]
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneConfig {
    /// Id, unique among the camera's zones; rules refer to it.
    pub id: String,
    /// Coordinate space of `points` (default `normalized`).
    #[serde(default)]
    pub coords: Coords,
    /// Corners in order around the area (either direction); closed implicitly.
    pub points: Vec<[f32; 2]>,
}

/// A line (tripwire) from `a` to `b` as written in the pipeline file. Crossing directions are
/// named as seen on screen standing at `a` looking towards `b`.
///
/// ```toml
/// [[camera.line]]
/// id = "gate-in"
/// a = [0.2, 0.6]
/// b = [0.8, 0.6]
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineConfig {
    /// Id, unique among the camera's lines; rules refer to it.
    pub id: String,
    /// Coordinate space of `a` and `b` (default `normalized`).
    #[serde(default)]
    pub coords: Coords,
    /// Start point.
    pub a: [f32; 2],
    /// End point.
    pub b: [f32; 2],
}

fn as_point([x, y]: [f32; 2]) -> PointPx {
    PointPx { x, y }
}

/// A validated zone in pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct Zone {
    /// Id from the config.
    pub id: String,
    /// Corners in source-frame pixels.
    pub polygon: Vec<PointPx>,
}

impl Zone {
    /// Validates the configured shape (in its own coordinates) and converts it to pixels.
    pub fn resolve(cfg: &ZoneConfig, frame: FrameSize) -> Result<Self, ShapeProblem> {
        let (max_x, max_y) = cfg.coords.max(frame);
        let raw: Vec<PointPx> = cfg.points.iter().copied().map(as_point).collect();
        validate_polygon(&raw, max_x, max_y)?;
        Ok(Self {
            id: cfg.id.clone(),
            polygon: cfg.points.iter().map(|&p| cfg.coords.to_px(p, frame)).collect(),
        })
    }

    /// True when the pixel point is inside (see [`point_in_polygon`] for edges).
    pub fn contains(&self, p: PointPx) -> bool {
        point_in_polygon(p, &self.polygon)
    }
}

/// A validated line in pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Line {
    /// Start point in pixels.
    pub a: PointPx,
    /// End point in pixels.
    pub b: PointPx,
}

impl Line {
    /// Validates the configured ends and converts them to pixels.
    pub fn resolve(cfg: &LineConfig, frame: FrameSize) -> Result<Self, ShapeProblem> {
        let (max_x, max_y) = cfg.coords.max(frame);
        validate_line(as_point(cfg.a), as_point(cfg.b), max_x, max_y)?;
        Ok(Self {
            a: cfg.coords.to_px(cfg.a, frame),
            b: cfg.coords.to_px(cfg.b, frame),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HD: FrameSize = FrameSize {
        width: 1920,
        height: 1080,
    };

    #[test]
    fn normalised_zone_scales_to_the_frame() {
        let cfg: ZoneConfig =
            toml::from_str("id = \"z\"\npoints = [[0.5, 0.5], [1.0, 0.5], [1.0, 1.0]]").expect("parse");
        let z = Zone::resolve(&cfg, HD).expect("valid");
        assert_eq!(z.polygon[1], PointPx { x: 1920.0, y: 540.0 });
        assert!(z.contains(PointPx { x: 1800.0, y: 1000.0 }));
        assert!(!z.contains(PointPx { x: 100.0, y: 1000.0 }));
    }

    #[test]
    fn pixel_zone_is_checked_against_the_resolution() {
        let cfg = ZoneConfig {
            id: "z".into(),
            coords: Coords::Pixels,
            points: vec![[0.0, 0.0], [1921.0, 0.0], [0.0, 100.0]],
        };
        assert!(matches!(
            Zone::resolve(&cfg, HD),
            Err(ShapeProblem::OutOfFrame { index: 1, .. })
        ));
        // The same numbers read as normalised are far out of 0..1.
        let norm = ZoneConfig {
            coords: Coords::Normalized,
            ..cfg
        };
        assert!(matches!(
            Zone::resolve(&norm, HD),
            Err(ShapeProblem::OutOfFrame { max_x: 1.0, .. })
        ));
    }

    #[test]
    fn unknown_fields_and_coords_are_rejected() {
        let err = toml::from_str::<ZoneConfig>("id = \"z\"\npoints = []\ncolor = \"red\"")
            .expect_err("unknown field");
        assert!(err.to_string().contains("color"), "{err}");
        assert!(toml::from_str::<LineConfig>("id = \"l\"\ncoords = \"feet\"\na = [0,0]\nb = [1,1]").is_err());
    }
}
