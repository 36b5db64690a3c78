//! The Vigil daemon's HTTP API, as a library the `vigil` binary wires in.
//!
//! The binary owns the pipeline and implements [`Backend`]; this crate turns HTTP requests into
//! calls on it. Design choices:
//!
//! * **One route table** ([`routes::ROUTES`]) builds the router and is checked against the
//!   hand-written OpenAPI 3.1 document served at `/api/v1/openapi.json`, in both directions.
//! * **Synchronous backend.** Pipeline state lives on OS threads behind plain locks; handlers
//!   reach it through `spawn_blocking`, so a slow call never stalls the runtime.
//! * **Auth.** A bearer token on everything except `/healthz`, `/readyz`, the console's static
//!   files and (unless `auth_metrics`) `/metrics`; the alert stream also takes the token as
//!   `?access_token=` (browsers' `EventSource` cannot send headers), stripped before anything
//!   logs or audits the request; secrets compared as SHA-256 digests in constant time; the
//!   token's *name* is the caller in audit records; the secret is never logged or printed.
//!   Without tokens the API only listens on loopback unless told `insecure`.
//! * **Audit.** Queries of alert history and watchlists go through [`Backend::audit_query`]
//!   before they are answered; watchlist changes are audited by `vigil-watchlist`'s store.
//! * **Errors** are always JSON `{"error": {"code", "message"}}` ([`ApiError`]), including
//!   unknown routes (404), oversized bodies (413) and malformed JSON or queries (400).
//! * **Limits** (issues 11, 16): request bodies (`max_body_bytes`, 413), connections open at
//!   once (`max_connections`; at the limit the longest-idle one makes room, so health probes
//!   answer during a flood of idle connections), connections without a request header after
//!   `header_timeout_s` and silent ones after `idle_timeout_s` closed, alert streams
//!   (`max_alert_streams`); see `listener.rs` and `activity.rs`. They apply through
//!   [`serve`]/[`serve_on`]; a caller serving [`router`] itself gets the body limit only.
//! * **HTTPS** (issue 11, optional): with `[api] tls_cert` / `tls_key` the port serves HTTPS
//!   only (rustls); handshakes run concurrently and bounded, see `tls.rs` and [`ServerTls`].
//! * **Console** (issue 10): the operator console, plain HTML/CSS/JS embedded with
//!   `include_bytes!`, is served by the same router under `/` and `/ui/...` (see `ui/mod.rs`);
//!   its shell needs no token, every data request it makes does.
//! * **Shutdown.** [`serve`] takes the shutdown signal as a future; on it, the alert streams
//!   end, in-flight requests get [`SHUTDOWN_GRACE`] to finish, then the server returns.

mod activity;
mod auth;
pub mod backend;
pub mod config;
pub mod detections;
pub mod error;
mod handlers;
mod listener;
mod live;
pub mod routes;
mod tls;
mod ui;

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;

pub use axum::Router;
pub use axum::http::StatusCode;
pub use backend::{
    AlertQuery, ApiReloadOutcome, Backend, Caller, CameraCounters, CameraInfo, Readiness, ReadinessCheck,
    ReloadOutcome,
};
pub use config::{ApiConfig, ApiSettings, ApiToken, ConfigError, Secret, TokenConfig};
pub use detections::{BoxNorm, CameraDetections, TrackBox};
pub use error::ApiError;
pub use live::{LiveTokens, TokenChanges};
pub use tls::ServerTls;

/// How long in-flight requests may run after the shutdown signal before the server returns.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Why the server could not run.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The listen address is taken or not allowed.
    #[error("cannot listen on {addr}: {source}; pick a free port in api.bind or stop the other process")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The server failed while running.
    #[error("HTTP API server failed: {0}")]
    Serve(#[source] std::io::Error),
}

/// The router over `backend`, without a shutdown signal (alert streams end only when their
/// client goes away). Serve it with connection info so callers have a peer address:
/// `router.into_make_service_with_connect_info::<SocketAddr>()`. Prefer [`serve`], which also
/// applies the connection limits.
pub fn router(settings: &ApiSettings, backend: Arc<dyn Backend>) -> Router {
    // The sender is dropped at once: "no sender" means "never shuts down" to the streams.
    let (_tx, shutdown) = watch::channel(false);
    let state = handlers::AppState::new(backend, shutdown, settings);
    routes::build(settings, state)
}

/// Binds `settings.bind` and serves until `shutdown` resolves; see [`serve_on`].
pub async fn serve(
    settings: ApiSettings,
    backend: Arc<dyn Backend>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), HttpError> {
    let addr = settings.bind;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| HttpError::Bind { addr, source })?;
    serve_on(listener, settings, backend, shutdown).await
}

/// Serves on an already bound listener (tests bind `127.0.0.1:0`) until `shutdown` resolves,
/// then ends the alert streams, lets in-flight requests finish for up to [`SHUTDOWN_GRACE`]
/// and returns.
pub async fn serve_on(
    listener: TcpListener,
    settings: ApiSettings,
    backend: Arc<dyn Backend>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), HttpError> {
    let (tx, rx) = watch::channel(false);
    let state = handlers::AppState::new(backend, rx.clone(), &settings);
    let app = routes::build(&settings, state);
    match listener.local_addr() {
        Ok(addr) => tracing::info!(
            %addr,
            tokens = settings.tokens.len(),
            auth_metrics = settings.auth_metrics,
            https = settings.tls.is_some(),
            "HTTP API listening"
        ),
        Err(e) => tracing::warn!(error = %e, "HTTP API listening (address unknown)"),
    }
    let mut stop = rx;
    let limits = listener::Limits {
        max_connections: settings.max_connections,
        idle: settings.idle_timeout,
        header: settings.header_timeout,
    };
    let listener = listener::LimitedListener::new(listener, limits);
    let make_service = app.into_make_service_with_connect_info::<activity::Peer>();
    let stopped = async move {
        // An error means the sender is gone, which only happens once we returned.
        let _ = stop.wait_for(|s| *s).await;
    };
    // With TLS the port speaks HTTPS only (see tls.rs); both arms are the same future type.
    let server = match &settings.tls {
        Some(tls) => axum::serve(tls::TlsListener::new(listener, tls), make_service)
            .with_graceful_shutdown(stopped)
            .into_future(),
        None => axum::serve(listener, make_service)
            .with_graceful_shutdown(stopped)
            .into_future(),
    };
    let mut server = std::pin::pin!(server);
    tokio::select! {
        r = &mut server => return r.map_err(HttpError::Serve),
        () = shutdown => {}
    }
    tracing::info!("HTTP API shutting down");
    let _ = tx.send(true); // receivers live in the router until the server returns
    match tokio::time::timeout(SHUTDOWN_GRACE, server).await {
        Ok(r) => r.map_err(HttpError::Serve),
        Err(_) => {
            tracing::warn!(
                grace_s = SHUTDOWN_GRACE.as_secs(),
                "HTTP API requests still running after the grace period; closing them"
            );
            Ok(())
        }
    }
}
