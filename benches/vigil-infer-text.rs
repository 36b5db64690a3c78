//! Plate-stage geometry: DB box extraction on a detector-sized probability map and perspective
//! rectification of a plate-sized strip. Both run once per vehicle crop, beside two model calls.

#![allow(missing_docs)] // criterion's macros generate undocumented items

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use vigil_core::PointPx;
use vigil_core::model::{ColorOrder, Letterbox as Placement};
use vigil_infer::letterbox::{Letterbox, Rgb8View};
use vigil_infer::ocr::ProbMap;
use vigil_infer::textbox::{DbParams, extract_boxes};
use vigil_infer::warp::{rectify, warp_quad};

/// A 640×352 map like the detector's on a 1920×1080 frame: a few text blobs (one rotated plate)
/// over low-level noise with scattered speckles.
fn synthetic_map() -> ProbMap {
    let (w, h) = (640u32, 352u32);
    let (s, c) = 8f64.to_radians().sin_cos();
    let data = (0..w * h)
        .map(|i| {
            let (x, y) = ((i % w) as f64, (i / w) as f64);
            let (dx, dy) = (x - 320.0, y - 200.0);
            let plate = (dx * c + dy * s).abs() < 60.0 && (-dx * s + dy * c).abs() < 14.0;
            let line = (40.0..300.0).contains(&x) && (30.0..48.0).contains(&y) && (x as u32 / 20) % 4 != 3;
            let speck = (i.wrapping_mul(2_654_435_761) >> 24) % 97 == 0;
            if plate || line {
                0.85
            } else if speck {
                0.6
            } else {
                ((i % 13) as f32) / 100.0
            }
        })
        .collect();
    let placement = Letterbox::new(1920, 1080, w, h, Placement::TopLeft).expect("sizes");
    ProbMap {
        width: w,
        height: h,
        data,
        placement,
    }
}

fn textbox(c: &mut Criterion) {
    let map = synthetic_map();
    let params = DbParams::default();
    c.bench_function("db_boxes_640x352", |b| {
        b.iter(|| black_box(extract_boxes(&map, &params).expect("boxes")))
    });
}

fn warp(c: &mut Criterion) {
    let (w, h) = (320u32, 160u32);
    let img: Vec<u8> = (0..w * h * 3).map(|i| (i % 251) as u8).collect();
    let view = Rgb8View {
        width: w,
        height: h,
        stride: (w * 3) as usize,
        color: ColorOrder::Rgb,
        data: &img,
    };
    // A 200×60 plate rotated by about 10°.
    let corners = [(60.0, 40.0), (257.0, 75.0), (247.0, 134.0), (50.0, 99.0)].map(|(x, y)| PointPx { x, y });
    c.bench_function("warp_quad_200x60", |b| {
        b.iter(|| black_box(warp_quad(view, corners, 200, 60).expect("warp")))
    });
    c.bench_function("rectify_200x60", |b| {
        b.iter(|| black_box(rectify(view, corners).expect("rectify")))
    });
}

criterion_group!(benches, textbox, warp);
criterion_main!(benches);
