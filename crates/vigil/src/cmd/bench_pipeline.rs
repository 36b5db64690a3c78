//! `vigil bench pipeline`: analysis throughput on vtest.avi with every frame analysed, next to
//! raw ONNX Runtime throughput of the same model and thread budget, measured in one run.
//!
//! Three measurements, alternated so that machine load hits them alike, medians reported:
//! * **raw ORT** — `workers` threads, each its own session with `intra` threads, running the
//!   model on tensors preprocessed beforehand: the ceiling.
//! * **pipeline, decoded frames** — the frames already in memory go through what `vigil run`
//!   does after decoding: the detector pool (letterbox, session, decode, NMS, fair scheduling,
//!   reordering) and the analysis stage (masks, tracker, zone rules, alerts with JPEG snapshots).
//! * **pipeline, live decode** — the same plus GStreamer decoding the file concurrently, through
//!   the camera source `vigil run` uses (no clock sync): what a CPU-only host really does.
//!
//! Every frame is analysed: submission is windowed so the pool's per-camera queue never
//! overflows, and the run fails if anything was dropped.

use crate::paths;
use crate::pipeline::analysis::Analysis;
use crate::pipeline::config::{PipelineConfig, parse};
use anyhow::{Context, Result, bail};
use std::path::Path;
use std::time::{Duration, Instant};
use vigil_core::Frame;
use vigil_infer::{Detector, SessionOptions, WorkerPool, frame_view, load_manifest};

/// Frames in flight between the feeder and the analysis loop: enough to keep every worker busy.
const WINDOW: usize = 8;

/// The camera id of the bench pipeline; decoded frames carry it, so the analysis finds its rules.
const CAMERA: &str = "vtest";

fn bench_config(data_dir: &Path, video: &Path, workers: usize, intra: usize) -> Result<PipelineConfig> {
    // The demo's campus camera: a zone over the middle of the walkway and an intrusion rule.
    let text = format!(
        r#"
[node]
id = "bench"
data_dir = "{}"

[detector]
workers = {workers}
intra_threads = {intra}
queue_per_camera = {WINDOW}

[[camera]]
id = "{CAMERA}"
uri = "file://{}"

[[camera.rules.zone]]
id = "lawn-middle"
points = [[0.30, 0.35], [0.75, 0.35], [0.75, 0.85], [0.30, 0.85]]

[[camera.rules.rule]]
id = "intrusion"
kind = "zone_intrusion"
zone = "lawn-middle"
"#,
        data_dir.display(),
        video.display()
    );
    parse("bench pipeline", &text).map_err(anyhow::Error::msg)
}

/// Decodes `video` through the camera source `vigil run` uses, as fast as possible; `sink`
/// receives every frame in order. Fails if a frame was dropped or the file did not finish.
fn decode(video: &Path, sink: impl FnMut(Frame)) -> Result<u64> {
    // Room for the whole clip: decoding runs ahead of inference, and no frame may be lost.
    let s = vigil_ingest::bench::decode_each(CAMERA, video, None, 4096, Duration::from_secs(600), sink)?;
    if s.received != s.frames {
        bail!(
            "decode of {} delivered {} of {} frames",
            video.display(),
            s.received,
            s.frames
        );
    }
    Ok(s.received)
}

/// Feeds frames into the pool and analyses results as they come; returns alerts raised.
struct Feeder<'a> {
    pool: &'a WorkerPool,
    analysis: Analysis,
    in_flight: usize,
    alerts: usize,
}

impl Feeder<'_> {
    fn take_one(&mut self) -> Result<()> {
        let r = self
            .pool
            .results()
            .recv_timeout(Duration::from_secs(60))
            .context("no result from the pool within 60 s")?;
        let dets = r.detections.map_err(|e| anyhow::anyhow!("{e}"))?;
        self.alerts += self.analysis.on_frame(&r.frame, &dets).len();
        self.in_flight -= 1;
        Ok(())
    }

    fn push(&mut self, f: Frame) -> Result<()> {
        while self.in_flight >= WINDOW {
            self.take_one()?;
        }
        if !self.pool.submit(f) {
            bail!("the pool refused a frame");
        }
        self.in_flight += 1;
        Ok(())
    }

    fn drain(&mut self) -> Result<()> {
        while self.in_flight > 0 {
            self.take_one()?;
        }
        Ok(())
    }
}

