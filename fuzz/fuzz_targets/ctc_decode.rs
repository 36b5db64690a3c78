//! Constrained CTC decoding on arbitrary recogniser output: any shape (including ones that do
//! not fit the buffer or the dictionary), any values (NaN, ±inf, negatives, > 1, subnormals).
//! A broken model or a corrupt buffer must give an error or "no plate", never a panic, and
//! every read that comes out must be internally consistent and a plate by the grammar.
//!
//! Input layout: byte 0 picks the decoder, byte 1 the shape mode, bytes 2–3 the step count,
//! then one byte per value (see `prob_from_byte`), cycled when the input is shorter than the
//! matrix so that long matrices need no long inputs.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use vigil_fuzz::{Bytes, prob_from_byte};
use vigil_plate::format::PlateFormatConfig;
use vigil_plate::synth::ppocr_like_dictionary;
use vigil_plate::{CtcAlphabet, DecodeOptions, PlateDecoder, PlateGrammar, PlateGrammarConfig};

/// Longest sequence tried: PP-OCR's recogniser gives 40 steps for a 320-pixel-wide crop, 80 for
/// a wide one. (Longer costs the fuzzer speed without reaching new code.)
const MAX_STEPS: usize = 80;

/// The decoders under test: the built-in grammar over a PP-OCR-like dictionary; the same with
/// spelling variants, multi-character and separator entries in the dictionary; and a grammar
/// with a regex-only format (decoded from the greedy text) at a zero confidence floor.
static DECODERS: LazyLock<Vec<(PlateDecoder, f32)>> = LazyLock::new(|| {
    let base = ppocr_like_dictionary(0);
    let mut variants = base.clone();
    variants.extend(["Ａ", "０", "a", "京A", "", " ", "·", "-", "o", "Ⅻ"].map(String::from));
    let with_regex_only = PlateGrammar::from_config(&PlateGrammarConfig {
        builtin: vec!["cn-mainland".into()],
        formats: vec![PlateFormatConfig {
            name: "fuzz-regex-only".into(),
            regex: "[A-Z]{2}[0-9]{3,5}".into(),
            positions: None,
        }],
    })
    .expect("a valid grammar");
    let build = |grammar, dictionary: &[String], min_confidence| {
        let decoder = PlateDecoder::new(
            grammar,
            CtcAlphabet::new(dictionary),
            DecodeOptions { min_confidence },
        )
        .expect("the grammar fits the dictionary");
        (decoder, min_confidence)
    };
    let floor = DecodeOptions::default().min_confidence;
    vec![
        build(PlateGrammar::cn_mainland(), &base, floor),
        build(PlateGrammar::cn_mainland(), &variants, floor),
        build(with_regex_only, &base, 0.0),
    ]
});

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes::new(data);
    let (decoder, floor) = &DECODERS[usize::from(b.u8()) % DECODERS.len()];
    let dict = decoder.alphabet().dictionary_len();
    let mode = b.u8();
    let steps = usize::from(b.u16()) % (MAX_STEPS + 1);
    let classes = match mode % 4 {
        0 => dict + 1,
        1 => dict + 2,
        // A class count the dictionary does not fit (must be refused).
        2 => usize::from(b.u8()),
        _ => dict + 2 + usize::from(b.u8()),
    };
    let values: Vec<u8> = b.rest().to_vec();
    let len = steps * classes;
    let mut probs: Vec<f32> = if values.is_empty() {
        vec![0.0; len]
    } else {
        values
            .iter()
            .cycle()
            .take(len)
            .map(|&v| prob_from_byte(v))
            .collect()
    };
    // Now and then a buffer that disagrees with the shape it comes with.
    if mode & 0x80 != 0 {
        probs.truncate(len.saturating_sub(usize::from(mode & 0x0F) + 1));
    }
    let shape = [steps, classes];

    let greedy = decoder.greedy(&probs, shape);
    let candidates = decoder.candidates(&probs, shape);
    let read = decoder.decode(&probs, shape);
    assert_eq!(
        greedy.is_ok(),
        read.is_ok(),
        "shape checks differ between decode paths"
    );
    assert_eq!(
        candidates.is_ok(),
        read.is_ok(),
        "shape checks differ between decode paths"
    );
    if let Ok(g) = &greedy {
        assert!(!g.log_likelihood.is_nan(), "greedy log-likelihood is NaN");
    }
    for c in candidates.iter().flatten() {
        assert!(c.read.is_consistent(), "inconsistent candidate {c:?}");
        assert!(
            !c.log_likelihood.is_nan(),
            "candidate log-likelihood is NaN: {c:?}"
        );
    }
    if let Ok(Some(r)) = read {
        assert!(r.is_consistent(), "inconsistent read {r:?}");
        assert!(r.confidence >= *floor, "read below the floor: {r:?}");
        assert!(
            decoder.grammar().match_text(&r.text).is_some(),
            "read {:?} is not a plate by the grammar",
            r.text
        );
    }
});
