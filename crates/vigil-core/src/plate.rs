//! A licence-plate reading as it crosses stage boundaries.
//!
//! The plate stage (`vigil-plate`) produces one [`PlateRead`] per crop and, after voting across a
//! track, one final read per vehicle; the rules stage matches its `text` against watchlists. The
//! text is always *normalised* (half-width, upper-case ASCII, no separators) so that every
//! consumer compares like with like.

use serde::{Deserialize, Serialize};

use crate::BoxPx;

/// One plate reading: normalised text with its confidences and the format it matched.
///
/// Invariant kept by the producers in `vigil-plate`: `char_confidences` has one entry per
/// `char` of `text`, in order. Consumers should not rely on it blindly for reads that came from
/// elsewhere (files, the API); [`PlateRead::is_consistent`] checks it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlateRead {
    /// Normalised plate text, e.g. `"京A12345"`: half-width, upper-case ASCII, no separators.
    pub text: String,
    /// Overall confidence in 0..1 (the producer documents how it combines the characters).
    pub confidence: f32,
    /// Confidence of each character of `text`, in 0..1, one per `char`.
    pub char_confidences: Vec<f32>,
    /// Name of the plate format the text matched, e.g. `"cn-ordinary"`, `"cn-new-energy"`.
    pub format: String,
    /// Where the plate is in the source frame, when the producer knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub box_px: Option<BoxPx>,
    /// Plate background colour (e.g. `"blue"`, `"green"`, `"yellow"`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub colour: Option<String>,
}

impl PlateRead {
    /// Number of characters (not bytes) of the text.
    pub fn char_count(&self) -> usize {
        self.text.chars().count()
    }

    /// True when there is one character confidence per character and every confidence,
    /// including the overall one, is a finite number in 0..1.
    pub fn is_consistent(&self) -> bool {
        let in_unit = |c: f32| (0.0..=1.0).contains(&c);
        self.char_confidences.len() == self.char_count()
            && in_unit(self.confidence)
            && self.char_confidences.iter().all(|&c| in_unit(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read() -> PlateRead {
        PlateRead {
            text: "京A12345".into(),
            confidence: 0.9,
            char_confidences: vec![0.9; 7],
            format: "cn-ordinary".into(),
            box_px: None,
            colour: None,
        }
    }

    #[test]
    fn char_count_counts_chars_not_bytes() {
        // "京" is three bytes in UTF-8; a byte count would say 9.
        assert_eq!(read().char_count(), 7);
    }

    #[test]
    fn consistency_checks_lengths_and_ranges() {
        assert!(read().is_consistent());
        let mut short = read();
        short.char_confidences.pop();
        assert!(!short.is_consistent());
        let mut nan = read();
        nan.char_confidences[3] = f32::NAN;
        assert!(!nan.is_consistent());
        let mut over = read();
        over.confidence = 1.5;
        assert!(!over.is_consistent());
    }

    #[test]
    fn serde_round_trip_keeps_optional_fields() {
        let mut r = read();
        let plain = toml::to_string(&r).expect("serialise");
        assert!(!plain.contains("box_px"), "None fields are left out: {plain}");
        assert_eq!(toml::from_str::<PlateRead>(&plain).expect("parse"), r);
        r.box_px = Some(BoxPx::new(1.0, 2.0, 30.0, 12.0));
        r.colour = Some("green".into());
        let full = toml::to_string(&r).expect("serialise");
        assert_eq!(toml::from_str::<PlateRead>(&full).expect("parse"), r);
    }
}
