//! Plate text normalisation: the one canonical spelling every plate comparison uses.
//!
//! OCR output, watchlist files and operator input spell the same plate differently:
//! `京A·12345`, `京Ａ１２３４５`, `京a-12345`, `京A–12345`. [`normalize_plate_text`] maps them all
//! to `京A12345`. It lives here, in the crate every stage shares, because two consumers must
//! agree on it exactly: the plate reader (`vigil-plate`) normalises what the recogniser read, and
//! the watchlists (`vigil-watchlist`) normalise their entries into matching keys. When they
//! disagreed (the reader dropped en dashes and minus signs, the watchlist kept them), a plate
//! written `京A–12345` in a list could never match a read of that plate — a fuzzing finding,
//! recorded in docs/security.md.
//!
//! The normalisation only removes differences that never carry identity (width, ASCII case,
//! separators); the plate grammar, which does, stays in `vigil-plate`.

/// True for the characters that only separate groups on a plate and carry no identity: ASCII
/// space, dot, hyphen-minus and underscore, the middle dots and bullets OCR produces for the
/// plate's separator rivet, dash variants, the minus sign, the ideographic full stop, and any
/// Unicode white space.
pub fn is_separator(c: char) -> bool {
    matches!(
        c,
        '.' | '-'
            | '_'
            | '\u{00B7}' // · middle dot
            | '\u{0387}' // · Greek ano teleia (looks identical)
            | '\u{2022}' // • bullet
            | '\u{2027}' // ‧ hyphenation point
            | '\u{2219}' // ∙ bullet operator
            | '\u{22C5}' // ⋅ dot operator
            | '\u{30FB}' // ・ katakana middle dot
            | '\u{FF65}' // ･ half-width katakana middle dot
            | '\u{2010}'
            ..='\u{2015}' // hyphen, non-breaking hyphen, figure/en/em dash, bar
            | '\u{2212}' // − minus sign
            | '\u{3002}' // 。 ideographic full stop (OCR's reading of the rivet)
    ) || c.is_whitespace()
}

/// Maps a full-width form (U+FF01..U+FF5E, U+3000) to its half-width ASCII twin; other
/// characters are returned unchanged.
pub fn to_half_width(c: char) -> char {
    match c {
        // The full-width block mirrors ASCII 0x21..0x7E at a fixed offset.
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

/// Normalises one character: half-width, ASCII upper case; `None` for a separator.
pub fn normalize_char(c: char) -> Option<char> {
    let c = to_half_width(c).to_ascii_uppercase();
    if is_separator(c) { None } else { Some(c) }
}

/// Normalises plate text: full-width → half-width (`Ａ`→`A`, `０`→`0`), separators removed
/// (see [`is_separator`]), ASCII letters upper-cased. Non-ASCII letters (the province
/// characters, `学`, `警`…) are kept as they are.
///
/// Idempotent: normalising twice gives the same text as once. Never fails: text that is not a
/// plate at all is for the grammar or the watchlist's validation to reject.
pub fn normalize_plate_text(text: &str) -> String {
    text.chars().filter_map(normalize_char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn spellings_of_one_plate_normalise_alike() {
        for variant in [
            "京A·12345",
            "京A•12345",
            "京A・12345",
            "京Ａ１２３４５",
            "京a-12345",
            " 京 A 12345 ",
            "京A.12345",
            "京A\u{3000}12345",
            "京Ａ．１２３４５",
            "京A–12345",
            "京A−12345",
            "京A\u{0387}12345",
            "京A。12345",
        ] {
            assert_eq!(normalize_plate_text(variant), "京A12345", "variant {variant:?}");
        }
    }

    #[test]
    fn non_ascii_letters_are_kept() {
        assert_eq!(normalize_plate_text("粤B1234学"), "粤B1234学");
        // Only ASCII is upper-cased: a Greek letter in a foreign plate stays as written.
        assert_eq!(normalize_plate_text("αb"), "αB");
        assert_eq!(
            normalize_plate_text("a#1"),
            "A#1",
            "unknown symbols are left for validation"
        );
    }

    #[test]
    fn full_width_maps_to_ascii() {
        assert_eq!(to_half_width('Ａ'), 'A');
        assert_eq!(to_half_width('ｚ'), 'z');
        assert_eq!(to_half_width('０'), '0');
        assert_eq!(to_half_width('～'), '~');
        assert_eq!(to_half_width('京'), '京');
    }

    proptest! {
        #[test]
        fn normalisation_is_idempotent(s in "\\PC{0,24}") {
            let once = normalize_plate_text(&s);
            prop_assert_eq!(normalize_plate_text(&once), once.clone());
        }

        #[test]
        fn output_has_no_separators_lower_case_or_full_width(s in "\\PC{0,24}") {
            for c in normalize_plate_text(&s).chars() {
                prop_assert!(!is_separator(c), "separator {c:?} left in output");
                prop_assert!(!c.is_ascii_lowercase(), "lower case {c:?} left in output");
                prop_assert!(!('\u{FF01}'..='\u{FF5E}').contains(&c), "full-width {c:?} left");
            }
        }
    }
}
