//! The route table: one entry per (method, path), used both to build the router and to check
//! the hand-written OpenAPI document against it, so neither can drift from the other.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, Uri};
use axum::middleware;
use axum::routing::{MethodFilter, MethodRouter, on};

use crate::auth::{log_request, require_token, require_token_or_query};
use crate::config::ApiSettings;
use crate::error::ApiError;
use crate::handlers::{AppState, alerts, cameras, system, watchlists};
use crate::live::LiveTokens;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (health probes).
    Public,
    /// Anyone unless `auth_metrics` is set.
    Metrics,
    /// A bearer token.
    Token,
    /// A bearer token, or the token as `?access_token=` when no `Authorization` header is sent:
    /// only for the alert stream, because browsers' `EventSource` cannot set headers. The
    /// parameter is removed from the request before the handler, the audit line or any log
    /// sees it.
    TokenOrQuery,
}

/// One route.
pub struct Route {
    /// HTTP method, upper case.
    pub method: &'static str,
    /// Path template in axum/OpenAPI syntax (`{id}`).
    pub path: &'static str,
    /// Who may call it.
    pub access: Access,
    handler: fn() -> MethodRouter<AppState>,
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} ({:?})", self.method, self.path, self.access)
    }
}

/// `route!(GET "/path", Token, handler)`: the method name feeds both the table's string and
/// the method filter, so they cannot disagree.
macro_rules! route {
    ($method:ident $path:literal, $access:ident, $handler:path) => {
        Route {
            method: stringify!($method),
            path: $path,
            access: Access::$access,
            handler: || on(MethodFilter::$method, $handler),
        }
    };
}

/// Every route the API serves.
pub const ROUTES: &[Route] = &[
    route!(GET "/healthz", Public, system::healthz),
    route!(GET "/readyz", Public, system::readyz),
    route!(GET "/metrics", Metrics, system::metrics),
    route!(GET "/api/v1/openapi.json", Token, system::openapi),
    route!(GET "/api/v1/cameras", Token, cameras::list),
    route!(GET "/api/v1/cameras/{id}", Token, cameras::get),
    route!(GET "/api/v1/cameras/{id}/snapshot.jpg", Token, cameras::snapshot),
    route!(GET "/api/v1/cameras/{id}/detections", Token, cameras::detections),
    route!(PUT "/api/v1/cameras/{id}/rules", Token, cameras::replace_rules),
    route!(GET "/api/v1/rules", Token, system::rules),
    route!(GET "/api/v1/alerts", Token, alerts::list),
    route!(GET "/api/v1/alerts/stream", TokenOrQuery, alerts::stream),
    route!(GET "/api/v1/alerts/{id}", Token, alerts::get),
    route!(GET "/api/v1/alerts/{id}/snapshot.jpg", Token, alerts::snapshot),
    route!(POST "/api/v1/alerts/{id}/ack", Token, alerts::ack),
    route!(GET "/api/v1/watchlists", Token, watchlists::list),
    route!(GET "/api/v1/watchlists/{name}", Token, watchlists::get),
    route!(PUT "/api/v1/watchlists/{name}", Token, watchlists::replace),
    route!(POST "/api/v1/watchlists/{name}/entries", Token, watchlists::add_entry),
    route!(DELETE "/api/v1/watchlists/{name}/entries/{plate}", Token, watchlists::remove_entry),
    route!(GET "/api/v1/audit/watchlists", Token, watchlists::audit),
    route!(POST "/api/v1/reload", Token, system::reload),
];

/// Builds the router over `state` with the settings' tokens and limits.
pub(crate) fn build(settings: &ApiSettings, state: AppState) -> Router {
    // Live when the embedder gave a handle (the daemon, so a reload can swap the tokens).
    let auth = settings
        .live_tokens
        .clone()
        .unwrap_or_else(|| LiveTokens::new(&settings.tokens));
    let mut open = Router::new();
    let mut protected = Router::new();
    for r in ROUTES {
        match r.access {
            Access::Public => open = open.route(r.path, (r.handler)()),
            Access::Metrics if !settings.auth_metrics => open = open.route(r.path, (r.handler)()),
            Access::Metrics | Access::Token => protected = protected.route(r.path, (r.handler)()),
            // Its own check, so it goes with the open routes rather than under require_token.
            Access::TokenOrQuery => {
                let checked = (r.handler)().route_layer(middleware::from_fn_with_state(
                    auth.clone(),
                    require_token_or_query,
                ));
                open = open.route(r.path, checked);
            }
        }
    }
    let protected = protected.route_layer(middleware::from_fn_with_state(auth, require_token));
    crate::ui::routes(open.merge(protected))
        .route_layer(middleware::from_fn(log_request))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(settings.max_body_bytes))
        // Outermost: the listener must know which connections are serving a request.
        .layer(middleware::from_fn(crate::activity::track_requests))
        .with_state(state)
}

