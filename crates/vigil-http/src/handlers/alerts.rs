//! `GET /api/v1/alerts` (history), `/alerts/{id}`, `/alerts/{id}/snapshot.jpg`, and
//! `/alerts/stream` (Server-Sent Events). Every one is a query of alert history, so each is
//! recorded with [`crate::Backend::audit_query`] before it is answered.

use std::convert::Infallible;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{Method, Uri};
use axum::response::Response;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::watch;

use super::{ApiBody, ApiPath, ApiQuery, AppState, audited, jpeg, what};
use crate::backend::{AlertQuery, Caller};
use crate::error::ApiError;

/// The query string as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAlertQuery {
    camera: Option<String>,
    rule: Option<String>,
    since: Option<String>,
    until: Option<String>,
    limit: Option<usize>,
}

impl RawAlertQuery {
    /// Validates into an [`AlertQuery`].
    pub(crate) fn validate(self) -> Result<AlertQuery, ApiError> {
        let time = |name: &str, v: Option<String>| -> Result<Option<Timestamp>, ApiError> {
            v.map(|s| {
                s.parse::<Timestamp>().map_err(|e| {
                    ApiError::bad_request(
                        "bad_query",
                        format!(
                            "{name}={s:?} is not an RFC 3339 time ({e}); write e.g. 2025-01-31T08:00:00Z"
                        ),
                    )
                })
            })
            .transpose()
        };
        let since = time("since", self.since)?;
        let until = time("until", self.until)?;
        if let (Some(s), Some(u)) = (since, until)
            && s >= u
        {
            return Err(ApiError::bad_request(
                "bad_query",
                format!("since ({s}) must be before until ({u})"),
            ));
        }
        let limit = self.limit.unwrap_or(AlertQuery::DEFAULT_LIMIT);
        if !(1..=AlertQuery::MAX_LIMIT).contains(&limit) {
            return Err(ApiError::bad_request(
                "bad_query",
                format!(
                    "limit={limit} is out of range; use 1 to {} (default {})",
                    AlertQuery::MAX_LIMIT,
                    AlertQuery::DEFAULT_LIMIT
                ),
            ));
        }
        Ok(AlertQuery {
            camera: self.camera.filter(|s| !s.is_empty()),
            rule: self.rule.filter(|s| !s.is_empty()),
            since,
            until,
            limit,
        })
    }
}

/// Recent alerts, newest first.
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    method: Method,
    uri: Uri,
    ApiQuery(raw): ApiQuery<RawAlertQuery>,
) -> Result<Json<Vec<Value>>, ApiError> {
    let query = raw.validate()?;
    audited(&state, caller, what(&method, &uri), move |b| {
        let mut alerts = b.alerts(&query)?;
        // The limit is the API's promise, whatever the backend returns.
        alerts.truncate(query.limit);
        Ok(alerts)
    })
    .await
    .map(Json)
}

/// One alert.
pub(crate) async fn get(
    State(state): State<AppState>,
    caller: Caller,
    method: Method,
    uri: Uri,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    audited(&state, caller, what(&method, &uri), move |b| b.alert(&id))
        .await
        .map(Json)
}

/// One alert's snapshot.
pub(crate) async fn snapshot(
    State(state): State<AppState>,
    caller: Caller,
    method: Method,
    uri: Uri,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    audited(&state, caller, what(&method, &uri), move |b| {
        b.alert_snapshot_jpeg(&id)
    })
    .await
    .map(jpeg)
}

/// Longest acknowledgement note accepted, in characters.
const MAX_NOTE_CHARS: usize = 2000;

/// The body of `POST /api/v1/alerts/{id}/ack` (optional: an empty body is no note).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AckBody {
    /// Left out: no note. `null` is refused (422), as the document's `"type": "string"` says.
    #[serde(default, deserialize_with = "present_string")]
    note: Option<String>,
}

/// A field that, when present, must be a string (serde's `Option` would also take `null`).
fn present_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    String::deserialize(d).map(Some)
}

/// `POST /api/v1/alerts/{id}/ack`: records who acknowledged the alert; returns the alert with
/// its `ack`. Audited like a read, because the answer shows the alert.
pub(crate) async fn ack(
    State(state): State<AppState>,
    caller: Caller,
    method: Method,
    uri: Uri,
    ApiPath(id): ApiPath<String>,
    ApiBody(body): ApiBody,
) -> Result<Json<Value>, ApiError> {
    let parsed: AckBody = if body.iter().all(u8::is_ascii_whitespace) {
        AckBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::from_json(&e))?
    };
    let note = parsed.note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    if note.as_ref().is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS) {
        return Err(ApiError::unprocessable(
            "invalid_body",
            format!("note is longer than {MAX_NOTE_CHARS} characters; shorten it"),
        ));
    }
    let who = caller.clone();
    audited(&state, caller, what(&method, &uri), move |b| {
        let out = b.ack_alert(&id, &who, note.as_deref())?;
        tracing::info!(alert = %id, who = %who.token, source = %who.source(), "alert acknowledged");
        Ok(out)
    })
    .await
    .map(Json)
}

