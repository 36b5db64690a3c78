//! The behaviour rules engine: per camera, turns tracks and plate reads into [`Alert`]s.
//!
//! Design:
//! - **Pure geometry** ([`geometry`]) and **pure schedules** ([`schedule`]) with unit and property
//!   tests; the stateful shell ([`CameraRules`]) only remembers, per live track, since when it has
//!   been in each zone and which side of each line it was last on.
//! - **Config in, trusted settings out**: [`RulesConfig`] is the raw serde form
//!   (`deny_unknown_fields`, defaults documented per field); [`CameraRules::new`] (and
//!   [`validate`], for `vigil check`) turn it into runtime rules in one place and report *every*
//!   problem, each naming the camera, the zone/line/rule and a fix.
//! - **Time is passed in** ([`FrameTime`]): schedules use the frame's wall time in the configured
//!   IANA zone, durations the frame's pts through a monotonic clock. Nothing reads the system
//!   clock, so replaying a recording gives the same alerts.
//! - **One alert per track per rule**, re-armed when the track ends or after `cooldown_s`; repeats
//!   are counted per rule ([`CameraRules::stats`]) for the daemon's metrics.
//! - **Own input types** ([`TrackObservation`], [`PlateEvent`]): the binary adapts the tracker's
//!   and the watchlist's values, so this crate depends only on `vigil-core`.
//!
//! Points: a track is "in" a zone or "crosses" a line by the bottom-centre of its box, where a
//! person or a vehicle touches the ground.

pub mod clock;
pub mod config;
mod engine;
pub mod error;
pub mod geometry;
pub mod input;
mod make_alert;
mod rule;
pub mod schedule;
pub mod zone;

pub use config::{DirectionFilter, RuleConfig, RuleKind, RulesConfig};
pub use engine::{CameraRules, RuleCounters, RuleStats, validate};
pub use error::{ConfigError, ConfigErrors, ConfigProblem, Subject};
pub use input::{FrameTime, PlateEvent, TrackObservation, WatchListKind, WatchMatch};
pub use jiff::Timestamp;
pub use make_alert::{alert_id, rfc3339_utc};
pub use rule::{
    DEFAULT_CLASS, DEFAULT_CROWD_CLEAR_S, DEFAULT_FORGET_AFTER_S, DEFAULT_MAX_ANGLE_DEG,
    DEFAULT_MIN_TRAVEL_PX, DEFAULT_PLATE_COOLDOWN_S, DEFAULT_UNKNOWN_MIN_CONFIDENCE,
};
pub use schedule::{Schedule, ScheduleConfig};
pub use vigil_core::alert::{Alert, AlertCamera, AlertKind, Severity};
pub use zone::{Coords, FrameSize, LineConfig, ZoneConfig};
