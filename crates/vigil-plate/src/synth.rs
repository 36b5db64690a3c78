//! Synthetic recogniser outputs, for this crate's tests, the benchmarks and other crates' tests.
//!
//! Real PP-OCR output is a softmax per time step: one class holds most of the mass while a
//! character is under the receptive field, the blank holds it between characters. These helpers
//! write such matrices by hand so each decoding behaviour can be pinned by a test.

use crate::alphabet::CtcAlphabet;
use crate::cn::PROVINCES;

/// A dictionary shaped like PP-OCR's: digits, upper- and lower-case letters, the province
/// characters, the special plate suffixes, a separator dot, some shop-sign characters, then CJK
/// filler up to `len` entries (PP-OCRv4's has 6623). Shorter `len` values give the base set.
pub fn ppocr_like_dictionary(len: usize) -> Vec<String> {
    let mut chars: Vec<char> = ('0'..='9').chain('A'..='Z').chain('a'..='z').collect();
    chars.extend(PROVINCES.chars());
    chars.extend("学警挂港澳领使·欢迎光临喜中国人民银行电话".chars());
    let mut filler = ('\u{4E00}'..='\u{9FFF}')
        .filter(|c| !chars.contains(c))
        .collect::<Vec<_>>()
        .into_iter();
    while chars.len() < len {
        match filler.next() {
            Some(c) => chars.push(c),
            None => break,
        }
    }
    chars.into_iter().map(String::from).collect()
}

/// The alphabet of [`ppocr_like_dictionary`] at its base size.
pub fn test_alphabet() -> CtcAlphabet {
    CtcAlphabet::new(&ppocr_like_dictionary(0))
}

/// Builds a `[T, C]` probability matrix step by step, with PP-OCR's layout (blank first, space
/// last, `C = dictionary + 2`).
#[derive(Debug, Clone)]
pub struct SynthMatrix<'a> {
    /// Where characters are looked up.
    alphabet: &'a CtcAlphabet,
    /// Classes per step.
    classes: usize,
    /// Rows written so far, row-major.
    data: Vec<f32>,
}

impl<'a> SynthMatrix<'a> {
    /// An empty matrix for `alphabet`.
    pub fn new(alphabet: &'a CtcAlphabet) -> Self {
        Self {
            alphabet,
            classes: alphabet.dictionary_len() + 2,
            data: Vec::new(),
        }
    }

    /// Appends one step with the given character probabilities; the rest of the mass goes to
    /// the blank.
    ///
    /// # Panics
    /// When a character is not in the dictionary: a mistake in the test, not input data.
    pub fn step(&mut self, probs: &[(char, f32)]) -> &mut Self {
        let mut row = vec![0.0f32; self.classes];
        let mut rest = 1.0f32;
        for &(c, p) in probs {
            let Some(class) = self.class_of(c) else {
                panic!("synthetic character {c:?} is not in the dictionary");
            };
            row[class] += p;
            rest -= p;
        }
        row[0] = rest.max(0.0);
        self.data.extend(row);
        self
    }

    /// The class whose label is exactly `c`, else the first that normalises to it.
    fn class_of(&self, c: char) -> Option<usize> {
        let mut buf = [0u8; 4];
        let label = &*c.encode_utf8(&mut buf);
        (1..self.classes)
            .find(|&i| self.alphabet.label(i) == label)
            .or_else(|| self.alphabet.classes_for(c).first().map(|&k| k as usize))
    }

    /// Appends one step with probabilities given by raw class index (for dictionary variants and
    /// separators that [`SynthMatrix::step`] cannot name); the rest goes to the blank. Classes
    /// out of range are ignored.
    pub fn step_classes(&mut self, probs: &[(usize, f32)]) -> &mut Self {
        let mut row = vec![0.0f32; self.classes];
        let mut rest = 1.0f32;
        for &(class, p) in probs {
            if let Some(slot) = row.get_mut(class) {
                *slot += p;
                rest -= p;
            }
        }
        row[0] = rest.max(0.0);
        self.data.extend(row);
        self
    }

    /// Appends a step that is certainly blank.
    pub fn blank(&mut self) -> &mut Self {
        self.step(&[])
    }

    /// Appends each character of `text` as one step of probability `p`, each followed by a
    /// blank step — a cleanly read plate.
    pub fn text(&mut self, text: &str, p: f32) -> &mut Self {
        for c in text.chars() {
            self.step(&[(c, p)]).blank();
        }
        self
    }

    /// `[T, C]`.
    pub fn shape(&self) -> [usize; 2] {
        [self.data.len() / self.classes, self.classes]
    }

    /// The row-major values.
    pub fn data(&self) -> Vec<f32> {
        self.data.clone()
    }
}
