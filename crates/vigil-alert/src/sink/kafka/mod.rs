//! Kafka sink (cargo feature `kafka`, librdkafka through `rdkafka`).
//!
//! Each alert is one record in CloudEvents *structured* mode: the value is the CloudEvent JSON,
//! header `content-type: application/cloudevents+json`. The key is the camera id, so one
//! camera's alerts land in one partition and stay in order. A few envelope fields are repeated
//! as headers (`ce_id`, `ce_type`, `ce_subject`, `vigil_severity`) so consumers can route or
//! dedupe without parsing the body; `ce_specversion` is deliberately absent because SDKs take it
//! as the marker of *binary* mode. The producer runs with `acks=all` and idempotence on, and a
//! publish is `Ok` only after the delivery report.
//!
//! librdkafka owns its connections and reconnects by itself, so the producer is kept across
//! failed publishes; it is rebuilt only after a fatal error (an idempotent producer that lost
//! its sequence state must start over). The library is compiled from the sources bundled with
//! `rdkafka-sys` (needs a C compiler and make); see docs/operations.md.

mod config;

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};

pub use config::KafkaConfig;

use crate::error::{ConfigError, SinkError};
use crate::event::{Event, TYPE_PREFIX};
use crate::meta::AlertMeta;
use crate::secret::{Secret, resolve};
use crate::sink::Sink;
use crate::template::{Levels, Template};

/// `content-type` of every record (CloudEvents Kafka binding, structured mode).
pub const CONTENT_TYPE: &str = "application/cloudevents+json; charset=UTF-8";
/// Longest topic name Kafka accepts.
const MAX_TOPIC_LEN: usize = 249;

/// Everything about one record except its value (the event body): derived from the alert
/// alone, so it is unit-tested without a broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KafkaRecord {
    /// Rendered topic.
    pub topic: String,
    /// Record key: the camera id.
    pub key: String,
    /// Record headers, in order.
    pub headers: Vec<(&'static str, String)>,
}

/// Produces to Kafka; see the module docs.
pub struct KafkaSink {
    name: String,
    node: String,
    config: KafkaConfig,
    topic: Template,
    password: Option<Secret>,
    producer: Option<FutureProducer>,
}

impl std::fmt::Debug for KafkaSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not derived: rdkafka's ClientConfig Debug would print sasl.password.
        f.debug_struct("KafkaSink")
            .field("name", &self.name)
            .field("brokers", &self.config.brokers)
            .field("topic", &self.topic)
            .field("username", &self.config.username)
            .field("connected", &self.producer.is_some())
            .finish()
    }
}

impl KafkaSink {
    /// Validates the config and resolves credentials; does not connect.
    pub fn new(name: &str, node: &str, config: KafkaConfig) -> Result<Self, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            sink: name.into(),
            message,
        };
        validate_brokers(&config.brokers).map_err(invalid)?;
        if config.timeout_ms == 0 {
            return Err(invalid(
                "timeout_ms = 0 would let librdkafka retry one message forever; use a positive value".into(),
            ));
        }
        let topic = super::template(name, &config.topic, Levels::Dot)?;
        validate_topic(&topic, node).map_err(invalid)?;
        let password = resolve(
            name,
            "password",
            config.password_env.as_deref(),
            config.password_file.as_deref(),
        )?;
        match (&config.username, &password) {
            (Some(_), None) => {
                return Err(invalid(
                    "username set without password_env or password_file (SASL/PLAIN needs both)".into(),
                ));
            }
            (None, Some(_)) => return Err(invalid("password set without username".into())),
            _ => {}
        }
        Ok(Self {
            name: name.into(),
            node: node.into(),
            config,
            topic,
            password,
            producer: None,
        })
    }

    /// The librdkafka settings this sink creates its producer with.
    pub fn client_config(&self) -> ClientConfig {
        let mut cc = ClientConfig::new();
        cc.set("bootstrap.servers", &self.config.brokers)
            .set("client.id", format!("vigil-{}-{}", self.node, self.name))
            .set("acks", "all")
            .set("enable.idempotence", "true")
            .set("message.timeout.ms", self.config.timeout_ms.to_string());
        if let (Some(user), Some(pw)) = (&self.config.username, &self.password) {
            cc.set("security.protocol", "SASL_PLAINTEXT")
                .set("sasl.mechanisms", "PLAIN")
                .set("sasl.username", user)
                .set("sasl.password", pw.expose());
        }
        cc
    }

    /// Topic, key and headers of the record for `meta`.
    pub fn record(&self, meta: &AlertMeta) -> KafkaRecord {
        KafkaRecord {
            topic: self.topic.render(meta, &self.node),
            key: meta.camera.clone(),
            headers: vec![
                ("content-type", CONTENT_TYPE.to_owned()),
                ("ce_id", meta.id.clone()),
                ("ce_type", format!("{TYPE_PREFIX}{}", meta.kind)),
                ("ce_subject", meta.camera.clone()),
                ("vigil_severity", meta.severity.to_string()),
            ],
        }
    }

    fn producer(&mut self) -> Result<FutureProducer, SinkError> {
        if let Some(p) = &self.producer {
            return Ok(p.clone());
        }
        let p: FutureProducer = self
            .client_config()
            .create()
            .map_err(|e| SinkError::Unavailable {
                sink: self.name.clone(),
                detail: format!("cannot create Kafka producer: {e}"),
            })?;
        tracing::info!(sink = %self.name, brokers = %self.config.brokers, "Kafka producer created");
        self.producer = Some(p.clone());
        Ok(p)
    }
}

