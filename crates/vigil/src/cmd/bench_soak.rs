//! `vigil bench soak`: N simulated cameras analysed for a long run, the way `vigil run` analyses
//! real ones, sampled every few seconds: achieved analysis fps and drops per camera, this
//! process's CPU and RSS (and the RSS trend), frame → alert latency.
//!
//! camsim runs as a *child process* (`vigil camsim`) so that the CPU time and memory read from
//! `/proc/self` are the pipeline's alone; it is killed when the bench ends, also on error (a drop
//! guard) and on Ctrl-C/SIGTERM (the run stops early and reports what it measured).
//!
//! Frame → alert latency is the time from a frame's arrival at ingest (its wall-clock time,
//! which the alert carries as `time`) to the moment the alert is durably in the outbox
//! (`on_alert`): queueing, inference, tracking, rules, snapshot encoding and the outbox fsync.

use crate::paths;
use crate::pipeline::config::{PipelineConfig, parse};
use crate::pipeline::shared::lock;
use anyhow::{Context, Result, bail};
use std::fmt::Write as _;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Arguments of `vigil bench soak`.
#[derive(Debug, Clone, clap::Args)]
pub struct SoakArgs {
    /// Simulated cameras (camsim mounts of vtest.avi), all analysed by one pipeline.
    #[arg(long, default_value_t = 8)]
    pub cameras: usize,
    /// Analysis frames per second requested per camera (`analysis_fps`).
    #[arg(long, default_value_t = 5.0)]
    pub fps: f64,
    /// Frames per second camsim streams on each camera.
    #[arg(long, default_value_t = 10)]
    pub stream_fps: u32,
    /// Measured seconds, after the warm-up.
    #[arg(long, default_value_t = 600)]
    pub seconds: u64,
    /// Seconds of warm-up, excluded from every figure (connecting, model load, first tracks).
    #[arg(long, default_value_t = 30)]
    pub warmup: u64,
    /// Seconds between samples (progress lines and the RSS trend).
    #[arg(long, default_value_t = 10)]
    pub sample: u64,
    /// Detector workers (sessions).
    #[arg(long, default_value_t = 2)]
    pub workers: usize,
    /// ONNX Runtime intra-op threads per worker.
    #[arg(long, default_value_t = 1)]
    pub intra: usize,
}

/// camsim as a child process; killed (and reaped) on drop.
struct CamsimChild {
    child: Child,
    /// `rtsp://127.0.0.1:PORT`; mounts are `/cam0`, `/cam1`, …
    base: String,
    /// Where the child's log (stderr) goes.
    log: PathBuf,
}

impl CamsimChild {
    fn spawn(video: &Path, cameras: usize, fps: u32, log: &Path) -> Result<Self> {
        let exe = std::env::current_exe().context("locating the vigil binary to run camsim")?;
        let stderr = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let mut cmd = Command::new(&exe);
        // Port 0: camsim binds a free port and prints the URLs it serves.
        cmd.args(["camsim", "--port", "0", "--fps", &fps.to_string()]);
        for i in 0..cameras {
            cmd.arg(format!("/cam{i}={}", video.display()));
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .with_context(|| format!("starting {} camsim", exe.display()))?;
        // The guard exists from here on: any error below kills the child.
        let mut guard = Self {
            child,
            base: String::new(),
            log: log.to_path_buf(),
        };
        let stdout = guard
            .child
            .stdout
            .take()
            .context("camsim's stdout was not captured")?;
        let (tx, rx) = crossbeam_channel::unbounded();
        // Drains stdout until the child exits, so a late line never blocks it on a full pipe.
        std::thread::Builder::new()
            .name("camsim-stdout".into())
            .spawn(move || {
                for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                    let _ = tx.send(line);
                }
            })?;
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut first = None;
        let mut served = 0;
        while served < cameras {
            match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) => {
                    if let Some(url) = line.strip_prefix("serving ") {
                        served += 1;
                        first.get_or_insert_with(|| url.trim().to_string());
                    }
                }
                Err(_) => bail!(
                    "camsim served {served} of {cameras} mounts within 30 s (exited or stuck); its log:\n{}",
                    log_tail(&guard.log)
                ),
            }
        }
        let first = first.unwrap_or_default();
        guard.base = first
            .strip_suffix("/cam0")
            .with_context(|| format!("camsim's first URL {first} does not end in /cam0"))?
            .to_string();
        Ok(guard)
    }

    /// CPU time of the child (user + system).
    fn cpu(&self) -> Option<Duration> {
        vigil_ingest::bench::cpu_time_of(self.child.id())
    }
}

