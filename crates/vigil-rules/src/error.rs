//! Configuration errors: every one names the camera, the zone/line/rule and the problem, with a
//! hint to fix it. Validation collects all of them, so `vigil check` shows the whole list at once.

use std::fmt;

use crate::geometry::ShapeProblem;
use crate::schedule::ScheduleProblem;

/// What part of a camera's rules config an error is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// The camera-level settings.
    Camera,
    /// A zone, by id.
    Zone(String),
    /// A line, by id.
    Line(String),
    /// A rule, by id.
    Rule(String),
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Camera => f.write_str("rules settings"),
            Subject::Zone(id) => write!(f, "zone {id:?}"),
            Subject::Line(id) => write!(f, "line {id:?}"),
            Subject::Rule(id) => write!(f, "rule {id:?}"),
        }
    }
}

/// The problem itself.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigProblem {
    /// A polygon or line is malformed.
    #[error(transparent)]
    Shape(#[from] ShapeProblem),
    /// A schedule is malformed.
    #[error("schedule: {0}")]
    Schedule(#[from] ScheduleProblem),
    /// The id is empty.
    #[error("has an empty id (fix: give it a short name)")]
    EmptyId,
    /// Two zones, lines or rules share an id.
    #[error("id is used twice (fix: ids must be unique per camera)")]
    DuplicateId,
    /// A rule names a zone that is not defined.
    #[error("refers to zone {0:?}, which this camera does not define (fix: add a [[zone]] with that id)")]
    UnknownZone(String),
    /// A rule names a line that is not defined.
    #[error("refers to line {0:?}, which this camera does not define (fix: add a [[line]] with that id)")]
    UnknownLine(String),
    /// A field the rule kind needs is missing.
    #[error("kind {kind} needs `{field}` (fix: add it)")]
    MissingField {
        /// The field.
        field: &'static str,
        /// The rule kind.
        kind: &'static str,
    },
    /// A field is set that the rule kind does not use.
    #[error("`{field}` does not apply to kind {kind} (fix: remove it, or change `kind`)")]
    NotApplicable {
        /// The field.
        field: &'static str,
        /// The rule kind.
        kind: &'static str,
    },
    /// A number is out of range.
    #[error("`{field}` = {value} is invalid: {expected}")]
    BadNumber {
        /// The field.
        field: &'static str,
        /// The value given.
        value: f64,
        /// What is accepted.
        expected: &'static str,
    },
    /// A list that must not be empty is.
    #[error("`{0}` is empty (fix: name at least one entry, or remove the field for the default)")]
    EmptyList(&'static str),
}

/// One configuration error with its context.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("camera {camera:?}: {subject}: {problem}")]
pub struct ConfigError {
    /// Camera id.
    pub camera: String,
    /// Zone, line or rule.
    pub subject: Subject,
    /// What is wrong.
    pub problem: ConfigProblem,
}

/// Every error found in one camera's rules config (never empty).
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}
