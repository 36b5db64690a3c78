//! Tracker settings, with ByteTrack's defaults, and their validation.

use serde::{Deserialize, Serialize};

/// Tuning knobs of one camera's [`Tracker`](crate::Tracker).
///
/// Defaults are ByteTrack's published ones for 30 fps video (`track_thresh 0.5`, `match_thresh
/// 0.8`, `track_buffer 30`). For slower streams scale the frame counts down with the frame rate:
/// at 10 fps, `max_lost_frames = 10` keeps about the same one second of memory.
///
/// The detector must pass boxes down to `low_score` for the second pass to work; a detector
/// filtered at 0.5 leaves the second pass nothing to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrackerConfig {
    /// Detections scoring at least this are "high" and take part in the first pass.
    /// Default 0.5.
    pub high_score: f32,
    /// Detections scoring at least this (and below `high_score`) are "low": they can only keep
    /// an existing track alive, in the second pass. Below this they are ignored. Default 0.1.
    pub low_score: f32,
    /// An unmatched high detection starts a new track only when scoring at least this; a bit
    /// above `high_score` so that a flickering borderline box does not spawn tracks. Default 0.6.
    pub new_track_score: f32,
    /// First pass (high detections vs. all tracks): minimum IoU between a track's predicted box
    /// and a detection to match them. Default 0.2 (ByteTrack `match_thresh 0.8` as a cost).
    pub first_pass_min_iou: f32,
    /// Second pass (low detections vs. tracks the first pass left): minimum IoU. Stricter than the
    /// first pass because low boxes are less reliable. Default 0.5.
    pub second_pass_min_iou: f32,
    /// Frames a new track must be matched in (counting its birth frame) to become confirmed.
    /// 1 confirms at birth. Default 2 (ByteTrack confirms on the first match after birth).
    pub frames_to_confirm: u32,
    /// A confirmed track missing for more than this many consecutive frames is removed.
    /// Default 30 (one second at 30 fps).
    pub max_lost_frames: u32,
    /// Most recent bottom-centre points kept per track in [`vigil_core::track::Track::path`].
    /// Default 64.
    pub path_len: usize,
    /// When true, a track may match a detection of any class (the track keeps its first class);
    /// use it for detectors that flip between similar classes (car/truck). Default false: a
    /// track only matches detections of its own class.
    pub class_agnostic: bool,
    /// Third pass: a high detection still unmatched may resume a *lost* track whose last
    /// observed box (not its Kalman prediction) it overlaps by `first_pass_min_iou`. At low
    /// analysis rates a lost track's prediction drifts off a walker who slowed or stopped behind
    /// an obstacle, and without this pass they come back under a new id. Default true.
    pub recover_lost: bool,
}

impl Default for TrackerConfig {
    fn default() -> Self {
        Self {
            high_score: 0.5,
            low_score: 0.1,
            new_track_score: 0.6,
            first_pass_min_iou: 0.2,
            second_pass_min_iou: 0.5,
            frames_to_confirm: 2,
            max_lost_frames: 30,
            path_len: 64,
            class_agnostic: false,
            recover_lost: true,
        }
    }
}

/// A [`TrackerConfig`] value that cannot work.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// A score or IoU threshold outside 0..=1 (or NaN).
    #[error("tracker setting `{field}` = {value} is outside 0..=1; {hint}")]
    OutOfRange {
        /// Name of the setting, as written in the pipeline file.
        field: &'static str,
        /// The offending value.
        value: f32,
        /// How to fix it.
        hint: &'static str,
    },
    /// Two thresholds in the wrong order.
    #[error("tracker setting `{field}` = {value} must be at least `{other}` = {other_value}; {hint}")]
    Order {
        /// The setting that must be larger or equal.
        field: &'static str,
        /// Its value.
        value: f32,
        /// The setting it is compared with.
        other: &'static str,
        /// That setting's value.
        other_value: f32,
        /// How to fix it.
        hint: &'static str,
    },
    /// `frames_to_confirm` is 0.
    #[error("tracker setting `frames_to_confirm` is 0; use 1 to confirm tracks at birth")]
    ZeroConfirm,
}

impl TrackerConfig {
    /// Checks ranges and orderings; the tracker refuses a config that fails.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let unit = [
            (
                "high_score",
                self.high_score,
                "scores are probabilities, e.g. 0.5",
            ),
            ("low_score", self.low_score, "scores are probabilities, e.g. 0.1"),
            (
                "new_track_score",
                self.new_track_score,
                "scores are probabilities, e.g. 0.6",
            ),
            ("first_pass_min_iou", self.first_pass_min_iou, "an IoU, e.g. 0.2"),
            (
                "second_pass_min_iou",
                self.second_pass_min_iou,
                "an IoU, e.g. 0.5",
            ),
        ];
        for (field, value, hint) in unit {
            if !(0.0..=1.0).contains(&value) {
                return Err(ConfigError::OutOfRange { field, value, hint });
            }
        }
        if self.high_score < self.low_score {
            return Err(ConfigError::Order {
                field: "high_score",
                value: self.high_score,
                other: "low_score",
                other_value: self.low_score,
                hint: "low detections are the band between the two thresholds",
            });
        }
        if self.new_track_score < self.high_score {
            return Err(ConfigError::Order {
                field: "new_track_score",
                value: self.new_track_score,
                other: "high_score",
                other_value: self.high_score,
                hint: "only high detections start tracks; raise new_track_score or lower high_score",
            });
        }
        if self.frames_to_confirm == 0 {
            return Err(ConfigError::ZeroConfirm);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        assert_eq!(TrackerConfig::default().validate(), Ok(()));
    }

    #[test]
    fn bad_values_are_rejected_with_the_field_name() {
        let c = TrackerConfig {
            low_score: f32::NAN,
            ..Default::default()
        };
        let e = c.validate().expect_err("NaN threshold");
        assert!(e.to_string().contains("low_score"), "{e}");

        let c = TrackerConfig {
            high_score: 0.05,
            ..Default::default()
        };
        assert!(matches!(
            c.validate(),
            Err(ConfigError::Order {
                field: "high_score",
                ..
            })
        ));

        let c = TrackerConfig {
            new_track_score: 0.4,
            ..Default::default()
        };
        assert!(matches!(
            c.validate(),
            Err(ConfigError::Order {
                field: "new_track_score",
                ..
            })
        ));

        let c = TrackerConfig {
            frames_to_confirm: 0,
            ..Default::default()
        };
        assert_eq!(c.validate(), Err(ConfigError::ZeroConfirm));

        let c = TrackerConfig {
            second_pass_min_iou: 1.5,
            ..Default::default()
        };
        assert!(matches!(
            c.validate(),
            Err(ConfigError::OutOfRange {
                field: "second_pass_min_iou",
                ..
            })
        ));
    }

    #[test]
    fn partial_toml_keeps_defaults_and_unknown_keys_fail() {
        let c: TrackerConfig = toml::from_str("max_lost_frames = 10").expect("parse");
        assert_eq!(c.max_lost_frames, 10);
        assert_eq!(c.high_score, TrackerConfig::default().high_score);
        assert!(toml::from_str::<TrackerConfig>("max_lost = 10").is_err());
    }
}
