//! Prometheus metrics, gathered at scrape time from the pipeline's live counters.
//!
//! The stages keep their own atomics (ingest status, pool stats, plate counters, sink status);
//! a scrape copies them into a fresh registry and encodes it, so the hot path never touches a
//! metrics library. Names live here, in one place (listed in docs/operations.md); labels are bounded: camera, rule, sink and
//! model ids from the pipeline file — never plate text or track ids.

use crate::pipeline::shared::{Shared, lock};
use prometheus::core::Collector;
use prometheus::{Encoder, GaugeVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder};
use vigil_ingest::CameraState;

/// The snake_case name of a camera state (metric label and API field).
pub fn state_name(s: CameraState) -> &'static str {
    match s {
        CameraState::Connecting => "connecting",
        CameraState::Streaming => "streaming",
        CameraState::Backoff => "backoff",
        CameraState::Failed => "failed",
        CameraState::Stopped => "stopped",
    }
}

/// Registers `c` (names are unique by construction, so this cannot fail in practice).
fn reg<C: Collector + Clone + 'static>(r: &Registry, c: &C) {
    if let Err(e) = r.register(Box::new(c.clone())) {
        tracing::warn!(error = %e, "metric not registered");
    }
}

fn counter(r: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    // Name and labels are constants of this module: a failure is a programming error that the
    // scrape test catches; never a panic at runtime.
    let c = IntCounterVec::new(Opts::new(name, help), labels).unwrap_or_else(|_| {
        IntCounterVec::new(Opts::new("vigil_invalid_metric", "invalid"), labels).expect("constant opts")
    });
    reg(r, &c);
    c
}

fn gauge(r: &Registry, name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    let g = IntGaugeVec::new(Opts::new(name, help), labels).unwrap_or_else(|_| {
        IntGaugeVec::new(Opts::new("vigil_invalid_metric", "invalid"), labels).expect("constant opts")
    });
    reg(r, &g);
    g
}

/// Writes a pool histogram in the text format. The pool keeps per-bucket atomics on the hot
/// path; the client library cannot adopt those counts, so the family is written directly.
fn histogram_text(out: &mut String, name: &str, help: &str, model: &str, h: &vigil_infer::DurationHistogram) {
    use std::fmt::Write as _;
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} histogram");
    let mut cumulative = 0u64;
    for (i, n) in h.bucket_counts().iter().enumerate() {
        cumulative += n;
        match vigil_infer::LATENCY_BUCKETS_S.get(i) {
            Some(le) => {
                let _ = writeln!(out, "{name}_bucket{{model=\"{model}\",le=\"{le}\"}} {cumulative}");
            }
            None => {
                let _ = writeln!(out, "{name}_bucket{{model=\"{model}\",le=\"+Inf\"}} {cumulative}");
            }
        }
    }
    let _ = writeln!(out, "{name}_sum{{model=\"{model}\"}} {}", h.sum().as_secs_f64());
    let _ = writeln!(out, "{name}_count{{model=\"{model}\"}} {cumulative}");
}

