//! Bearer-token authentication and the per-request log line.
//!
//! Secrets are kept only as SHA-256 digests and compared in constant time against the digest of
//! the presented token, so neither the position of the first differing byte nor the secret's
//! length shows in the response time. Every token is compared (no early exit) before the result
//! is looked at. The presented token is never logged, not even when it is wrong: a typo'd token
//! is usually one character away from the real one.

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::activity::Peer;
use crate::backend::Caller;
use crate::config::ApiToken;
use crate::error::ApiError;
use crate::live::LiveTokens;

/// The token digests a server accepts.
pub(crate) struct Authenticator {
    tokens: Vec<(String, [u8; 32])>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.tokens.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("Authenticator").field("tokens", &names).finish()
    }
}

/// Why a request was not authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Denied {
    /// No `Authorization: Bearer` header.
    Missing,
    /// A token that matches none.
    Wrong,
}

impl Authenticator {
    pub(crate) fn new(tokens: &[ApiToken]) -> Self {
        Self {
            tokens: tokens
                .iter()
                .map(|t| (t.name.clone(), digest(t.secret.expose().as_bytes())))
                .collect(),
        }
    }

    /// The token name the headers authenticate as; [`Caller::ANONYMOUS`] when no tokens are
    /// configured.
    pub(crate) fn check(&self, headers: &HeaderMap) -> Result<String, Denied> {
        if self.tokens.is_empty() {
            return Ok(Caller::ANONYMOUS.to_owned());
        }
        let presented = bearer(headers).ok_or(Denied::Missing)?;
        self.check_secret(presented)
    }

    /// Like [`Authenticator::check`], but a request without an `Authorization` header may
    /// carry the token as `?access_token=` instead (for routes marked
    /// [`crate::routes::Access::TokenOrQuery`]: browsers' `EventSource` cannot send headers).
    /// The header wins when both are present.
    pub(crate) fn check_with_query(
        &self,
        headers: &HeaderMap,
        query: Option<&str>,
    ) -> Result<String, Denied> {
        if self.tokens.is_empty() || headers.contains_key(header::AUTHORIZATION) {
            return self.check(headers);
        }
        let presented = query.and_then(query_token).ok_or(Denied::Missing)?;
        self.check_secret(presented.as_bytes())
    }

    /// Each token's name and secret digest, in configuration order.
    pub(crate) fn entries(&self) -> &[(String, [u8; 32])] {
        &self.tokens
    }

    fn check_secret(&self, presented: &[u8]) -> Result<String, Denied> {
        let presented = digest(presented);
        let mut found = None;
        for (name, d) in &self.tokens {
            if bool::from(d.ct_eq(&presented)) {
                found = Some(name);
            }
        }
        found.cloned().ok_or(Denied::Wrong)
    }
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// The credentials of `Authorization: Bearer <token>` (scheme case-insensitive).
fn bearer(headers: &HeaderMap) -> Option<&[u8]> {
    let value = headers.get(header::AUTHORIZATION)?.as_bytes();
    let (scheme, rest) = value.split_at_checked(7)?;
    if !scheme.eq_ignore_ascii_case(b"bearer ") {
        return None;
    }
    let token = rest.trim_ascii();
    (!token.is_empty()).then_some(token)
}

/// The query parameter that may carry the token on [`crate::routes::Access::TokenOrQuery`]
/// routes.
pub(crate) const QUERY_TOKEN: &str = "access_token";

/// The (percent-decoded) value of `access_token` in a query string, if non-empty.
fn query_token(query: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == QUERY_TOKEN)
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// `uri` without its `access_token` parameter, so that nothing after authentication (the
/// query audit line, handlers, logs) ever sees the secret.
fn without_query_token(uri: &Uri) -> Option<Uri> {
    let query = uri.query()?;
    // Untouched unless the token is there: re-encoding could change other parameters' spelling.
    if !form_urlencoded::parse(query.as_bytes()).any(|(k, _)| k == QUERY_TOKEN) {
        return None;
    }
    let kept: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k != QUERY_TOKEN)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut pq = uri.path().to_owned();
    if !kept.is_empty() {
        pq.push('?');
        pq.push_str(
            &form_urlencoded::Serializer::new(String::new())
                .extend_pairs(kept)
                .finish(),
        );
    }
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(pq.parse().ok()?);
    Uri::from_parts(parts).ok()
}

