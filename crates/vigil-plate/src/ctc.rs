//! The recogniser output for one crop, and plain greedy CTC decoding (the baseline).

use std::ops::Range;

use crate::alphabet::CtcAlphabet;

/// Why a recogniser output could not be decoded. Never a panic: bad shapes come from a model or
/// a slicing bug upstream, and the pipeline must keep running.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The buffer length is not steps × classes.
    #[error(
        "recogniser output has {len} values but shape [{steps}, {classes}] needs steps × classes; pass the [T, C] slice of one crop, not the whole batch"
    )]
    ShapeMismatch {
        /// Values in the buffer.
        len: usize,
        /// Time steps claimed.
        steps: usize,
        /// Classes claimed.
        classes: usize,
    },
    /// The class count does not fit the dictionary.
    #[error("recogniser output has {classes} classes but the dictionary has {dictionary_len} entries, so {} (blank + dictionary) or {} (with PP-OCR's trailing space) were expected; load the dictionary from the same model's metadata", dictionary_len + 1, dictionary_len + 2)]
    ClassCountMismatch {
        /// Classes in the output.
        classes: usize,
        /// Entries in the dictionary.
        dictionary_len: usize,
    },
}

/// A validated view of one crop's recogniser output: row-major `[steps, classes]` probabilities
/// (PP-OCR's recogniser ends in a softmax; pass logits through one first).
#[derive(Debug, Clone, Copy)]
pub struct CtcMatrix<'a> {
    /// Row-major values, `steps * classes` of them.
    data: &'a [f32],
    /// Time steps T.
    steps: usize,
    /// Classes C, class 0 = blank.
    classes: usize,
}

impl<'a> CtcMatrix<'a> {
    /// Checks the shape against the buffer and the alphabet.
    pub fn new(data: &'a [f32], shape: [usize; 2], alphabet: &CtcAlphabet) -> Result<Self, DecodeError> {
        let [steps, classes] = shape;
        if steps.checked_mul(classes) != Some(data.len()) {
            return Err(DecodeError::ShapeMismatch {
                len: data.len(),
                steps,
                classes,
            });
        }
        if !alphabet.accepts_class_count(classes) {
            return Err(DecodeError::ClassCountMismatch {
                classes,
                dictionary_len: alphabet.dictionary_len(),
            });
        }
        Ok(Self { data, steps, classes })
    }

    /// Time steps T.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// Classes C.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// The probabilities of one time step (empty for an out-of-range step).
    pub fn row(&self, step: usize) -> &'a [f32] {
        let start = step.saturating_mul(self.classes);
        let end = start.saturating_add(self.classes);
        self.data.get(start..end).unwrap_or(&[])
    }

    /// Probability of `class` at `step`, sanitised: NaN, infinities and negatives read as 0,
    /// values above 1 as 1, so one corrupt value can neither win a step nor poison a score.
    pub fn prob(&self, step: usize, class: usize) -> f32 {
        sanitize(self.row(step).get(class).copied().unwrap_or(0.0))
    }
}

/// Maps a raw output value to a usable probability (see [`CtcMatrix::prob`]).
pub(crate) fn sanitize(p: f32) -> f32 {
    if p.is_finite() && p > 0.0 { p.min(1.0) } else { 0.0 }
}

/// Natural log of a sanitised probability, floored so that impossible steps cost a large but
/// finite amount (keeps path scores comparable instead of all collapsing to −∞).
pub(crate) fn log_prob(p: f32) -> f32 {
    const FLOOR: f32 = 1e-30;
    sanitize(p).max(FLOOR).ln()
}

/// One character produced by CTC decoding.
#[derive(Debug, Clone, PartialEq)]
pub struct CtcChar {
    /// Recogniser class.
    pub class: u32,
    /// Highest probability of `class` over the steps that produced the character.
    pub confidence: f32,
    /// The time steps that produced it (one run of repeats).
    pub steps: Range<usize>,
}

/// Result of greedy (best-path) decoding.
#[derive(Debug, Clone, PartialEq)]
pub struct GreedyDecode {
    /// The raw labels of the characters, concatenated, not normalised.
    pub text: String,
    /// The characters, in order.
    pub chars: Vec<CtcChar>,
    /// Log-probability of the best path (sum over steps of the log of the step maximum).
    pub log_likelihood: f32,
}

/// Greedy CTC decoding: the most probable class per step, repeats collapsed, blanks dropped.
///
/// A step whose values are all NaN or zero reads as blank.
pub fn greedy_decode(m: &CtcMatrix<'_>, alphabet: &CtcAlphabet) -> GreedyDecode {
    let mut out = GreedyDecode {
        text: String::new(),
        chars: Vec::new(),
        log_likelihood: 0.0,
    };
    let mut prev_class = 0usize;
    for t in 0..m.steps() {
        let (class, p) = argmax(m.row(t));
        out.log_likelihood += log_prob(p);
        if class != 0 {
            match out.chars.last_mut() {
                Some(last) if class == prev_class => {
                    last.confidence = last.confidence.max(p);
                    last.steps.end = t + 1;
                }
                _ => {
                    out.text.push_str(alphabet.label(class));
                    out.chars.push(CtcChar {
                        class: u32::try_from(class).unwrap_or(u32::MAX),
                        confidence: p,
                        steps: t..t + 1,
                    });
                }
            }
        }
        prev_class = class;
    }
    out
}

