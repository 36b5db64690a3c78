//! One plate format: a name, a regular expression over normalised text, and optionally the
//! characters allowed at each position.
//!
//! The regex decides whether a finished text *is* a plate of this format. The per-position
//! classes are what the constrained CTC decoder needs to steer the recogniser (a regex is too
//! general to decode against); a format without them is matched on the greedy text only. Formats
//! come from [`PlateFormatConfig`] — the built-in Chinese ones too — so a country is added by
//! configuration, never by code.

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::normalize::{is_separator, normalize_char};

/// Most positions a format may have; no plate in the world is longer, and the bound keeps a
/// typo (a pasted paragraph) from building a huge decoder.
pub const MAX_POSITIONS: usize = 16;

/// A plate format as written in configuration, before validation.
///
/// ```toml
/// [[plate.formats]]
/// name = "uk-current"
/// regex = "[A-Z]{2}[0-9]{2}[A-Z]{3}"
/// positions = ["A-Z", "A-Z", "0-9", "0-9", "A-Z", "A-Z", "A-Z"]
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlateFormatConfig {
    /// Unique name, reported in every [`vigil_core::plate::PlateRead`] that matches it.
    pub name: String,
    /// Regular expression over *normalised* text (half-width, upper case, no separators). It is
    /// anchored for you: `[A-Z]{3}` matches exactly three letters, not text containing them.
    pub regex: String,
    /// Allowed characters per position, one string each: plain characters and ranges such as
    /// `A-HJ-NP-Z0-9` (a hyphen always means a range, since normalisation removes hyphens from
    /// plate text); white space is ignored. Leave out to match by regex only, without
    /// constrained decoding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub positions: Option<Vec<String>>,
}

/// Why a [`PlateFormatConfig`] was rejected; always carried inside a [`FormatError`] that names
/// the format. Positions are counted from 1, as an operator reads a plate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatProblem {
    /// The name is empty.
    #[error("the name is empty; give every format a unique name such as \"cn-ordinary\"")]
    EmptyName,
    /// Two formats in one grammar share the name.
    #[error("another format already has this name; names must be unique within a grammar")]
    DuplicateName,
    /// The regex does not compile.
    #[error("regex {regex:?} does not compile: {message}")]
    BadRegex {
        /// The regex as written.
        regex: String,
        /// The regex engine's explanation.
        message: String,
    },
    /// The regex accepts the empty text, so "nothing read" would count as a plate.
    #[error(
        "regex {regex:?} matches the empty text, so an empty read would count as a plate; require at least one character"
    )]
    RegexMatchesEmpty {
        /// The regex as written.
        regex: String,
    },
    /// `positions` is present but empty.
    #[error("`positions` is an empty list; leave it out to match by regex only")]
    NoPositions,
    /// More positions than [`MAX_POSITIONS`].
    #[error("{count} positions is more than the {MAX_POSITIONS} a plate format may have")]
    TooManyPositions {
        /// How many were given.
        count: usize,
    },
    /// A position allows no character.
    #[error("position {position} allows no character; list the allowed characters, e.g. \"0-9\"")]
    EmptyPosition {
        /// 1-based position.
        position: usize,
    },
    /// A range that is not `low-high` within digits or within letters.
    #[error(
        "position {position}: range {range:?} in {spec:?} is not low-high within digits or within letters (e.g. \"A-H\", \"0-9\")"
    )]
    BadRange {
        /// 1-based position.
        position: usize,
        /// The whole position string.
        spec: String,
        /// The offending range.
        range: String,
    },
    /// A position lists a character that normalisation removes, so it could never match.
    #[error(
        "position {position}: {spec:?} lists separator {ch:?}, which normalisation removes from every text; drop it"
    )]
    SeparatorInPosition {
        /// 1-based position.
        position: usize,
        /// The whole position string.
        spec: String,
        /// The separator character.
        ch: char,
    },
}

/// A rejected plate format: which one, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("plate format {format:?}: {problem}")]
pub struct FormatError {
    /// The format's name as configured (may be empty when that is the problem).
    pub format: String,
    /// What is wrong.
    pub problem: FormatProblem,
}

