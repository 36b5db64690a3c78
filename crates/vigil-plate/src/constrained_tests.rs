//! Tests of [`super::PlateDecoder`] on hand-written recogniser outputs.

use proptest::prelude::*;

use super::*;
use crate::cn::{CN_NEW_ENERGY, CN_NEW_ENERGY_LARGE, CN_ORDINARY, CN_SPECIAL_SUFFIX};
use crate::format::PlateFormatConfig;
use crate::synth::{SynthMatrix, test_alphabet};

fn decoder() -> PlateDecoder {
    PlateDecoder::new(
        PlateGrammar::cn_mainland(),
        test_alphabet(),
        DecodeOptions::default(),
    )
    .expect("built-in grammar fits the test dictionary")
}

fn lax_decoder() -> PlateDecoder {
    let options = DecodeOptions { min_confidence: 0.0 };
    PlateDecoder::new(PlateGrammar::cn_mainland(), test_alphabet(), options).expect("valid")
}

/// Decodes a synthetic matrix; returns (greedy text, constrained read).
fn run(d: &PlateDecoder, s: &SynthMatrix<'_>) -> (String, Option<PlateRead>) {
    let data = s.data();
    let greedy = d.greedy(&data, s.shape()).expect("valid shape").text;
    (greedy, d.decode(&data, s.shape()).expect("valid shape"))
}

fn text_of(r: &Option<PlateRead>) -> Option<&str> {
    r.as_ref().map(|r| r.text.as_str())
}

#[test]
fn clean_blue_plate() {
    let d = decoder();
    let mut s = SynthMatrix::new(d.alphabet());
    s.blank().text("京A12345", 0.9);
    let (greedy, read) = run(&d, &s);
    assert_eq!(greedy, "京A12345");
    let read = read.expect("a plate");
    assert_eq!(read.text, "京A12345");
    assert_eq!(read.format, CN_ORDINARY);
    assert!(
        read.char_confidences.iter().all(|&c| (c - 0.9).abs() < 1e-6),
        "{read:?}"
    );
    assert!(
        (read.confidence - 0.9f32.powi(7)).abs() < 1e-5,
        "product of the characters"
    );
    assert!(read.is_consistent());
}

#[test]
fn green_new_energy_plates() {
    let d = decoder();
    for (plate, format) in [("粤BD12345", CN_NEW_ENERGY), ("苏E12345F", CN_NEW_ENERGY_LARGE)] {
        let mut s = SynthMatrix::new(d.alphabet());
        s.text(plate, 0.95);
        let (_, read) = run(&d, &s);
        let read = read.expect("a plate");
        assert_eq!((read.text.as_str(), read.format.as_str()), (plate, format));
        assert_eq!(read.char_confidences.len(), 8);
    }
}

#[test]
fn special_suffix_plates() {
    let d = decoder();
    for plate in ["川A1234学", "京A0001警"] {
        let mut s = SynthMatrix::new(d.alphabet());
        s.text(plate, 0.9);
        let read = run(&d, &s).1.expect("a plate");
        assert_eq!(
            (read.text.as_str(), read.format.as_str()),
            (plate, CN_SPECIAL_SUFFIX)
        );
    }
}

#[test]
fn suffix_beats_digit_when_the_network_prefers_it() {
    // Last character: 学 at 0.6, 5 at 0.3. Both "川A12345" (ordinary) and "川A1234学" are
    // plates; the more probable path wins.
    let d = decoder();
    let mut s = SynthMatrix::new(d.alphabet());
    s.text("川A1234", 0.9).step(&[('学', 0.6), ('5', 0.3)]).blank();
    assert_eq!(text_of(&run(&d, &s).1), Some("川A1234学"));
    let mut s = SynthMatrix::new(d.alphabet());
    s.text("川A1234", 0.9).step(&[('学', 0.3), ('5', 0.6)]).blank();
    assert_eq!(text_of(&run(&d, &s).1), Some("川A12345"));
}

