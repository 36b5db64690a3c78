//! Plate text normalisation and the built-in Chinese grammar, on arbitrary text (OCR output,
//! watchlist cells and operator input all pass through them). Checks the documented
//! properties: normalising is idempotent, and a grammar match is reported on normalised text
//! that the same format matches again.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use vigil_plate::{PlateGrammar, normalize_plate_text};

static GRAMMAR: LazyLock<PlateGrammar> = LazyLock::new(PlateGrammar::cn_mainland);

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let once = normalize_plate_text(text);
    assert_eq!(
        normalize_plate_text(&once),
        once,
        "normalising {text:?} twice differs"
    );
    if let Some((normalized, format)) = GRAMMAR.match_text(text) {
        assert_eq!(normalized, once);
        let again = GRAMMAR
            .match_normalized(&normalized)
            .expect("a matched plate matches again");
        assert_eq!(again.name(), format.name());
    }
    // The watchlists key plates with their own normaliser; it must not panic on what the
    // plate reader accepts either.
    let _ = vigil_watchlist::normalize_plate(text);
});