/// A validated plate format; see the module docs.
#[derive(Debug, Clone)]
pub struct PlateFormat {
    /// Unique name.
    name: String,
    /// The regex as configured (unanchored), kept for display and re-serialisation.
    regex_source: String,
    /// The anchored, compiled regex.
    regex: Regex,
    /// Sorted, de-duplicated normalised characters allowed per position, if configured.
    positions: Option<Vec<Vec<char>>>,
}

impl PlateFormat {
    /// Validates a configured format. Errors name the format and say how to fix it.
    pub fn from_config(config: &PlateFormatConfig) -> Result<Self, FormatError> {
        let fail = |problem| FormatError {
            format: config.name.clone(),
            problem,
        };
        if config.name.trim().is_empty() {
            return Err(fail(FormatProblem::EmptyName));
        }
        let regex = Regex::new(&format!("^(?:{})$", config.regex)).map_err(|e| {
            fail(FormatProblem::BadRegex {
                regex: config.regex.clone(),
                message: e.to_string(),
            })
        })?;
        if regex.is_match("") {
            return Err(fail(FormatProblem::RegexMatchesEmpty {
                regex: config.regex.clone(),
            }));
        }
        let positions = match &config.positions {
            None => None,
            Some(specs) if specs.is_empty() => return Err(fail(FormatProblem::NoPositions)),
            Some(specs) if specs.len() > MAX_POSITIONS => {
                return Err(fail(FormatProblem::TooManyPositions { count: specs.len() }));
            }
            Some(specs) => Some(
                specs
                    .iter()
                    .enumerate()
                    .map(|(i, spec)| parse_position(i + 1, spec))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(fail)?,
            ),
        };
        Ok(Self {
            name: config.name.clone(),
            regex_source: config.regex.clone(),
            regex,
            positions,
        })
    }

    /// The format's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The regex as configured (without the anchors added at validation).
    pub fn regex_source(&self) -> &str {
        &self.regex_source
    }

    /// Allowed characters per position (sorted, normalised), when the format has them.
    pub fn positions(&self) -> Option<&[Vec<char>]> {
        self.positions.as_deref()
    }

    /// True when `normalized` (already normalised text) is a plate of this format: the regex
    /// matches and, when positions are configured, every character is allowed at its position.
    pub fn matches(&self, normalized: &str) -> bool {
        if !self.regex.is_match(normalized) {
            return false;
        }
        match &self.positions {
            None => true,
            Some(positions) => {
                normalized.chars().count() == positions.len()
                    && normalized
                        .chars()
                        .zip(positions)
                        .all(|(c, allowed)| allowed.binary_search(&c).is_ok())
            }
        }
    }

    /// The format back as configuration (e.g. for `vigil check` to print the effective grammar).
    pub fn to_config(&self) -> PlateFormatConfig {
        PlateFormatConfig {
            name: self.name.clone(),
            regex: self.regex_source.clone(),
            positions: self
                .positions
                .as_ref()
                .map(|ps| ps.iter().map(|p| p.iter().collect()).collect()),
        }
    }
}