#[test]
fn constraint_fixes_a_wrong_province_and_letter_o() {
    // Three second guesses make an uncertain plate (0.3 × 0.4 × 0.35 × … ≈ 0.03): decode
    // without a floor to see the text.
    let d = lax_decoder();
    let mut s = SynthMatrix::new(d.alphabet());
    // 喜 is no province; 京 is the network's second guess. 'O' is never a plate character
    // after the province letter; '0' is its second guess. 'I' likewise for '1'.
    s.step(&[('喜', 0.5), ('京', 0.3)]).blank();
    s.text("A", 0.9);
    s.step(&[('O', 0.55), ('0', 0.4)]).blank();
    s.step(&[('I', 0.6), ('1', 0.35)]).blank();
    s.text("234", 0.9);
    let (greedy, read) = run(&d, &s);
    assert_eq!(greedy, "喜AOI234", "greedy gets it wrong");
    let read = read.expect("a plate");
    assert_eq!(read.text, "京A01234");
    assert!(
        (read.char_confidences[0] - 0.3).abs() < 1e-6,
        "confidence of the chosen class"
    );
}

#[test]
fn letter_o_at_a_digit_only_position_becomes_zero() {
    let d = decoder();
    let mut s = SynthMatrix::new(d.alphabet());
    s.text("粤BD12", 0.97)
        .step(&[('O', 0.6), ('0', 0.38)])
        .blank()
        .text("45", 0.97);
    let (greedy, read) = run(&d, &s);
    assert_eq!(greedy, "粤BD12O45");
    let read = read.expect("a plate");
    assert_eq!(
        (read.text.as_str(), read.format.as_str()),
        ("粤BD12045", CN_NEW_ENERGY)
    );
}

#[test]
fn an_uncertain_best_reading_is_not_replaced_by_a_worse_confident_one() {
    // Same as above but '0' only at 0.2: the most probable plate is still "粤BD12045", now
    // below the floor. Dropping the step instead ("粤BD1245", an ordinary plate whose
    // characters all look confident) is less probable and must not be reported in its place.
    let d = decoder();
    let mut s = SynthMatrix::new(d.alphabet());
    s.text("粤BD12", 0.97)
        .step(&[('O', 0.78), ('0', 0.2)])
        .blank()
        .text("45", 0.97);
    assert_eq!(run(&d, &s).1, None);
    let best = d.candidates(&s.data(), s.shape()).expect("valid");
    assert_eq!(best.first().map(|c| c.read.text.as_str()), Some("粤BD12045"));
    assert!(
        best.iter()
            .any(|c| c.read.text == "粤BD1245" && c.read.confidence > 0.25)
    );
}

#[test]
fn double_character_merged_by_greedy_is_recovered() {
    // "88" with only a weak blank between the two 8s: greedy collapses them into one.
    let d = decoder();
    let mut s = SynthMatrix::new(d.alphabet());
    s.text("京A", 0.95)
        .step(&[('8', 0.9)])
        .step(&[('8', 0.6)])
        .step(&[('8', 0.9)])
        .blank();
    s.text("123", 0.95);
    let (greedy, read) = run(&d, &s);
    assert_eq!(greedy, "京A8123", "greedy reads one 8");
    let read = read.expect("a plate");
    assert_eq!(read.text, "京A88123");
    assert_eq!(read.format, CN_ORDINARY);
}

#[test]
fn spurious_and_flickering_characters_are_absorbed() {
    let d = decoder();
    // A stray 'X' between two characters, barely above blank.
    let mut s = SynthMatrix::new(d.alphabet());
    s.text("京A123", 0.95).step(&[('X', 0.55)]).text("45", 0.95);
    let (greedy, read) = run(&d, &s);
    assert_eq!(greedy, "京A123X45");
    assert_eq!(text_of(&read), Some("京A12345"));

    // One '0' whose top class flickers 0/O/0 with no blank: greedy reads three characters.
    let mut s = SynthMatrix::new(d.alphabet());
    s.text("京A12", 0.95);
    s.step(&[('0', 0.6), ('O', 0.35)])
        .step(&[('O', 0.6), ('0', 0.35)])
        .step(&[('0', 0.6), ('O', 0.35)]);
    s.blank().text("45", 0.95);
    let (greedy, read) = run(&d, &s);
    assert_eq!(greedy, "京A120O045");
    assert_eq!(text_of(&read), Some("京A12045"));
}