/// One pipeline pass: frames from memory, or decoded live when `frames` is `None`. Returns
/// (frames, seconds, alerts).
fn pipeline_pass(cfg: &PipelineConfig, video: &Path, frames: Option<&[Frame]>) -> Result<(u64, f64, usize)> {
    let pool = crate::pipeline::detector_pool::start(cfg, &paths::model_dir())?;
    let mut feeder = Feeder {
        pool: &pool,
        analysis: Analysis::new(cfg, None, None)?,
        in_flight: 0,
        alerts: 0,
    };
    let started = Instant::now();
    let mut err = None;
    let n = match frames {
        Some(fs) => {
            for f in fs {
                feeder.push(f.clone())?;
            }
            fs.len() as u64
        }
        None => decode(video, |f| {
            if err.is_none()
                && let Err(e) = feeder.push(f)
            {
                err = Some(e);
            }
        })?,
    };
    if let Some(e) = err {
        return Err(e);
    }
    feeder.drain()?;
    let secs = started.elapsed().as_secs_f64();
    let dropped = pool
        .stats()
        .frames_dropped
        .load(std::sync::atomic::Ordering::Relaxed);
    let alerts = feeder.alerts;
    drop(feeder);
    pool.shutdown(Duration::from_secs(10));
    if dropped > 0 {
        bail!("the pool dropped {dropped} frame(s): not every frame was analysed");
    }
    Ok((n, secs, alerts))
}

/// Raw ONNX Runtime: `workers` threads, each a session with `intra` threads, over the
/// preprocessed tensors (cycled to `count` runs). Returns seconds.
fn raw_pass(sessions: &mut [Detector], tensors: &[Vec<f32>], count: usize) -> Result<f64> {
    let workers = sessions.len();
    let started = Instant::now();
    std::thread::scope(|s| -> Result<()> {
        let handles: Vec<_> = sessions
            .iter_mut()
            .enumerate()
            .map(|(w, det)| {
                s.spawn(move || -> Result<()> {
                    for i in (w..count).step_by(workers) {
                        std::hint::black_box(det.run_tensor(&tensors[i % tensors.len()])?);
                    }
                    Ok(())
                })
            })
            .collect();
        for h in handles {
            h.join()
                .map_err(|_| anyhow::anyhow!("a raw ORT thread panicked"))??;
        }
        Ok(())
    })?;
    Ok(started.elapsed().as_secs_f64())
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Runs the benchmark and prints a Markdown table.
pub fn run(workers: usize, intra: usize, rounds: usize) -> Result<()> {
    let video = paths::media_dir().join("vtest.avi");
    let video = video
        .canonicalize()
        .with_context(|| format!("{} (run `make setup`)", video.display()))?;
    let dir = tempfile::tempdir()?;
    let cfg = bench_config(dir.path(), &video, workers, intra)?;

    let mut frames = Vec::new();
    decode(&video, |f| frames.push(f))?;
    let n = frames.len();
    // Raw tensors: the first 200 frames, cycled (a session's cost does not depend on content;
    // all 795 would hold 1.6 GB of floats).
    let manifest = load_manifest(&paths::model_dir().join(format!("{}.toml", cfg.detector.model)))?;
    let opts = SessionOptions {
        intra_threads: intra,
        ..Default::default()
    };
    let mut sessions = (0..workers)
        .map(|_| Detector::new(manifest.clone(), &paths::model_dir(), &opts))
        .collect::<Result<Vec<_>, _>>()?;
    let tensors: Vec<Vec<f32>> = frames
        .iter()
        .take(200)
        .map(|f| {
            sessions[0].preprocess(frame_view(f))?;
            Ok(sessions[0].input_tensor().to_vec())
        })
        .collect::<Result<_, vigil_infer::InferError>>()?;

    let (mut raw, mut mem, mut live) = (Vec::new(), Vec::new(), Vec::new());
    let mut alerts = (0, 0);
    for round in 0..rounds.max(1) {
        raw.push(n as f64 / raw_pass(&mut sessions, &tensors, n)?);
        let (m, s, a) = pipeline_pass(&cfg, &video, Some(&frames))?;
        mem.push(m as f64 / s);
        let (l, s, b) = pipeline_pass(&cfg, &video, None)?;
        if l as usize != n {
            bail!("live decode gave {l} frames, the first decode {n}");
        }
        live.push(l as f64 / s);
        alerts = (a, b);
        eprintln!(
            "[bench] round {}: raw {:.1} fps, pipeline {:.1} fps, with live decode {:.1} fps",
            round + 1,
            raw[round],
            mem[round],
            live[round]
        );
    }
    let (r, m, l) = (median(&mut raw), median(&mut mem), median(&mut live));
    println!(
        "vtest.avi, {n} frames (768×576), every frame analysed; {workers} worker(s) × {intra} intra-op thread(s); medians of {} rounds\n",
        rounds.max(1)
    );
    println!("| configuration | frames/s | ÷ raw |\n|---|---|---|");
    println!("| raw ORT ({workers} session(s) × {intra} thread(s), preprocessed tensors) | {r:.1} | 1.00 |");
    println!(
        "| pipeline from decoded frames (pool + tracker + rules + snapshots; {} alerts) | {m:.1} | {:.2} |",
        alerts.0,
        m / r
    );
    println!(
        "| pipeline with live GStreamer decode ({} alerts) | {l:.1} | {:.2} |",
        alerts.1,
        l / r
    );
    Ok(())
}
