//! Settings of the webhook sink.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// `[sink.sink.webhook]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Receiver URL (`http://…`; `https://…` needs the cargo feature `tls`).
    pub url: String,
    /// Environment variable holding the HMAC key for `X-Vigil-Signature`.
    #[serde(default)]
    pub secret_env: Option<String>,
    /// File holding the HMAC key.
    #[serde(default)]
    pub secret_file: Option<PathBuf>,
    /// Tries per publish before the delivery loop takes over (with its longer backoff).
    /// Default 3.
    #[serde(default = "default_attempts")]
    pub attempts: u32,
    /// First pause between tries, doubled each time. Default 200 ms.
    #[serde(default = "default_backoff_ms")]
    pub backoff_ms: u64,
    /// Whole-request timeout. Default 5000 ms.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_attempts() -> u32 {
    3
}
fn default_backoff_ms() -> u64 {
    200
}
fn default_timeout_ms() -> u64 {
    5000
}

impl WebhookConfig {
    /// Defaults for `url`, unsigned.
    pub fn with_url(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            secret_env: None,
            secret_file: None,
            attempts: default_attempts(),
            backoff_ms: default_backoff_ms(),
            timeout_ms: default_timeout_ms(),
        }
    }
}
