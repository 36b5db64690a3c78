//! Kafka sink (cargo feature `kafka`, librdkafka through `rdkafka`).
//!
//! Topic from a template, key = camera id (so one camera's alerts stay in one partition, in
//! order), header `ce_id` = alert id, `acks=all` and idempotence on; `Ok` after the delivery
//! report. Not built by default: rdkafka compiles librdkafka from C sources.

use std::path::PathBuf;
use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde::{Deserialize, Serialize};

use crate::error::{ConfigError, SinkError};
use crate::event::Event;
use crate::secret::{Secret, resolve};
use crate::sink::Sink;
use crate::template::{Levels, Template};

/// `[sink.sink.kafka]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaConfig {
    /// `bootstrap.servers`, e.g. `127.0.0.1:9092`.
    pub brokers: String,
    /// Topic template (dots kept). Default `vigil.alerts`.
    #[serde(default = "default_topic")]
    pub topic: String,
    /// SASL user name (SASL/PLAIN when set).
    #[serde(default)]
    pub username: Option<String>,
    /// Environment variable holding the SASL password.
    #[serde(default)]
    pub password_env: Option<String>,
    /// File holding the SASL password.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// Delivery timeout. Default 10 000 ms.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_topic() -> String {
    "vigil.alerts".into()
}
fn default_timeout_ms() -> u64 {
    10_000
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

impl KafkaSink {
    /// Validates the config and resolves credentials; does not connect.
    pub fn new(name: &str, node: &str, config: KafkaConfig) -> Result<Self, ConfigError> {
        let topic = super::template(name, &config.topic, Levels::Dot)?;
        let password = resolve(
            name,
            "password",
            config.password_env.as_deref(),
            config.password_file.as_deref(),
        )?;
        Ok(Self {
            name: name.into(),
            node: node.into(),
            config,
            topic,
            password,
            producer: None,
        })
    }

    fn producer(&mut self) -> Result<FutureProducer, SinkError> {
        if let Some(p) = &self.producer {
            return Ok(p.clone());
        }
        let mut cc = ClientConfig::new();
        cc.set("bootstrap.servers", &self.config.brokers)
            .set("acks", "all")
            .set("enable.idempotence", "true")
            .set("message.timeout.ms", self.config.timeout_ms.to_string());
        if let (Some(user), Some(pw)) = (&self.config.username, &self.password) {
            cc.set("security.protocol", "SASL_PLAINTEXT")
                .set("sasl.mechanisms", "PLAIN")
                .set("sasl.username", user)
                .set("sasl.password", pw.expose());
        }
        let p: FutureProducer = cc.create().map_err(|e| SinkError::Unavailable {
            sink: self.name.clone(),
            detail: e.to_string(),
        })?;
        self.producer = Some(p.clone());
        Ok(p)
    }
}

impl Sink for KafkaSink {
    async fn publish(&mut self, event: &Event) -> Result<(), SinkError> {
        let producer = self.producer()?;
        let topic = self.topic.render(&event.meta, &self.node);
        let headers = OwnedHeaders::new().insert(Header {
            key: "ce_id",
            value: Some(event.meta.id.as_str()),
        });
        let record = FutureRecord::to(&topic)
            .key(event.meta.camera.as_str())
            .payload(&event.body)
            .headers(headers);
        producer
            .send(record, Duration::from_millis(self.config.timeout_ms))
            .await
            .map(|_| ())
            .map_err(|(e, _)| SinkError::Publish {
                sink: self.name.clone(),
                detail: e.to_string(),
            })
    }
}
