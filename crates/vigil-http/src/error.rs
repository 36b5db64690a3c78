//! The one error type every handler returns, and its JSON body.
//!
//! Every non-2xx response of the API is `{"error": {"code": "...", "message": "..."}}`, with an
//! optional `"detail"` object (e.g. the row and column of a rejected CSV line). `code` is a
//! stable snake_case string a client may branch on; `message` is for people and may change.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use vigil_watchlist::import::{ImportError, Location};
use vigil_watchlist::store::StoreError;

/// An API error: HTTP status, stable code, human message, optional structured detail.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code} ({}): {message}", status.as_u16())]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// Stable snake_case code, e.g. `camera_not_found`.
    pub code: &'static str,
    /// What went wrong and, where possible, how to fix it.
    pub message: String,
    /// Machine-readable facts about the error (e.g. `{"row": 3, "column": "plate"}`).
    pub detail: Option<Value>,
}

impl ApiError {
    /// An error with any status.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            detail: None,
        }
    }

    /// Adds structured detail.
    pub fn with_detail(mut self, detail: Value) -> Self {
        self.detail = Some(detail);
        self
    }

    /// 400: the request is malformed (query, JSON syntax, path).
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 404: the named thing does not exist.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    /// 409: the request conflicts with the current state.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    /// 422: well-formed but invalid content (a bad CSV row, a rejected config).
    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    /// 500: a fault on the server side.
    pub fn internal(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, code, message)
    }

    /// 503: temporarily unable (e.g. the audit log cannot be written, so a query is refused).
    pub fn unavailable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, code, message)
    }

    /// 501: this daemon does not offer `what` (a [`crate::Backend`] method left at its
    /// default).
    pub fn not_implemented(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_IMPLEMENTED,
            "not_implemented",
            format!("{what} is not supported by this daemon; upgrade vigil"),
        )
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        let mut error = json!({ "code": self.code, "message": self.message });
        if let (Some(detail), Some(obj)) = (&self.detail, error.as_object_mut()) {
            obj.insert("detail".into(), detail.clone());
        }
        json!({ "error": error })
    }

    /// Maps an axum extractor rejection (body too large, bad query…) keeping its status.
    pub(crate) fn from_rejection(status: StatusCode, text: String) -> Self {
        let code = match status {
            StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
            StatusCode::UNPROCESSABLE_ENTITY => "invalid_body",
            s if s.is_server_error() => "internal",
            _ => "bad_request",
        };
        let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
            format!("{text}; send a smaller body or raise api.max_body_bytes")
        } else {
            text
        };
        Self::new(status, code, message)
    }

    /// Maps a request-body JSON error: syntax → 400 `malformed_json`, wrong shape or value →
    /// 422 `invalid_body`.
    pub(crate) fn from_json(e: &serde_json::Error) -> Self {
        let at = json!({ "line": e.line(), "column": e.column() });
        if e.is_data() {
            Self::unprocessable("invalid_body", format!("request body: {e}")).with_detail(at)
        } else {
            Self::bad_request("malformed_json", format!("request body is not valid JSON: {e}"))
                .with_detail(at)
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (self.status, Json(self.body())).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"vigil\""),
            );
        }
        resp
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Import { ref source, .. } => {
                let detail = import_detail(source);
                let err = Self::unprocessable("invalid_import", e.to_string());
                match detail {
                    Some(d) => err.with_detail(d),
                    None => err,
                }
            }
            StoreError::NoSuchList(_) => Self::not_found("watchlist_not_found", e.to_string()),
            StoreError::NoSuchPlate { .. } => Self::not_found("plate_not_found", e.to_string()),
            StoreError::Invalid(_) => Self::conflict("invalid_change", e.to_string()),
            StoreError::Policy(vigil_watchlist::PolicyError::ReadOnly { ref list, ref owner }) => {
                let detail = json!({ "list": list, "owner": owner });
                Self::conflict("list_read_only", e.to_string()).with_detail(detail)
            }
            StoreError::Policy(vigil_watchlist::PolicyError::NotAPlate { ref plate, .. }) => {
                let detail = json!({ "plate": plate, "reason": e.to_string() });
                Self::unprocessable("not_a_plate", e.to_string()).with_detail(detail)
            }
            StoreError::Audit(_) => Self::unavailable("audit_unavailable", e.to_string()),
            StoreError::Io { .. }
            | StoreError::Corrupt { .. }
            | StoreError::Misnamed { .. }
            | StoreError::Index(_) => Self::internal("watchlist_storage", e.to_string()),
        }
    }
}

/// Row/column facts of an import error, for clients that highlight the bad cell.
fn import_detail(e: &ImportError) -> Option<Value> {
    let loc = |at: &Location| match *at {
        Location::Row { row, line } => json!({ "row": row, "line": line }),
        Location::Entry { index } => json!({ "entry": index }),
    };
    let mut v = match e {
        ImportError::Field { at, column, .. } => {
            let mut v = loc(at);
            v["column"] = json!(column);
            v
        }
        ImportError::Malformed { at, .. }
        | ImportError::KindConflict { at, .. }
        | ImportError::TooManyEntries { at, .. } => loc(at),
        ImportError::Duplicate { second, .. } => loc(second),
        ImportError::Json { line, column, .. } => json!({ "line": line, "column": column }),
        ImportError::Empty | ImportError::Header { .. } | ImportError::Io(_) => return None,
    };
    v["reason"] = json!(e.to_string());
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_code_message_and_optional_detail() {
        let e = ApiError::not_found("camera_not_found", "no camera \"x\"");
        assert_eq!(
            e.body(),
            json!({"error": {"code": "camera_not_found", "message": "no camera \"x\""}})
        );
        let e = e.with_detail(json!({"id": "x"}));
        assert_eq!(e.body()["error"]["detail"]["id"], "x");
    }

    #[test]
    fn unauthorized_carries_www_authenticate() {
        let resp = ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "no").into_response();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        assert!(resp.headers().contains_key(header::WWW_AUTHENTICATE));
    }
}
