//! Alert delivery: durable enqueue (one fsync'd redb commit per alert) and the path from enqueue
//! to each sink's acknowledgement — JSONL file (fsync per line), NATS JetStream (publish ack),
//! MQTT QoS 1 (PUBACK from Mosquitto) and AMQP (publisher confirm from RabbitMQ, persistent
//! message routed to a durable queue). A network sink whose broker does not answer on its
//! loopback port is skipped with a note, so the bench also runs on a machine without brokers.
//!
//! Per sink, two measurements share one outbox, connection and delivery loop:
//! - criterion's `alert_delivery/enqueue_to_ack_<sink>`: one alert at a time, median;
//! - a fixed run of [`RUN_ALERTS`] alerts printed as a table at the end: per-alert enqueue→ack
//!   p50/p99 one at a time (idle pipeline), then the same alerts enqueued back-to-back with
//!   per-alert latency under load and the sustained rate until the outbox is drained.
#![allow(missing_docs)] // criterion's macros generate undocumented items

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tokio::runtime::Runtime;
use tokio::sync::watch;
use vigil_alert::sink::amqp::{AmqpConfig, AmqpSink};
use vigil_alert::sink::file::{FileConfig, FileSink};
use vigil_alert::sink::mqtt::{MqttConfig, MqttSink};
use vigil_alert::sink::nats::{NatsConfig, NatsSink, NatsStreamConfig};
use vigil_alert::{Delivery, Outbox, OutboxConfig, RetryConfig, RouteConfig, Sink, SinkStatus, delivery};
use vigil_core::alert::{
    Alert, AlertCamera, AlertContext, AlertDetection, AlertKind, AlertPlate, AlertRule, Severity,
};
use vigil_core::geometry::BoxPx;

/// Alerts per sink in the fixed run (each phase).
const RUN_ALERTS: usize = 500;
/// Alerts per phase when the binary runs as a test (`cargo test --benches`): just a smoke run.
const TEST_ALERTS: usize = 10;
/// A sink that has not acknowledged everything by then is broken, not slow.
const DEADLINE: Duration = Duration::from_secs(60);

const NATS: &str = "127.0.0.1:4222";
const MQTT: &str = "127.0.0.1:1883";
const AMQP: &str = "127.0.0.1:5672";
/// Fixed broker-side names, so repeated runs reuse (and bound) what they leave behind.
const AMQP_EXCHANGE: &str = "vigil.bench";
const AMQP_QUEUE: &str = "vigil.bench.alerts";

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
            frame_size_px: None,
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
    g.sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    g.throughput(Throughput::Elements(1));
    g.bench_function("enqueue_fsync_20k_snapshot", |b| {
        b.iter(|| {
            i += 1;
            ob.enqueue(&alert(i)).expect("enqueue")
        })
    });
    g.finish();
}

/// One sink's outbox and delivery loop, alive across its criterion bench and fixed run.
struct Harness {
    name: &'static str,
    _dir: tempfile::TempDir,
    ob: Outbox,
    stop: watch::Sender<bool>,
    delivery: Delivery,
    status: SinkStatus,
    next: u64,
}