/// The text exposition of every metric.
pub fn render(sh: &Shared) -> String {
    let r = Registry::new();
    // Cameras.
    let up = gauge(&r, "vigil_camera_up", "1 while the camera streams", &["camera"]);
    let state = gauge(
        &r,
        "vigil_camera_state",
        "Camera state (1 for the current one)",
        &["camera", "state"],
    );
    let fin = counter(&r, "vigil_camera_frames_in_total", "Frames decoded", &["camera"]);
    let fan = counter(
        &r,
        "vigil_camera_frames_analysed_total",
        "Frames analysed",
        &["camera"],
    );
    let fdr = counter(
        &r,
        "vigil_camera_frames_dropped_total",
        "Frames dropped between decoding and detection (ingest queue + detector queue)",
        &["camera"],
    );
    let drops = counter(
        &r,
        "vigil_camera_drops_total",
        "Drops of this camera's work by stage: ingest (frames), detector (frames), plates (plate jobs)",
        &["camera", "stage"],
    );
    let rec = counter(&r, "vigil_camera_reconnects_total", "Reconnects", &["camera"]);
    let dec = counter(
        &r,
        "vigil_camera_decode_errors_total",
        "Decode errors",
        &["camera"],
    );
    let analysed = lock(&sh.analysed).clone();
    for (id, status) in lock(&sh.cameras).iter() {
        let s = status.snapshot();
        up.with_label_values(&[id])
            .set(i64::from(s.state == CameraState::Streaming));
        for st in [
            CameraState::Connecting,
            CameraState::Streaming,
            CameraState::Backoff,
            CameraState::Failed,
            CameraState::Stopped,
        ] {
            state
                .with_label_values(&[id.as_str(), state_name(st)])
                .set(i64::from(s.state == st));
        }
        fin.with_label_values(&[id]).inc_by(s.frames_in);
        fan.with_label_values(&[id])
            .inc_by(analysed.get(id).copied().unwrap_or(0));
        let detector = sh.pool.camera_dropped.get(id);
        let plates = sh.plate_counters.as_ref().map_or(0, |p| p.camera_dropped.get(id));
        fdr.with_label_values(&[id]).inc_by(s.frames_dropped + detector);
        for (stage, n) in [
            ("ingest", s.frames_dropped),
            ("detector", detector),
            ("plates", plates),
        ] {
            drops.with_label_values(&[id.as_str(), stage]).inc_by(n);
        }
        rec.with_label_values(&[id]).inc_by(s.reconnects);
        dec.with_label_values(&[id]).inc_by(s.decode_errors);
    }
    // Detector.
    let m = sh.model.as_str();
    let load = |a: &std::sync::atomic::AtomicU64| a.load(std::sync::atomic::Ordering::Relaxed);
    counter(&r, "vigil_detector_frames_total", "Frames inferred", &["model"])
        .with_label_values(&[m])
        .inc_by(load(&sh.pool.frames_out));
    counter(
        &r,
        "vigil_detector_frames_dropped_total",
        "Frames dropped by the pool (drop-oldest)",
        &["model"],
    )
    .with_label_values(&[m])
    .inc_by(load(&sh.pool.frames_dropped));
    counter(&r, "vigil_detector_errors_total", "Inference errors", &["model"])
        .with_label_values(&[m])
        .inc_by(load(&sh.pool.errors));
    let batches = counter(
        &r,
        "vigil_detector_batches_total",
        "Batches by size",
        &["model", "size"],
    );
    for (i, n) in sh.pool.batch_sizes.iter().enumerate() {
        let n = load(n);
        if n > 0 {
            batches.with_label_values(&[m, &(i + 1).to_string()]).inc_by(n);
        }
    }
    // Plates.
    let (regions, dropped) = sh
        .plate_counters
        .as_ref()
        .map_or((0, 0), |c| (load(&c.done), load(&c.dropped)));
    counter(
        &r,
        "vigil_plate_regions_total",
        "Regions read by plate workers",
        &[],
    )
    .with_label_values::<&str>(&[])
    .inc_by(regions);
    counter(
        &r,
        "vigil_plate_regions_dropped_total",
        "Regions dropped (plate queue full)",
        &[],
    )
    .with_label_values::<&str>(&[])
    .inc_by(dropped);
    let voted = counter(
        &r,
        "vigil_plates_voted_total",
        "Plates voted (one per vehicle pass)",
        &["camera"],
    );
    for (cam, n) in lock(&sh.plates).iter() {
        voted.with_label_values(&[cam]).inc_by(*n);
    }
    // Only when `[plates.read_log]` is enabled: a count, never a hash.
    if let Some(log) = &sh.read_log
        && let Ok(g) = IntGauge::new(
            "vigil_plate_read_log_entries",
            "Plate reads held in the read log (keyed hashes, within retention)",
        )
    {
        g.set(i64::try_from(log.entries()).unwrap_or(i64::MAX));
        reg(&r, &g);
    }
    // Rules.
    let ra = counter(
        &r,
        "vigil_rule_alerts_total",
        "Alerts raised",
        &["camera", "rule", "kind"],
    );
    let rs = counter(
        &r,
        "vigil_rule_suppressed_total",
        "Triggers suppressed by dedupe/cooldown",
        &["camera", "rule", "kind"],
    );
    for ((cam, rule), c) in lock(&sh.rules).iter() {
        ra.with_label_values(&[cam.as_str(), rule, c.kind.as_str()])
            .inc_by(c.alerts);
        rs.with_label_values(&[cam.as_str(), rule, c.kind.as_str()])
            .inc_by(c.suppressed);
    }
    // Outbox storage (disk full, I/O errors) and the history's clock.
    let h = sh.outbox.health();
    for (name, help, v) in [
        (
            "vigil_outbox_held",
            "Alerts accepted but not yet written to the outbox file (storage failing)",
            h.pending_in_memory,
        ),
        (
            "vigil_outbox_acks_held",
            "Delivery acknowledgements not yet written (storage failing)",
            h.acks_in_memory,
        ),
    ] {
        if let Ok(g) = IntGauge::new(name, help) {
            g.set(i64::try_from(v).unwrap_or(i64::MAX));
            reg(&r, &g);
        }
    }
    if let Ok(g) = IntGauge::new(
        "vigil_outbox_storage_ok",
        "1 while the outbox file accepts writes",
    ) {
        g.set(i64::from(h.storage_ok));
        reg(&r, &g);
    }
    for (name, help, v) in [
        (
            "vigil_outbox_write_failures_total",
            "Outbox writes that failed",
            h.write_failures_total,
        ),
        (
            "vigil_outbox_dropped_total",
            "Alerts lost: storage failing and the in-memory queue full",
            h.dropped_total,
        ),
        (
            "vigil_outbox_reopens_total",
            "Times the outbox file was reopened after a failure",
            h.reopens_total,
        ),
        (
            "vigil_history_clock_jumps_total",
            "Wall-clock jumps seen by history pruning (pruning by age skipped)",
            sh.history.clock_jumps(),
        ),
    ] {
        counter(&r, name, help, &[])
            .with_label_values::<&str>(&[])
            .inc_by(v);
    }
    // Sinks and outbox.
    let sp = counter(
        &r,
        "vigil_sink_published_total",
        "Alerts acknowledged by the sink",
        &["sink"],
    );
    let sf = counter(
        &r,
        "vigil_sink_failed_total",
        "Failed delivery attempts",
        &["sink"],
    );
    let ss = gauge(
        &r,
        "vigil_sink_state",
        "Circuit state (1 for the current one)",
        &["sink", "state"],
    );
    let sd = gauge(
        &r,
        "vigil_outbox_pending",
        "Alerts waiting for this sink",
        &["sink"],
    );
    let so = GaugeVec::new(
        Opts::new(
            "vigil_sink_oldest_pending_seconds",
            "Age of the oldest alert waiting for this sink",
        ),
        &["sink"],
    )
    .ok();
    for s in &sh.sinks {
        let n = s.name();
        sp.with_label_values(&[n]).inc_by(s.published());
        sf.with_label_values(&[n]).inc_by(s.failed());
        let cur = format!("{:?}", s.state()).to_lowercase();
        for st in ["up", "degraded", "down"] {
            ss.with_label_values(&[n, st]).set(i64::from(cur == st));
        }
        sd.with_label_values(&[n])
            .set(i64::try_from(s.depth()).unwrap_or(i64::MAX));
        if let Some(so) = &so {
            so.with_label_values(&[n])
                .set(s.oldest_pending_age().as_secs_f64());
        }
    }
    if let Some(so) = &so {
        reg(&r, so);
    }
    if let Ok(g) = IntGauge::new("vigil_outbox_entries", "Alerts in the outbox (all sinks)") {
        g.set(i64::try_from(sh.outbox.len()).unwrap_or(i64::MAX));
        reg(&r, &g);
    }
    if let Ok(g) = IntGauge::new("vigil_outbox_bytes", "Bytes stored in the outbox") {
        g.set(i64::try_from(sh.outbox.bytes()).unwrap_or(i64::MAX));
        reg(&r, &g);
    }
    // Alert history: what is held under the retention of `[node] history_*`.
    if let Ok(g) = IntGauge::new(
        "vigil_history_alerts",
        "Alerts (with snapshots) kept in the alert history",
    ) {
        g.set(
            sh.history
                .len()
                .map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX)),
        );
        reg(&r, &g);
    }
    if let Ok(g) = IntGauge::new("vigil_history_bytes", "Size of the alert history file") {
        let bytes = std::fs::metadata(sh.history.path()).map_or(0, |m| m.len());
        g.set(i64::try_from(bytes).unwrap_or(i64::MAX));
        reg(&r, &g);
    }
    // Process.
    let (rss, threads) = process_stats();
    if let Ok(g) = IntGauge::new("vigil_process_resident_memory_bytes", "Resident set size") {
        g.set(rss);
        reg(&r, &g);
    }
    if let Ok(g) = IntGauge::new("vigil_process_threads", "OS threads") {
        g.set(threads);
        reg(&r, &g);
    }
    let mut buf = Vec::new();
    if let Err(e) = TextEncoder::new().encode(&r.gather(), &mut buf) {
        tracing::warn!(error = %e, "metrics encoding failed");
    }
    let mut out = String::from_utf8(buf).unwrap_or_default();
    histogram_text(
        &mut out,
        "vigil_detector_inference_seconds",
        "Inference time per batch",
        m,
        &sh.pool.inference,
    );
    histogram_text(
        &mut out,
        "vigil_detector_queue_wait_seconds",
        "Time a frame waited for a worker",
        m,
        &sh.pool.queue_wait,
    );
    out
}

/// RSS bytes and thread count from /proc (0 where unavailable).
fn process_stats() -> (i64, i64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:") * 1024, field("Threads:"))
}