async fn not_found(method: Method, uri: Uri) -> ApiError {
    tracing::debug!(%method, path = uri.path(), "API request for an unknown route");
    ApiError::not_found(
        "not_found",
        format!(
            "no route {method} {}; GET /api/v1/openapi.json lists them",
            uri.path()
        ),
    )
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!(
            "{method} is not allowed on {}; GET /api/v1/openapi.json lists the methods",
            uri.path()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn documented() -> BTreeSet<(String, String)> {
        let doc: serde_json::Value = serde_json::from_str(system::OPENAPI).expect("openapi.json parses");
        assert_eq!(doc["openapi"].as_str().map(|v| &v[..4]), Some("3.1."));
        let mut out = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, _) in item.as_object().expect("path item") {
                if ["get", "put", "post", "delete", "patch", "head", "options"].contains(&method.as_str()) {
                    out.insert((method.to_uppercase(), path.clone()));
                }
            }
        }
        out
    }

    #[test]
    fn every_route_is_documented_and_every_documented_route_exists() {
        let served: BTreeSet<(String, String)> = ROUTES
            .iter()
            .map(|r| (r.method.to_owned(), r.path.to_owned()))
            .collect();
        assert_eq!(served.len(), ROUTES.len(), "a route is listed twice");
        let documented = documented();
        let undocumented: Vec<_> = served.difference(&documented).collect();
        let phantom: Vec<_> = documented.difference(&served).collect();
        assert!(
            undocumented.is_empty(),
            "served but not in openapi.json: {undocumented:?}"
        );
        assert!(phantom.is_empty(), "in openapi.json but not served: {phantom:?}");
    }

    /// Issue 16: a path or query parameter can always be malformed, so its operation
    /// documents the 400; list names carry their pattern and length.
    #[test]
    fn parameters_document_their_400_and_list_names_their_pattern() {
        let doc: serde_json::Value = serde_json::from_str(system::OPENAPI).expect("parses");
        for r in ROUTES {
            let op = &doc["paths"][r.path][r.method.to_lowercase()];
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let malformable = params
                .iter()
                .any(|p| matches!(p["in"].as_str(), Some("path" | "query")) && p["name"] != "access_token");
            if malformable {
                assert!(op["responses"]["400"].is_object(), "{r:?}: no 400 documented");
            }
            for p in params.iter().filter(|p| p["in"] == "path" && p["name"] == "name") {
                let schema = &p["schema"];
                assert_eq!(schema["pattern"], "^[\\p{L}\\p{N}_-]{1,64}$", "{r:?}");
                assert_eq!(
                    (schema["minLength"].as_u64(), schema["maxLength"].as_u64()),
                    (Some(1), Some(vigil_watchlist::model::MAX_LIST_NAME_CHARS as u64)),
                    "{r:?}"
                );
            }
        }
        let note = &doc["paths"]["/api/v1/alerts/{id}/ack"]["post"]["requestBody"]["content"]["application/json"]
            ["schema"]["properties"]["note"];
        assert_eq!(
            note["type"], "string",
            "null is refused, so the type is string alone"
        );
    }

    #[test]
    fn public_routes_in_the_document_need_no_token() {
        let doc: serde_json::Value = serde_json::from_str(system::OPENAPI).expect("parses");
        for r in ROUTES {
            let op = &doc["paths"][r.path][r.method.to_lowercase()];
            let open = op["security"].as_array().is_some_and(Vec::is_empty);
            let needs = matches!(r.access, Access::Token | Access::TokenOrQuery);
            assert_eq!(open, !needs, "{r:?}: security in openapi.json");
        }
    }
}