impl Harness {
    fn start<S: Sink + 'static>(rt: &Runtime, name: &'static str, sink: S) -> Self {
        let dir = tempfile::tempdir().expect("tmp");
        let ob = big_outbox(dir.path());
        let (stop, shutdown) = watch::channel(false);
        let delivery = {
            let _guard = rt.enter();
            delivery::spawn(ob.clone(), "s", sink, RetryConfig::default(), shutdown)
        };
        let status = delivery.status();
        Self {
            name,
            _dir: dir,
            ob,
            stop,
            delivery,
            status,
            next: 0,
        }
    }

    fn enqueue_next(&mut self) {
        self.next += 1;
        self.ob.enqueue(&alert(self.next)).expect("enqueue");
    }

    /// Enqueues one alert and spins until the sink acknowledged it.
    fn one(&mut self) -> Duration {
        let before = self.status.published();
        let t = Instant::now();
        self.enqueue_next();
        while self.status.published() == before {
            assert!(
                t.elapsed() < DEADLINE,
                "sink {}: no ack within {DEADLINE:?} (state {:?}, failed {})",
                self.name,
                self.status.state(),
                self.status.failed()
            );
            std::thread::yield_now();
        }
        t.elapsed()
    }

    /// Enqueues `n` alerts back-to-back while a second thread notes when each is acknowledged
    /// (one sink delivers in order, so the k-th new ack belongs to the k-th alert). Returns the
    /// per-alert latencies and the time until the outbox is drained (acks recorded too).
    fn back_to_back(&mut self, n: usize) -> (Vec<Duration>, Duration) {
        let base = self.status.published();
        let status = self.status.clone();
        let name = self.name;
        let start = Instant::now();
        let mut enqueued = Vec::with_capacity(n);
        let acked = std::thread::scope(|s| {
            let poller = s.spawn(move || {
                let mut acked: Vec<Instant> = Vec::with_capacity(n);
                while acked.len() < n {
                    let done = usize::try_from(status.published() - base).unwrap_or(n).min(n);
                    let now = Instant::now();
                    acked.resize(done.max(acked.len()), now);
                    assert!(
                        start.elapsed() < DEADLINE,
                        "sink {name}: only {} of {n} acknowledged within {DEADLINE:?}",
                        acked.len()
                    );
                    // Polling, not spinning: the enqueuing thread and the delivery loop need
                    // the two cores. Adds up to ~0.1 ms to each latency.
                    std::thread::sleep(Duration::from_micros(100));
                }
                acked
            });
            for _ in 0..n {
                enqueued.push(Instant::now());
                self.enqueue_next();
            }
            poller.join().expect("ack poller")
        });
        while !self.ob.is_empty() {
            assert!(start.elapsed() < DEADLINE, "sink {name}: outbox not drained");
            std::thread::sleep(Duration::from_micros(200));
        }
        let total = start.elapsed();
        let lat = enqueued
            .iter()
            .zip(&acked)
            .map(|(e, a)| a.saturating_duration_since(*e))
            .collect();
        (lat, total)
    }

    fn finish(self, rt: &Runtime) {
        self.stop.send_replace(true);
        rt.block_on(self.delivery.join(Duration::from_secs(5)));
    }
}

/// Nearest-rank percentile of sorted durations, in ms.
fn pct_ms(sorted: &[Duration], p: usize) -> f64 {
    let rank = (sorted.len() * p).div_ceil(100).max(1);
    sorted[rank - 1].as_secs_f64() * 1e3
}

/// Fixed-run results of one sink.
struct RunStats {
    sink: &'static str,
    n: usize,
    idle: Vec<Duration>,
    loaded: Vec<Duration>,
    drained: Duration,
}

impl RunStats {
    fn row(&mut self) -> String {
        self.idle.sort();
        self.loaded.sort();
        format!(
            "| {} | {:.2} / {:.2} | {:.1} / {:.1} | {:.0} |",
            self.sink,
            pct_ms(&self.idle, 50),
            pct_ms(&self.idle, 99),
            pct_ms(&self.loaded, 50),
            pct_ms(&self.loaded, 99),
            self.n as f64 / self.drained.as_secs_f64(),
        )
    }
}

/// Criterion median for one sink, then the fixed run on the same harness.
fn measure(c: &mut Criterion, rt: &Runtime, mut h: Harness, n: usize, out: &mut Vec<RunStats>) {
    let mut g = c.benchmark_group("alert_delivery");
    g.sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    g.bench_function(format!("enqueue_to_ack_{}", h.name), |b| {
        b.iter_custom(|iters| (0..iters).map(|_| h.one()).sum())
    });
    g.finish();
    let idle = (0..n).map(|_| h.one()).collect();
    let (loaded, drained) = h.back_to_back(n);
    out.push(RunStats {
        sink: h.name,
        n,
        idle,
        loaded,
        drained,
    });
    h.finish(rt);
}

fn reachable(addr: &str, what: &str) -> bool {
    let ok = std::net::TcpStream::connect(addr).is_ok();
    if !ok {
        eprintln!("alert bench: {what} not reachable at {addr}; its sink is skipped");
    }
    ok
}

