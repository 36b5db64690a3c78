//! The text side of licence-plate reading: from the recogniser's CTC output to one plate per
//! vehicle.
//!
//! `vigil-infer` runs the PP-OCR recogniser on each plate crop and hands over its `[T, C]`
//! probability matrix. This crate turns it into [`PlateRead`]s and votes them over a track:
//!
//! 1. [`normalize`] — one canonical spelling (half-width, upper case, no separators) so every
//!    comparison downstream is exact.
//! 2. [`format`](mod@format) / [`grammar`] — what counts as a plate: ordered [`PlateFormat`]s, each a regex
//!    plus optional per-position character classes, built from configuration; the mainland
//!    Chinese formats in [`cn`] are data too. Text that fits no format (shop signs, phone
//!    numbers) is not a plate.
//! 3. [`ctc`] — greedy CTC decoding, the unconstrained baseline.
//! 4. [`constrained`] — [`PlateDecoder`]: the most probable path *through each format*, found
//!    exactly by Viterbi over the format's position automaton. It fixes what greedy decoding
//!    gets wrong on plates: a non-province character at position 1, `O` where only digits are
//!    allowed, `88` collapsed to `8`. The module docs say why this beats segment re-picking and
//!    beam search.
//! 5. [`vote`] — [`PlateVoter`]: per-position, confidence-weighted voting across a track, one
//!    emission per vehicle.
//!
//! Everything here is pure and allocation-light; no ONNX, no I/O. [`synth`] builds synthetic
//! recogniser outputs for tests and benchmarks.
//!
//! [`PlateRead`]: vigil_core::plate::PlateRead

pub mod alphabet;
pub mod cn;
pub mod constrained;
pub mod ctc;
pub mod format;
pub mod grammar;
pub mod normalize;
pub mod synth;
pub mod vote;

pub use alphabet::CtcAlphabet;
pub use constrained::{Candidate, DecodeOptions, DecoderError, PlateDecoder};
pub use ctc::{CtcChar, CtcMatrix, DecodeError, GreedyDecode, greedy_decode};
pub use format::{FormatError, FormatProblem, PlateFormat, PlateFormatConfig};
pub use grammar::{GrammarError, PlateGrammar, PlateGrammarConfig};
pub use normalize::normalize_plate_text;
pub use vigil_core::plate::PlateRead;
pub use vote::{PlateVoter, Vote, VoterConfig, VoterConfigError};