impl Drop for CamsimChild {
    fn drop(&mut self) {
        // Already gone is fine; the wait reaps it either way.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The last lines of a log file, for error messages.
fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// VmRSS in MiB from the text of `/proc/<pid>/status`.
fn parse_vmrss_mib(status: &str) -> Option<f64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// The 1-minute load average from the text of `/proc/loadavg`.
fn parse_load1(loadavg: &str) -> Option<f64> {
    loadavg.split_whitespace().next()?.parse().ok()
}

/// Nearest-rank percentile (`p` in 0..=100) of sorted values.
fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// Least-squares slope of `(seconds, MiB)` points, in MiB per hour; `None` under two distinct
/// times.
fn slope_mib_per_hour(points: &[(f64, f64)]) -> Option<f64> {
    let n = points.len() as f64;
    if points.len() < 2 {
        return None;
    }
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    (sxx > 0.0).then(|| sxy / sxx * 3600.0)
}

/// Sample times (seconds from start): every `sample` s through the warm-up, one at its end (the
/// baseline), every `sample` s after it, and one at the end of the measured window.
fn schedule(warmup: u64, seconds: u64, sample: u64) -> Vec<u64> {
    let sample = sample.max(1);
    let mut ts: Vec<u64> = (1..).map(|k| k * sample).take_while(|&t| t < warmup).collect();
    ts.extend(
        (0..)
            .map(|k| warmup + k * sample)
            .take_while(|&t| t < warmup + seconds),
    );
    ts.push(warmup + seconds);
    ts.dedup();
    ts
}

/// One reading of every counter.
#[derive(Debug, Clone, Default)]
struct Sample {
    /// Seconds since the pipeline started.
    at_s: f64,
    /// Per camera (config order): frames analysed, frames received by ingest, ingest drops.
    analysed: Vec<u64>,
    ingest_in: Vec<u64>,
    ingest_dropped: Vec<u64>,
    /// Frames the detector pool dropped (all cameras; its queues are per camera, its counter is
    /// not).
    pool_dropped: u64,
    /// CPU time of this process and of the camsim child, seconds.
    cpu_s: f64,
    camsim_cpu_s: f64,
    rss_mib: f64,
    load1: f64,
    alerts: usize,
}

/// Alerts as they reach the outbox: (when, latency ms).
type Latencies = Arc<Mutex<Vec<(Instant, f64)>>>;

fn soak_config(a: &SoakArgs, base: &str, data_dir: &Path) -> Result<PipelineConfig> {
    let mut text = format!(
        r#"
[node]
id = "soak"
data_dir = "{}"

[detector]
workers = {}
intra_threads = {}

[[sink]]
name = "jsonl"
[sink.sink.file]
path = "{}"
"#,
        data_dir.display(),
        a.workers,
        a.intra,
        data_dir.join("alerts.jsonl").display()
    );
    // Each camera: the demo's campus zone over the middle of the walkway and its intrusion rule.
    for i in 0..a.cameras {
        write!(
            text,
            r#"
[[camera]]
id = "cam{i}"
uri = "{base}/cam{i}"
analysis_fps = {}

[[camera.rules.zone]]
id = "lawn-middle"
coords = "normalized"
points = [[0.30, 0.35], [0.75, 0.35], [0.75, 0.85], [0.30, 0.85]]

[[camera.rules.rule]]
id = "lawn-intrusion"
kind = "zone_intrusion"
zone = "lawn-middle"
classes = ["person"]
min_inside_s = 1.0
"#,
            a.fps
        )?;
    }
    parse("bench soak", &text).map_err(anyhow::Error::msg)
}

fn read_sample(
    p: &crate::pipeline::Pipeline,
    camsim: &CamsimChild,
    ids: &[String],
    at_s: f64,
    alerts: usize,
) -> Sample {
    let shared = p.shared();
    let analysed = {
        let m = lock(&shared.analysed);
        ids.iter().map(|id| m.get(id).copied().unwrap_or(0)).collect()
    };
    let states = p.camera_states();
    let state_of = |id: &str| states.iter().find(|s| s.camera.as_str() == id);
    Sample {
        at_s,
        analysed,
        ingest_in: ids
            .iter()
            .map(|id| state_of(id).map_or(0, |s| s.frames_in))
            .collect(),
        ingest_dropped: ids
            .iter()
            .map(|id| state_of(id).map_or(0, |s| s.frames_dropped))
            .collect(),
        pool_dropped: shared.pool.frames_dropped.load(Ordering::Relaxed),
        cpu_s: vigil_ingest::bench::process_cpu_time().as_secs_f64(),
        camsim_cpu_s: camsim.cpu().unwrap_or_default().as_secs_f64(),
        rss_mib: std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| parse_vmrss_mib(&s))
            .unwrap_or(0.0),
        load1: std::fs::read_to_string("/proc/loadavg")
            .ok()
            .and_then(|s| parse_load1(&s))
            .unwrap_or(0.0),
        alerts,
    }
}

/// The progress line for a sample, rates since the previous one.
fn progress(s: &Sample, prev: &Sample, total_s: u64, warm: bool) -> String {
    let dt = (s.at_s - prev.at_s).max(1e-9);
    let fps: Vec<String> = s
        .analysed
        .iter()
        .zip(&prev.analysed)
        .map(|(a, b)| format!("{:.1}", a.saturating_sub(*b) as f64 / dt))
        .collect();
    format!(
        "[soak] {:>4.0}/{total_s} s{} | fps {} | drops ingest {} pool {} | CPU {:.0} % | RSS {:.1} MiB | load {:.2} | alerts {}",
        s.at_s,
        if warm { " (warm-up)" } else { "" },
        fps.join(" "),
        s.ingest_dropped.iter().sum::<u64>(),
        s.pool_dropped,
        (s.cpu_s - prev.cpu_s) / dt * 100.0,
        s.rss_mib,
        s.load1,
        s.alerts
    )
}

/// What the report needs besides the samples.
struct RunInfo<'a> {
    args: &'a SoakArgs,
    ids: &'a [String],
    model: &'a str,
    /// Latencies (ms) of alerts stored after the warm-up.
    latencies_ms: Vec<f64>,
    /// The run was cut short by a signal.
    stopped_early: bool,
}