/// Expands one position string (characters and `low-high` ranges) into its sorted, normalised
/// character set.
fn parse_position(position: usize, spec: &str) -> Result<Vec<char>, FormatProblem> {
    let chars: Vec<char> = spec.chars().filter(|c| !c.is_whitespace()).collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if chars.get(i + 1) == Some(&'-') {
            let range: String = chars[i..(i + 3).min(chars.len())].iter().collect();
            let bad = || FormatProblem::BadRange {
                position,
                spec: spec.to_owned(),
                range: range.clone(),
            };
            let hi = *chars.get(i + 2).ok_or_else(bad)?;
            let (lo, hi) = (
                normalize_char(c).ok_or_else(bad)?,
                normalize_char(hi).ok_or_else(bad)?,
            );
            let same_kind = (lo.is_ascii_digit() && hi.is_ascii_digit())
                || (lo.is_ascii_uppercase() && hi.is_ascii_uppercase());
            if !same_kind || lo > hi {
                return Err(bad());
            }
            out.extend(lo..=hi);
            i += 3;
            continue;
        }
        match normalize_char(c) {
            Some(n) => out.push(n),
            None => {
                return Err(FormatProblem::SeparatorInPosition {
                    position,
                    spec: spec.to_owned(),
                    ch: c,
                });
            }
        }
        i += 1;
    }
    debug_assert!(out.iter().all(|c| !is_separator(*c)));
    out.sort_unstable();
    out.dedup();
    if out.is_empty() {
        return Err(FormatProblem::EmptyPosition { position });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(name: &str, regex: &str, positions: Option<&[&str]>) -> PlateFormatConfig {
        PlateFormatConfig {
            name: name.into(),
            regex: regex.into(),
            positions: positions.map(|p| p.iter().map(|s| s.to_string()).collect()),
        }
    }

    fn problem(cfg: PlateFormatConfig) -> FormatProblem {
        let err = PlateFormat::from_config(&cfg).expect_err("config should be rejected");
        assert_eq!(err.format, cfg.name, "error names the format");
        err.problem
    }

    #[test]
    fn ranges_expand_and_normalise() {
        assert_eq!(parse_position(1, "A-HJ-NP-Z").expect("valid").len(), 24);
        assert_eq!(parse_position(1, "0-9").expect("valid").len(), 10);
        // Lower case and full width normalise to the ASCII upper case they stand for.
        assert_eq!(parse_position(1, "a-c").expect("valid"), vec!['A', 'B', 'C']);
        assert_eq!(
            parse_position(1, "Ｄ 学 警").expect("valid"),
            vec!['D', '学', '警']
        );
    }

    #[test]
    fn bad_positions_are_named() {
        assert!(matches!(
            problem(config("x", "[A-Z]", Some(&["Z-A"]))),
            FormatProblem::BadRange { position: 1, .. }
        ));
        assert!(matches!(
            problem(config("x", "[A-Z]{2}", Some(&["A", "A-9"]))),
            FormatProblem::BadRange { position: 2, .. }
        ));
        assert!(matches!(
            problem(config("x", "[A-Z]", Some(&["AB-"]))),
            FormatProblem::BadRange { position: 1, .. }
        ));
        assert!(matches!(
            problem(config("x", "[A-Z]", Some(&["A·B"]))),
            FormatProblem::SeparatorInPosition {
                position: 1,
                ch: '·',
                ..
            }
        ));
        assert_eq!(
            problem(config("x", "[A-Z]", Some(&["  "]))),
            FormatProblem::EmptyPosition { position: 1 }
        );
        assert_eq!(
            problem(config("x", "[A-Z]", Some(&[]))),
            FormatProblem::NoPositions
        );
        let many: Vec<&str> = vec!["A"; MAX_POSITIONS + 1];
        assert_eq!(
            problem(config("x", "A+", Some(&many))),
            FormatProblem::TooManyPositions {
                count: MAX_POSITIONS + 1
            }
        );
    }

    #[test]
    fn bad_regex_and_name_are_rejected_with_the_format_named() {
        assert!(matches!(
            problem(config("uk", "[A-Z", None)),
            FormatProblem::BadRegex { .. }
        ));
        assert!(matches!(
            problem(config("uk", "[A-Z]*", None)),
            FormatProblem::RegexMatchesEmpty { .. }
        ));
        assert_eq!(problem(config(" ", "A", None)), FormatProblem::EmptyName);
        let msg = PlateFormat::from_config(&config("uk-current", "[A-Z", None))
            .expect_err("bad regex")
            .to_string();
        assert!(msg.contains("uk-current") && msg.contains("[A-Z"), "{msg}");
    }

    #[test]
    fn regex_is_anchored_and_positions_are_checked() {
        let f = PlateFormat::from_config(&config("d", "[A-Z][0-9]", Some(&["A-C", "0-9"]))).expect("valid");
        assert!(f.matches("B7"));
        assert!(!f.matches("XB7"), "regex must be anchored at the start");
        assert!(!f.matches("B77"), "regex must be anchored at the end");
        assert!(!f.matches("D7"), "regex allows D but position 1 does not");
        let regex_only = PlateFormat::from_config(&config("r", "[A-Z][0-9]", None)).expect("valid");
        assert!(regex_only.matches("D7"));
    }

    #[test]
    fn config_round_trips() {
        let cfg = config("d", "[A-C][0-9]", Some(&["A-C", "0-9"]));
        let f = PlateFormat::from_config(&cfg).expect("valid");
        let back = f.to_config();
        assert_eq!(back.positions.as_ref().map(|p| p[0].as_str()), Some("ABC"));
        let again = PlateFormat::from_config(&back).expect("round trip validates");
        assert_eq!(again.positions(), f.positions());
    }
}
