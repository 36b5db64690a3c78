//! TLS to brokers this test configures itself, with a throwaway CA and server certificate
//! (`vigil_testkit::tls`):
//!
//! - NATS (no cargo feature needed): a private nats-server with JetStream and a `tls {}` block.
//!   Alerts delivered through the NATS sink configured with `ca_file` reach a TLS consumer, in
//!   order; a sink that trusts another CA, and one that trusts only the system's CAs, fail with
//!   an error naming the sink and the TLS problem, and deliver nothing.
//! - MQTT (cargo feature `tls`; `make unit` runs this binary with it): a private Mosquitto with
//!   a TLS listener; the same checks through the MQTT sink and a TLS subscriber. Without the
//!   feature, asking for TLS is a config error naming the feature.
//! - AMQP (cargo feature `tls`): a private RabbitMQ node (its own node name, ports and data
//!   directory beside the machine's broker) with only a TLS listener; the AMQP sink with
//!   `ca_file` delivers to a queue a TLS consumer reads; one trusting another CA is refused.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use tokio::sync::watch;
use vigil_alert::sink::mqtt::{MqttConfig, MqttSink};
use vigil_alert::sink::nats::{NatsConfig, NatsSink, NatsStreamConfig};
use vigil_alert::{AlertMeta, CircuitState, CloudEvent, Severity};
use vigil_alert::{Sink, SinkError, delivery, event::Event};
use vigil_testkit::tls::TestPki;

const NATS_SERVER: &str = "/usr/sbin/nats-server";
#[cfg(feature = "tls")]
const MOSQUITTO: &str = "/usr/sbin/mosquitto";
const CAMERAS: [&str; 3] = ["gate-1", "gate-2", "yard"];
/// Alerts per round trip: enough to check per-camera order, few enough to stay fast.
const ALERTS: u32 = 12;

/// A broker process that is killed when the test ends, however it ends.
struct Broker {
    child: Child,
    log: std::path::PathBuf,
}

impl Broker {
    /// Starts `cmd` (stdout and stderr to `log`) and waits until it accepts TCP on `port`.
    fn start(cmd: Command, port: u16, log: std::path::PathBuf) -> Self {
        Self::start_within(cmd, port, log, Duration::from_secs(10))
    }

