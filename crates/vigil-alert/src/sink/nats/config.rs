//! Settings of the NATS JetStream sink.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// `[sink.sink.nats]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NatsConfig {
    /// Server URL. Default `nats://127.0.0.1:4222`.
    #[serde(default = "default_url")]
    pub url: String,
    /// Subject template; placeholders `{camera}`, `{kind}`, `{severity}`, `{node}`.
    /// Default `vigil.alerts.{camera}.{kind}.{severity}`.
    #[serde(default = "default_subject")]
    pub subject: String,
    /// Stream to create/verify at connect time. Default: none (the stream is managed elsewhere).
    #[serde(default)]
    pub stream: Option<NatsStreamConfig>,
    /// User name, if the server requires one.
    #[serde(default)]
    pub username: Option<String>,
    /// Environment variable holding the password.
    #[serde(default)]
    pub password_env: Option<String>,
    /// File holding the password.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// How long to wait for the JetStream publish ack. Default 5000 ms.
    #[serde(default = "default_ack_timeout_ms")]
    pub ack_timeout_ms: u64,
    /// TCP/handshake timeout. Default 3000 ms.
    #[serde(default = "default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    /// Require TLS: the connection fails rather than continue in clear text. Default false, or
    /// true when `ca_file` is set or the URL is `tls://…`. A server that demands TLS gets it
    /// either way, with the same trust settings.
    #[serde(default)]
    pub tls: bool,
    /// PEM file with the CA certificate(s) to trust for the server's certificate, instead of the
    /// system's. Implies `tls`. Default: none (the system's CA certificates).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

/// Stream the sink creates if missing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NatsStreamConfig {
    /// Stream name, e.g. `VIGIL_ALERTS`.
    pub name: String,
    /// Subjects it captures, e.g. `["vigil.alerts.>"]`.
    pub subjects: Vec<String>,
    /// Message retention in seconds; 0 = unlimited. Default 7 days.
    #[serde(default = "default_max_age_s")]
    pub max_age_s: u64,
    /// Window in which a repeated `Nats-Msg-Id` is dropped. Default 120 s.
    #[serde(default = "default_duplicate_window_s")]
    pub duplicate_window_s: u64,
}

fn default_url() -> String {
    "nats://127.0.0.1:4222".into()
}
fn default_subject() -> String {
    "vigil.alerts.{camera}.{kind}.{severity}".into()
}
fn default_ack_timeout_ms() -> u64 {
    5000
}
fn default_connect_timeout_ms() -> u64 {
    3000
}
fn default_max_age_s() -> u64 {
    7 * 24 * 3600
}
fn default_duplicate_window_s() -> u64 {
    120
}

impl NatsConfig {
    /// Defaults with the given URL.
    pub fn with_url(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            subject: default_subject(),
            stream: None,
            username: None,
            password_env: None,
            password_file: None,
            ack_timeout_ms: default_ack_timeout_ms(),
            connect_timeout_ms: default_connect_timeout_ms(),
            tls: false,
            ca_file: None,
        }
    }
}

impl NatsStreamConfig {
    /// A stream with default retention and duplicate window.
    pub fn new(name: impl Into<String>, subjects: Vec<String>) -> Self {
        Self {
            name: name.into(),
            subjects,
            max_age_s: default_max_age_s(),
            duplicate_window_s: default_duplicate_window_s(),
        }
    }
}