/// Alerts as they are raised: `event: alert` with the alert JSON as data; `event: lagged` with
/// `{"missed": n}` when this client fell behind and `n` alerts were skipped for it. The stream
/// ends when the server shuts down.
pub(crate) async fn stream(
    State(state): State<AppState>,
    caller: Caller,
    method: Method,
    uri: Uri,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    // Checked before the audit line: a refused stream disclosed nothing.
    let permit = state.streams.clone().try_acquire_owned().map_err(|_| {
        ApiError::unavailable(
            "too_many_streams",
            "too many alert streams are open; close one or raise api.max_alert_streams",
        )
    })?;
    let rx = audited(&state, caller, what(&method, &uri), |b| Ok(b.subscribe_alerts())).await?;
    // The permit travels with the stream and is released when the client goes away.
    let events = futures_util::stream::unfold(
        (rx, state.shutdown.clone(), permit),
        |(mut rx, mut shutdown, permit)| async move {
            let event = tokio::select! {
                biased;
                () = shut_down(&mut shutdown) => return None,
                r = rx.recv() => next_event(r)?,
            };
            Some((Ok(event), (rx, shutdown, permit)))
        },
    );
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(state.keep_alive)))
}

/// The SSE event for one broadcast result; `None` ends the stream.
fn next_event(r: Result<Arc<Value>, RecvError>) -> Option<Event> {
    match r {
        Ok(alert) => {
            let mut event = Event::default().event("alert");
            if let Some(id) = alert.get("id").and_then(Value::as_str) {
                event = event.id(id);
            }
            // A `Value` always serialises; the fallback only keeps the types honest.
            Some(
                event
                    .json_data(&*alert)
                    .unwrap_or_else(|_| Event::default().comment("unserialisable alert")),
            )
        }
        Err(RecvError::Lagged(missed)) => Some(
            Event::default()
                .event("lagged")
                .data(json!({ "missed": missed }).to_string()),
        ),
        Err(RecvError::Closed) => None,
    }
}

/// Resolves once shutdown is signalled; never when the signal's sender is gone without one
/// (a router served without [`crate::serve`]).
async fn shut_down(rx: &mut watch::Receiver<bool>) {
    loop {
        if *rx.borrow_and_update() {
            return;
        }
        if rx.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(pairs: &[(&str, &str)]) -> Result<AlertQuery, ApiError> {
        let mut q = RawAlertQuery::default();
        for (k, v) in pairs {
            let v = Some((*v).to_owned());
            match *k {
                "camera" => q.camera = v,
                "rule" => q.rule = v,
                "since" => q.since = v,
                "until" => q.until = v,
                "limit" => q.limit = Some(v.as_deref().and_then(|l| l.parse().ok()).expect("number")),
                other => panic!("no parameter {other}"),
            }
        }
        q.validate()
    }

    #[test]
    fn defaults_and_bounds() {
        let q = raw(&[]).expect("empty");
        assert_eq!(q, AlertQuery::default());
        assert_eq!(raw(&[("limit", "1000")]).expect("max").limit, 1000);
        assert_eq!(raw(&[("limit", "1001")]).expect_err("over").code, "bad_query");
        assert_eq!(raw(&[("limit", "0")]).expect_err("zero").code, "bad_query");
    }

    #[test]
    fn times_must_be_rfc3339_and_ordered() {
        let q = raw(&[
            ("since", "2025-01-31T08:00:00Z"),
            ("until", "2025-01-31T09:00:00+01:00"),
        ]);
        assert!(q.expect_err("equal instants").message.contains("before"));
        let q = raw(&[
            ("since", "2025-01-31T08:00:00Z"),
            ("until", "2025-02-01T00:00:00Z"),
        ])
        .expect("ordered");
        assert_eq!(
            q.since.map(|t| t.to_string()).as_deref(),
            Some("2025-01-31T08:00:00Z")
        );
        let e = raw(&[("since", "yesterday")]).expect_err("bad");
        assert!(e.message.contains("since=\"yesterday\""), "{}", e.message);
    }
}
