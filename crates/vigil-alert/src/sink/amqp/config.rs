//! Settings of the AMQP sink.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// `[sink.sink.amqp]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmqpConfig {
    /// Broker URL without credentials (they come from `username`/`password_*`).
    /// Default `amqp://127.0.0.1:5672/%2f`.
    #[serde(default = "default_url")]
    pub url: String,
    /// User name; overrides one in the URL. Default: the URL's, else `guest`.
    #[serde(default)]
    pub username: Option<String>,
    /// Environment variable holding the password.
    #[serde(default)]
    pub password_env: Option<String>,
    /// File holding the password.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// Exchange to publish to. Default `vigil.alerts`.
    #[serde(default = "default_exchange")]
    pub exchange: String,
    /// Declare the exchange (durable, type `topic`) at connect time. Default true.
    #[serde(default = "default_true")]
    pub declare_exchange: bool,
    /// Routing-key template. Default `{camera}.{kind}.{severity}`.
    #[serde(default = "default_routing_key")]
    pub routing_key: String,
    /// Publish as `mandatory`: a message no queue is bound for comes back and counts as a
    /// failed publish (kept and retried) instead of vanishing. Default true.
    #[serde(default = "default_true")]
    pub mandatory: bool,
    /// How long to wait for the publisher confirm. Default 5000 ms.
    #[serde(default = "default_confirm_timeout_ms")]
    pub confirm_timeout_ms: u64,
    /// PEM file with the CA certificate(s) to trust for the broker's certificate, added to the
    /// system's. Needs an `amqps://` url and the cargo feature `tls`. Default: none (an
    /// `amqps://` url trusts the system's CA certificates only).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

fn default_url() -> String {
    "amqp://127.0.0.1:5672/%2f".into()
}
fn default_exchange() -> String {
    "vigil.alerts".into()
}
fn default_routing_key() -> String {
    "{camera}.{kind}.{severity}".into()
}
fn default_true() -> bool {
    true
}
fn default_confirm_timeout_ms() -> u64 {
    5000
}

impl AmqpConfig {
    /// Defaults with the given URL and exchange.
    pub fn with_exchange(url: impl Into<String>, exchange: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            username: None,
            password_env: None,
            password_file: None,
            exchange: exchange.into(),
            declare_exchange: true,
            routing_key: default_routing_key(),
            mandatory: true,
            confirm_timeout_ms: default_confirm_timeout_ms(),
            ca_file: None,
        }
    }
}
