//! The same alerts on every bus: `vigil run` on vtest.avi (camsim RTSP) with a JSONL file, an
//! MQTT sink (Mosquitto on 127.0.0.1:1883) and an AMQP sink (RabbitMQ on 127.0.0.1:5672); real
//! consumers in the test must receive exactly the alerts the file received, as CloudEvents, in
//! the same order.

use std::process::Stdio;
use std::time::Duration;

mod common;
use common::{campus_anyone, camsim, vigil_run};

fn require(addr: &str, what: &str) {
    assert!(
        std::net::TcpStream::connect_timeout(&addr.parse().expect("addr"), Duration::from_secs(2)).is_ok(),
        "{what} is not reachable at {addr} (fix: scripts/services.sh starts it)"
    );
}

fn ids(events: &[serde_json::Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["id"].as_str().expect("id").to_string())
        .collect()
}

#[test]
fn mqtt_and_amqp_carry_the_same_alerts_as_the_file() {
    use lapin::options::{
        BasicConsumeOptions, ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
    };
    use lapin::types::FieldTable;
    require("127.0.0.1:1883", "Mosquitto");
    require("127.0.0.1:5672", "RabbitMQ");
    let unique = format!(
        "{}{}",
        std::process::id(),
        jiff::Timestamp::now().as_millisecond()
    );
    let (topic_root, exchange) = (format!("vigile2e/{unique}"), format!("vigil.e2e.{unique}"));
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let (_camsim, url) = camsim("/campus", &vigil_testkit::testdata().join("vtest.avi"), 0);
    let rt = tokio::runtime::Runtime::new().expect("runtime");

    // Consumers first, so nothing is missed.
    let (mqtt_rx, amqp_rx) = rt.block_on(async {
        let mut opts = rumqttc::MqttOptions::new(format!("vigil-e2e-{unique}"), "127.0.0.1", 1883);
        opts.set_max_packet_size(4 << 20, 4 << 20);
        let (client, mut el) = rumqttc::AsyncClient::new(opts, 64);
        client
            .subscribe(format!("{topic_root}/#"), rumqttc::QoS::AtLeastOnce)
            .await
            .expect("subscribe");
        let (tx, mqtt_rx) = tokio::sync::mpsc::unbounded_channel::<Vec<u8>>();
        let (ok_tx, ok_rx) = tokio::sync::oneshot::channel();
        let mut ok_tx = Some(ok_tx);
        tokio::spawn(async move {
            loop {
                match el.poll().await {
                    Ok(rumqttc::Event::Incoming(rumqttc::Packet::SubAck(_))) => {
                        if let Some(t) = ok_tx.take() {
                            let _ = t.send(());
                        }
                    }
                    Ok(rumqttc::Event::Incoming(rumqttc::Packet::Publish(p))) => {
                        let _ = tx.send(p.payload.to_vec());
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
                }
            }
        });
        tokio::time::timeout(Duration::from_secs(10), ok_rx)
            .await
            .expect("MQTT suback in time")
            .expect("suback");

        let conn = lapin::Connection::connect("amqp://guest:guest@127.0.0.1:5672/%2f", Default::default())
            .await
            .expect("AMQP connect");
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
        let q = ch
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
            q.name().clone(),
            exchange.as_str().into(),
            "#".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect("bind");
        let mut consumer = ch
            .basic_consume(
                q.name().clone(),
                "e2e".into(),
                BasicConsumeOptions {
                    no_ack: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await
            .expect("consume");
        let (tx, amqp_rx) = tokio::sync::mpsc::unbounded_channel::<Vec<u8>>();
        tokio::spawn(async move {
            use futures_util::StreamExt as _;
            // The connection lives as long as this task.
            let _keep = (conn, ch);
            while let Some(Ok(d)) = consumer.next().await {
                let _ = tx.send(d.data.clone());
            }
        });
        (mqtt_rx, amqp_rx)
    });

    let jsonl = d.join("alerts.jsonl");
    let secret = d.join("amqp-password");
    std::fs::write(&secret, "guest\n").expect("secret");
    let file = d.join("p.toml");
    std::fs::write(
        &file,
        format!(
            r#"
[node]
id = "bus"
data_dir = "{data}"

[detector]
intra_threads = 1
{camera}
[[sink]]
name = "file"
[sink.sink.file]
path = "{jsonl}"

[[sink]]
name = "plc"
[sink.sink.mqtt]
host = "127.0.0.1"
port = 1883
topic = "{topic_root}/{{camera}}/{{kind}}"
availability_topic = "{topic_root}-status/{{node}}"

[[sink]]
name = "amqp"
[sink.sink.amqp]
url = "amqp://127.0.0.1:5672/%2f"
username = "guest"
password_file = "{secret}"
exchange = "{exchange}"
routing_key = "vigil.{{camera}}.{{kind}}"
"#,
            data = d.join("data").display(),
            jsonl = jsonl.display(),
            secret = secret.display(),
            camera = campus_anyone(&url),
        ),
    )
    .expect("write pipeline");
    let status = vigil_run(&file, 25)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("vigil run");
    assert!(status.success());

    let from_file: Vec<serde_json::Value> = std::fs::read_to_string(&jsonl)
        .expect("the file sink wrote")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert!(
        from_file.len() >= 2,
        "expected several alerts, got {}",
        from_file.len()
    );
    let want = ids(&from_file);
    let n = want.len();
    let collect = |mut rx: tokio::sync::mpsc::UnboundedReceiver<Vec<u8>>| {
        rt.block_on(async move {
            let mut got = Vec::new();
            while got.len() < n {
                match tokio::time::timeout(Duration::from_secs(15), rx.recv()).await {
                    Ok(Some(b)) => {
                        got.push(serde_json::from_slice::<serde_json::Value>(&b).expect("CloudEvent"))
                    }
                    _ => break,
                }
            }
            got
        })
    };
    let mqtt = collect(mqtt_rx);
    let amqp = collect(amqp_rx);
    assert_eq!(ids(&mqtt), want, "MQTT carries the same alerts, in order");
    assert_eq!(ids(&amqp), want, "AMQP carries the same alerts, in order");
    for ev in mqtt.iter().chain(&amqp) {
        assert_eq!(ev["specversion"], "1.0");
        assert_eq!(ev["type"], "vigil.alert.zone.intrusion");
    }
}