/// Checks `brokers` is a comma-separated list of `host:port` (optionally `proto://host:port`).
fn validate_brokers(brokers: &str) -> Result<(), String> {
    if brokers.trim().is_empty() {
        return Err("brokers is empty; give host:port, e.g. \"10.0.0.5:9092\"".into());
    }
    for entry in brokers.split(',').map(str::trim) {
        let addr = entry.split_once("://").map_or(entry, |(_, rest)| rest);
        let ok = addr
            .rsplit_once(':')
            .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0));
        if !ok {
            return Err(format!(
                "broker {entry:?} is not host:port (e.g. \"10.0.0.5:9092\"); separate several with commas"
            ));
        }
    }
    Ok(())
}

/// Checks the template's fixed text yields a legal Kafka topic (`[A-Za-z0-9._-]`, at most 249
/// characters, not `.`/`..`). Substituted values are already sanitised by the template, so a
/// sample rendering is representative.
fn validate_topic(topic: &Template, node: &str) -> Result<(), String> {
    let sample = AlertMeta {
        id: String::new(),
        camera: "camera".into(),
        kind: "zone.intrusion".into(),
        severity: crate::meta::Severity::Critical,
        time: String::new(),
    };
    let rendered = topic.render(&sample, node);
    let legal = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if let Some(bad) = rendered.chars().find(|&c| !legal(c)) {
        return Err(format!(
            "topic {:?} contains {bad:?}; Kafka topics allow only letters, digits, '.', '_' and '-'",
            topic.as_str()
        ));
    }
    if rendered.is_empty() || rendered == "." || rendered == ".." {
        return Err(format!("topic {:?} renders to an illegal name", topic.as_str()));
    }
    if rendered.len() > MAX_TOPIC_LEN {
        return Err(format!(
            "topic {:?} renders to {} characters (e.g. {rendered:?}); Kafka allows {MAX_TOPIC_LEN}",
            topic.as_str(),
            rendered.len()
        ));
    }
    Ok(())
}

impl Sink for KafkaSink {
    async fn publish(&mut self, event: &Event) -> Result<(), SinkError> {
        let producer = self.producer()?;
        let record = self.record(&event.meta);
        let headers = record.headers.iter().fold(
            OwnedHeaders::new_with_capacity(record.headers.len()),
            |h, (key, value)| {
                h.insert(Header {
                    key,
                    value: Some(value.as_str()),
                })
            },
        );
        let message = FutureRecord::to(&record.topic)
            .key(record.key.as_str())
            .payload(&event.body)
            .headers(headers);
        // The queue timeout only matters when librdkafka's local queue is full.
        let sent = producer
            .send(message, Duration::from_millis(self.config.timeout_ms))
            .await;
        match sent {
            Ok(_) => Ok(()),
            Err((e, _)) => {
                if let Some((code, reason)) = producer.client().fatal_error() {
                    tracing::warn!(sink = %self.name, ?code, %reason, "Kafka producer hit a fatal error; recreating it");
                    self.producer = None;
                }
                Err(SinkError::Publish {
                    sink: self.name.clone(),
                    detail: e.to_string(),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests;