#[test]
fn text_that_is_not_a_plate_is_rejected() {
    let d = decoder();
    for text in ["13812345678", "欢迎光临", "中国人民银行", "BOX42", "A12345"] {
        let mut s = SynthMatrix::new(d.alphabet());
        s.text(text, 0.95);
        let (greedy, read) = run(&d, &s);
        assert_eq!(greedy, text, "the recogniser read it clearly");
        assert_eq!(read, None, "{text:?} is not a plate");
    }
}

#[test]
fn empty_all_blank_and_all_nan_inputs_read_nothing() {
    let d = decoder();
    let classes = d.alphabet().dictionary_len() + 2;
    assert_eq!(d.decode(&[], [0, classes]).expect("valid"), None);
    let mut s = SynthMatrix::new(d.alphabet());
    for _ in 0..40 {
        s.blank();
    }
    assert_eq!(run(&d, &s).1, None);
    let nan = vec![f32::NAN; 40 * classes];
    assert_eq!(d.decode(&nan, [40, classes]).expect("valid"), None);
    assert_eq!(d.greedy(&nan, [40, classes]).expect("valid").text, "");
}

#[test]
fn nan_values_do_not_break_a_plate() {
    let d = decoder();
    let mut s = SynthMatrix::new(d.alphabet());
    s.text("京A12345", 0.9);
    let mut data = s.data();
    let [steps, classes] = s.shape();
    // Poison a distractor class on every step and the blank of one blank step.
    let distractor = d.alphabet().classes_for('8')[0] as usize;
    for t in 0..steps {
        data[t * classes + distractor] = f32::NAN;
    }
    data[classes] = f32::NAN;
    data[2 * classes + 7] = f32::INFINITY;
    let read = d
        .decode(&data, [steps, classes])
        .expect("valid")
        .expect("a plate");
    assert_eq!(read.text, "京A12345");
    assert!(read.is_consistent(), "{read:?}");
}

