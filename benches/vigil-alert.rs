//! Alert delivery: durable enqueue (one fsync'd redb commit per alert) and the latency from
//! enqueue to the sink's acknowledgement through the JSONL file sink (fsync per line) and,
//! when a NATS server listens on 127.0.0.1:4222, through NATS JetStream.
#![allow(missing_docs)] // criterion's macros generate undocumented items

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tokio::sync::watch;
use vigil_alert::sink::file::{FileConfig, FileSink};
use vigil_alert::sink::nats::{NatsConfig, NatsSink, NatsStreamConfig};
use vigil_alert::{Outbox, OutboxConfig, RetryConfig, RouteConfig, Sink, delivery};
use vigil_core::alert::{
    Alert, AlertCamera, AlertContext, AlertDetection, AlertKind, AlertPlate, AlertRule, Severity,
};
use vigil_core::geometry::BoxPx;

/// A plate alert with a 20 KiB snapshot (a typical JPEG crop).
fn alert(i: u64) -> Alert {
    Alert {
        id: format!("00000000-0000-7000-8000-{i:012}"),
        time: "2024-05-01T12:00:00.040Z".into(),
        camera: AlertCamera {
            id: format!("cam-{}", i % 8),
            name: String::new(),
            location: String::new(),
        },
        rule: AlertRule {
            id: "hot".into(),
            kind: AlertKind::PlateHotlist,
        },
        severity: Severity::High,
        detection: AlertDetection {
            label: "car".into(),
            box_px: BoxPx::new(1.0, 2.0, 300.0, 200.0),
            track_id: None,
        },
        plate: Some(AlertPlate {
            text: "京A12345".into(),
            confidence: 0.9,
            char_confidences: vec![0.9; 7],
        }),
        watch_match: None,
        context: AlertContext::default(),
        snapshot: Some(vec![0x5A; 20 * 1024]),
        versions: BTreeMap::new(),
    }
}

fn big_outbox(dir: &std::path::Path) -> Outbox {
    let cfg = OutboxConfig {
        max_entries: u64::MAX / 2,
        hard_max_entries: u64::MAX / 2,
        max_bytes: u64::MAX / 2,
        hard_max_bytes: u64::MAX / 2,
        ..Default::default()
    }
    .with_sink("s", RouteConfig::default());
    Outbox::open(dir.join("bench.redb"), cfg).expect("open outbox")
}

fn enqueue(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tmp");
    let ob = big_outbox(dir.path());
    let mut i = 0;
    let mut g = c.benchmark_group("alert_outbox");
    g.throughput(Throughput::Elements(1));
    g.bench_function("enqueue_fsync_20k_snapshot", |b| {
        b.iter(|| {
            i += 1;
            ob.enqueue(&alert(i)).expect("enqueue")
        })
    });
    g.finish();
}

/// Times enqueue → sink ack for one alert at a time through `sink`.
fn latency<S: Sink + 'static>(c: &mut Criterion, name: &str, sink: S) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("rt");
    let dir = tempfile::tempdir().expect("tmp");
    let ob = big_outbox(dir.path());
    let (stop, shutdown) = watch::channel(false);
    let d = {
        let _guard = rt.enter();
        delivery::spawn(ob.clone(), "s", sink, RetryConfig::default(), shutdown)
    };
    let status = d.status();
    let mut i = 0;
    let mut g = c.benchmark_group("alert_delivery");
    g.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                i += 1;
                let before = status.published();
                let t = Instant::now();
                ob.enqueue(&alert(i)).expect("enqueue");
                while status.published() == before {
                    std::thread::yield_now();
                }
                total += t.elapsed();
            }
            total
        })
    });
    g.finish();
    stop.send_replace(true);
    rt.block_on(d.join(Duration::from_secs(5)));
}

fn delivery_latency(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tmp");
    let file = FileSink::new("s", FileConfig::with_path(dir.path().join("a.jsonl"))).expect("sink");
    latency(c, "enqueue_to_ack_jsonl", file);

    if std::net::TcpStream::connect("127.0.0.1:4222").is_ok() {
        // One fixed stream with short retention, so repeated runs leave nothing growing behind.
        let mut cfg = NatsConfig::with_url("nats://127.0.0.1:4222");
        cfg.subject = "vigilbench.{camera}".into();
        let mut stream = NatsStreamConfig::new("VIGIL_BENCH", vec!["vigilbench.>".into()]);
        stream.max_age_s = 300;
        cfg.stream = Some(stream);
        latency(
            c,
            "enqueue_to_ack_nats_jetstream",
            NatsSink::new("s", "bench", cfg).expect("sink"),
        );
    }
}

criterion_group!(benches, enqueue, delivery_latency);
criterion_main!(benches);
