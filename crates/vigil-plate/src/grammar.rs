//! A plate grammar: the ordered list of formats that count as plates.

use serde::{Deserialize, Serialize};

use crate::cn::cn_mainland_formats;
use crate::format::{FormatError, FormatProblem, PlateFormat, PlateFormatConfig};
use crate::normalize::normalize_plate_text;

/// A grammar as written in configuration.
///
/// `builtin = ["cn-mainland"]` pulls in the built-in formats; `formats` adds the operator's own,
/// after the built-ins.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlateGrammarConfig {
    /// Built-in format sets to include, by name; the only one so far is `"cn-mainland"`.
    #[serde(default)]
    pub builtin: Vec<String>,
    /// Additional formats, tried after the built-ins in the order given.
    #[serde(default)]
    pub formats: Vec<PlateFormatConfig>,
}

/// Why a [`PlateGrammarConfig`] was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrammarError {
    /// One of the formats is invalid.
    #[error(transparent)]
    Format(#[from] FormatError),
    /// `builtin` names a set that does not exist.
    #[error("unknown built-in plate format set {name:?}; the known sets are: cn-mainland")]
    UnknownBuiltin {
        /// The name as written.
        name: String,
    },
    /// The grammar has no format at all, so nothing would ever be read as a plate.
    #[error("the plate grammar has no formats; add `builtin = [\"cn-mainland\"]` or a [[formats]] entry")]
    Empty,
}

/// An ordered list of validated formats; the first that matches a text names it.
#[derive(Debug, Clone)]
pub struct PlateGrammar {
    /// Formats in priority order; names are unique.
    formats: Vec<PlateFormat>,
}

impl PlateGrammar {
    /// The built-in mainland China grammar: ordinary, new-energy (small and large) and
    /// special-suffix plates (see [`crate::cn`]).
    pub fn cn_mainland() -> Self {
        // Built-ins are tested to validate; should one ever fail, an empty grammar reads no
        // plates and the tests catch it, rather than a panic in production.
        Self::from_format_configs(&cn_mainland_formats()).unwrap_or(Self { formats: Vec::new() })
    }

    /// Validates a grammar configuration.
    pub fn from_config(config: &PlateGrammarConfig) -> Result<Self, GrammarError> {
        let mut all = Vec::new();
        for name in &config.builtin {
            match name.as_str() {
                "cn-mainland" => all.extend(cn_mainland_formats()),
                _ => return Err(GrammarError::UnknownBuiltin { name: name.clone() }),
            }
        }
        all.extend(config.formats.iter().cloned());
        if all.is_empty() {
            return Err(GrammarError::Empty);
        }
        Ok(Self::from_format_configs(&all)?)
    }

    /// Validates a list of formats, in priority order. An empty list gives an empty grammar,
    /// which reads nothing as a plate.
    pub fn from_format_configs(configs: &[PlateFormatConfig]) -> Result<Self, FormatError> {
        let mut grammar = Self { formats: Vec::new() };
        for cfg in configs {
            grammar.push(PlateFormat::from_config(cfg)?)?;
        }
        Ok(grammar)
    }

    /// Appends a format with the lowest priority; rejects a duplicate name.
    pub fn push(&mut self, format: PlateFormat) -> Result<(), FormatError> {
        if self.formats.iter().any(|f| f.name() == format.name()) {
            return Err(FormatError {
                format: format.name().to_owned(),
                problem: FormatProblem::DuplicateName,
            });
        }
        self.formats.push(format);
        Ok(())
    }

    /// The formats in priority order.
    pub fn formats(&self) -> &[PlateFormat] {
        &self.formats
    }

    /// The first format that `normalized` (already normalised text) matches.
    pub fn match_normalized(&self, normalized: &str) -> Option<&PlateFormat> {
        self.formats.iter().find(|f| f.matches(normalized))
    }

