//! Settings of the MQTT sink.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// `[sink.sink.mqtt]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MqttConfig {
    /// Broker host. Default `127.0.0.1`.
    #[serde(default = "default_host")]
    pub host: String,
    /// Broker port. Default 1883.
    #[serde(default = "default_port")]
    pub port: u16,
    /// Client id. Default `vigil-<node>-<sink name>` (must be unique per broker).
    #[serde(default)]
    pub client_id: Option<String>,
    /// Topic template for alerts; the rule kind's dots become `/`.
    /// Default `vigil/alerts/{camera}/{kind}/{severity}`.
    #[serde(default = "default_topic")]
    pub topic: String,
    /// Retained "last event" topic per camera, e.g. `vigil/{camera}/events`. Default: none.
    #[serde(default)]
    pub state_topic: Option<String>,
    /// Availability topic: `online` (retained) on connect, `offline` as the last will.
    /// Default `vigil/{node}/availability`.
    #[serde(default = "default_availability")]
    pub availability_topic: String,
    /// User name, if the broker requires one.
    #[serde(default)]
    pub username: Option<String>,
    /// Environment variable holding the password.
    #[serde(default)]
    pub password_env: Option<String>,
    /// File holding the password.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// Keep-alive interval. Default 30 s.
    #[serde(default = "default_keep_alive_s")]
    pub keep_alive_s: u64,
    /// How long to wait for a PUBACK. Default 5000 ms.
    #[serde(default = "default_ack_timeout_ms")]
    pub ack_timeout_ms: u64,
    /// Largest packet sent, in bytes (events carry base64 snapshots). Default 1 MiB.
    #[serde(default = "default_max_packet_bytes")]
    pub max_packet_bytes: usize,
    /// Use TLS (needs the cargo feature `tls`; the usual port is 8883). Default false, or true
    /// when `ca_file` is set.
    #[serde(default)]
    pub tls: bool,
    /// PEM file with the CA certificate(s) to trust for the broker's certificate, instead of the
    /// system's. Implies `tls`. Default: none (the system's CA certificates).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

fn default_host() -> String {
    "127.0.0.1".into()
}
fn default_port() -> u16 {
    1883
}
fn default_topic() -> String {
    "vigil/alerts/{camera}/{kind}/{severity}".into()
}
fn default_availability() -> String {
    "vigil/{node}/availability".into()
}
fn default_keep_alive_s() -> u64 {
    30
}
fn default_ack_timeout_ms() -> u64 {
    5000
}
fn default_max_packet_bytes() -> usize {
    1 << 20
}

impl MqttConfig {
    /// Defaults for `host:port`.
    pub fn with_broker(host: impl Into<String>, port: u16) -> Self {
        Self {
            host: host.into(),
            port,
            client_id: None,
            topic: default_topic(),
            state_topic: None,
            availability_topic: default_availability(),
            username: None,
            password_env: None,
            password_file: None,
            keep_alive_s: default_keep_alive_s(),
            ack_timeout_ms: default_ack_timeout_ms(),
            max_packet_bytes: default_max_packet_bytes(),
            tls: false,
            ca_file: None,
        }
    }
}
