//! The plate reader and the watchlists agree on what a plate's text is.
//!
//! Regression for a fuzzing finding (docs/security.md): the reader's normaliser
//! (`vigil_plate::normalize_plate_text`) dropped separators the watchlist's matching key kept
//! (en/em dashes, the minus sign, `‧`, `∙`, `⋅`, `。`, the Greek ano teleia), so a list entry
//! written `京A–12345` was refused or never matched a read of that plate. Both now use
//! `vigil_core::plate_text`; these tests hold them to it from the outside.

use proptest::prelude::*;
use vigil_plate::{PlateGrammar, normalize_plate_text};
use vigil_watchlist::{MAX_PLATE_CHARS, Plate, normalize_plate};

/// Every separator the reader knows, as an OCR engine or a typist might produce it.
const SEPARATORS: &[char] = &[
    ' ', '.', '-', '_', '\u{00B7}', '\u{0387}', '\u{2022}', '\u{2027}', '\u{2219}', '\u{22C5}', '\u{30FB}',
    '\u{FF65}', '\u{2010}', '\u{2011}', '\u{2012}', '\u{2013}', '\u{2014}', '\u{2015}', '\u{2212}',
    '\u{3002}', '\u{3000}', '\t', '\u{00A0}',
];

#[test]
fn every_reader_separator_spelling_parses_to_the_read() {
    let grammar = PlateGrammar::cn_mainland();
    for &sep in SEPARATORS {
        for text in [
            format!("京A{sep}12345"),
            format!("粤B{sep}D{sep}12345"),
            format!("{sep}沪ａ{sep}１２３４５{sep}"),
        ] {
            let (read, _format) = grammar
                .match_text(&text)
                .unwrap_or_else(|| panic!("the reader reads {text:?} as a plate"));
            let entry = Plate::parse(&text)
                .unwrap_or_else(|e| panic!("the watchlist refuses {text:?} ({e}), the reader read {read:?}"));
            assert_eq!(entry.key(), read, "separator U+{:04X} in {text:?}", sep as u32);
            assert_eq!(normalize_plate(&text), normalize_plate_text(&text));
        }
    }
}

/// Plate-like text: province characters, letters in both widths and cases, digits, and every
/// separator, so that the property explores what OCR and typists actually produce.
fn plate_like() -> impl Strategy<Value = String> {
    let mut pool: Vec<char> = "京沪粤川学警港挂ABCDHJKZabxz0123456789ＡＢａ０１９"
        .chars()
        .collect();
    pool.extend_from_slice(SEPARATORS);
    proptest::collection::vec(proptest::sample::select(pool), 0..20).prop_map(|v| v.into_iter().collect())
}

proptest! {
    /// The two normalisers are one: identical on any text at all.
    #[test]
    fn matching_key_is_the_readers_normalisation(s in "\\PC{0,24}") {
        prop_assert_eq!(normalize_plate(&s), normalize_plate_text(&s));
    }

    /// Anything the reader normalises to a plausible key parses in a list to exactly that key,
    /// and anything the list accepts has the reader's spelling as its key.
    #[test]
    fn what_the_reader_normalises_parses_identically(s in plate_like()) {
        let read = normalize_plate_text(&s);
        let plausible = !read.is_empty()
            && read.chars().count() <= MAX_PLATE_CHARS
            && read.chars().all(char::is_alphanumeric);
        match Plate::parse(&s) {
            Ok(entry) => {
                prop_assert!(plausible, "{s:?} parsed although the read {read:?} is no plate text");
                prop_assert_eq!(entry.key(), read.as_str());
            }
            Err(e) => prop_assert!(!plausible, "{s:?} refused ({e}) although the reader reads {read:?}"),
        }
    }

    /// A grammar match (the reader's verdict "this is a plate") is always a valid list entry
    /// with the same key.
    #[test]
    fn every_grammar_match_is_a_list_entry(s in plate_like()) {
        let grammar = PlateGrammar::cn_mainland();
        if let Some((read, _)) = grammar.match_text(&s) {
            let entry = Plate::parse(&s);
            prop_assert!(entry.is_ok(), "{s:?} read as {read:?} but refused: {entry:?}");
            if let Ok(entry) = entry {
                prop_assert_eq!(entry.key(), read.as_str());
            }
        }
    }
}
