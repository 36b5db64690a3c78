//! Plate text normalisation and the built-in Chinese grammar, on arbitrary text (OCR output,
//! watchlist cells and operator input all pass through them). Checks the documented
//! properties: normalising is idempotent, a grammar match is reported on normalised text
//! that the same format matches again, and the watchlists' matching key equals the reader's
//! normalisation.
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
    // The watchlists key plates with the reader's normalisation (a finding of this target:
    // they once kept separators the reader dropped), so both must agree on any text.
    assert_eq!(
        vigil_watchlist::normalize_plate(text),
        once,
        "watchlist key and reader disagree on {text:?}"
    );
});