/// The Markdown report over the samples after the warm-up (`window[0]` is the baseline).
fn report(info: &RunInfo, window: &[Sample], load_start: f64) -> String {
    let a = info.args;
    let (Some(first), Some(last)) = (window.first(), window.last()) else {
        return "no sample after the warm-up: nothing measured\n".into();
    };
    let secs = (last.at_s - first.at_s).max(1e-9);
    let mut out = format!(
        "{} simulated cameras (camsim child process, vtest.avi 768×576 looped at {} fps each) × {} analysis fps requested; {:.0} s measured after a {} s warm-up{}; detector {}, {} worker(s) × {} intra-op thread(s); {} build; samples every {} s\n\n",
        a.cameras,
        a.stream_fps,
        a.fps,
        secs,
        a.warmup,
        if info.stopped_early {
            " (stopped early by a signal)"
        } else {
            ""
        },
        info.model,
        a.workers,
        a.intra,
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        a.sample
    );
    out.push_str(
        "| camera | analysed fps | ÷ requested | ingest fps | ingest drops |\n|---|---|---|---|---|\n",
    );
    let (mut all_fps, mut all_drops) = (0.0, 0);
    for (i, id) in info.ids.iter().enumerate() {
        let fps = last.analysed[i].saturating_sub(first.analysed[i]) as f64 / secs;
        let ingest = last.ingest_in[i].saturating_sub(first.ingest_in[i]) as f64 / secs;
        let drops = last.ingest_dropped[i].saturating_sub(first.ingest_dropped[i]);
        all_fps += fps;
        all_drops += drops;
        let _ = writeln!(
            out,
            "| {id} | {fps:.2} | {:.2} | {ingest:.2} | {drops} |",
            fps / a.fps
        );
    }
    let _ = writeln!(
        out,
        "| **all** | {all_fps:.2} | {:.2} | | {all_drops} |\n",
        all_fps / (a.fps * a.cameras as f64)
    );
    let rss: Vec<(f64, f64)> = window.iter().map(|s| (s.at_s, s.rss_mib)).collect();
    let slope = slope_mib_per_hour(&rss).map_or("n/a".into(), |s| format!("{s:+.1} MiB/h"));
    let mut lat = info.latencies_ms.clone();
    lat.sort_by(f64::total_cmp);
    let ms = |p: f64| percentile(&lat, p).map_or("n/a".into(), |v| format!("{v:.0} ms"));
    let mean_load = window.iter().map(|s| s.load1).sum::<f64>() / window.len() as f64;
    out.push_str("| measure | value |\n|---|---|\n");
    let rows = [
        (
            "detector pool drops (all cameras)".to_string(),
            last.pool_dropped.saturating_sub(first.pool_dropped).to_string(),
        ),
        (
            "vigil CPU, average (% of one core)".into(),
            format!("{:.0} %", (last.cpu_s - first.cpu_s) / secs * 100.0),
        ),
        (
            "camsim child CPU, average (% of one core; not in the figure above)".into(),
            format!("{:.0} %", (last.camsim_cpu_s - first.camsim_cpu_s) / secs * 100.0),
        ),
        (
            "RSS after warm-up → at end".into(),
            format!("{:.1} MiB → {:.1} MiB", first.rss_mib, last.rss_mib),
        ),
        (
            format!("RSS slope (least squares over {} samples)", rss.len()),
            slope,
        ),
        ("alerts stored after warm-up".into(), lat.len().to_string()),
        (
            "frame → alert latency p50 / p99 / max".into(),
            format!("{} / {} / {}", ms(50.0), ms(99.0), ms(100.0)),
        ),
        (
            "load average (1 min): at start / mean over the window / at end".into(),
            format!("{load_start:.2} / {mean_load:.2} / {:.2}", last.load1),
        ),
    ];
    for (k, v) in rows {
        let _ = writeln!(out, "| {k} | {v} |");
    }
    out
}