#[test]
fn mismatched_shapes_are_errors() {
    let d = decoder();
    let classes = d.alphabet().dictionary_len() + 2;
    let data = vec![0.0; 10 * classes];
    assert!(matches!(
        d.decode(&data, [11, classes]),
        Err(DecodeError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        d.decode(&data, [classes, 10]),
        Err(DecodeError::ClassCountMismatch { .. })
    ));
    assert!(matches!(
        d.greedy(&data, [9, classes]),
        Err(DecodeError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        d.candidates(&data, [usize::MAX, 3]),
        Err(DecodeError::ShapeMismatch { .. })
    ));
}

#[test]
fn confidence_floor_is_configurable() {
    let strict = decoder();
    let lax = lax_decoder();
    let mut s = SynthMatrix::new(strict.alphabet());
    s.text("京A12345", 0.7); // 0.7⁷ ≈ 0.08
    assert_eq!(run(&strict, &s).1, None);
    assert_eq!(text_of(&run(&lax, &s).1), Some("京A12345"));
    let cands = strict.candidates(&s.data(), s.shape()).expect("valid");
    assert_eq!(cands.first().map(|c| c.read.text.as_str()), Some("京A12345"));
    assert!(
        cands
            .windows(2)
            .all(|w| w[0].log_likelihood >= w[1].log_likelihood),
        "best first"
    );
}

#[test]
fn dictionary_variants_read_as_their_normal_form() {
    let d = decoder();
    let lower_a = d.alphabet().classes_for('A')[1] as usize;
    assert_eq!(d.alphabet().label(lower_a), "a");
    let mut s = SynthMatrix::new(d.alphabet());
    s.text("京", 0.9)
        .step_classes(&[(lower_a, 0.9)])
        .blank()
        .text("12345", 0.9);
    assert_eq!(text_of(&run(&d, &s).1), Some("京A12345"));

    // A flicker between spellings of one character ('A', 'a', 'A') is one character, not
    // three, even though greedy decoding reads three.
    let upper_a = d.alphabet().classes_for('A')[0] as usize;
    let mut s = SynthMatrix::new(d.alphabet());
    s.text("京", 0.9);
    s.step_classes(&[(upper_a, 0.8)])
        .step_classes(&[(lower_a, 0.8)])
        .step_classes(&[(upper_a, 0.8)]);
    s.blank().text("12345", 0.9);
    let (greedy, read) = run(&d, &s);
    assert_eq!(greedy, "京AaA12345");
    assert_eq!(text_of(&read), Some("京A12345"));
}

#[test]
fn configured_formats_regex_filters_and_regex_only_formats() {
    let grammar = PlateGrammar::from_format_configs(&[
        PlateFormatConfig {
            name: "no-zero".into(),
            regex: "[A-Z][1-9]".into(),
            positions: Some(vec!["A-Z".into(), "0-9".into()]),
        },
        PlateFormatConfig {
            name: "uk-current".into(),
            regex: "[A-Z]{2}[0-9]{2}[A-Z]{3}".into(),
            positions: None,
        },
    ])
    .expect("valid");
    let d = PlateDecoder::new(grammar, test_alphabet(), DecodeOptions::default()).expect("valid");
    let read = |text: &str| {
        let mut s = SynthMatrix::new(d.alphabet());
        s.text(text, 0.95);
        run(&d, &s).1
    };
    assert_eq!(read("B7").map(|r| r.format), Some("no-zero".to_owned()));
    assert_eq!(read("B0"), None, "positions allow 0, the regex does not");
    let uk = read("ab12cde").expect("regex-only format from the greedy text");
    assert_eq!((uk.text.as_str(), uk.format.as_str()), ("AB12CDE", "uk-current"));
    assert_eq!(uk.char_confidences.len(), 7);
}

#[test]
fn decoder_rejects_impossible_formats_and_bad_options() {
    let grammar = PlateGrammar::from_format_configs(&[PlateFormatConfig {
        name: "greek".into(),
        regex: "Ω[0-9]".into(),
        positions: Some(vec!["Ω".into(), "0-9".into()]),
    }])
    .expect("valid grammar");
    let err = PlateDecoder::new(grammar, test_alphabet(), DecodeOptions::default()).expect_err("Ω missing");
    assert!(
        matches!(&err, DecoderError::PositionNotInDictionary { format, position: 1, .. } if format == "greek"),
        "{err}"
    );
    let bad = DecodeOptions {
        min_confidence: f32::NAN,
    };
    assert!(PlateDecoder::new(PlateGrammar::cn_mainland(), test_alphabet(), bad).is_err());
}

proptest! {
    /// Any ordinary plate decodes to itself when each character competes with 'O' or 'I' —
    /// never valid on a mainland plate — even where the distractor beats the true character
    /// and greedy decoding reads it instead; 1–3 steps per character. The blank keeps less
    /// mass than the true character on its steps (otherwise the truth is not the most probable
    /// reading and no decoder should return it).
    #[test]
    fn plates_survive_invalid_distractors(
        plate in "[京沪粤皖][A-HJ-NP-Z][0-9A-HJ-NP-Z]{5}",
        reps in prop::collection::vec(1usize..4, 7),
        probs in prop::collection::vec(0.2f32..0.99, 7),
        blank_share in prop::collection::vec(0.0f32..1.0, 7),
    ) {
        let lax = lax_decoder();
        let mut s = SynthMatrix::new(lax.alphabet());
        s.blank();
        for (i, c) in plate.chars().enumerate() {
            let distractor = if i % 2 == 0 { 'O' } else { 'I' };
            let blank = ((1.0 - probs[i]) * blank_share[i]).min(probs[i] * 0.9);
            let n = 1.0 - probs[i] - blank;
            for _ in 0..reps[i] {
                s.step(&[(c, probs[i]), (distractor, n)]);
            }
            s.blank();
        }
        let (_, read) = run(&lax, &s);
        let read = read.expect("a plate at min_confidence 0");
        prop_assert_eq!(&read.text, &plate);
        prop_assert_eq!(read.format.as_str(), CN_ORDINARY);
        for (conf, p) in read.char_confidences.iter().zip(&probs) {
            prop_assert!((conf - p).abs() < 1e-6, "confidence is the true class's probability");
        }
    }

    /// Arbitrary values (NaN, infinities, negatives) and shapes never panic.
    #[test]
    fn arbitrary_input_never_panics(
        steps in 0usize..12,
        values in prop::collection::vec(prop::num::f32::ANY, 0..2000),
    ) {
        let d = decoder();
        let classes = d.alphabet().dictionary_len() + 2;
        let mut data = values;
        data.resize(steps * classes, 0.0);
        let _ = d.decode(&data, [steps, classes]).expect("shape is valid");
        let _ = d.decode(&data[..data.len().saturating_sub(1)], [steps, classes]);
    }
}
