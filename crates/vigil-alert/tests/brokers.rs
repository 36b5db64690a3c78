//! Round trips through the outbox, the delivery loop and each real broker (NATS JetStream,
//! Mosquitto, RabbitMQ on this machine). Outages are in `outage.rs`.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::*;
use futures_util::StreamExt;
use tokio::sync::watch;
use vigil_alert::sink::amqp::{AmqpConfig, AmqpSink};
use vigil_alert::sink::mqtt::{MqttConfig, MqttSink};
use vigil_alert::sink::nats::{NatsConfig, NatsSink, NatsStreamConfig};
use vigil_alert::{CircuitState, CloudEvent, delivery};

const NATS: &str = "127.0.0.1:4222";
const MQTT: &str = "127.0.0.1:1883";
const AMQP: &str = "127.0.0.1:5672";
const CAMERAS: [&str; 3] = ["gate-1", "gate-2", "yard"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_jetstream_round_trip() {
    require_broker(NATS, "NATS (JetStream)");
    let dir = tempfile::tempdir().expect("tmp");
    let id = unique();
    let (stream, prefix) = (format!("VIGIL_TEST_{id}"), format!("vigiltest.{id}"));
    let mut config = NatsConfig::with_url(format!("nats://{NATS}"));
    config.subject = format!("{prefix}.{{camera}}.{{kind}}.{{severity}}");
    config.stream = Some(NatsStreamConfig::new(&stream, vec![format!("{prefix}.>")]));
    let ob = outbox(dir.path(), "bus");
    let sent = alerts(&CAMERAS, 30);
    for a in &sent {
        ob.enqueue(a).expect("enqueue").expect("routed");
    }
    let (stop, shutdown) = watch::channel(false);
    let d = delivery::spawn(
        ob.clone(),
        "bus",
        NatsSink::new("bus", "test-node", config).expect("sink"),
        fast_retry(),
        shutdown,
    );
    assert!(
        eventually(Duration::from_secs(20), || ob.is_empty()).await,
        "outbox did not drain: {}",
        ob.len()
    );
    let status = d.status();
    assert_eq!(
        (status.published(), status.state(), status.depth()),
        (30, CircuitState::Up, 0)
    );
    stop.send_replace(true);
    assert!(d.join(Duration::from_secs(5)).await);

    let js = async_nats::jetstream::new(async_nats::connect(NATS).await.expect("connect"));
    let got = stream_events(&js, &stream).await;
    for (ev, msg_id) in &got {
        assert_eq!(&ev.id, msg_id, "Nats-Msg-Id must be the alert id");
        assert_eq!(ev.source, format!("vigil/test-node/{}", ev.subject));
    }
    let events: Vec<CloudEvent> = got.into_iter().map(|(e, _)| e).collect();
    assert_same_per_camera_order(&sent, &events);
    js.delete_stream(&stream).await.expect("cleanup");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_round_trip_with_retained_state() {
    require_broker(MQTT, "Mosquitto (MQTT)");
    let dir = tempfile::tempdir().expect("tmp");
    let root = format!("vigiltest/{}", unique());
    let mut config = MqttConfig::with_broker("127.0.0.1", 1883);
    config.topic = format!("{root}/alerts/{{camera}}/{{kind}}");
    config.state_topic = Some(format!("{root}/{{camera}}/events"));
    config.availability_topic = format!("{root}/{{node}}/availability");

    // Subscribe first (QoS 1) so nothing is missed.
    let mut opts = rumqttc::MqttOptions::new(format!("vigil-test-{}", unique()), "127.0.0.1", 1883);
    opts.set_max_packet_size(1 << 20, 1 << 20);
    let (client, el) = rumqttc::AsyncClient::new(opts, 64);
    client
        .subscribe(format!("{root}/alerts/#"), rumqttc::QoS::AtLeastOnce)
        .await
        .expect("subscribe");
    let (mut rx, sub_rx, consumer) = forward_mqtt(el, "test MQTT consumer");
    tokio::time::timeout(Duration::from_secs(5), sub_rx)
        .await
        .expect("suback in time")
        .expect("suback");

    let ob = outbox(dir.path(), "mqtt");
    let sent = alerts(&CAMERAS, 24);
    for a in &sent {
        ob.enqueue(a).expect("enqueue");
    }
    let (stop, shutdown) = watch::channel(false);
    let d = delivery::spawn(
        ob.clone(),
        "mqtt",
        MqttSink::new("mqtt", "n1", config).expect("sink"),
        fast_retry(),
        shutdown,
    );
    let validator = schema();
    let mut got = Vec::new();
    while got.len() < sent.len() {
        let (topic, body) = tokio::time::timeout(Duration::from_secs(20), rx.recv())
            .await
            .unwrap_or_else(|_| panic!("only {} of {} MQTT messages arrived", got.len(), sent.len()))
            .expect("consumer alive");
        let ev = check_event(&validator, &body);
        let kind = ev.data["rule"]["kind"].as_str().unwrap().replace('.', "/");
        assert_eq!(topic, format!("{root}/alerts/{}/{kind}", ev.subject));
        got.push(ev);
    }
    assert_same_per_camera_order(&sent, &got);
    assert!(
        eventually(Duration::from_secs(5), || ob.is_empty()).await,
        "outbox not drained"
    );
    stop.send_replace(true);
    assert!(d.join(Duration::from_secs(5)).await);
    consumer.abort();

    // A late subscriber sees each camera's last alert on its retained state topic.
    let mut opts = rumqttc::MqttOptions::new(format!("vigil-test-{}", unique()), "127.0.0.1", 1883);
    opts.set_max_packet_size(1 << 20, 1 << 20);
    let (client2, mut el2) = rumqttc::AsyncClient::new(opts, 64);
    client2
        .subscribe(format!("{root}/+/events"), rumqttc::QoS::AtLeastOnce)
        .await
        .expect("subscribe");
    let mut retained = std::collections::HashMap::new();
    tokio::time::timeout(Duration::from_secs(10), async {
        while retained.len() < CAMERAS.len() {
            if let rumqttc::Event::Incoming(rumqttc::Packet::Publish(p)) = el2.poll().await.expect("poll") {
                assert!(p.retain, "state topic message must be retained");
                let ev: CloudEvent = serde_json::from_slice(&p.payload).expect("event");
                retained.insert(ev.subject.clone(), ev.id);
            }
        }
    })
    .await
    .expect("retained state for every camera");
    for cam in CAMERAS {
        let last = sent.iter().rev().find(|a| a.camera.id == cam).expect("sent");
        assert_eq!(retained.get(cam), Some(&last.id), "retained state of {cam}");
        // Clean up the retained message.
        client2
            .publish(
                format!("{root}/{cam}/events"),
                rumqttc::QoS::AtLeastOnce,
                true,
                Vec::new(),
            )
            .await
            .ok();
    }
    client2
        .publish(
            format!("{root}/n1/availability"),
            rumqttc::QoS::AtLeastOnce,
            true,
            Vec::new(),
        )
        .await
        .ok();
    for _ in 0..8 {
        let _ = tokio::time::timeout(Duration::from_millis(100), el2.poll()).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amqp_round_trip_with_confirms() {
    use lapin::options::{
        BasicConsumeOptions, ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
    };
    use lapin::types::FieldTable;

    require_broker(AMQP, "RabbitMQ (AMQP)");
    let dir = tempfile::tempdir().expect("tmp");
    let exchange = format!("vigil.test.{}", unique());
    let conn = lapin::Connection::connect("amqp://guest:guest@127.0.0.1:5672/%2f", Default::default())
        .await
        .expect("connect");
    let ch = conn.create_channel().await.expect("channel");
    ch.exchange_declare(
        exchange.as_str().into(),
        lapin::ExchangeKind::Topic,
        ExchangeDeclareOptions {
            durable: true,
            ..Default::default()
        },
        FieldTable::default(),
    )
    .await
    .expect("declare exchange");
    let queue = ch
        .queue_declare(
            "".into(),
            QueueDeclareOptions {
                exclusive: true,
                auto_delete: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await
        .expect("queue");
    ch.queue_bind(
        queue.name().clone(),
        exchange.as_str().into(),
        "#".into(),
        QueueBindOptions::default(),
        FieldTable::default(),
    )
    .await
    .expect("bind");
    let mut consumer = ch
        .basic_consume(
            queue.name().clone(),
            "test".into(),
            BasicConsumeOptions {
                no_ack: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await
        .expect("consume");

    // Credentials by reference: a secret file (env vars cannot be set without `unsafe`).
    let password_file = dir.path().join("amqp-password");
    std::fs::write(&password_file, "guest\n").expect("write secret");
    let mut config = AmqpConfig::with_exchange("amqp://127.0.0.1:5672/%2f", &exchange);
    config.username = Some("guest".into());
    config.password_file = Some(password_file);
    let ob = outbox(dir.path(), "amqp");
    let sent = alerts(&CAMERAS, 24);
    for a in &sent {
        ob.enqueue(a).expect("enqueue");
    }
    let (stop, shutdown) = watch::channel(false);
    let sink = AmqpSink::new("amqp", "n1", config).expect("sink");
    assert!(
        !format!("{sink:?}").contains("guest:guest"),
        "Debug must not show the password"
    );
    let d = delivery::spawn(ob.clone(), "amqp", sink, fast_retry(), shutdown);
    let validator = schema();
    let mut got = Vec::new();
    while got.len() < sent.len() {
        let delivery = tokio::time::timeout(Duration::from_secs(20), consumer.next())
            .await
            .unwrap_or_else(|_| panic!("only {} of {} AMQP messages arrived", got.len(), sent.len()))
            .expect("consumer open")
            .expect("delivery");
        assert_eq!(delivery.properties.delivery_mode(), &Some(2), "persistent");
        let ev = check_event(&validator, &delivery.data);
        assert_eq!(
            delivery.properties.message_id().as_ref().map(|s| s.as_str()),
            Some(ev.id.as_str())
        );
        got.push(ev);
    }
    assert_same_per_camera_order(&sent, &got);
    assert!(
        eventually(Duration::from_secs(5), || ob.is_empty()).await,
        "outbox not drained"
    );
    stop.send_replace(true);
    assert!(d.join(Duration::from_secs(5)).await);
    ch.exchange_delete(exchange.as_str().into(), Default::default())
        .await
        .expect("cleanup");
}