/// The peer from [`crate::serve`]'s listener, or from a plain `TcpListener` when the binary
/// serves [`crate::router`] itself.
fn peer_of(req: &Request) -> Option<SocketAddr> {
    let ext = req.extensions();
    ext.get::<ConnectInfo<Peer>>()
        .map(|c| c.0.addr)
        .or_else(|| ext.get::<ConnectInfo<SocketAddr>>().map(|c| c.0))
}

/// Middleware on protected routes: authenticates, then hands the handler a [`Caller`] (also put
/// on the response, for the request log line).
pub(crate) async fn require_token(State(auth): State<LiveTokens>, req: Request, next: Next) -> Response {
    // The set in force for this request; a reload that replaces it applies from the next one.
    let checked = auth.current().check(req.headers());
    admit(checked, false, req, next).await
}

/// Middleware on [`crate::routes::Access::TokenOrQuery`] routes: as [`require_token`], but the
/// token may also come as `?access_token=`, which is removed from the request before anything
/// else sees it.
pub(crate) async fn require_token_or_query(
    State(auth): State<LiveTokens>,
    mut req: Request,
    next: Next,
) -> Response {
    let checked = auth.current().check_with_query(req.headers(), req.uri().query());
    if let Some(clean) = without_query_token(req.uri()) {
        *req.uri_mut() = clean;
    }
    admit(checked, true, req, next).await
}

async fn admit(checked: Result<String, Denied>, query_ok: bool, mut req: Request, next: Next) -> Response {
    let peer = peer_of(&req);
    match checked {
        Ok(token) => {
            let caller = Caller { token, peer };
            req.extensions_mut().insert(caller.clone());
            let mut resp = next.run(req).await;
            resp.extensions_mut().insert(caller);
            resp
        }
        Err(why) => {
            // The route template, never the raw path: `…/entries/{plate}` must not put a plate
            // into the log of a refused request (docs/security.md promises reads stay out).
            let path = req
                .extensions()
                .get::<MatchedPath>()
                .map_or_else(|| "(unmatched)".to_owned(), |m| m.as_str().to_owned());
            let peer = peer.map_or_else(|| "unknown".to_owned(), |p| p.to_string());
            let (reason, message) = match why {
                Denied::Missing if query_ok => (
                    "missing bearer token",
                    "this endpoint needs a token: send the header `Authorization: Bearer <token>` or add ?access_token=<token>",
                ),
                Denied::Missing => (
                    "missing bearer token",
                    "this endpoint needs a token: send the header `Authorization: Bearer <token>`",
                ),
                Denied::Wrong => (
                    "token not accepted",
                    "the bearer token is not one this server accepts; check for typos or ask for a new token",
                ),
            };
            tracing::warn!(%peer, %path, reason, "API request refused");
            ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message).into_response()
        }
    }
}

