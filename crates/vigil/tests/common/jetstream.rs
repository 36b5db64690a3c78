//! A real JetStream consumer for the end-to-end tests: reads a stream from its first message,
//! keeping every delivery (so a test sees duplicates as well as gaps), and a guard that deletes
//! a test's stream on the shared server however the test ends.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, consumer::pull};
use futures_util::StreamExt as _;

/// The machine's NATS server (JetStream enabled); `scripts/services.sh` starts it.
pub const SHARED_NATS: &str = "127.0.0.1:4222";

/// Fails (never skips) when the shared NATS server is down: it is a required service.
pub fn require_shared_nats() {
    let addr = SHARED_NATS.parse().expect("address");
    assert!(
        std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_ok(),
        "NATS is not reachable at {SHARED_NATS} (fix: `bash scripts/services.sh` starts it)"
    );
}

/// A name part unique to this test run (process id + milliseconds), safe in stream names and
/// subjects.
pub fn unique() -> String {
    format!(
        "{}_{}",
        std::process::id(),
        jiff::Timestamp::now().as_millisecond()
    )
}

/// One message as the consumer received it.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The NATS subject it was published on.
    pub subject: String,
    /// The `Nats-Msg-Id` header (the broker's dedupe key), if any.
    pub msg_id: Option<String>,
    /// The body, parsed as JSON (a CloudEvent).
    pub event: serde_json::Value,
}

impl Delivery {
    /// The CloudEvent id (`""` when missing: the caller's assertions say what is wrong).
    pub fn id(&self) -> &str {
        self.event["id"].as_str().unwrap_or_default()
    }
}

/// An ephemeral pull consumer over a whole stream, acknowledging each message.
pub struct Reader {
    stream: jetstream::stream::Stream,
    messages: pull::Stream,
    /// Everything received so far, in delivery order.
    pub got: Vec<Delivery>,
}

impl Reader {
    /// Opens a consumer that delivers `stream` from its first message.
    pub async fn open(js: &jetstream::Context, stream: &str) -> Reader {
        let stream = js
            .get_stream(stream)
            .await
            .unwrap_or_else(|e| panic!("stream {stream} (the sink creates it when it connects): {e}"));
        let consumer = stream
            .create_consumer(pull::Config {
                deliver_policy: jetstream::consumer::DeliverPolicy::All,
                ack_policy: jetstream::consumer::AckPolicy::Explicit,
                inactive_threshold: Duration::from_secs(120),
                ..Default::default()
            })
            .await
            .expect("create a consumer");
        let messages = consumer.messages().await.expect("start consuming");
        Reader {
            stream,
            messages,
            got: Vec::new(),
        }
    }

    /// Receives until `done(&self.got)` holds or `limit` passes; returns whether it held.
    pub async fn until(&mut self, limit: Duration, done: impl Fn(&[Delivery]) -> bool) -> bool {
        let deadline = Instant::now() + limit;
        while !done(&self.got) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            let Ok(next) = tokio::time::timeout(left, self.messages.next()).await else {
                return done(&self.got);
            };
            let msg = match next {
                Some(Ok(m)) => m,
                // A transient consumer error (e.g. a heartbeat missed while the machine is
                // loaded): keep reading until the deadline.
                Some(Err(e)) => {
                    eprintln!("[jetstream] consumer error (retrying): {e}");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
                None => return done(&self.got),
            };
            let event = serde_json::from_slice(&msg.payload).unwrap_or_else(|e| {
                panic!(
                    "a message on {} is not JSON ({e}): {}",
                    msg.subject,
                    String::from_utf8_lossy(&msg.payload)
                )
            });
            let msg_id = msg
                .headers
                .as_ref()
                .and_then(|h| h.get(async_nats::header::NATS_MESSAGE_ID))
                .map(|v| v.as_str().to_string());
            self.got.push(Delivery {
                subject: msg.subject.to_string(),
                msg_id,
                event,
            });
            msg.ack().await.expect("ack");
        }
        true
    }

    /// Messages the stream holds now.
    pub async fn stored(&mut self) -> u64 {
        self.stream.info().await.expect("stream info").state.messages
    }

    /// How many times each CloudEvent id was delivered.
    pub fn counts(&self) -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        for d in &self.got {
            *counts.entry(d.id().to_string()).or_default() += 1;
        }
        counts
    }
}

/// Deletes a stream when dropped, so a test run leaves nothing on a shared server even when it
/// fails. Declare it before the processes that publish to the stream (drop order is reverse).
pub struct DeleteStream {
    /// The runtime to run the deletion on (a multi-thread runtime, outside any async context).
    pub rt: tokio::runtime::Handle,
    /// A context on the server holding the stream.
    pub js: jetstream::Context,
    /// The stream.
    pub name: String,
}

impl Drop for DeleteStream {
    fn drop(&mut self) {
        let (js, name) = (self.js.clone(), self.name.clone());
        let _ = self.rt.block_on(async move {
            tokio::time::timeout(Duration::from_secs(5), js.delete_stream(&name)).await
        });
    }
}
