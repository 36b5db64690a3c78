//! Text normalisation: the one canonical spelling every plate comparison uses.
//!
//! OCR output, watchlist files and operator input spell the same plate differently:
//! `京A·12345`, `京Ａ１２３４５`, `京a-12345`. [`normalize_plate_text`] maps them all to
//! `京A12345`, so the grammar, the voter and the watchlists never see the variants.
//!
//! The implementation is `vigil_core::plate_text`, re-exported here: the watchlists key their
//! entries with the very same function, so whatever the reader normalises, a watchlist entry
//! written the same way normalises identically (tests in `vigil-watchlist/tests/`).

pub use vigil_core::plate_text::{is_separator, normalize_char, normalize_plate_text, to_half_width};
