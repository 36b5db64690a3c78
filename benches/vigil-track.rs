//! Tracker update cost per frame with 20 and 100 objects in view.
//!
//! Objects move on circles with a period of `PERIOD` frames, so the pre-generated frames can be
//! replayed in a loop without a jump: the tracker stays in steady state (every object matched,
//! no births or deaths) and the numbers measure association plus Kalman work, not start-up.

// criterion_group! generates an undocumented pub fn.
#![allow(missing_docs)]

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use vigil_core::{BoxPx, ClassId, Detection};
use vigil_track::{Tracker, TrackerConfig};

const PERIOD: usize = 240;

/// `n` objects on a 1920×1080 frame: a grid of circle centres, radius 40 px, 50×100 px boxes,
/// each object a low-score box one frame in five so the second pass runs too.
fn frames(n: usize) -> Vec<Vec<Detection>> {
    let cols = (n as f32).sqrt().ceil() as usize;
    (0..PERIOD)
        .map(|f| {
            let phase = f as f32 / PERIOD as f32 * std::f32::consts::TAU;
            (0..n)
                .map(|i| {
                    let (gx, gy) = ((i % cols) as f32, (i / cols) as f32);
                    let cx = 100.0 + gx * 1700.0 / cols as f32 + 40.0 * (phase + i as f32).cos();
                    let cy = 100.0 + gy * 900.0 / cols as f32 + 40.0 * (phase + i as f32).sin();
                    Detection {
                        class: ClassId((i % 2) as u16),
                        label: if i % 2 == 0 { "person".into() } else { "car".into() },
                        bbox: BoxPx::from_center(cx, cy, 50.0, 100.0),
                        score: if (f + i) % 5 == 0 { 0.3 } else { 0.9 },
                    }
                })
                .collect()
        })
        .collect()
}

fn bench_update(c: &mut Criterion) {
    let mut group = c.benchmark_group("track_update");
    for n in [20usize, 100] {
        let frames = frames(n);
        let mut tracker = Tracker::new(TrackerConfig::default()).expect("default config is valid");
        // Warm up into steady state: all tracks born and confirmed.
        for (f, dets) in frames.iter().enumerate() {
            tracker.update(dets, f as u64);
        }
        let mut f = 0usize;
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| {
                let u = tracker.update(black_box(&frames[f % PERIOD]), f as u64);
                f += 1;
                black_box(u)
            })
        });
        assert_eq!(tracker.live_tracks(), n, "steady state: one track per object");
    }
    group.finish();
}

criterion_group!(benches, bench_update);
criterion_main!(benches);
