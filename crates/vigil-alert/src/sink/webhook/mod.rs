//! Webhook sink: HTTP POST of the CloudEvent with an HMAC signature.
//!
//! Headers: `Content-Type: application/cloudevents+json`, `Idempotency-Key: <alert id>` (the
//! receiver's dedupe key) and, when a key is configured, `X-Vigil-Signature:
//! sha256=<hex HMAC-SHA256 of the body>`. 2xx is success; 408, 429 and 5xx are retried here a
//! few times with doubling pauses; other 4xx are [`SinkError::Rejected`] (the receiver will not
//! change its mind by itself). ureq is blocking, so each request runs on tokio's blocking pool.

mod config;

use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

pub use config::WebhookConfig;

use crate::error::{ConfigError, SinkError};
use crate::event::Event;
use crate::secret::{Secret, redact_url, resolve};
use crate::sink::Sink;

/// Header carrying the signature.
pub const SIGNATURE_HEADER: &str = "X-Vigil-Signature";

/// POSTs events to a URL; see the module docs.
pub struct WebhookSink {
    name: String,
    config: WebhookConfig,
    key: Option<Secret>,
    agent: ureq::Agent,
}

impl std::fmt::Debug for WebhookSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSink")
            .field("name", &self.name)
            .field("url", &redact_url(&self.config.url))
            .field("signed", &self.key.is_some())
            .finish()
    }
}

/// `sha256=<hex>` of HMAC-SHA256(`key`, `body`), the value of [`SIGNATURE_HEADER`].
pub fn signature(key: &[u8], body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail; fall back to an empty tag anyway.
    match <Hmac<Sha256> as KeyInit>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(body);
            format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
        }
        Err(_) => "sha256=".into(),
    }
}

enum Outcome {
    Done,
    Retry(String),
    Reject(String),
}

impl WebhookSink {
    /// Validates the config and resolves the key; sends nothing.
    pub fn new(name: &str, config: WebhookConfig) -> Result<Self, ConfigError> {
        if !(config.url.starts_with("http://") || config.url.starts_with("https://")) {
            return Err(ConfigError::Invalid {
                sink: name.into(),
                message: format!("url {:?} is not http(s)", config.url),
            });
        }
        if config.url.starts_with("https://") && !cfg!(feature = "tls") {
            return Err(ConfigError::Invalid {
                sink: name.into(),
                message: "https needs vigil built with the cargo feature `tls`".into(),
            });
        }
        let key = resolve(
            name,
            "secret",
            config.secret_env.as_deref(),
            config.secret_file.as_deref(),
        )?;
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_millis(config.timeout_ms)))
            .http_status_as_error(false)
            .build()
            .new_agent();
        Ok(Self {
            name: name.into(),
            config,
            key,
            agent,
        })
    }

    fn post_once(agent: &ureq::Agent, url: &str, id: &str, sig: Option<&str>, body: &[u8]) -> Outcome {
        let mut req = agent
            .post(url)
            .header("Content-Type", "application/cloudevents+json")
            .header("Idempotency-Key", id);
        if let Some(sig) = sig {
            req = req.header(SIGNATURE_HEADER, sig);
        }
        match req.send(body) {
            Ok(resp) => match resp.status().as_u16() {
                200..=299 => Outcome::Done,
                code @ (408 | 429 | 500..=599) => Outcome::Retry(format!("HTTP {code}")),
                code => Outcome::Reject(format!("HTTP {code}")),
            },
            Err(e) => Outcome::Retry(e.to_string()),
        }
    }
}

impl Sink for WebhookSink {
    async fn publish(&mut self, event: &Event) -> Result<(), SinkError> {
        let sig = self
            .key
            .as_ref()
            .map(|k| signature(k.expose().as_bytes(), &event.body));
        let mut pause = Duration::from_millis(self.config.backoff_ms);
        let mut last = String::new();
        for attempt in 0..self.config.attempts.max(1) {
            if attempt > 0 {
                tokio::time::sleep(pause).await;
                pause = pause.saturating_mul(2);
            }
            let (agent, url, id, sig, body) = (
                self.agent.clone(),
                self.config.url.clone(),
                event.meta.id.clone(),
                sig.clone(),
                event.body.clone(),
            );
            let outcome = tokio::task::spawn_blocking(move || {
                Self::post_once(&agent, &url, &id, sig.as_deref(), &body)
            })
            .await
            .unwrap_or_else(|e| Outcome::Retry(format!("request task failed: {e}")));
            match outcome {
                Outcome::Done => return Ok(()),
                Outcome::Reject(detail) => {
                    return Err(SinkError::Rejected {
                        sink: self.name.clone(),
                        detail,
                    });
                }
                Outcome::Retry(detail) => last = detail,
            }
        }
        Err(SinkError::Publish {
            sink: self.name.clone(),
            detail: last,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231 test case 2 ("Jefe" / "what do ya want for nothing?").
    #[test]
    fn signature_matches_rfc4231() {
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