    /// As [`Broker::start`], waiting at most `wait` (an Erlang node boots in seconds).
    fn start_within(mut cmd: Command, port: u16, log: std::path::PathBuf, wait: Duration) -> Self {
        let out = std::fs::File::create(&log).expect("broker log");
        let err = out.try_clone().expect("broker log");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("start broker");
        let mut broker = Self { child, log };
        let deadline = Instant::now() + wait;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline || matches!(broker.child.try_wait(), Ok(Some(_))) {
                panic!("broker did not start on {port}:\n{}", broker.log_text());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        broker
    }

    fn log_text(&mut self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One event for publishing straight through a sink (no outbox), to see its error.
fn event(camera: &str) -> Event {
    let meta = AlertMeta {
        id: uuid::Uuid::now_v7().to_string(),
        camera: camera.into(),
        kind: "zone.enter".into(),
        severity: Severity::High,
        time: jiff::Timestamp::now().to_string(),
    };
    let body = serde_json::to_vec(&CloudEvent::new("test-node", &meta, serde_json::json!({}))).expect("json");
    Event {
        seq: 1,
        meta,
        enqueued_at_ms: 0,
        body,
    }
}

/// Publishes one event through `sink` and returns the error text, which must name the sink.
async fn publish_error(sink: &mut impl Sink, name: &str) -> String {
    let err = tokio::time::timeout(Duration::from_secs(15), sink.publish(&event("gate-1")))
        .await
        .expect("the failure is reported in time")
        .expect_err("an untrusted broker must not be published to");
    assert!(matches!(err, SinkError::Unavailable { .. }), "{err:?}");
    let text = err.to_string();
    eprintln!("refused as expected: {text}");
    assert!(
        text.contains(&format!("sink {name:?}")),
        "error must name the sink: {text}"
    );
    text
}

/// A private nats-server with JetStream whose clients must speak TLS.
fn start_nats_tls(dir: &Path, pki: &TestPki) -> (Broker, u16) {
    let port = free_port();
    let conf = dir.join("nats.conf");
    std::fs::write(
        &conf,
        format!(
            "listen: \"127.0.0.1:{port}\"\njetstream {{ store_dir: \"{}\" }}\n\
             tls {{\n  cert_file: \"{}\"\n  key_file: \"{}\"\n  timeout: 2\n}}\n",
            dir.join("js").display(),
            pki.cert_file.display(),
            pki.key_file.display()
        ),
    )
    .expect("write nats.conf");
    let mut cmd = Command::new(NATS_SERVER);
    cmd.arg("-c").arg(&conf);
    (Broker::start(cmd, port, dir.join("nats.log")), port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_sink_over_tls_trusts_its_ca_file_and_names_the_problem_otherwise() {
    assert!(Path::new(NATS_SERVER).exists(), "{NATS_SERVER} is needed");
    let dir = tempfile::tempdir().expect("tmp");
    let pki = TestPki::generate(dir.path(), "broker");
    let stranger = TestPki::generate(dir.path(), "stranger");
    let (mut server, port) = start_nats_tls(dir.path(), &pki);

    // Trusting the broker's CA: every alert arrives, through the outbox and the delivery loop.
    let mut config = NatsConfig::with_url(format!("nats://127.0.0.1:{port}"));
    config.ca_file = Some(pki.ca_file.clone());
    config.subject = "tls.{camera}.{kind}".into();
    config.stream = Some(NatsStreamConfig::new("TLS", vec!["tls.>".into()]));
    let ob = outbox(dir.path(), "bus");
    let (stop, shutdown) = watch::channel(false);
    let d = delivery::spawn(
        ob.clone(),
        "bus",
        NatsSink::new("bus", "test-node", config).expect("sink"),
        fast_retry(),
        shutdown,
    );
    let sent = alerts(&CAMERAS, ALERTS);
    for a in &sent {
        ob.enqueue(a).expect("enqueue").expect("routed");
    }
    let drained = eventually(Duration::from_secs(20), || ob.is_empty()).await;
    assert!(
        drained,
        "outbox did not drain ({} left):\n{}",
        ob.len(),
        server.log_text()
    );
    let status = d.status();
    assert_eq!(
        (status.published(), status.state()),
        (u64::from(ALERTS), CircuitState::Up)
    );
    stop.send_replace(true);
    assert!(d.join(Duration::from_secs(5)).await);

    // An independent TLS consumer (async-nats' own CA loading) reads them back.
    let client = async_nats::ConnectOptions::new()
        .add_root_certificates(pki.ca_file.clone())
        .require_tls(true)
        .connect(format!("tls://127.0.0.1:{port}"))
        .await
        .expect("TLS consumer connects");
    let js = async_nats::jetstream::new(client);
    let events: Vec<CloudEvent> = stream_events(&js, "TLS")
        .await
        .into_iter()
        .map(|(e, _)| e)
        .collect();
    assert_same_per_camera_order(&sent, &events);

    // Trusting another CA: refused, and the error says why and what to change.
    let mut untrusted = NatsConfig::with_url(format!("nats://127.0.0.1:{port}"));
    untrusted.ca_file = Some(stranger.ca_file.clone());
    untrusted.subject = "tls.{camera}.{kind}".into();
    let mut sink = NatsSink::new("bus-wrong-ca", "test-node", untrusted).expect("sink");
    let text = publish_error(&mut sink, "bus-wrong-ca").await;
    assert!(
        text.contains(
            "TLS handshake failed: the broker's certificate is not signed by a CA this sink trusts"
        ),
        "{text}"
    );
    assert!(
        text.contains(&stranger.ca_file.display().to_string()),
        "names the ca_file: {text}"
    );

    // No TLS settings at all: the server demands TLS, the upgrade trusts the system's CAs only.
    let mut plain = NatsConfig::with_url(format!("nats://127.0.0.1:{port}"));
    plain.subject = "tls.{camera}.{kind}".into();
    let mut sink = NatsSink::new("bus-system-cas", "test-node", plain).expect("sink");
    let text = publish_error(&mut sink, "bus-system-cas").await;
    assert!(
        text.contains("not signed by a CA this sink trusts (the system's CA certificates); set ca_file"),
        "{text}"
    );

    let after = stream_events(&js, "TLS").await;
    assert_eq!(
        after.len(),
        sent.len(),
        "the refused sinks must have delivered nothing"
    );
}

#[cfg(not(feature = "tls"))]
#[test]
fn mqtt_tls_without_the_feature_is_a_config_error_naming_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let pki = TestPki::generate(dir.path(), "broker");
    let mut config = MqttConfig::with_broker("127.0.0.1", 8883);
    config.ca_file = Some(pki.ca_file);
    let err = MqttSink::new("plc", "n", config).expect_err("needs the feature");
    let text = err.to_string();
    assert!(
        text.contains("\"plc\"") && text.contains("cargo feature `tls`"),
        "{text}"
    );
}

/// A private Mosquitto with one TLS listener. `user root`: started as root, Mosquitto otherwise
/// switches to user `mosquitto`, which cannot read the test's private key.
#[cfg(feature = "tls")]
fn start_mosquitto_tls(dir: &Path, pki: &TestPki) -> (Broker, u16) {
    let port = free_port();
    let conf = dir.join("mosquitto.conf");
    std::fs::write(
        &conf,
        format!(
            "listener {port} 127.0.0.1\ncafile {}\ncertfile {}\nkeyfile {}\nallow_anonymous true\nuser root\n",
            pki.ca_file.display(),
            pki.cert_file.display(),
            pki.key_file.display()
        ),
    )
    .expect("write mosquitto.conf");
    let mut cmd = Command::new(MOSQUITTO);
    cmd.arg("-c").arg(&conf);
    (Broker::start(cmd, port, dir.join("mosquitto.log")), port)
}

#[cfg(feature = "tls")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_sink_over_tls_trusts_its_ca_file_and_names_the_problem_otherwise() {
    use std::collections::HashSet;

    assert!(Path::new(MOSQUITTO).exists(), "{MOSQUITTO} is needed");
    let dir = tempfile::tempdir().expect("tmp");
    let pki = TestPki::generate(dir.path(), "broker");
    let stranger = TestPki::generate(dir.path(), "stranger");
    let (mut broker, port) = start_mosquitto_tls(dir.path(), &pki);

    // A QoS 1 subscriber over TLS, trusting the broker's CA through rumqttc's own loading.
    let mut opts = rumqttc::MqttOptions::new(format!("vigil-tls-sub-{}", unique()), "127.0.0.1", port);
    opts.set_max_packet_size(1 << 20, 1 << 20);
    opts.set_transport(rumqttc::Transport::tls_with_config(
        rumqttc::TlsConfiguration::Simple {
            ca: pki.ca_pem.clone().into_bytes(),
            alpn: None,
            client_auth: None,
        },
    ));
    let (client, el) = rumqttc::AsyncClient::new(opts, 64);
    client
        .subscribe("tls/alerts/#", rumqttc::QoS::AtLeastOnce)
        .await
        .expect("subscribe");
    let (mut rx, sub_rx, consumer) = forward_mqtt(el, "TLS subscriber");
    tokio::time::timeout(Duration::from_secs(10), sub_rx)
        .await
        .unwrap_or_else(|_| panic!("no SUBACK over TLS:\n{}", broker.log_text()))
        .expect("suback");

    // Trusting the broker's CA: every alert arrives, through the outbox and the delivery loop.
    let mut config = MqttConfig::with_broker("127.0.0.1", port);
    config.ca_file = Some(pki.ca_file.clone());
    config.topic = "tls/alerts/{camera}/{kind}".into();
    config.availability_topic = "tls/{node}/availability".into();
    let ob = outbox(dir.path(), "plc");
    let (stop, shutdown) = watch::channel(false);
    let d = delivery::spawn(
        ob.clone(),
        "plc",
        MqttSink::new("plc", "test-node", config).expect("sink"),
        fast_retry(),
        shutdown,
    );
    let sent = alerts(&CAMERAS, ALERTS);
    for a in &sent {
        ob.enqueue(a).expect("enqueue").expect("routed");
    }
    let validator = schema();
    let mut got = Vec::new();
    let mut seen = HashSet::new();
    while seen.len() < sent.len() {
        let (_, body) = tokio::time::timeout(Duration::from_secs(20), rx.recv())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "{} of {} alerts arrived; outbox holds {}:\n{}",
                    seen.len(),
                    sent.len(),
                    ob.len(),
                    broker.log_text()
                )
            })
            .expect("subscriber alive");
        let ev = check_event(&validator, &body);
        if seen.insert(ev.id.clone()) {
            got.push(ev);
        }
    }
    assert_same_per_camera_order(&sent, &got);
    assert!(eventually(Duration::from_secs(10), || ob.is_empty()).await);
    stop.send_replace(true);
    assert!(d.join(Duration::from_secs(5)).await);

