//! `GET /api/v1/cameras`, `/cameras/{id}`, `/cameras/{id}/snapshot.jpg`.

use axum::Json;
use axum::extract::State;
use axum::response::Response;

use super::{ApiPath, AppState, jpeg};
use crate::backend::{Caller, CameraInfo};
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

/// The 404 for an unknown camera id.
pub(crate) fn camera_not_found(id: &str) -> ApiError {
    ApiError::not_found(
        "camera_not_found",
        format!("no camera with id {id:?}; GET /api/v1/cameras lists them"),
    )
}