/// Runs the soak and prints the Markdown report; fails when a camera never streamed.
pub fn run(a: SoakArgs) -> Result<()> {
    anyhow::ensure!(a.cameras >= 1, "--cameras must be at least 1");
    anyhow::ensure!(a.fps > 0.0, "--fps must be above 0 (analysis frames per second)");
    anyhow::ensure!(
        a.seconds >= 1 && a.sample >= 1,
        "--seconds and --sample must be at least 1"
    );
    let video = paths::media_dir().join("vtest.avi");
    let video = video
        .canonicalize()
        .with_context(|| format!("{} (fix: make setup)", video.display()))?;
    let dir = tempfile::tempdir()?;
    let camsim = CamsimChild::spawn(&video, a.cameras, a.stream_fps, &dir.path().join("camsim.log"))?;
    let cfg = soak_config(&a, &camsim.base, &dir.path().join("data"))?;
    let ids: Vec<String> = cfg.cameras.iter().map(|c| c.id.clone()).collect();
    let stop = crate::signals::install().stop;
    let load_start = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| parse_load1(&s))
        .unwrap_or(0.0);

    let latencies: Latencies = Arc::default();
    let sink = latencies.clone();
    let on_alert = move |alert: &vigil_core::alert::Alert| {
        let ms = alert
            .time
            .parse::<jiff::Timestamp>()
            .map(|t| jiff::Timestamp::now().duration_since(t).as_secs_f64() * 1000.0);
        match ms {
            Ok(ms) => lock(&sink).push((Instant::now(), ms)),
            Err(e) => {
                tracing::warn!(time = %alert.time, error = %e, "alert time is not RFC 3339: no latency")
            }
        }
    };
    eprintln!(
        "[soak] camsim (pid {}) serves {} cameras at {}/cam0…; running {} s warm-up + {} s measured",
        camsim.child.id(),
        a.cameras,
        camsim.base,
        a.warmup,
        a.seconds
    );
    let pipeline = crate::pipeline::Pipeline::start(&cfg, &paths::model_dir(), None, on_alert)?;
    let started = Instant::now();
    let alerts_now = || lock(&latencies).len();
    let mut samples = vec![read_sample(&pipeline, &camsim, &ids, 0.0, 0)];
    let mut warmup_end = None;
    let total = a.warmup + a.seconds;
    let mut stopped_early = false;
    for t in schedule(a.warmup, a.seconds, a.sample) {
        let due = started + Duration::from_secs(t);
        while Instant::now() < due && !stop.load(Ordering::Relaxed) {
            std::thread::sleep(
                due.saturating_duration_since(Instant::now())
                    .min(Duration::from_millis(200)),
            );
        }
        stopped_early = stop.load(Ordering::Relaxed);
        let s = read_sample(
            &pipeline,
            &camsim,
            &ids,
            started.elapsed().as_secs_f64(),
            alerts_now(),
        );
        let prev = samples.last().cloned().unwrap_or_default();
        eprintln!("{}", progress(&s, &prev, total, t <= a.warmup));
        if t == a.warmup {
            warmup_end = Some((samples.len(), Instant::now()));
        }
        samples.push(s);
        if stopped_early {
            break;
        }
    }
    let summary = pipeline.stop(Duration::from_secs(5));
    drop(camsim);

    let (window, latencies_ms) = match warmup_end {
        Some((i, at)) => (
            &samples[i..],
            lock(&latencies)
                .iter()
                .filter(|(when, _)| *when >= at)
                .map(|(_, ms)| *ms)
                .collect(),
        ),
        None => (&samples[samples.len()..], Vec::new()),
    };
    let info = RunInfo {
        args: &a,
        ids: &ids,
        model: &cfg.detector.model,
        latencies_ms,
        stopped_early,
    };
    print!("{}", report(&info, window, load_start));
    let last = samples.last().cloned().unwrap_or_default();
    let silent: Vec<&str> = ids
        .iter()
        .zip(&last.ingest_in)
        .filter(|(_, n)| **n == 0)
        .map(|(id, _)| id.as_str())
        .collect();
    if !silent.is_empty() {
        bail!(
            "camera(s) {} never streamed (no frame received from camsim; frames analysed per camera: {:?})",
            silent.join(", "),
            summary.frames
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_is_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), Some(50.0));
        assert_eq!(percentile(&v, 99.0), Some(99.0));
        assert_eq!(percentile(&v, 100.0), Some(100.0));
        assert_eq!(percentile(&v, 0.0), Some(1.0));
        assert_eq!(percentile(&[7.0], 99.0), Some(7.0));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn slope_is_least_squares_in_mib_per_hour() {
        // +1 MiB per minute with noise that cancels → +60 MiB/h.
        let pts: Vec<(f64, f64)> = (0..10)
            .map(|i| {
                let t = f64::from(i) * 60.0;
                (t, 100.0 + f64::from(i) + if i % 2 == 0 { 0.5 } else { -0.5 })
            })
            .collect();
        let s = slope_mib_per_hour(&pts).expect("slope");
        assert!((s - 60.0).abs() < 2.0, "{s}");
        let flat: Vec<(f64, f64)> = (0..5).map(|i| (f64::from(i) * 10.0, 300.0)).collect();
        assert_eq!(slope_mib_per_hour(&flat), Some(0.0));
        assert_eq!(slope_mib_per_hour(&[(1.0, 1.0)]), None);
        assert_eq!(slope_mib_per_hour(&[(1.0, 1.0), (1.0, 2.0)]), None);
    }

    #[test]
    fn schedule_has_a_baseline_at_the_warmup_end_and_a_sample_at_the_end() {
        assert_eq!(schedule(30, 30, 10), vec![10, 20, 30, 40, 50, 60]);
        assert_eq!(schedule(5, 20, 10), vec![5, 15, 25]);
        assert_eq!(schedule(0, 25, 10), vec![0, 10, 20, 25]);
    }

    #[test]
    fn proc_parsers_read_the_kernel_formats() {
        let stat = "1234 (vigil (x) y) S 1 2 3 4 5 6 7 8 9 10 250 150 0 0 20 0 30 0";
        assert_eq!(
            vigil_ingest::bench::parse_proc_stat_cpu(stat),
            Some(Duration::from_millis(4000))
        );
        let status = "Name:\tvigil\nVmPeak:\t  900000 kB\nVmRSS:\t  307200 kB\nThreads:\t30\n";
        assert_eq!(parse_vmrss_mib(status), Some(300.0));
        assert_eq!(parse_load1("5.12 4.00 3.50 7/261 18047\n"), Some(5.12));
        assert_eq!(parse_vmrss_mib("Name:\tvigil\n"), None);
    }

    #[test]
    fn report_uses_only_the_window_after_warmup() {
        let args = SoakArgs {
            cameras: 2,
            fps: 5.0,
            stream_fps: 10,
            seconds: 100,
            warmup: 10,
            sample: 50,
            workers: 2,
            intra: 1,
        };
        let ids = vec!["cam0".to_string(), "cam1".to_string()];
        let at = |t: f64, a0: u64, a1: u64, rss: f64| Sample {
            at_s: t,
            analysed: vec![a0, a1],
            ingest_in: vec![a0 * 2, a1 * 2],
            ingest_dropped: vec![0, 3],
            pool_dropped: 1,
            cpu_s: t * 1.5,
            camsim_cpu_s: t * 0.25,
            rss_mib: rss,
            load1: 4.0,
            alerts: 0,
        };
        let window = [
            at(10.0, 50, 40, 200.0),
            at(60.0, 300, 240, 200.0),
            at(110.0, 550, 440, 200.0),
        ];
        let info = RunInfo {
            args: &args,
            ids: &ids,
            model: "yolox-nano",
            latencies_ms: vec![120.0, 80.0, 400.0],
            stopped_early: false,
        };
        let r = report(&info, &window, 3.0);
        assert!(r.contains("| cam0 | 5.00 | 1.00 | 10.00 | 0 |"), "{r}");
        assert!(r.contains("| cam1 | 4.00 | 0.80 | 8.00 | 0 |"), "{r}");
        assert!(r.contains("| **all** | 9.00 | 0.90 | | 0 |"), "{r}");
        assert!(r.contains("| detector pool drops (all cameras) | 0 |"), "{r}");
        assert!(r.contains("| 150 % |"), "{r}");
        assert!(r.contains("| 25 % |"), "{r}");
        assert!(r.contains("+0.0 MiB/h"), "{r}");
        assert!(r.contains("| 120 ms / 400 ms / 400 ms |"), "{r}");
        assert!(r.contains("| 3.00 / 4.00 / 4.00 |"), "{r}");
        assert!(r.contains("100 s measured"), "{r}");
    }
}
