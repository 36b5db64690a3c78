//! The recogniser's class list: CTC blank, the model's dictionary, PP-OCR's trailing space.

use std::collections::HashMap;

use crate::normalize::normalize_plate_text;

/// Maps recogniser class indices to text.
///
/// Class 0 is the CTC blank; class `i ≥ 1` is `dictionary[i - 1]`, exactly as the caller gives
/// it (for PP-OCR: the model metadata key `character`, one entry per line). PP-OCR appends a
/// space as one more final class, so an output with `dictionary.len() + 2` classes is accepted
/// as well as one with `dictionary.len() + 1`; the extra class reads as `' '`.
#[derive(Debug, Clone)]
pub struct CtcAlphabet {
    /// Label per class: `""` for the blank, the dictionary entries, then `" "`.
    labels: Vec<String>,
    /// Number of dictionary entries the caller gave.
    dictionary_len: usize,
    /// The single normalised character each class stands for; `None` for the blank, for
    /// separators (space, dots) and for entries that normalise to several characters.
    normalized: Vec<Option<char>>,
    /// Classes per normalised character; several when the dictionary holds variants
    /// (`A` and `Ａ`, `a`), all of which the constrained decoder may pick.
    by_char: HashMap<char, Vec<u32>>,
}

impl CtcAlphabet {
    /// Builds the alphabet from the model's dictionary (without the blank).
    pub fn new<S: AsRef<str>>(dictionary: &[S]) -> Self {
        let labels: Vec<String> = std::iter::once(String::new())
            .chain(dictionary.iter().map(|s| s.as_ref().to_owned()))
            .chain(std::iter::once(" ".to_owned()))
            .collect();
        let normalized: Vec<Option<char>> = labels
            .iter()
            .enumerate()
            .map(|(class, label)| {
                if class == 0 {
                    return None;
                }
                let n = normalize_plate_text(label);
                let mut chars = n.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => Some(c),
                    _ => None,
                }
            })
            .collect();
        let mut by_char: HashMap<char, Vec<u32>> = HashMap::new();
        for (class, c) in normalized.iter().enumerate() {
            if let (Some(c), Ok(class)) = (c, u32::try_from(class)) {
                by_char.entry(*c).or_default().push(class);
            }
        }
        Self {
            labels,
            dictionary_len: dictionary.len(),
            normalized,
            by_char,
        }
    }

    /// Number of dictionary entries given (without blank and trailing space).
    pub fn dictionary_len(&self) -> usize {
        self.dictionary_len
    }

    /// True when a recogniser output with `classes` classes fits this dictionary.
    pub fn accepts_class_count(&self, classes: usize) -> bool {
        classes == self.dictionary_len + 1 || classes == self.dictionary_len + 2
    }

    /// The raw label of a class (`""` for the blank and for unknown classes).
    pub fn label(&self, class: usize) -> &str {
        self.labels.get(class).map_or("", String::as_str)
    }

    /// The normalised character a class stands for, if it is a single plate character.
    pub fn normalized(&self, class: usize) -> Option<char> {
        self.normalized.get(class).copied().flatten()
    }

    /// All classes that normalise to `c`, in class order.
    pub fn classes_for(&self, c: char) -> &[u32] {
        self.by_char.get(&c).map_or(&[], Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_follow_ppocr_layout() {
        let a = CtcAlphabet::new(&["京", "A", "a", "Ａ", "·", "AB"]);
        assert_eq!(a.label(0), "");
        assert_eq!(a.label(1), "京");
        assert_eq!(a.label(7), " ", "PP-OCR's trailing space class");
        assert!(a.accepts_class_count(7) && a.accepts_class_count(8));
        assert!(!a.accepts_class_count(6) && !a.accepts_class_count(9));
        assert_eq!(a.classes_for('A'), &[2, 3, 4], "all spellings of A");
        assert_eq!(a.normalized(5), None, "separator");
        assert_eq!(a.normalized(6), None, "multi-character entry");
        assert_eq!(a.normalized(0), None, "blank");
        assert_eq!(a.normalized(99), None, "out of range");
    }
}
