//! Kafka sink (cargo feature `kafka`). There is no Kafka broker on the development machines, so
//! the round trip runs only when `VIGIL_KAFKA_BROKERS` names one (e.g. `127.0.0.1:9092`); the
//! failure path runs everywhere, against a port nobody listens on.
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use rdkafka::Message;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Headers;
use tokio::sync::watch;
use vigil_alert::sink::kafka::{KafkaConfig, KafkaSink};
use vigil_alert::{CircuitState, CloudEvent, Outbox, OutboxConfig, RouteConfig, Sink, SinkError, delivery};

const BROKERS_ENV: &str = "VIGIL_KAFKA_BROKERS";

fn outbox(dir: &std::path::Path) -> Outbox {
    Outbox::open(
        dir.join("outbox.redb"),
        OutboxConfig::default().with_sink("kafka", RouteConfig::default()),
    )
    .expect("outbox")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_broker_fails_within_the_timeout() {
    let dir = tempfile::tempdir().expect("tmp");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let mut config = KafkaConfig::with_brokers(format!("127.0.0.1:{port}"));
    config.timeout_ms = 1500;
    let mut sink = KafkaSink::new("kafka", "n1", config).expect("sink");
    let ob = outbox(dir.path());
    ob.enqueue(&alerts(&["gate-1"], 1)[0]).expect("enqueue");
    let event = ob.next_for("kafka", 0).expect("read").expect("entry");
    let started = Instant::now();
    let err = tokio::time::timeout(Duration::from_secs(10), sink.publish(&event))
        .await
        .expect("publish must end by itself (message.timeout.ms)")
        .expect_err("nobody listens");
    assert!(matches!(err, SinkError::Publish { .. }), "{err}");
    assert!(
        started.elapsed() >= Duration::from_millis(1000),
        "failed too early: {err}"
    );
    assert_eq!(ob.len(), 1, "a failed publish leaves the alert in the outbox");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_round_trip_when_a_broker_is_configured() {
    let Ok(brokers) = std::env::var(BROKERS_ENV) else {
        eprintln!("{BROKERS_ENV} is not set: no Kafka broker to test against; round trip skipped");
        return;
    };
    const N: u32 = 24;
    let dir = tempfile::tempdir().expect("tmp");
    let topic = format!("vigil.test.{}", unique());
    let mut config = KafkaConfig::with_brokers(&brokers);
    config.topic = topic.clone();
    let ob = outbox(dir.path());
    let sent = alerts(&["gate-1", "gate-2", "yard"], N);
    for a in &sent {
        ob.enqueue(a).expect("enqueue");
    }
    let (stop, shutdown) = watch::channel(false);
    let d = delivery::spawn(
        ob.clone(),
        "kafka",
        KafkaSink::new("kafka", "n1", config).expect("sink"),
        fast_retry(),
        shutdown,
    );
    assert!(
        eventually(Duration::from_secs(60), || ob.is_empty()).await,
        "outbox did not drain: {} left ({:?})",
        ob.len(),
        d.status().state()
    );
    assert_eq!(d.status().state(), CircuitState::Up);
    stop.send_replace(true);
    assert!(d.join(Duration::from_secs(5)).await);

    let consumer: StreamConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .set("group.id", format!("vigil-test-{}", unique()))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    consumer.subscribe(&[&topic]).expect("subscribe");
    let validator = schema();
    let mut got: Vec<CloudEvent> = Vec::new();
    while got.len() < sent.len() {
        let msg = tokio::time::timeout(Duration::from_secs(30), consumer.recv())
            .await
            .unwrap_or_else(|_| panic!("only {} of {} records arrived", got.len(), sent.len()))
            .expect("record");
        let ev = check_event(&validator, msg.payload().expect("payload"));
        assert_eq!(msg.key(), Some(ev.subject.as_bytes()), "key = camera id");
        let headers = msg.headers().expect("headers");
        let ce_id = headers
            .iter()
            .find(|h| h.key == "ce_id")
            .and_then(|h| h.value)
            .expect("ce_id header");
        assert_eq!(ce_id, ev.id.as_bytes());
        got.push(ev);
    }
    assert_same_per_camera_order(&sent, &got);
}