/// Index and sanitised value of the largest probability; `(0, 0.0)` (blank) when none is
/// positive. NaN and infinities never win.
fn argmax(row: &[f32]) -> (usize, f32) {
    // Two passes: a branch-free maximum over 16 lanes (vectorises; a running argmax does not),
    // then the first index holding it. `v > acc` is false for NaN.
    const LANES: usize = 16;
    let mut acc = [0.0f32; LANES];
    let chunks = row.chunks_exact(LANES);
    let tail = chunks.remainder();
    for chunk in chunks {
        for (a, &v) in acc.iter_mut().zip(chunk) {
            *a = if v > *a && v < f32::INFINITY { v } else { *a };
        }
    }
    for (a, &v) in acc.iter_mut().zip(tail) {
        *a = if v > *a && v < f32::INFINITY { v } else { *a };
    }
    let max = acc.iter().fold(0.0f32, |m, &v| if v > m { v } else { m });
    if max <= 0.0 {
        return (0, 0.0);
    }
    let index = row.iter().position(|&v| v == max).unwrap_or(0);
    (index, sanitize(max))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::{SynthMatrix, test_alphabet};
    use proptest::prelude::*;

    #[test]
    fn greedy_collapses_repeats_and_drops_blanks() {
        let a = test_alphabet();
        let mut s = SynthMatrix::new(&a);
        s.step(&[('京', 0.9)])
            .step(&[('京', 0.95)])
            .blank()
            .step(&[('A', 0.8)]);
        s.step(&[('1', 0.7)])
            .blank()
            .step(&[('1', 0.6)])
            .step(&[('2', 0.99)]);
        let data = s.data();
        let m = CtcMatrix::new(&data, s.shape(), &a).expect("valid shape");
        let g = greedy_decode(&m, &a);
        assert_eq!(g.text, "京A112");
        let confs: Vec<f32> = g.chars.iter().map(|c| c.confidence).collect();
        assert_eq!(confs, vec![0.95, 0.8, 0.7, 0.6, 0.99], "max over each run");
        assert_eq!(g.chars[0].steps, 0..2);
        assert_eq!(g.chars[3].steps, 6..7);
    }

    #[test]
    fn all_blank_and_empty_inputs_read_nothing() {
        let a = test_alphabet();
        let mut s = SynthMatrix::new(&a);
        s.blank().blank().blank();
        let data = s.data();
        let g = greedy_decode(&CtcMatrix::new(&data, s.shape(), &a).expect("valid"), &a);
        assert!(g.text.is_empty() && g.chars.is_empty());
        let classes = s.shape()[1];
        let g = greedy_decode(&CtcMatrix::new(&[], [0, classes], &a).expect("valid"), &a);
        assert!(g.text.is_empty());
    }

    #[test]
    fn nan_values_never_win_a_step() {
        let a = test_alphabet();
        let mut s = SynthMatrix::new(&a);
        s.step(&[('京', 0.9)]).blank().step(&[('A', 0.6)]);
        let mut data = s.data();
        let classes = s.shape()[1];
        // Step 2: NaN on a class that would otherwise be read, and a whole NaN step appended.
        data[2 * classes + a.classes_for('B')[0] as usize] = f32::NAN;
        data.extend(std::iter::repeat_n(f32::NAN, classes));
        let m = CtcMatrix::new(&data, [4, classes], &a).expect("valid");
        let g = greedy_decode(&m, &a);
        assert_eq!(g.text, "京A");
        assert!(g.log_likelihood.is_finite());
    }

    #[test]
    fn infinities_never_win_a_step() {
        let a = test_alphabet();
        let mut s = SynthMatrix::new(&a);
        s.step(&[('京', 0.9)]);
        let mut data = s.data();
        data[a.classes_for('B')[0] as usize] = f32::INFINITY;
        let g = greedy_decode(&CtcMatrix::new(&data, s.shape(), &a).expect("valid"), &a);
        assert_eq!(g.text, "京");
    }

    proptest! {
        /// The vectorised argmax agrees with a plain scan, whatever the values.
        #[test]
        fn argmax_matches_a_plain_scan(row in prop::collection::vec(
            prop_oneof![4 => 0.0f32..1.0, 1 => prop::num::f32::ANY], 0..100)
        ) {
            let mut want = (0usize, 0.0f32);
            for (i, &v) in row.iter().enumerate() {
                if v.is_finite() && v > want.1 {
                    want = (i, v);
                }
            }
            prop_assert_eq!(argmax(&row), (want.0, sanitize(want.1)));
        }
    }

    #[test]
    fn bad_shapes_are_errors() {
        let a = test_alphabet();
        let classes = a.dictionary_len() + 2;
        assert!(matches!(
            CtcMatrix::new(&[0.0; 10], [3, classes], &a),
            Err(DecodeError::ShapeMismatch { len: 10, .. })
        ));
        assert!(matches!(
            CtcMatrix::new(&[0.0; 12], [3, 4], &a),
            Err(DecodeError::ClassCountMismatch { classes: 4, .. })
        ));
        assert!(matches!(
            CtcMatrix::new(&[0.0; 4], [usize::MAX, 2], &a),
            Err(DecodeError::ShapeMismatch { .. })
        ));
        // Both PP-OCR layouts are accepted.
        assert!(CtcMatrix::new(&[], [0, classes - 1], &a).is_ok());
    }
}
