//! Inference hot path: preprocessing, the YOLOX-Nano session, decode + NMS, and pool throughput
//! measured side by side with a raw ONNX Runtime loop over the same tensors and thread count.
#![allow(missing_docs)] // criterion's macros generate undocumented items

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;
use vigil_benches::{model_dir, vtest_frames};
use vigil_core::Frame;
use vigil_core::model::ColorOrder;
use vigil_infer::letterbox::{Preprocessor, Rgb8View};
use vigil_infer::{
    DetectParams, Detector, PoolConfig, PooledDetector, SessionOptions, WorkerPool, frame_view, load_manifest,
};

fn detector(intra: usize) -> Detector {
    let m = load_manifest(&model_dir().join("yolox-nano.toml")).expect("manifest");
    Detector::new(
        m,
        &model_dir(),
        &SessionOptions {
            intra_threads: intra,
            ..Default::default()
        },
    )
    .expect("model (run make setup)")
}

fn preprocess(c: &mut Criterion) {
    let m = load_manifest(&model_dir().join("yolox-nano.toml")).expect("manifest");
    let mut g = c.benchmark_group("preprocess_letterbox_416");
    for (w, h) in [(1024u32, 576u32), (1920, 1080)] {
        let img: Vec<u8> = (0..w * h * 3).map(|i| (i % 251) as u8).collect();
        let mut pre = Preprocessor::new(&m.input);
        let mut out = vec![0f32; 3 * 416 * 416];
        g.bench_function(BenchmarkId::from_parameter(format!("{w}x{h}")), |b| {
            b.iter(|| {
                let v = Rgb8View {
                    width: w,
                    height: h,
                    stride: (w * 3) as usize,
                    color: ColorOrder::Rgb,
                    data: &img,
                };
                black_box(pre.write_chw(v, 416, 416, &mut out).expect("ok"))
            })
        });
    }
    g.finish();
}

fn session_and_decode(c: &mut Criterion) {
    let frames = vtest_frames(101);
    let frame = &frames[100];
    let mut det = detector(1);
    let lb = det.preprocess(frame_view(frame)).expect("pre");
    let mut g = c.benchmark_group("yolox_nano");
    g.bench_function("session_run_intra1", |b| {
        b.iter(|| black_box(det.run_raw().expect("run")))
    });
    let raw = det.run_raw().expect("run");
    let params = DetectParams::default();
    g.bench_function("decode_nms", |b| {
        b.iter(|| black_box(det.postprocess(&raw, &lb, &params).expect("post")))
    });
    g.finish();
}

/// Raw ORT loop vs the pool over the same frames and the same total thread count (2 = cores).
/// 100 frames per iteration: long enough that the pool's start-up and drain (the last frame on
/// one worker while the other idles) weigh ~1 %, as in a pipeline that runs for hours.
fn pool_vs_raw(c: &mut Criterion) {
    const N: usize = 100;
    let frames: Vec<Frame> = vtest_frames(N);
    let mut g = c.benchmark_group("throughput_vtest_100_frames");
    g.throughput(Throughput::Elements(N as u64));
    g.sample_size(10).measurement_time(Duration::from_secs(20));

    // Raw ONNX Runtime: the same frames preprocessed once up front, then a plain loop of session
    // runs — once as one session with 2 intra-op threads, once as 2 sessions × 1 thread on two
    // threads (the same thread budgets as the two pool shapes below).
    let mut raw = detector(2);
    let tensors: Vec<Vec<f32>> = frames
        .iter()
        .map(|f| {
            raw.preprocess(frame_view(f)).expect("pre");
            raw.input_tensor().to_vec()
        })
        .collect();
    g.bench_function("raw_ort_1x2threads", |b| {
        b.iter(|| {
            for t in &tensors {
                black_box(raw.run_tensor(t).expect("run"));
            }
        })
    });
    drop(raw);
    let mut pair = [detector(1), detector(1)];
    g.bench_function("raw_ort_2x1threads", |b| {
        b.iter(|| {
            let (a, c) = pair.split_at_mut(1);
            let (ta, tc) = tensors.split_at(N / 2);
            std::thread::scope(|s| {
                s.spawn(|| {
                    ta.iter()
                        .for_each(|t| drop(black_box(a[0].run_tensor(t).expect("run"))))
                });
                s.spawn(|| {
                    tc.iter()
                        .for_each(|t| drop(black_box(c[0].run_tensor(t).expect("run"))))
                });
            });
        })
    });
    drop(pair);

    for (workers, intra) in [(1usize, 2usize), (2, 1)] {
        let dets: Vec<PooledDetector> = (0..workers)
            .map(|_| PooledDetector {
                detector: detector(intra),
                params: DetectParams::default(),
            })
            .collect();
        let pool = WorkerPool::new(
            dets,
            PoolConfig {
                queue_per_camera: N,
                ..Default::default()
            },
        )
        .expect("pool");
        let rx = pool.results().clone();
        g.bench_function(format!("pool_{workers}x{intra}threads"), |b| {
            b.iter(|| {
                for f in &frames {
                    pool.submit(f.clone());
                }
                for _ in 0..N {
                    black_box(rx.recv().expect("result"));
                }
            })
        });
        pool.shutdown(Duration::from_secs(10));
    }
    g.finish();
}

criterion_group!(benches, preprocess, session_and_decode, pool_vs_raw);
criterion_main!(benches);
