//! Sinks: where events leave the node. One folder per kind, each with its config struct
//! (`deny_unknown_fields`) and the client code.
//!
//! Every sink connects lazily on the first publish and drops its connection on any error, so
//! the next publish reconnects; start-up never fails because a broker is down, and an outage
//! is just a run of failed publishes that the delivery loop retries with backoff. A publish
//! returns `Ok` only after the broker confirmed it (JetStream ack, MQTT PUBACK, AMQP publisher
//! confirm, HTTP 2xx, file fsync).

pub mod amqp;
pub mod file;
#[cfg(feature = "kafka")]
pub mod kafka;
pub mod mqtt;
pub mod nats;
pub mod webhook;

use std::future::Future;

use serde::{Deserialize, Serialize};

use crate::delivery::RetryConfig;
use crate::error::{ConfigError, SinkError};
use crate::event::Event;
use crate::route::RouteConfig;

/// Something that can carry events to a receiver.
pub trait Sink: Send {
    /// Sends one event and resolves once the receiver acknowledged it.
    fn publish(&mut self, event: &Event) -> impl Future<Output = Result<(), SinkError>> + Send;
}

/// One `[[sink]]` entry of the config.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SinkSpec {
    /// Unique name; the outbox cursor key, the metrics label and the log field.
    pub name: String,
    /// Which alerts this sink carries (default: all).
    #[serde(default)]
    pub route: RouteConfig,
    /// Retry and circuit settings (defaults documented on [`RetryConfig`]).
    #[serde(default)]
    pub retry: RetryConfig,
    /// Kind-specific settings, e.g. `[sink.sink.nats]`.
    pub sink: SinkConfig,
}

/// Kind-specific sink settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum SinkConfig {
    /// NATS JetStream.
    Nats(nats::NatsConfig),
    /// MQTT 3.1.1, QoS 1.
    Mqtt(mqtt::MqttConfig),
    /// AMQP 0.9.1 (RabbitMQ) with publisher confirms.
    Amqp(amqp::AmqpConfig),
    /// HTTP POST with HMAC signature.
    Webhook(webhook::WebhookConfig),
    /// JSON Lines file with size-based rotation.
    File(file::FileConfig),
    /// Kafka (cargo feature `kafka`).
    #[cfg(feature = "kafka")]
    Kafka(kafka::KafkaConfig),
}

/// A sink of any kind, so the daemon can hold a list built from config.
// One value per configured sink, built once: variant size differences do not matter.
#[allow(clippy::large_enum_variant)]
pub enum AnySink {
    /// See [`nats::NatsSink`].
    Nats(nats::NatsSink),
    /// See [`mqtt::MqttSink`].
    Mqtt(mqtt::MqttSink),
    /// See [`amqp::AmqpSink`].
    Amqp(amqp::AmqpSink),
    /// See [`webhook::WebhookSink`].
    Webhook(webhook::WebhookSink),
    /// See [`file::FileSink`].
    File(file::FileSink),
    /// See `kafka::KafkaSink`.
    #[cfg(feature = "kafka")]
    Kafka(kafka::KafkaSink),
}

impl AnySink {
    /// Builds the sink of `spec` (resolving credentials, parsing templates); connects nothing.
    pub fn from_spec(spec: &SinkSpec, node: &str) -> Result<Self, ConfigError> {
        let name = spec.name.as_str();
        Ok(match &spec.sink {
            SinkConfig::Nats(c) => AnySink::Nats(nats::NatsSink::new(name, node, c.clone())?),
            SinkConfig::Mqtt(c) => AnySink::Mqtt(mqtt::MqttSink::new(name, node, c.clone())?),
            SinkConfig::Amqp(c) => AnySink::Amqp(amqp::AmqpSink::new(name, node, c.clone())?),
            SinkConfig::Webhook(c) => AnySink::Webhook(webhook::WebhookSink::new(name, c.clone())?),
            SinkConfig::File(c) => AnySink::File(file::FileSink::new(name, c.clone())?),
            #[cfg(feature = "kafka")]
            SinkConfig::Kafka(c) => AnySink::Kafka(kafka::KafkaSink::new(name, node, c.clone())?),
        })
    }
}

impl Sink for AnySink {
    async fn publish(&mut self, event: &Event) -> Result<(), SinkError> {
        match self {
            AnySink::Nats(s) => s.publish(event).await,
            AnySink::Mqtt(s) => s.publish(event).await,
            AnySink::Amqp(s) => s.publish(event).await,
            AnySink::Webhook(s) => s.publish(event).await,
            AnySink::File(s) => s.publish(event).await,
            #[cfg(feature = "kafka")]
            AnySink::Kafka(s) => s.publish(event).await,
        }
    }
}

/// Parses a template for sink `sink`, mapping the error into a [`ConfigError`].
pub(crate) fn template(
    sink: &str,
    text: &str,
    levels: crate::template::Levels,
) -> Result<crate::template::Template, ConfigError> {
    crate::template::Template::parse(text, levels).map_err(|source| ConfigError::Template {
        sink: sink.into(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_parses_from_toml_and_rejects_unknown_fields() {
        let text = r#"
            name = "bus"
            route = { kinds = ["plate.*"], min_severity = "high" }
            [sink.nats]
            url = "nats://127.0.0.1:4222"
            subject = "vigil.alerts.{camera}.{kind}.{severity}"
        "#;
        let spec: SinkSpec = toml::from_str(text).expect("parse");
        assert!(matches!(spec.sink, SinkConfig::Nats(_)));
        assert_eq!(spec.route.kinds, vec!["plate.*".to_string()]);
        let typo = text.replace("subject =", "subjet =");
        assert!(toml::from_str::<SinkSpec>(&typo).is_err());
        let unknown_kind = text.replace("sink.nats", "sink.carrier_pigeon");
        assert!(toml::from_str::<SinkSpec>(&unknown_kind).is_err());
    }
}
