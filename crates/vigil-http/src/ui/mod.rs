//! The operator console: a small single-page app (plain HTML, CSS and JavaScript modules, no
//! build step) embedded in the binary and served by the API's own router.
//!
//! * `/`, `/ui`, `/ui/` and every `/ui/...` path that is not an asset get the same HTML shell;
//!   the script routes on the path (`/ui/cameras/gate-1`, `/ui/alerts`, …), so a reload or a
//!   bookmarked link lands on the same page.
//! * `/ui/assets/<file>` are the embedded files, with an `ETag` (the content's SHA-256) and
//!   `Cache-Control: no-cache`, so a browser revalidates with a cheap 304 and an upgraded daemon
//!   is never shown with stale scripts.
//! * The shell and assets need no token: they hold no data. Every data request the console
//!   makes carries the bearer token the operator typed (kept in `sessionStorage`, so it dies
//!   with the tab); the API refuses requests without it exactly as before.
//! * A strict Content-Security-Policy (`'self'` only, images also from `blob:`), no framing and
//!   no referrer: the console loads nothing from elsewhere and works without network access.

use std::sync::OnceLock;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// One embedded file.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

/// `asset!("app.js", "text/javascript")`: the file under `crates/vigil-http/ui/`.
macro_rules! asset {
    ($name:literal, $type:expr) => {
        Asset {
            name: $name,
            content_type: $type,
            body: include_bytes!(concat!("../../ui/", $name)),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

/// Every file the console is made of, except the shell.
const ASSETS: &[Asset] = &[
    asset!("app.css", "text/css; charset=utf-8"),
    asset!("app.js", JS),
    asset!("api.js", JS),
    asset!("overlay.js", JS),
    asset!("cameras.js", JS),
    asset!("alerts.js", JS),
    asset!("watchlists.js", JS),
    asset!("editor.js", JS),
];

/// The HTML shell.
const SHELL: &str = include_str!("../../ui/index.html");

/// What the console may load: only itself (and images it made from fetched bytes).
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; \
                   connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Adds the console's routes to `router`.
pub(crate) fn routes<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router
        .route("/", get(shell))
        .route("/ui", get(shell))
        .route("/ui/", get(shell))
        .route("/ui/assets/{file}", get(asset))
        .route("/ui/{*page}", get(shell))
}

fn hardened(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    resp
}

async fn shell() -> Response {
    hardened(
        (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            SHELL,
        )
            .into_response(),
    )
}

/// Quoted SHA-256 prefix of each asset, computed once.
fn etags() -> &'static [String] {
    static ETAGS: OnceLock<Vec<String>> = OnceLock::new();
    ETAGS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|a| {
                let d = Sha256::digest(a.body);
                let hex: String = d.iter().take(12).map(|b| format!("{b:02x}")).collect();
                format!("\"{hex}\"")
            })
            .collect()
    })
}

async fn asset(Path(file): Path<String>, headers: HeaderMap) -> Response {
    let Some(i) = ASSETS.iter().position(|a| a.name == file) else {
        return ApiError::not_found("not_found", format!("the console has no file {file:?}")).into_response();
    };
    let (a, etag) = (&ASSETS[i], &etags()[i]);
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let status = if fresh {
        StatusCode::NOT_MODIFIED
    } else {
        StatusCode::OK
    };
    let body: &'static [u8] = if fresh { &[] } else { a.body };
    let mut resp = (
        status,
        [
            (header::CONTENT_TYPE, a.content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(etag) {
        resp.headers_mut().insert(header::ETAG, v);
    }
    hardened(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shell_loads_every_script_and_the_stylesheet_from_the_assets() {
        for a in ASSETS {
            assert!(!a.body.is_empty(), "{} is empty", a.name);
        }
        assert!(SHELL.contains("/ui/assets/app.css") && SHELL.contains("/ui/assets/app.js"));
        // Modules import each other by relative path; every import must be an embedded asset.
        for a in ASSETS.iter().filter(|a| a.content_type == JS) {
            let text = std::str::from_utf8(a.body).expect("utf-8");
            for line in text.lines().filter(|l| l.starts_with("import ")) {
                let name = line
                    .rsplit("'./")
                    .next()
                    .and_then(|r| r.split('\'').next())
                    .expect("import path");
                assert!(
                    ASSETS.iter().any(|x| x.name == name),
                    "{}: imports missing {name}",
                    a.name
                );
            }
            // Nothing from elsewhere: the console must work without network access.
            assert!(
                !text.contains("http://") && !text.contains("https://"),
                "{} loads a URL",
                a.name
            );
        }
    }
}
