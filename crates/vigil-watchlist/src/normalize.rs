//! The matching key: one spelling per plate, so that `京A·12345`, `京Ａ１２３４５`, `京a-12345`
//! and `京A–12345` all find the same watchlist entry.
//!
//! The key is the plate reader's own normalisation, `vigil_core::plate_text`: a list entry and a
//! read of the same plate must normalise identically, or the entry can never match (a fuzzing
//! finding: this crate once kept en dashes and minus signs the reader dropped). It only removes
//! differences that never carry identity (width, ASCII case, separators). The full plate grammar
//! (formats, province characters, checks) lives in `vigil-plate`; a watchlist must still accept
//! plates that grammar would reject (foreign, temporary, hand-typed), so it does not depend on it.

use vigil_core::plate_text;

/// Normalises plate text into the watchlist matching key.
///
/// * full-width forms (U+FF01..U+FF5E) become their half-width ASCII twins, U+3000 a space;
/// * separators are dropped: dots, bullets and middle dots (`·` `•` `・` `.`), dashes and the
///   minus sign (`-` `–` `—` `−`), `_`, `。`, and any Unicode white space — exactly
///   `vigil_core::plate_text::is_separator`;
/// * ASCII letters are upper-cased; other characters (province characters such as `京`, `粤`,
///   and `学`, `警`, `港`…) are kept as they are.
///
/// Idempotent, and never fails: text that is not a plate at all is rejected later by
/// [`crate::Plate::parse`], which checks what is left.
pub fn normalize_plate(text: &str) -> String {
    plate_text::normalize_plate_text(text)
}

/// One character of [`normalize_plate`]: `None` for a separator.
pub(crate) fn normalize_char(c: char) -> Option<char> {
    plate_text::normalize_char(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn spellings_of_one_plate_share_a_key() {
        for spelling in [
            "京A12345",
            "京A·12345",
            "京a-12345",
            "京Ａ１２３４５",
            "京 A 1 2 3 4 5",
            "京A•12345",
            "京A.12345",
            "京A–12345",
            "京A−12345",
        ] {
            assert_eq!(normalize_plate(spelling), "京A12345", "{spelling}");
        }
        // The ideographic space U+3000 is white space too.
        assert_eq!(normalize_plate("粤B\u{3000}D1234"), "粤BD1234");
    }

    #[test]
    fn non_separators_are_kept() {
        assert_eq!(normalize_plate("粤Z1234港"), "粤Z1234港");
        assert_eq!(
            normalize_plate("a#1"),
            "A#1",
            "unknown symbols are left for validation to reject"
        );
    }

    proptest! {
        #[test]
        fn idempotent(s in "\\PC{0,12}") {
            let once = normalize_plate(&s);
            prop_assert_eq!(normalize_plate(&once), once.clone());
            prop_assert!(!once.chars().any(|c| c.is_ascii_lowercase() || c.is_whitespace()));
        }
    }
}
