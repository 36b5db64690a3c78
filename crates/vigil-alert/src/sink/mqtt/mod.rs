//! MQTT sink (rumqttc, MQTT 3.1.1).
//!
//! Alerts go out with QoS 1 and `publish` returns only after the broker's PUBACK for that
//! packet. rumqttc's event loop must be polled continuously (keep-alive, reconnects), so a
//! driver task owns it and forwards the few events the sink needs over a small channel; full
//! → the event is dropped, which is safe because the sink drains stale events before each
//! publish and only waits for the packet ids of its own publish.
//!
//! Packet-id correlation relies on the sink being the only QoS 1 publisher on the connection:
//! the driver announces `online` on the availability topic with QoS 0 (packet id 0, ignored).
//! The last will (`offline`, retained, QoS 1) tells consumers the node vanished.
//! After any error the whole connection is dropped and rebuilt on the next publish, so a
//! packet retransmitted by the old session can never be mistaken for the current one.
//!
//! TLS (`tls`, `ca_file`) needs the cargo feature `tls`; the sink gives rumqttc its own rustls
//! configuration ([`ClientTls`]) and reports handshake failures with what they mean.

mod config;

use std::time::Duration;

use rumqttc::{AsyncClient, Event as MqttEvent, LastWill, MqttOptions, Outgoing, Packet, QoS};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub use config::MqttConfig;

use crate::error::{ConfigError, SinkError};
use crate::event::Event;
use crate::secret::{Secret, resolve};
use crate::sink::Sink;
use crate::template::{Levels, Template};
use crate::tls::ClientTls;

/// What the driver task reports.
#[derive(Debug)]
enum Report {
    /// A publish left with this packet id.
    Sent(u16),
    /// The broker acknowledged this packet id.
    Acked(u16),
    /// The connection failed (rumqttc retries on the next poll).
    Failed(String),
}

struct Conn {
    client: AsyncClient,
    reports: mpsc::Receiver<Report>,
    driver: JoinHandle<()>,
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

/// Publishes to an MQTT broker; see the module docs.
pub struct MqttSink {
    name: String,
    node: String,
    config: MqttConfig,
    topic: Template,
    state_topic: Option<Template>,
    availability_topic: String,
    password: Option<Secret>,
    /// `Some` when the connection uses TLS (`tls` or `ca_file`).
    tls: Option<ClientTls>,
    conn: Option<Conn>,
}

impl std::fmt::Debug for MqttSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MqttSink")
            .field("name", &self.name)
            .field(
                "broker",
                &format_args!("{}:{}", self.config.host, self.config.port),
            )
            .field("topic", &self.topic)
            .field("tls", &self.tls)
            .field("connected", &self.conn.is_some())
            .finish()
    }
}

impl MqttSink {
    /// Validates the config and resolves credentials; does not connect.
    pub fn new(name: &str, node: &str, config: MqttConfig) -> Result<Self, ConfigError> {
        let topic = super::template(name, &config.topic, Levels::Slash)?;
        let state_topic = config
            .state_topic
            .as_deref()
            .map(|t| super::template(name, t, Levels::Slash))
            .transpose()?;
        let availability = super::template(name, &config.availability_topic, Levels::Slash)?;
        // Only {node} makes sense here; render with an empty alert.
        let availability_topic = availability.render(
            &crate::meta::AlertMeta {
                id: String::new(),
                camera: String::new(),
                kind: String::new(),
                severity: crate::meta::Severity::Info,
                time: String::new(),
            },
            node,
        );
        let password = resolve(
            name,
            "password",
            config.password_env.as_deref(),
            config.password_file.as_deref(),
        )?;
        let tls = if config.tls || config.ca_file.is_some() {
            if !cfg!(feature = "tls") {
                return Err(ConfigError::Invalid {
                    sink: name.into(),
                    message: "tls = true (or ca_file) needs vigil built with the cargo feature `tls`".into(),
                });
            }
            Some(ClientTls::new(name, config.ca_file.as_deref())?)
        } else {
            None
        };
        Ok(Self {
            name: name.into(),
            node: node.into(),
            config,
            topic,
            state_topic,
            availability_topic,
            password,
            tls,
            conn: None,
        })
    }

