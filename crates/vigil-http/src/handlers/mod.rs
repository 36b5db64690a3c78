//! Request handlers, one module per resource, and the extractors they share.
//!
//! The extractors wrap axum's so that every rejection (bad path, bad query, oversized body)
//! becomes the API's JSON error instead of axum's plain-text one.

pub(crate) mod alerts;
pub(crate) mod cameras;
pub(crate) mod system;
pub(crate) mod watchlists;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use tokio::sync::{Semaphore, watch};

use crate::backend::{Backend, Caller};
use crate::config::ApiSettings;
use crate::error::ApiError;

/// Longest interval between alert-stream keep-alive comments (proxies drop quieter ones).
const MAX_KEEP_ALIVE: Duration = Duration::from_secs(15);

/// What every handler can reach.
#[derive(Clone)]
pub(crate) struct AppState {
    /// The daemon.
    pub(crate) backend: Arc<dyn Backend>,
    /// Flips to `true` when the server shuts down; long-lived responses (SSE) end on it.
    pub(crate) shutdown: watch::Receiver<bool>,
    /// One permit per open alert stream (`api.max_alert_streams`): each holds a broadcast
    /// receiver and a connection, so their number is bounded.
    pub(crate) streams: Arc<Semaphore>,
    /// Interval of the alert streams' keep-alive comments: well inside the idle timeout, so
    /// an open stream is never closed as idle.
    pub(crate) keep_alive: Duration,
}

impl AppState {
    pub(crate) fn new(
        backend: Arc<dyn Backend>,
        shutdown: watch::Receiver<bool>,
        settings: &ApiSettings,
    ) -> Self {
        Self {
            backend,
            shutdown,
            streams: Arc::new(Semaphore::new(settings.max_alert_streams)),
            keep_alive: MAX_KEEP_ALIVE.min(settings.idle_timeout / 2),
        }
    }

    /// Runs `f` on the blocking pool: backend methods may take locks or touch the disk.
    pub(crate) async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn Backend) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let backend = self.backend.clone();
        tokio::task::spawn_blocking(move || f(backend.as_ref()))
            .await
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "API backend call panicked");
                Err(ApiError::internal(
                    "internal",
                    "the request failed inside the daemon; see its log",
                ))
            })
    }
}

/// The audit description of a request: method, path and query string.
pub(crate) fn what(parts_method: &axum::http::Method, uri: &axum::http::Uri) -> String {
    let pq = uri.path_and_query().map_or_else(|| uri.path(), |pq| pq.as_str());
    format!("{parts_method} {pq}")
}

/// `caller` made the query `what`: audit it, then run `f` — in one blocking call.
pub(crate) async fn audited<T: Send + 'static>(
    state: &AppState,
    caller: Caller,
    what: String,
    f: impl FnOnce(&dyn Backend) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    state
        .blocking(move |b| {
            b.audit_query(&caller, &what)?;
            f(b)
        })
        .await
}

/// A JPEG response that no cache keeps.
pub(crate) fn jpeg(bytes: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, "image/jpeg")], bytes).into_response()
}

/// `Path` with JSON errors.
pub(crate) struct ApiPath<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Self(p.0))
            .map_err(|r| ApiError::bad_request("bad_path", r.body_text()))
    }
}

/// `Query` with JSON errors (unknown parameters are errors where the type says so).
pub(crate) struct ApiQuery<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Self(q.0))
            .map_err(|r| ApiError::bad_request("bad_query", r.body_text()))
    }
}

/// The whole body, within the configured limit (413 beyond it).
pub(crate) struct ApiBody(pub(crate) Bytes);

impl<S: Send + Sync> FromRequest<S> for ApiBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        Bytes::from_request(req, state)
            .await
            .map(Self)
            .map_err(|r| ApiError::from_rejection(r.status(), r.body_text()))
    }
}

/// A JSON body: syntax errors 400, shape errors 422, each with line and column.
pub(crate) struct ApiJson<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let ApiBody(bytes) = ApiBody::from_request(req, state).await?;
        serde_json::from_slice(&bytes)
            .map(Self)
            .map_err(|e| ApiError::from_json(&e))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        // Only routes behind the token check have a caller; reaching this on a public route
        // is a wiring bug, reported rather than served anonymously.
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| ApiError::internal("internal", "route is missing authentication; this is a bug"))
    }
}
