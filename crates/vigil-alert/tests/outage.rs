//! Broker outages at the bar, each against a private broker process on a free port (the
//! system brokers are shared with other test runs and are never stopped):
//!
//! - NATS JetStream: the server is killed, 100 alerts are produced while it is down, it comes
//!   back after 30 s; every alert reaches a JetStream consumer exactly once, in per-camera
//!   order, and the outbox drains to 0.
//! - MQTT: Mosquitto is stopped for 10 s while 50 alerts are produced; all of them reach a
//!   QoS 1 subscriber and the outbox drains to 0.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashSet;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use futures_util::StreamExt;
use tokio::sync::{mpsc, watch};
use vigil_alert::sink::mqtt::{MqttConfig, MqttSink};
use vigil_alert::sink::nats::{NatsConfig, NatsSink, NatsStreamConfig};
use vigil_alert::{CircuitState, CloudEvent, delivery};

const NATS_SERVER: &str = "/usr/sbin/nats-server";
const MOSQUITTO: &str = "/usr/sbin/mosquitto";
const CAMERAS: [&str; 3] = ["gate-1", "gate-2", "yard"];

/// Waits until something accepts TCP connections on `port`.
fn wait_listening(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{what} did not start on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Stops a private broker: SIGTERM (so it shuts down as in a real restart), SIGKILL if stuck.
fn stop(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().ok();
    child.wait().ok();
}

/// A private nats-server with JetStream on `port`, storing in `store`.
fn start_nats(port: u16, store: &Path) -> Child {
    let child = Command::new(NATS_SERVER)
        .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
        .arg(store)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start nats-server");
    wait_listening(port, "private nats-server");
    child
}

/// Every message of `stream`, through a fresh pull consumer, in stream order.
async fn consume_all(js: &async_nats::jetstream::Context, stream: &str) -> Vec<CloudEvent> {
    use async_nats::jetstream::consumer::pull;
    let stream = js.get_stream(stream).await.expect("stream");
    let consumer = stream
        .create_consumer(pull::Config {
            ack_policy: async_nats::jetstream::consumer::AckPolicy::Explicit,
            ..Default::default()
        })
        .await
        .expect("consumer");
    let validator = schema();
    let mut out = Vec::new();
    let mut messages = consumer.messages().await.expect("messages");
    // The stream is complete before this runs, so a quiet second means the end.
    while let Ok(Some(msg)) = tokio::time::timeout(Duration::from_secs(1), messages.next()).await {
        let msg = msg.expect("message");
        let ev = check_event(&validator, &msg.payload);
        let msg_id = msg
            .headers
            .as_ref()
            .and_then(|h| h.get("Nats-Msg-Id"))
            .map(|v| v.as_str().to_owned());
        assert_eq!(msg_id.as_deref(), Some(ev.id.as_str()), "Nats-Msg-Id = alert id");
        msg.ack().await.expect("ack");
        out.push(ev);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_30s_outage_100_alerts_arrive_once() {
    /// Alerts delivered before the outage, proving the path works.
    const BEFORE: u32 = 10;
    /// Alerts produced while the server is down.
    const DURING: u32 = 100;
    const OUTAGE: Duration = Duration::from_secs(30);
    assert!(Path::new(NATS_SERVER).exists(), "{NATS_SERVER} is needed");
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("tmp");
    let port = free_port();
    let store = dir.path().join("js");
    let mut server = start_nats(port, &store);

    let mut config = NatsConfig::with_url(format!("nats://127.0.0.1:{port}"));
    config.subject = "outage.{camera}.{kind}".into();
    config.stream = Some(NatsStreamConfig::new("OUTAGE", vec!["outage.>".into()]));
    config.ack_timeout_ms = 1000;
    config.connect_timeout_ms = 500;
    let ob = outbox(dir.path(), "bus");
    let (stop_tx, shutdown) = watch::channel(false);
    let mut retry = fast_retry();
    retry.publish_timeout_ms = 3000;
    let d = delivery::spawn(
        ob.clone(),
        "bus",
        NatsSink::new("bus", "n", config).expect("sink"),
        retry,
        shutdown,
    );
    let sent = alerts(&CAMERAS, BEFORE + DURING);
    let (before, during) = sent.split_at(BEFORE as usize);
    for a in before {
        ob.enqueue(a).expect("enqueue");
    }
    assert!(
        eventually(Duration::from_secs(10), || ob.is_empty()).await,
        "warm-up alerts not delivered"
    );

    server.kill().expect("kill nats-server");
    server.wait().expect("reap");
    let down_at = Instant::now();
    // Spread the 100 alerts over the first 10 s of the outage.
    for a in during {
        ob.enqueue(a).expect("enqueue");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = d.status();
    assert!(
        eventually(Duration::from_secs(10), || status.state() == CircuitState::Down).await,
        "sink should report down during the outage, is {:?}",
        status.state()
    );
    tokio::time::sleep(OUTAGE.saturating_sub(down_at.elapsed())).await;
    assert_eq!(
        ob.len(),
        u64::from(DURING),
        "nothing may leave the outbox while the server is down"
    );
    assert!(status.oldest_pending_age() >= Duration::from_secs(15));
    assert_eq!(status.depth(), u64::from(DURING));

    server = start_nats(port, &store);
    let back_at = Instant::now();
    assert!(
        eventually(Duration::from_secs(30), || ob.is_empty()).await,
        "outbox did not drain: {} left",
        ob.len()
    );
    let recovery = back_at.elapsed();
    assert!(status.failed() > 0 && status.retried() > 0);
    assert_eq!(
        (status.state(), status.depth(), status.published()),
        (CircuitState::Up, 0, u64::from(BEFORE + DURING))
    );
    stop_tx.send_replace(true);
    assert!(d.join(Duration::from_secs(5)).await);

    let js = async_nats::jetstream::new(
        async_nats::connect(format!("127.0.0.1:{port}"))
            .await
            .expect("connect"),
    );
    let events = consume_all(&js, "OUTAGE").await;
    let unique_ids: HashSet<&str> = events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(unique_ids.len(), events.len(), "duplicates reached the consumer");
    assert_same_per_camera_order(&sent, &events);
    stop(&mut server);
    eprintln!(
        "nats outage: {} alerts, down {:?}, drained {:?} after restart, test {:?}",
        events.len(),
        OUTAGE,
        recovery,
        started.elapsed()
    );
}

/// A private Mosquitto on `port` whose state lives in `dir`. Persistence is on so that the
/// test subscriber's persistent session (and the QoS 1 messages queued for it) survive the
/// restart; without it, alerts the sink re-published before the subscriber re-subscribed would
/// be dropped by the broker and the test would measure a race, not the sink. `user root`: a
/// Mosquitto started as root otherwise switches to user `mosquitto`, which cannot write the
/// test's private temp dir; started as anyone else it ignores the option.
fn start_mosquitto(port: u16, dir: &Path) -> Child {
    let conf = dir.join("mosquitto.conf");
    std::fs::write(
        &conf,
        format!(
            "listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location {}/\n\
             autosave_interval 1\nmax_queued_messages 10000\nuser root\n",
            dir.display()
        ),
    )
    .expect("write mosquitto.conf");
    let child = Command::new(MOSQUITTO)
        .arg("-c")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start mosquitto");
    wait_listening(port, "private mosquitto");
    child
}

/// A QoS 1 subscriber with a persistent session that keeps reconnecting; forwards payloads.
fn subscribe(
    port: u16,
    topic: String,
) -> (
    mpsc::UnboundedReceiver<Vec<u8>>,
    tokio::task::JoinHandle<()>,
    mpsc::UnboundedReceiver<()>,
) {
    let mut opts = rumqttc::MqttOptions::new(format!("vigil-outage-sub-{}", unique()), "127.0.0.1", port);
    opts.set_clean_session(false)
        .set_keep_alive(Duration::from_secs(5))
        .set_max_packet_size(1 << 20, 1 << 20);
    let (client, mut el) = rumqttc::AsyncClient::new(opts, 256);
    let (tx, rx) = mpsc::unbounded_channel();
    let (sub_tx, sub_rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(async move {
        let mut subscribed = false;
        loop {
            match el.poll().await {
                Ok(rumqttc::Event::Incoming(rumqttc::Packet::ConnAck(_))) if !subscribed => {
                    client
                        .subscribe(topic.clone(), rumqttc::QoS::AtLeastOnce)
                        .await
                        .expect("subscribe");
                    subscribed = true;
                }
                Ok(rumqttc::Event::Incoming(rumqttc::Packet::SubAck(_))) => {
                    let _ = sub_tx.send(());
                }
                Ok(rumqttc::Event::Incoming(rumqttc::Packet::Publish(p))) => {
                    let _ = tx.send(p.payload.to_vec());
                }
                Ok(_) => {}
                // Broker down: rumqttc reconnects on the next poll; the session resumes.
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    });
    (rx, task, sub_rx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_10s_outage_50_alerts_arrive() {
    const BEFORE: u32 = 10;
    const DURING: u32 = 50;
    const OUTAGE: Duration = Duration::from_secs(10);
    assert!(Path::new(MOSQUITTO).exists(), "{MOSQUITTO} is needed");
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("tmp");
    let broker_dir = dir.path().join("mosquitto");
    std::fs::create_dir_all(&broker_dir).expect("mkdir");
    let port = free_port();
    let mut broker = start_mosquitto(port, &broker_dir);

    let (mut rx, consumer, mut subacks) = subscribe(port, "outage/alerts/#".into());
    tokio::time::timeout(Duration::from_secs(5), subacks.recv())
        .await
        .expect("suback in time")
        .expect("suback");

    let mut config = MqttConfig::with_broker("127.0.0.1", port);
    config.topic = "outage/alerts/{camera}/{kind}".into();
    config.availability_topic = "outage/{node}/availability".into();
    config.ack_timeout_ms = 1000;
    let ob = outbox(dir.path(), "mqtt");
    let (stop_tx, shutdown) = watch::channel(false);
    let mut retry = fast_retry();
    retry.publish_timeout_ms = 3000;
    let d = delivery::spawn(
        ob.clone(),
        "mqtt",
        MqttSink::new("mqtt", "n1", config).expect("sink"),
        retry,
        shutdown,
    );
    let sent = alerts(&CAMERAS, BEFORE + DURING);
    let (before, during) = sent.split_at(BEFORE as usize);
    for a in before {
        ob.enqueue(a).expect("enqueue");
    }
    assert!(
        eventually(Duration::from_secs(10), || ob.is_empty()).await,
        "warm-up alerts not delivered"
    );

    stop(&mut broker);
    let down_at = Instant::now();
    for a in during {
        ob.enqueue(a).expect("enqueue");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = d.status();
    // Generous: on a loaded CI machine reaching `down_after_failures` takes longer; the outage
    // simply lasts until then.
    assert!(
        eventually(Duration::from_secs(20), || status.state() == CircuitState::Down).await,
        "sink should report down during the outage, is {:?}",
        status.state()
    );
    tokio::time::sleep(OUTAGE.saturating_sub(down_at.elapsed())).await;
    assert_eq!(
        ob.len(),
        u64::from(DURING),
        "nothing may leave the outbox while the broker is down"
    );

    broker = start_mosquitto(port, &broker_dir);
    let back_at = Instant::now();
    let validator = schema();
    let mut got: Vec<CloudEvent> = Vec::new();
    let mut seen = HashSet::new();
    let mut duplicates = 0;
    while seen.len() < sent.len() {
        let body = tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "only {} of {} alerts arrived; outbox holds {}, sink {:?}, published {}",
                    seen.len(),
                    sent.len(),
                    ob.len(),
                    status.state(),
                    status.published()
                )
            })
            .expect("consumer alive");
        let ev = check_event(&validator, &body);
        // QoS 1 is at least once: a PUBACK lost in the shutdown may cause one resend.
        if seen.insert(ev.id.clone()) {
            got.push(ev);
        } else {
            duplicates += 1;
        }
    }
    let recovery = back_at.elapsed();
    assert_same_per_camera_order(&sent, &got);
    // The depth gauge is refreshed right after the ack that empties the outbox: wait for both.
    assert!(
        eventually(Duration::from_secs(10), || ob.is_empty() && status.depth() == 0).await,
        "outbox did not drain: {} left, depth gauge {}",
        ob.len(),
        status.depth()
    );
    assert_eq!(status.state(), CircuitState::Up);
    assert!(
        duplicates <= 1,
        "{duplicates} duplicates: more than one in-flight publish"
    );
    stop_tx.send_replace(true);
    assert!(d.join(Duration::from_secs(5)).await);
    consumer.abort();
    stop(&mut broker);
    eprintln!(
        "mqtt outage: {} alerts ({duplicates} duplicates), down {:?}, all in {:?} after restart, test {:?}",
        got.len(),
        OUTAGE,
        recovery,
        started.elapsed()
    );
}