    fn connect(&self) -> Conn {
        let c = &self.config;
        let id = c
            .client_id
            .clone()
            .unwrap_or_else(|| format!("vigil-{}-{}", self.node, self.name));
        let mut opts = MqttOptions::new(id, c.host.clone(), c.port);
        opts.set_keep_alive(Duration::from_secs(c.keep_alive_s.max(5)))
            .set_clean_session(true)
            .set_max_packet_size(c.max_packet_bytes, c.max_packet_bytes)
            .set_last_will(LastWill::new(
                &self.availability_topic,
                "offline",
                QoS::AtLeastOnce,
                true,
            ));
        if let (Some(user), Some(pw)) = (&c.username, &self.password) {
            opts.set_credentials(user.clone(), pw.expose());
        }
        #[cfg(feature = "tls")]
        if let Some(tls) = &self.tls {
            opts.set_transport(rumqttc::Transport::tls_with_config(
                rumqttc::TlsConfiguration::Rustls(tls.config()),
            ));
        }
        let (client, eventloop) = AsyncClient::new(opts, 16);
        let (tx, reports) = mpsc::channel(64);
        let driver = tokio::spawn(drive(
            eventloop,
            client.clone(),
            tx,
            self.availability_topic.clone(),
            self.tls.clone(),
        ));
        Conn {
            client,
            reports,
            driver,
        }
    }

    /// Publishes one QoS 1 message and waits for its PUBACK.
    async fn publish_acked(&mut self, topic: String, retain: bool, payload: &[u8]) -> Result<(), SinkError> {
        let timeout = Duration::from_millis(self.config.ack_timeout_ms);
        let name = self.name.clone();
        let mut conn = match self.conn.take() {
            Some(c) => c,
            None => self.connect(),
        };
        while conn.reports.try_recv().is_ok() {}
        let result = async {
            conn.client
                .publish(topic, QoS::AtLeastOnce, retain, payload.to_vec())
                .await
                .map_err(|e| SinkError::Unavailable {
                    sink: name.clone(),
                    detail: e.to_string(),
                })?;
            let mut ours = None;
            loop {
                match conn.reports.recv().await {
                    Some(Report::Sent(pkid)) if pkid != 0 && ours.is_none() => ours = Some(pkid),
                    Some(Report::Acked(pkid)) if Some(pkid) == ours => return Ok(()),
                    Some(Report::Failed(detail)) => {
                        return Err(SinkError::Unavailable {
                            sink: name.clone(),
                            detail,
                        });
                    }
                    Some(_) => {}
                    None => {
                        return Err(SinkError::Unavailable {
                            sink: name.clone(),
                            detail: "driver ended".into(),
                        });
                    }
                }
            }
        };
        let outcome = tokio::time::timeout(timeout, result).await.unwrap_or_else(|_| {
            Err(SinkError::Publish {
                sink: name.clone(),
                detail: format!("no PUBACK within {timeout:?}"),
            })
        });
        // On error the connection is dropped (driver aborted) and rebuilt on the next publish.
        if outcome.is_ok() {
            self.conn = Some(conn);
        }
        outcome
    }
}

/// Polls the event loop for the life of the connection, forwarding what the sink waits for.
async fn drive(
    mut eventloop: rumqttc::EventLoop,
    client: AsyncClient,
    tx: mpsc::Sender<Report>,
    availability_topic: String,
    tls: Option<ClientTls>,
) {
    loop {
        match eventloop.poll().await {
            Ok(MqttEvent::Incoming(Packet::ConnAck(_))) => {
                if let Err(e) = client.try_publish(&availability_topic, QoS::AtMostOnce, true, "online") {
                    tracing::debug!(error = %e, "cannot queue MQTT availability message");
                }
            }
            Ok(MqttEvent::Incoming(Packet::PubAck(ack))) => {
                let _ = tx.try_send(Report::Acked(ack.pkid));
            }
            Ok(MqttEvent::Outgoing(Outgoing::Publish(pkid))) => {
                let _ = tx.try_send(Report::Sent(pkid));
            }
            Ok(_) => {}
            Err(e) => {
                let detail = match &tls {
                    Some(tls) => tls.explain(&e),
                    None => e.to_string(),
                };
                let _ = tx.try_send(Report::Failed(detail));
                // rumqttc reconnects on the next poll; pace it.
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

impl Sink for MqttSink {
    async fn publish(&mut self, event: &Event) -> Result<(), SinkError> {
        let topic = self.topic.render(&event.meta, &self.node);
        self.publish_acked(topic, false, &event.body).await?;
        if let Some(state) = &self.state_topic {
            let topic = state.render(&event.meta, &self.node);
            self.publish_acked(topic, true, &event.body).await?;
        }
        Ok(())
    }
}