/// A durable queue bound to the bench exchange: RabbitMQ then confirms a persistent message only
/// once it is written to that queue's store, the real-world case (and `mandatory` publishes need
/// a route). Bounded length and an idle expiry keep leftovers small.
async fn amqp_prepare() -> Result<lapin::Connection, lapin::Error> {
    use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
    use lapin::types::{AMQPValue, FieldTable};
    let conn =
        lapin::Connection::connect("amqp://guest:guest@127.0.0.1:5672/%2f", Default::default()).await?;
    let ch = conn.create_channel().await?;
    let durable = ExchangeDeclareOptions {
        durable: true,
        ..Default::default()
    };
    ch.exchange_declare(
        AMQP_EXCHANGE.into(),
        lapin::ExchangeKind::Topic,
        durable,
        FieldTable::default(),
    )
    .await?;
    let mut args = FieldTable::default();
    args.insert("x-max-length".into(), AMQPValue::LongLongInt(2000));
    args.insert("x-expires".into(), AMQPValue::LongLongInt(600_000));
    let opts = QueueDeclareOptions {
        durable: true,
        ..Default::default()
    };
    ch.queue_declare(AMQP_QUEUE.into(), opts, args).await?;
    ch.queue_bind(
        AMQP_QUEUE.into(),
        AMQP_EXCHANGE.into(),
        "#".into(),
        QueueBindOptions::default(),
        FieldTable::default(),
    )
    .await?;
    Ok(conn)
}

async fn amqp_cleanup(conn: &lapin::Connection) -> Result<(), lapin::Error> {
    let ch = conn.create_channel().await?;
    ch.queue_delete(AMQP_QUEUE.into(), Default::default()).await?;
    ch.exchange_delete(AMQP_EXCHANGE.into(), Default::default()).await
}

fn delivery_latency(c: &mut Criterion) {
    // `cargo bench` passes --bench; `cargo test --benches` does not: then only a smoke run.
    let n = if std::env::args().any(|a| a == "--bench") {
        RUN_ALERTS
    } else {
        TEST_ALERTS
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("rt");
    let mut out = Vec::new();

    let dir = tempfile::tempdir().expect("tmp");
    let file = FileSink::new("s", FileConfig::with_path(dir.path().join("a.jsonl"))).expect("sink");
    measure(c, &rt, Harness::start(&rt, "jsonl", file), n, &mut out);

    if reachable(NATS, "NATS") {
        // One fixed stream with short retention, so repeated runs leave nothing growing behind.
        let mut cfg = NatsConfig::with_url(format!("nats://{NATS}"));
        cfg.subject = "vigilbench.{camera}".into();
        let mut stream = NatsStreamConfig::new("VIGIL_BENCH", vec!["vigilbench.>".into()]);
        stream.max_age_s = 300;
        cfg.stream = Some(stream);
        let sink = NatsSink::new("s", "bench", cfg).expect("sink");
        measure(c, &rt, Harness::start(&rt, "nats_jetstream", sink), n, &mut out);
    }

    if reachable(MQTT, "Mosquitto") {
        let mut cfg = MqttConfig::with_broker("127.0.0.1", 1883);
        // Unique per process: two runs with one client id would keep disconnecting each other.
        cfg.client_id = Some(format!("vigil-bench-{}", std::process::id()));
        cfg.topic = "vigilbench/alerts/{camera}".into();
        cfg.availability_topic = "vigilbench/{node}/availability".into();
        let sink = MqttSink::new("s", "bench", cfg).expect("sink");
        measure(c, &rt, Harness::start(&rt, "mqtt_qos1", sink), n, &mut out);
    }

    if reachable(AMQP, "RabbitMQ") {
        let conn = rt
            .block_on(amqp_prepare())
            .expect("declare the bench exchange and queue");
        let mut cfg = AmqpConfig::with_exchange(format!("amqp://{AMQP}/%2f"), AMQP_EXCHANGE);
        cfg.username = Some("guest".into());
        // The bench's own throwaway credential, passed by file as a deployment would.
        let secret = dir.path().join("amqp-password");
        std::fs::write(&secret, "guest\n").expect("write password file");
        cfg.password_file = Some(secret);
        let sink = AmqpSink::new("s", "bench", cfg).expect("sink");
        measure(c, &rt, Harness::start(&rt, "amqp_confirm", sink), n, &mut out);
        if let Err(e) = rt.block_on(amqp_cleanup(&conn)) {
            eprintln!("alert bench: could not delete {AMQP_QUEUE}/{AMQP_EXCHANGE}: {e}");
        }
    }

    println!(
        "\nalert delivery, fixed run: {n} alerts (20 KiB snapshot) per sink, enqueue→ack in ms;\n\
         one at a time, then back-to-back; alerts/s = {n} / time until the outbox is drained\n"
    );
    println!("| sink | one at a time p50 / p99 | back-to-back p50 / p99 | alerts/s |");
    println!("|---|---|---|---|");
    for s in &mut out {
        println!("{}", s.row());
    }
}

criterion_group!(benches, enqueue, delivery_latency);
criterion_main!(benches);
