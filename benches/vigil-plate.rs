//! Plate text decoding cost per crop on PP-OCRv4-sized recogniser output: `[40, 6625]`
//! (40 time steps; blank + 6623 dictionary entries + trailing space).
//!
//! The matrix holds a clean "京A12345" read, 3 steps per character, on a floor of small
//! non-zero values like a real softmax, so every class is scanned as in production.

// criterion_group! generates an undocumented pub fn.
#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use vigil_plate::synth::{SynthMatrix, ppocr_like_dictionary};
use vigil_plate::{
    CtcAlphabet, DecodeOptions, PlateDecoder, PlateGrammar, PlateRead, PlateVoter, VoterConfig,
};

const STEPS: usize = 40;

fn matrix(alphabet: &CtcAlphabet) -> (Vec<f32>, [usize; 2]) {
    let mut s = SynthMatrix::new(alphabet);
    s.blank().blank();
    for c in "京A12345".chars() {
        s.step(&[(c, 0.7)])
            .step(&[(c, 0.95)])
            .step(&[(c, 0.6)])
            .blank()
            .blank();
    }
    while s.shape()[0] < STEPS {
        s.blank();
    }
    let shape = s.shape();
    let data = s.data().into_iter().map(|p| p.max(1e-6)).collect();
    (data, shape)
}

fn bench(c: &mut Criterion) {
    let dictionary = ppocr_like_dictionary(6623);
    let alphabet = CtcAlphabet::new(&dictionary);
    let (data, shape) = matrix(&alphabet);
    assert_eq!(shape, [STEPS, 6625]);
    let decoder = PlateDecoder::new(PlateGrammar::cn_mainland(), alphabet, DecodeOptions::default())
        .expect("built-in grammar fits the dictionary");
    let read = decoder.decode(&data, shape).expect("valid").expect("a plate");
    assert_eq!(read.text, "京A12345");

    c.bench_function("plate/ctc_greedy_40x6625", |b| {
        b.iter(|| decoder.greedy(black_box(&data), shape).expect("valid"))
    });
    c.bench_function("plate/ctc_constrained_40x6625", |b| {
        b.iter(|| decoder.decode(black_box(&data), shape).expect("valid"))
    });
    c.bench_function("plate/vote_10_reads", |b| {
        let reads: Vec<PlateRead> = (0..10)
            .map(|i| PlateRead {
                text: if i % 3 == 0 {
                    "京A12B45".into()
                } else {
                    read.text.clone()
                },
                ..read.clone()
            })
            .collect();
        b.iter(|| {
            let mut voter = PlateVoter::<u64>::new(VoterConfig {
                min_agreeing_reads: 20,
                ..Default::default()
            })
            .expect("valid");
            for r in &reads {
                voter.push(1, r.clone());
            }
            voter.finish(&1)
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