/// Middleware on every route: one debug line per request (route template, not the raw path,
/// so plate text in a path does not reach the logs), and `Cache-Control: no-store` so no
/// proxy keeps copies of alert or watchlist data.
pub(crate) async fn log_request(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "(unmatched)".to_owned(), |m| m.as_str().to_owned());
    let peer = peer_of(&req);
    let mut resp = next.run(req).await;
    resp.headers_mut()
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    let caller = resp.extensions().get::<Caller>().map(|c| c.token.clone());
    tracing::debug!(
        %method,
        %route,
        status = resp.status().as_u16(),
        ms = %format_args!("{:.2}", started.elapsed().as_secs_f64() * 1000.0),
        peer = %peer.map_or_else(|| "unknown".to_owned(), |p| p.to_string()),
        caller = %caller.as_deref().unwrap_or("-"),
        "API request"
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn headers(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(v).expect("header"));
        h
    }

    #[test]
    fn accepts_each_token_by_name_and_refuses_the_rest() {
        let auth = Authenticator::new(&[
            ApiToken {
                name: "ops".into(),
                secret: Secret::new("aaaaaaaaaaaaaaaaaaaa"),
            },
            ApiToken {
                name: "console".into(),
                secret: Secret::new("bbbbbbbbbbbbbbbbbbbb"),
            },
        ]);
        assert_eq!(
            auth.check(&headers("Bearer aaaaaaaaaaaaaaaaaaaa")),
            Ok("ops".into())
        );
        assert_eq!(
            auth.check(&headers("bearer bbbbbbbbbbbbbbbbbbbb")),
            Ok("console".into())
        );
        assert_eq!(
            auth.check(&headers("Bearer aaaaaaaaaaaaaaaaaaab")),
            Err(Denied::Wrong)
        );
        assert_eq!(
            auth.check(&headers("Bearer aaaaaaaaaaaaaaaaaaa")),
            Err(Denied::Wrong)
        );
        assert_eq!(
            auth.check(&headers("Basic aaaaaaaaaaaaaaaaaaaa")),
            Err(Denied::Missing)
        );
        assert_eq!(auth.check(&headers("Bearer ")), Err(Denied::Missing));
        assert_eq!(auth.check(&HeaderMap::new()), Err(Denied::Missing));
        assert!(!format!("{auth:?}").contains("aaaa"));
    }

    #[test]
    fn query_token_is_accepted_only_without_a_header_and_is_stripped() {
        let auth = Authenticator::new(&[ApiToken {
            name: "console".into(),
            secret: Secret::new("c+d/e=f g"),
        }]);
        let none = HeaderMap::new();
        assert_eq!(
            auth.check_with_query(&none, Some("x=1&access_token=c%2Bd%2Fe%3Df%20g")),
            Ok("console".into())
        );
        assert_eq!(
            auth.check_with_query(&none, Some("access_token=nope")),
            Err(Denied::Wrong)
        );
        assert_eq!(
            auth.check_with_query(&none, Some("access_token=")),
            Err(Denied::Missing)
        );
        assert_eq!(auth.check_with_query(&none, None), Err(Denied::Missing));
        // A header is authoritative: a wrong header is not rescued by a right query token.
        assert_eq!(
            auth.check_with_query(&headers("Bearer wrong"), Some("access_token=c%2Bd%2Fe%3Df%20g")),
            Err(Denied::Wrong)
        );
        // The plain check never looks at the query.
        assert_eq!(auth.check(&none), Err(Denied::Missing));

        let uri: Uri = "/api/v1/alerts/stream?access_token=s3cret&camera=gate-1"
            .parse()
            .expect("uri");
        assert_eq!(
            without_query_token(&uri).map(|u| u.to_string()).as_deref(),
            Some("/api/v1/alerts/stream?camera=gate-1")
        );
        let uri: Uri = "/api/v1/alerts/stream?camera=a%20b".parse().expect("uri");
        assert_eq!(without_query_token(&uri), None, "left as it is");
        let uri: Uri = "/api/v1/alerts/stream?access_token=s3cret".parse().expect("uri");
        assert_eq!(
            without_query_token(&uri).map(|u| u.to_string()).as_deref(),
            Some("/api/v1/alerts/stream")
        );
    }

    #[test]
    fn no_tokens_means_anonymous() {
        let auth = Authenticator::new(&[]);
        assert_eq!(auth.check(&HeaderMap::new()), Ok(Caller::ANONYMOUS.into()));
    }
}