    // Trusting another CA: refused, and the error says why and what to change.
    let mut untrusted = MqttConfig::with_broker("127.0.0.1", port);
    untrusted.ca_file = Some(stranger.ca_file.clone());
    untrusted.topic = "tls/alerts/{camera}/{kind}".into();
    untrusted.availability_topic = "tls/{node}/availability".into();
    let mut sink = MqttSink::new("plc-wrong-ca", "test-node", untrusted).expect("sink");
    let text = publish_error(&mut sink, "plc-wrong-ca").await;
    assert!(
        text.contains(
            "TLS handshake failed: the broker's certificate is not signed by a CA this sink trusts"
        ),
        "{text}"
    );
    assert!(
        text.contains(&stranger.ca_file.display().to_string()),
        "names the ca_file: {text}"
    );

    // Nothing from the refused sink reached the subscriber.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        rx.try_recv().is_err(),
        "the refused sink must have delivered nothing"
    );
    consumer.abort();
}

#[cfg(feature = "tls")]
const RABBITMQ: &str = "/usr/lib/rabbitmq/bin/rabbitmq-server";

/// A private RabbitMQ node with only a TLS listener, beside the machine's own broker: its own
/// node name, distribution port and data directory; guest may log in from loopback.
#[cfg(feature = "tls")]
fn start_rabbitmq_tls(dir: &Path, pki: &TestPki) -> (Broker, u16) {
    let (port, dist) = (free_port(), free_port());
    let base = dir.join("rabbitmq");
    std::fs::create_dir_all(&base).expect("rabbitmq dir");
    let conf = base.join("rabbitmq.conf");
    std::fs::write(
        &conf,
        format!(
            "listeners.tcp = none\nlisteners.ssl.default = {port}\n\
             ssl_options.cacertfile = {}\nssl_options.certfile = {}\nssl_options.keyfile = {}\n\
             ssl_options.verify = verify_none\nssl_options.fail_if_no_peer_cert = false\n",
            pki.ca_file.display(),
            pki.cert_file.display(),
            pki.key_file.display()
        ),
    )
    .expect("rabbitmq.conf");
    let plugins = base.join("enabled_plugins");
    std::fs::write(&plugins, "[].\n").expect("enabled_plugins");
    let mut cmd = Command::new(RABBITMQ);
    cmd.env("RABBITMQ_NODENAME", format!("vigil-tls-{port}@localhost"))
        .env("RABBITMQ_DIST_PORT", dist.to_string())
        .env("RABBITMQ_MNESIA_BASE", base.join("mnesia"))
        .env("RABBITMQ_LOG_BASE", base.join("log"))
        .env("RABBITMQ_CONFIG_FILE", base.join("rabbitmq"))
        .env("RABBITMQ_ENABLED_PLUGINS_FILE", &plugins)
        .env("RABBITMQ_PID_FILE", base.join("pid"))
        // The start script then execs the Erlang VM, so killing the child stops the node.
        .env("RUNNING_UNDER_SYSTEMD", "1");
    let broker = Broker::start_within(cmd, port, base.join("out.log"), Duration::from_secs(60));
    (broker, port)
}

