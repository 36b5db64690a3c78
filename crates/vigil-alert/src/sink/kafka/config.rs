//! Settings of the Kafka sink.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// `[sink.sink.kafka]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaConfig {
    /// `bootstrap.servers`: comma-separated `host:port` list, e.g. `10.0.0.5:9092,10.0.0.6:9092`.
    pub brokers: String,
    /// Topic template (dots kept; placeholders `{camera}`, `{kind}`, `{severity}`, `{node}`).
    /// Default `vigil.alerts`.
    #[serde(default = "default_topic")]
    pub topic: String,
    /// SASL user name (SASL/PLAIN over plaintext when set; needs a password too).
    #[serde(default)]
    pub username: Option<String>,
    /// Environment variable holding the SASL password.
    #[serde(default)]
    pub password_env: Option<String>,
    /// File holding the SASL password.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// Delivery timeout (`message.timeout.ms`): how long librdkafka keeps trying one message
    /// before the publish fails and the delivery loop takes over. Default 10 000 ms; must be > 0.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_topic() -> String {
    "vigil.alerts".into()
}
fn default_timeout_ms() -> u64 {
    10_000
}

impl KafkaConfig {
    /// Defaults for `brokers`.
    pub fn with_brokers(brokers: impl Into<String>) -> Self {
        Self {
            brokers: brokers.into(),
            topic: default_topic(),
            username: None,
            password_env: None,
            password_file: None,
            timeout_ms: default_timeout_ms(),
        }
    }
}
