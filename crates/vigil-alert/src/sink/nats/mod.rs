//! NATS JetStream sink.
//!
//! Subject from a template (default `vigil.alerts.{camera}.{kind}.{severity}`), header
//! `Nats-Msg-Id` = alert id so JetStream drops the duplicates a retry after a lost ack would
//! otherwise create (within the stream's duplicate window), and `Ok` only after the stream's
//! publish ack. With `[stream]` configured the stream is created at connect time if missing,
//! and an existing stream is checked to capture the configured subjects.
//!
//! TLS (`tls`, `ca_file`, or a `tls://` URL) needs no cargo feature: the NATS client always
//! carries rustls. The sink always hands the client its own rustls configuration
//! ([`ClientTls`]), also when TLS is not required, because a server may demand TLS in its
//! greeting and the upgrade must then trust what the config says.

mod config;

use std::time::Duration;

use async_nats::jetstream::{self, stream};
use async_nats::{ConnectOptions, HeaderMap, header};

pub use config::{NatsConfig, NatsStreamConfig};

use crate::error::{ConfigError, SinkError};
use crate::event::Event;
use crate::secret::{Secret, redact_url, resolve};
use crate::sink::Sink;
use crate::template::{Levels, Template};
use crate::tls::ClientTls;

/// Publishes to a JetStream stream; see the module docs.
pub struct NatsSink {
    name: String,
    node: String,
    config: NatsConfig,
    subject: Template,
    password: Option<Secret>,
    /// Trust settings for the server's certificate (`ca_file`, else the system's CAs).
    tls: ClientTls,
    /// `tls`, `ca_file` or a `tls://` URL: clear text is refused.
    require_tls: bool,
    /// `None` until connected, and again after any failure (next publish reconnects).
    js: Option<jetstream::Context>,
}

impl std::fmt::Debug for NatsSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsSink")
            .field("name", &self.name)
            .field("url", &redact_url(&self.config.url))
            .field("subject", &self.subject)
            .field("require_tls", &self.require_tls)
            .field("connected", &self.js.is_some())
            .finish()
    }
}

impl NatsSink {
    /// Validates the config and resolves credentials; does not connect.
    pub fn new(name: &str, node: &str, config: NatsConfig) -> Result<Self, ConfigError> {
        let subject = super::template(name, &config.subject, Levels::Dot)?;
        let password = resolve(
            name,
            "password",
            config.password_env.as_deref(),
            config.password_file.as_deref(),
        )?;
        if password.is_some() && config.username.is_none() {
            return Err(ConfigError::Invalid {
                sink: name.into(),
                message: "password set without username".into(),
            });
        }
        let tls = ClientTls::new(name, config.ca_file.as_deref())?;
        let require_tls = config.tls || config.ca_file.is_some() || config.url.starts_with("tls://");
        Ok(Self {
            name: name.into(),
            node: node.into(),
            config,
            subject,
            password,
            tls,
            require_tls,
            js: None,
        })
    }

    async fn connect(&mut self) -> Result<jetstream::Context, SinkError> {
        if let Some(js) = &self.js {
            return Ok(js.clone());
        }
        let unavailable = |detail: String| SinkError::Unavailable {
            sink: self.name.clone(),
            detail,
        };
        let mut opts = ConnectOptions::new()
            .name(format!("vigil-{}-{}", self.node, self.name))
            .connection_timeout(Duration::from_millis(self.config.connect_timeout_ms))
            .tls_client_config((*self.tls.config()).clone())
            .require_tls(self.require_tls);
        if let (Some(user), Some(pw)) = (&self.config.username, &self.password) {
            opts = opts.user_and_password(user.clone(), pw.expose().to_owned());
        }
        let client = async_nats::connect_with_options(self.config.url.as_str(), opts)
            .await
            .map_err(|e| {
                unavailable(format!(
                    "connect {}: {}",
                    redact_url(&self.config.url),
                    self.tls.explain(&e)
                ))
            })?;
        let js = jetstream::ContextBuilder::new()
            .timeout(Duration::from_millis(self.config.ack_timeout_ms))
            .build(client);
        if let Some(sc) = &self.config.stream {
            ensure_stream(&self.name, &js, sc).await?;
        }
        tracing::info!(sink = %self.name, url = %redact_url(&self.config.url), tls_required = self.require_tls, "connected to NATS");
        self.js = Some(js.clone());
        Ok(js)
    }
}

/// Creates the stream if missing; checks an existing one captures the configured subjects.
async fn ensure_stream(sink: &str, js: &jetstream::Context, sc: &NatsStreamConfig) -> Result<(), SinkError> {
    let wanted = stream::Config {
        name: sc.name.clone(),
        subjects: sc.subjects.clone(),
        max_age: Duration::from_secs(sc.max_age_s),
        duplicate_window: Duration::from_secs(sc.duplicate_window_s),
        storage: stream::StorageType::File,
        ..Default::default()
    };
    let mut created = js
        .get_or_create_stream(wanted)
        .await
        .map_err(|e| SinkError::Unavailable {
            sink: sink.into(),
            detail: format!("stream {}: {e}", sc.name),
        })?;
    let info = created.info().await.map_err(|e| SinkError::Unavailable {
        sink: sink.into(),
        detail: format!("stream {} info: {e}", sc.name),
    })?;
    let missing: Vec<&String> = sc
        .subjects
        .iter()
        .filter(|s| !info.config.subjects.contains(s))
        .collect();
    if !missing.is_empty() {
        return Err(ConfigError::Invalid {
            sink: sink.into(),
            message: format!(
                "existing stream {} does not capture subjects {missing:?} (it has {:?}); update the stream or the config",
                sc.name, info.config.subjects
            ),
        }
        .into());
    }
    Ok(())
}

impl Sink for NatsSink {
    async fn publish(&mut self, event: &Event) -> Result<(), SinkError> {
        let js = self.connect().await?;
        let subject = self.subject.render(&event.meta, &self.node);
        let mut headers = HeaderMap::new();
        headers.insert(header::NATS_MESSAGE_ID, event.meta.id.as_str());
        headers.insert("Content-Type", "application/cloudevents+json");
        let result = async {
            js.publish_with_headers(subject, headers, event.body.clone().into())
                .await
                .map_err(|e| e.to_string())?
                .await
                .map_err(|e| e.to_string())
        }
        .await;
        match result {
            Ok(ack) => {
                if ack.duplicate {
                    tracing::debug!(sink = %self.name, id = %event.meta.id, "JetStream reported a duplicate (retry after a lost ack)");
                }
                Ok(())
            }
            Err(detail) => {
                self.js = None;
                Err(SinkError::Publish {
                    sink: self.name.clone(),
                    detail,
                })
            }
        }
    }
}