#[cfg(feature = "tls")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amqp_sink_over_tls_trusts_its_ca_file_and_names_the_problem_otherwise() {
    use futures_util::StreamExt as _;
    use lapin::options::{
        BasicAckOptions, BasicConsumeOptions, ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
    };
    use lapin::types::FieldTable;
    use vigil_alert::sink::amqp::{AmqpConfig, AmqpSink};

    assert!(Path::new(RABBITMQ).exists(), "{RABBITMQ} is needed");
    let dir = tempfile::tempdir().expect("tmp");
    let pki = TestPki::generate(dir.path(), "broker");
    let stranger = TestPki::generate(dir.path(), "stranger");
    let (mut broker, port) = start_rabbitmq_tls(dir.path(), &pki);
    let url = format!("amqps://localhost:{port}/%2f");

    // A consumer over TLS trusting the broker's CA: exchange, queue and binding first, so the
    // sink's mandatory publishes have somewhere to go.
    let consumer_tls = lapin::tcp::OwnedTLSConfig {
        identity: None,
        cert_chain: Some(pki.ca_pem.clone()),
    };
    let conn = lapin::Connection::connect_with_config(
        &url,
        lapin::ConnectionProperties::default(),
        consumer_tls,
        lapin::runtime::default_runtime().expect("runtime"),
    )
    .await
    .unwrap_or_else(|e| panic!("TLS consumer cannot connect: {e}\n{}", broker.log_text()));
    let ch = conn.create_channel().await.expect("channel");
    ch.exchange_declare(
        "vigil.tls".into(),
        lapin::ExchangeKind::Topic,
        ExchangeDeclareOptions {
            durable: true,
            ..Default::default()
        },
        FieldTable::default(),
    )
    .await
    .expect("exchange");
    ch.queue_declare(
        "vigil.tls.alerts".into(),
        QueueDeclareOptions::default(),
        FieldTable::default(),
    )
    .await
    .expect("queue");
    ch.queue_bind(
        "vigil.tls.alerts".into(),
        "vigil.tls".into(),
        "#".into(),
        QueueBindOptions::default(),
        FieldTable::default(),
    )
    .await
    .expect("bind");
    let mut deliveries = ch
        .basic_consume(
            "vigil.tls.alerts".into(),
            "test".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect("consume");

    // Trusting the broker's CA: every alert arrives, in order, through outbox and delivery loop.
    let mut config = AmqpConfig::with_exchange(url.clone(), "vigil.tls");
    config.ca_file = Some(pki.ca_file.clone());
    let ob = outbox(dir.path(), "soc");
    let (stop, shutdown) = watch::channel(false);
    let d = delivery::spawn(
        ob.clone(),
        "soc",
        AmqpSink::new("soc", "test-node", config).expect("sink"),
        fast_retry(),
        shutdown,
    );
    let sent = alerts(&CAMERAS, ALERTS);
    for a in &sent {
        ob.enqueue(a).expect("enqueue").expect("routed");
    }
    let validator = schema();
    let mut got = Vec::new();
    while got.len() < sent.len() {
        let delivery = tokio::time::timeout(Duration::from_secs(20), deliveries.next())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "{} of {} alerts arrived; outbox holds {}:\n{}",
                    got.len(),
                    sent.len(),
                    ob.len(),
                    broker.log_text()
                )
            })
            .expect("consumer alive")
            .expect("delivery");
        got.push(check_event(&validator, &delivery.data));
        delivery.ack(BasicAckOptions::default()).await.expect("ack");
    }
    assert_same_per_camera_order(&sent, &got);
    assert!(eventually(Duration::from_secs(10), || ob.is_empty()).await);
    stop.send_replace(true);
    assert!(d.join(Duration::from_secs(5)).await);

    // Trusting another CA: refused, and the error says why.
    let mut untrusted = AmqpConfig::with_exchange(url.clone(), "vigil.tls");
    untrusted.ca_file = Some(stranger.ca_file.clone());
    let mut sink = AmqpSink::new("soc-wrong-ca", "test-node", untrusted).expect("sink");
    let text = publish_error(&mut sink, "soc-wrong-ca").await;
    assert!(
        text.contains(
            "TLS handshake failed: the broker's certificate is not signed by a CA this sink trusts"
        ),
        "{text}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        tokio::time::timeout(Duration::from_millis(200), deliveries.next())
            .await
            .is_err(),
        "the refused sink must have delivered nothing"
    );

    // A ca_file with a plain amqp:// url is a config error, not a silently unencrypted link.
    let mut plain = AmqpConfig::with_exchange(format!("amqp://localhost:{port}/%2f"), "vigil.tls");
    plain.ca_file = Some(pki.ca_file.clone());
    let e = AmqpSink::new("soc-plain", "test-node", plain).expect_err("amqp:// with ca_file");
    assert!(e.to_string().contains("amqps://"), "{e}");
}