    /// Normalises `text` and returns it with the format it matches, or `None` when it is not a
    /// plate (shop signs, slogans, phone numbers…).
    pub fn match_text(&self, text: &str) -> Option<(String, &PlateFormat)> {
        let normalized = normalize_plate_text(text);
        let format = self.match_normalized(&normalized)?;
        Some((normalized, format))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cn::{CN_NEW_ENERGY, CN_NEW_ENERGY_LARGE, CN_ORDINARY, CN_SPECIAL_SUFFIX, PROVINCES};
    use proptest::prelude::*;

    fn name_of(g: &PlateGrammar, text: &str) -> Option<String> {
        g.match_text(text).map(|(_, f)| f.name().to_owned())
    }

    #[test]
    fn builtin_formats_validate() {
        assert_eq!(
            PlateGrammar::cn_mainland().formats().len(),
            cn_mainland_formats().len()
        );
        assert_eq!(PROVINCES.chars().count(), 31);
    }

    #[test]
    fn mainland_plates_get_their_format() {
        let g = PlateGrammar::cn_mainland();
        let cases = [
            ("京A12345", CN_ORDINARY),
            ("皖A0H627", CN_ORDINARY),
            ("沪C·8GK31", CN_ORDINARY),
            ("粤BD12345", CN_NEW_ENERGY),
            ("粤BK12345", CN_NEW_ENERGY),
            ("苏E12345F", CN_NEW_ENERGY_LARGE),
            ("川A1234学", CN_SPECIAL_SUFFIX),
            ("京A0001警", CN_SPECIAL_SUFFIX),
            ("粤Z1234港", CN_SPECIAL_SUFFIX),
        ];
        for (text, want) in cases {
            assert_eq!(name_of(&g, text).as_deref(), Some(want), "{text}");
        }
    }

    #[test]
    fn text_that_is_not_a_plate_is_rejected() {
        let g = PlateGrammar::cn_mainland();
        for text in [
            "13812345678", // phone number
            "欢迎光临",    // shop sign
            "中国人民银行",
            "BOX-42",
            "",
            "京I12345",   // I is not a plate letter
            "京A1234O",   // nor is O
            "京A1234",    // too short
            "京A123456",  // too long for ordinary, and 3rd char not a new-energy class
            "粤BL12345",  // L is not a new-energy class
            "京A12345学", // suffix plates have 4 alphanumerics, not 5
            "A123456",    // no province
        ] {
            assert_eq!(name_of(&g, text), None, "{text:?} must not be a plate");
        }
    }

    #[test]
    fn config_builds_other_countries_and_reports_problems() {
        let uk_positions = ["A-Z", "A-Z", "0-9", "0-9", "A-Z", "A-Z", "A-Z"];
        let cfg = PlateGrammarConfig {
            builtin: vec!["cn-mainland".into()],
            formats: vec![PlateFormatConfig {
                name: "uk-current".into(),
                regex: "[A-Z]{2}[0-9]{2}[A-Z]{3}".into(),
                positions: Some(uk_positions.iter().map(|s| s.to_string()).collect()),
            }],
        };
        let g = PlateGrammar::from_config(&cfg).expect("valid grammar");
        assert_eq!(name_of(&g, "ab12 cde").as_deref(), Some("uk-current"));
        assert_eq!(name_of(&g, "京A12345").as_deref(), Some(CN_ORDINARY));

        let dup = PlateGrammarConfig {
            builtin: vec!["cn-mainland".into()],
            formats: vec![PlateFormatConfig {
                name: CN_ORDINARY.into(),
                regex: "X".into(),
                positions: None,
            }],
        };
        let err = PlateGrammar::from_config(&dup).expect_err("duplicate name");
        assert!(err.to_string().contains(CN_ORDINARY), "{err}");
        assert!(matches!(
            PlateGrammar::from_config(&PlateGrammarConfig {
                builtin: vec!["xx".into()],
                ..Default::default()
            }),
            Err(GrammarError::UnknownBuiltin { .. })
        ));
        assert_eq!(
            PlateGrammar::from_config(&PlateGrammarConfig::default()).err(),
            Some(GrammarError::Empty)
        );
    }

    proptest! {
        /// Every text built from the ordinary format's alphabet is an ordinary plate, whatever
        /// separators and full-width forms the OCR puts in.
        #[test]
        fn generated_ordinary_plates_match(
            prov in 0usize..31,
            rest in "[A-HJ-NP-Z][0-9A-HJ-NP-Z]{5}",
            sep in prop::sample::select(vec!["", "·", " ", "-", "•"]),
        ) {
            let p = PROVINCES.chars().nth(prov).unwrap_or('京');
            let text = format!("{p}{}{sep}{}", &rest[..1], &rest[1..]);
            let g = PlateGrammar::cn_mainland();
            let name = name_of(&g, &text);
            prop_assert_eq!(name.as_deref(), Some(CN_ORDINARY));
        }

        /// Pure digit strings (phone numbers, counters) are never plates.
        #[test]
        fn digit_strings_are_not_plates(s in "[0-9]{1,12}") {
            prop_assert_eq!(name_of(&PlateGrammar::cn_mainland(), &s), None);
        }
    }
}
