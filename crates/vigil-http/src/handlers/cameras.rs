//! `GET /api/v1/cameras`, `/cameras/{id}`, `/cameras/{id}/snapshot.jpg`,
//! `/cameras/{id}/detections` (the console's boxes), and `PUT /cameras/{id}/rules` (the zone
//! editor's save).

use axum::Json;
use axum::extract::State;
use axum::response::Response;

use super::{ApiPath, AppState, jpeg};
use serde_json::Value;

use super::ApiJson;
use crate::backend::{Caller, CameraInfo, ReloadOutcome};
use crate::detections::CameraDetections;
use crate::error::ApiError;

/// Every camera.
pub(crate) async fn list(
    State(state): State<AppState>,
    _caller: Caller,
) -> Result<Json<Vec<CameraInfo>>, ApiError> {
    state.blocking(|b| Ok(b.cameras())).await.map(Json)
}

/// One camera.
pub(crate) async fn get(
    State(state): State<AppState>,
    _caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<CameraInfo>, ApiError> {
    state
        .blocking(move |b| {
            b.cameras()
                .into_iter()
                .find(|c| c.id == id)
                .ok_or_else(|| camera_not_found(&id))
        })
        .await
        .map(Json)
}

/// The latest frame as JPEG.
pub(crate) async fn snapshot(
    State(state): State<AppState>,
    _caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    state
        .blocking(move |b| b.camera_snapshot_jpeg(&id))
        .await
        .map(jpeg)
}

/// The tracks of the latest analysed frame, bounded here whatever the backend sent.
pub(crate) async fn detections(
    State(state): State<AppState>,
    _caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<CameraDetections>, ApiError> {
    state
        .blocking(move |b| b.camera_detections(&id))
        .await
        .map(|d| Json(d.bounded()))
}

/// `PUT /api/v1/cameras/{id}/rules`: replaces the camera's zones, lines and rules with the body
/// (its whole rules document). The daemon validates it like `vigil check` does; this layer
/// only insists on a JSON object, so the error for a bad rule comes from one place.
pub(crate) async fn replace_rules(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(rules): ApiJson<Value>,
) -> Result<Json<ReloadOutcome>, ApiError> {
    if !rules.is_object() {
        return Err(ApiError::unprocessable(
            "invalid_body",
            "the body must be the camera's rules document, a JSON object with zone, line and rule arrays",
        ));
    }
    state
        .blocking(move |b| {
            let out = b.replace_camera_rules(&id, rules, &caller)?;
            tracing::info!(
                camera = %id,
                who = %caller.token,
                source = %caller.source(),
                applied = out.applied,
                "camera rules replaced through the API"
            );
            Ok(out)
        })
        .await
        .map(Json)
}

/// The 404 for an unknown camera id.
pub(crate) fn camera_not_found(id: &str) -> ApiError {
    ApiError::not_found(
        "camera_not_found",
        format!("no camera with id {id:?}; GET /api/v1/cameras lists them"),
    )
}
