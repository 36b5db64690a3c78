//! Health, readiness, metrics, rules, reload and the OpenAPI document.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::AppState;
use crate::backend::{Caller, Readiness, ReloadOutcome};
use crate::error::ApiError;

/// The OpenAPI 3.1 document, written by hand (see `routes.rs` for the test that keeps it in
/// step with the router).
pub(crate) const OPENAPI: &str = include_str!("../openapi.json");

/// The Prometheus text exposition content type.
pub(crate) const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `GET /healthz`: 200 while the process serves requests. Touches nothing else, so a wedged
/// pipeline does not make the orchestrator kill a process that could still report why.
pub(crate) async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /readyz`: 200 when every readiness check passes, else 503; the body lists the checks.
pub(crate) async fn readyz(State(state): State<AppState>) -> Result<Response, ApiError> {
    let r: Readiness = state.blocking(|b| Ok(b.readiness())).await?;
    let status = if r.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    Ok((status, Json(r)).into_response())
}

/// `GET /metrics`: the backend's Prometheus text.
pub(crate) async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let text = state.blocking(|b| Ok(b.metrics_text())).await?;
    Ok(([(header::CONTENT_TYPE, METRICS_CONTENT_TYPE)], text).into_response())
}

/// `GET /api/v1/rules`.
pub(crate) async fn rules(State(state): State<AppState>, _caller: Caller) -> Result<Json<Value>, ApiError> {
    state.blocking(|b| Ok(b.rules())).await.map(Json)
}

/// `POST /api/v1/reload`: validate and apply the configuration file again.
pub(crate) async fn reload(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<ReloadOutcome>, ApiError> {
    tracing::info!(who = %caller.token, source = %caller.source(), "reload requested through the API");
    state.blocking(move |b| b.reload(&caller)).await.map(Json)
}

/// `GET /api/v1/openapi.json`.
pub(crate) async fn openapi(_caller: Caller) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}
