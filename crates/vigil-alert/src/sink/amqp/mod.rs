//! AMQP 0.9.1 sink (lapin; RabbitMQ).
//!
//! Publishes persistent messages (`delivery_mode` 2) to a topic exchange with a templated
//! routing key, on a channel in confirm mode: `Ok` only after the broker's publisher confirm.
//! Messages are `mandatory` by default, so "no queue bound" is a failed publish that keeps the
//! alert in the outbox rather than a silent loss.
//!
//! TLS: an `amqps://` url (cargo feature `tls`); `ca_file` adds a private CA to the trusted
//! certificates, and a refused handshake is reported with what it means.

mod config;

use std::time::Duration;

use lapin::options::{BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions};
use lapin::types::FieldTable;
use lapin::uri::AMQPUri;
use lapin::{BasicProperties, Channel, Confirmation, Connection, ConnectionProperties, ExchangeKind};

pub use config::AmqpConfig;

use crate::error::{ConfigError, SinkError};
use crate::event::Event;
use crate::secret::{Secret, redact_url, resolve};
use crate::sink::Sink;
use crate::template::{Levels, Template};

/// Publishes to an AMQP exchange; see the module docs.
pub struct AmqpSink {
    name: String,
    node: String,
    config: AmqpConfig,
    uri: AMQPUri,
    routing_key: Template,
    /// PEM text of `ca_file`, read and checked when the sink is built.
    ca_pem: Option<String>,
    /// Kept so the connection lives as long as the channel.
    conn: Option<(Connection, Channel)>,
}

impl std::fmt::Debug for AmqpSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AmqpSink")
            .field("name", &self.name)
            .field("url", &redact_url(&self.config.url))
            .field("exchange", &self.config.exchange)
            .field("routing_key", &self.routing_key)
            .field("connected", &self.conn.is_some())
            .finish()
    }
}

impl AmqpSink {
    /// Validates the config and resolves credentials; does not connect.
    pub fn new(name: &str, node: &str, config: AmqpConfig) -> Result<Self, ConfigError> {
        let routing_key = super::template(name, &config.routing_key, Levels::Dot)?;
        let mut uri: AMQPUri = config.url.parse().map_err(|e| ConfigError::Invalid {
            sink: name.into(),
            message: format!("bad AMQP url {}: {e}", redact_url(&config.url)),
        })?;
        if let Some(user) = &config.username {
            uri.authority.userinfo.username = user.clone();
        }
        let password: Option<Secret> = resolve(
            name,
            "password",
            config.password_env.as_deref(),
            config.password_file.as_deref(),
        )?;
        if let Some(pw) = password {
            uri.authority.userinfo.password = pw.expose().to_owned();
        }
        let ca_pem = match &config.ca_file {
            None => None,
            Some(path) => {
                let invalid = |message: &str| ConfigError::Invalid {
                    sink: name.into(),
                    message: message.into(),
                };
                if !cfg!(feature = "tls") {
                    return Err(invalid("ca_file needs vigil built with the cargo feature `tls`"));
                }
                if !config.url.starts_with("amqps://") {
                    return Err(invalid(
                        "ca_file is for TLS: use an amqps:// url (port 5671 by default)",
                    ));
                }
                Some(crate::tls::read_ca_pem(name, path)?)
            }
        };
        Ok(Self {
            name: name.into(),
            node: node.into(),
            config,
            uri,
            routing_key,
            ca_pem,
            conn: None,
        })
    }

    async fn connect(&mut self) -> Result<Channel, SinkError> {
        if let Some((_, ch)) = &self.conn
            && ch.status().connected()
        {
            return Ok(ch.clone());
        }
        self.conn = None;
        let unavailable = |detail: String| SinkError::Unavailable {
            sink: self.name.clone(),
            detail,
        };
        let props = ConnectionProperties::default()
            .with_connection_name(format!("vigil-{}-{}", self.node, self.name).into());
        let connected = match &self.ca_pem {
            None => Connection::connect_uri(self.uri.clone(), props).await,
            Some(pem) => {
                let runtime = lapin::runtime::default_runtime()
                    .map_err(|e| unavailable(format!("AMQP runtime: {e}")))?;
                let tls = lapin::tcp::OwnedTLSConfig {
                    identity: None,
                    cert_chain: Some(pem.clone()),
                };
                Connection::connect_uri_with_config(self.uri.clone(), props, tls, runtime).await
            }
        };
        let conn = connected.map_err(|e| {
            let trust = match &self.config.ca_file {
                Some(p) => format!("ca_file {} and the system's CA certificates", p.display()),
                None => "the system's CA certificates".into(),
            };
            let problem = crate::tls::tls_problem(&e, &trust)
                .map(|p| format!("; TLS handshake failed: {p}"))
                .unwrap_or_default();
            unavailable(format!("connect {}: {e}{problem}", redact_url(&self.config.url)))
        })?;
        let channel = conn
            .create_channel()
            .await
            .map_err(|e| unavailable(format!("channel: {e}")))?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(|e| unavailable(format!("confirm.select: {e}")))?;
        if self.config.declare_exchange {
            channel
                .exchange_declare(
                    self.config.exchange.as_str().into(),
                    ExchangeKind::Topic,
                    ExchangeDeclareOptions {
                        durable: true,
                        ..Default::default()
                    },
                    FieldTable::default(),
                )
                .await
                .map_err(|e| unavailable(format!("declare exchange {}: {e}", self.config.exchange)))?;
        }
        tracing::info!(sink = %self.name, url = %redact_url(&self.config.url), "connected to AMQP broker");
        self.conn = Some((conn, channel.clone()));
        Ok(channel)
    }
}

impl Sink for AmqpSink {
    async fn publish(&mut self, event: &Event) -> Result<(), SinkError> {
        let channel = self.connect().await?;
        let key = self.routing_key.render(&event.meta, &self.node);
        let props = BasicProperties::default()
            .with_delivery_mode(2)
            .with_content_type("application/cloudevents+json".into())
            .with_message_id(event.meta.id.as_str().into())
            .with_app_id("vigil".into());
        let options = BasicPublishOptions {
            mandatory: self.config.mandatory,
            ..Default::default()
        };
        let timeout = Duration::from_millis(self.config.confirm_timeout_ms);
        let name = &self.name;
        let publish = async {
            channel
                .basic_publish(
                    self.config.exchange.as_str().into(),
                    key.as_str().into(),
                    options,
                    &event.body,
                    props,
                )
                .await
                .map_err(|e| SinkError::Publish {
                    sink: name.clone(),
                    detail: e.to_string(),
                })?
                .await
                .map_err(|e| SinkError::Publish {
                    sink: name.clone(),
                    detail: e.to_string(),
                })
        };
        let outcome = match tokio::time::timeout(timeout, publish).await {
            Err(_) => Err(SinkError::Publish {
                sink: name.clone(),
                detail: format!("no confirm within {timeout:?}"),
            }),
            Ok(Err(e)) => Err(e),
            Ok(Ok(Confirmation::Nack(_))) => Err(SinkError::Publish {
                sink: name.clone(),
                detail: "broker nacked the message".into(),
            }),
            Ok(Ok(Confirmation::Ack(Some(returned)))) => Err(SinkError::Rejected {
                sink: name.clone(),
                detail: format!(
                    "unroutable: no queue bound to exchange {} for key {key} ({})",
                    self.config.exchange, returned.reply_text
                ),
            }),
            Ok(Ok(_)) => Ok(()),
        };
        if matches!(outcome, Err(SinkError::Publish { .. })) {
            self.conn = None;
        }
        outcome
    }
}
