//! API configuration: the raw `[api]` table ([`ApiConfig`]) and the resolved settings the
//! server runs with ([`ApiSettings`]).
//!
//! Token secrets are never written in the config text (it ends up in git and tickets): each
//! token names an environment variable (`secret_env`) or a file (`secret_file`), read once by
//! [`ApiConfig::resolve`] into a [`Secret`] whose formatting prints `***`. [`ApiConfig::validate`]
//! runs the checks that need no secrets, so `vigil check` can run it anywhere.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::backend::Caller;
use crate::live::LiveTokens;
use crate::tls::ServerTls;

/// Default listen address: loopback only.
pub const DEFAULT_BIND: &str = "127.0.0.1:8480";
/// Default request body limit: 8 MiB (a watchlist of ~100,000 plates as CSV).
pub const DEFAULT_MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
/// Default number of connections served at once.
pub const DEFAULT_MAX_CONNECTIONS: usize = 256;
/// Default seconds a connection may pass without a byte read or written.
pub const DEFAULT_IDLE_TIMEOUT_S: u64 = 60;
/// Default seconds a connection has to send a complete request header.
pub const DEFAULT_HEADER_TIMEOUT_S: u64 = 10;
/// Default number of alert streams (SSE) open at once.
pub const DEFAULT_MAX_ALERT_STREAMS: usize = 64;
/// Shortest token secret accepted, in bytes.
pub const MIN_SECRET_BYTES: usize = 16;

/// The `[api]` table as written.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    /// Listen address. Default [`DEFAULT_BIND`].
    #[serde(default = "default_bind")]
    pub bind: SocketAddr,
    /// Bearer tokens; empty = no authentication (refused off loopback unless `insecure`).
    #[serde(default)]
    pub tokens: Vec<TokenConfig>,
    /// Allow listening on a non-loopback address without tokens. Default false.
    #[serde(default)]
    pub insecure: bool,
    /// Largest request body accepted, in bytes; more is answered 413. Default 8 MiB.
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
    /// Require a token for `/metrics` too. Default false (scrapers rarely carry tokens, and
    /// the metrics hold no plate text).
    #[serde(default)]
    pub auth_metrics: bool,
    /// Most alert streams (`GET /api/v1/alerts/stream`) open at once; one more is answered 503.
    /// Default 64.
    #[serde(default = "default_max_streams")]
    pub max_alert_streams: usize,
    /// Most connections open at once. At the limit a new connection replaces the one idle the
    /// longest; only when all are serving a request is it refused (503). Default 256.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Seconds a connection may pass without a byte read or written before it is closed
    /// (slow or stalled clients, idle keep-alive). Default 60.
    #[serde(default = "default_idle_timeout_s")]
    pub idle_timeout_s: u64,
    /// Seconds a connection has, from its accept (TLS handshake included) or from the first
    /// byte of a later request, to send a complete request header; then it is closed.
    /// Default 10.
    #[serde(default = "default_header_timeout_s")]
    pub header_timeout_s: u64,
    /// PEM file with the server certificate (then any intermediates). With `tls_key`, the API
    /// serves HTTPS only. Default: none (plain HTTP).
    #[serde(default)]
    pub tls_cert: Option<PathBuf>,
    /// PEM file with the private key of `tls_cert`; should be mode 0600. Default: none.
    #[serde(default)]
    pub tls_key: Option<PathBuf>,
}

/// One token as written: a name and where its secret is.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// Who holds it; recorded in audit logs as the caller.
    pub name: String,
    /// Environment variable holding the secret.
    #[serde(default)]
    pub secret_env: Option<String>,
    /// File holding the secret (trailing newline trimmed); should be mode 0600.
    #[serde(default)]
    pub secret_file: Option<PathBuf>,
}

fn default_bind() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8480))
}

fn default_max_body() -> usize {
    DEFAULT_MAX_BODY_BYTES
}

fn default_max_streams() -> usize {
    DEFAULT_MAX_ALERT_STREAMS
}

fn default_max_connections() -> usize {
    DEFAULT_MAX_CONNECTIONS
}

fn default_idle_timeout_s() -> u64 {
    DEFAULT_IDLE_TIMEOUT_S
}

fn default_header_timeout_s() -> u64 {
    DEFAULT_HEADER_TIMEOUT_S
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            bind: default_bind(),
            tokens: Vec::new(),
            insecure: false,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            auth_metrics: false,
            max_alert_streams: DEFAULT_MAX_ALERT_STREAMS,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            idle_timeout_s: DEFAULT_IDLE_TIMEOUT_S,
            header_timeout_s: DEFAULT_HEADER_TIMEOUT_S,
            tls_cert: None,
            tls_key: None,
        }
    }
}

/// A resolved token secret. `Debug` prints `Secret(***)`; there is no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value (tests, or callers that resolved it themselves).
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The clear text; only the authenticator needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A resolved token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    /// Who holds it.
    pub name: String,
    /// The secret the client presents as `Authorization: Bearer <secret>`.
    pub secret: Secret,
}

/// What the server runs with: validated, secrets resolved.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// Listen address.
    pub bind: SocketAddr,
    /// Tokens; empty = every caller is `anonymous`.
    pub tokens: Vec<ApiToken>,
    /// Largest request body, bytes.
    pub max_body_bytes: usize,
    /// Whether `/metrics` needs a token.
    pub auth_metrics: bool,
    /// Most alert streams open at once.
    pub max_alert_streams: usize,
    /// Most connections open at once (see [`ApiConfig::max_connections`]).
    pub max_connections: usize,
    /// A connection without a byte read or written for this long is closed.
    pub idle_timeout: Duration,
    /// A connection without a complete request header this long after its accept (or after
    /// the first byte of a later request) is closed.
    pub header_timeout: Duration,
    /// Things worth a warning at start-up (already logged by [`ApiConfig::resolve`]).
    pub warnings: Vec<String>,
    /// HTTPS: certificate and key loaded. `None`: plain HTTP.
    pub tls: Option<ServerTls>,
    /// When set, requests are checked against this shared set instead of `tokens`, so that
    /// [`LiveTokens::replace`] applies from the next request without restarting the server.
    /// `None` (what [`ApiSettings::new`] and [`ApiConfig::resolve`] give): `tokens`, fixed.
    pub live_tokens: Option<LiveTokens>,
}

impl ApiSettings {
    /// Settings for tests and embedding: loopback `bind`, the given tokens, defaults otherwise.
    pub fn new(bind: SocketAddr, tokens: Vec<ApiToken>) -> Self {
        Self {
            bind,
            tokens,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            auth_metrics: false,
            max_alert_streams: DEFAULT_MAX_ALERT_STREAMS,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            idle_timeout: Duration::from_secs(DEFAULT_IDLE_TIMEOUT_S),
            header_timeout: Duration::from_secs(DEFAULT_HEADER_TIMEOUT_S),
            warnings: Vec::new(),
            tls: None,
            live_tokens: None,
        }
    }
}

/// Why the `[api]` table is unusable. Never contains a secret.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Listening beyond loopback with nobody required to authenticate.
    #[error(
        "api.bind = {bind} is reachable from other machines but no api.tokens are configured; add a token ([[api.tokens]] name = \"...\", secret_file = \"...\"), bind to 127.0.0.1, or set api.insecure = true to accept unauthenticated access"
    )]
    OpenNonLoopback {
        /// The address.
        bind: SocketAddr,
    },
    /// A token with both or neither secret source.
    #[error("api token {name:?}: set exactly one of secret_env or secret_file (found {found})")]
    SecretSource {
        /// The token's name.
        name: String,
        /// What was found.
        found: &'static str,
    },
    /// A token with an empty or unusable name.
    #[error(
        "api token name {name:?} is not allowed; use 1 to 64 letters, digits, '-', '_' or '.' (it appears in audit logs)"
    )]
    TokenName {
        /// The name as given.
        name: String,
    },
    /// Two tokens with one name.
    #[error("api token name {name:?} is used twice; each token needs its own name so audit logs say who")]
    DuplicateName {
        /// The name.
        name: String,
    },
    /// Two tokens with one secret.
    #[error(
        "api tokens {first:?} and {second:?} have the same secret; give each holder its own so audit logs can tell them apart"
    )]
    DuplicateSecret {
        /// First token.
        first: String,
        /// Second token.
        second: String,
    },
    /// `max_connections`, `idle_timeout_s` or `header_timeout_s` set to 0.
    #[error("api.{key} must be at least 1; the default is {default}")]
    ZeroLimit {
        /// The key.
        key: &'static str,
        /// Its default.
        default: u64,
    },
    /// `max_body_bytes = 0`.
    #[error("api.max_body_bytes must be at least 1; the default is {DEFAULT_MAX_BODY_BYTES}")]
    ZeroBodyLimit,
    /// The environment variable is not set (or not UTF-8).
    #[error(
        "api token {name:?}: environment variable {var} is not set (or not UTF-8); export it before starting vigil"
    )]
    MissingEnv {
        /// The token.
        name: String,
        /// The variable.
        var: String,
    },
    /// The secret file cannot be read.
    #[error("api token {name:?}: cannot read secret_file {path}: {source}")]
    SecretFile {
        /// The token.
        name: String,
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The secret is too short to resist guessing.
    #[error(
        "api token {name:?}: the secret is {len} bytes, fewer than {MIN_SECRET_BYTES}; generate one with `openssl rand -hex 32`"
    )]
    WeakSecret {
        /// The token.
        name: String,
        /// Its length (not its value).
        len: usize,
    },
    /// Only one of `tls_cert` and `tls_key` is set.
    #[error(
        "api.{missing} is not set; HTTPS needs both api.tls_cert (certificate chain, PEM) and api.tls_key (its private key, PEM), or neither for plain HTTP"
    )]
    TlsHalf {
        /// The key that is missing.
        missing: &'static str,
    },
    /// A TLS file cannot be read or holds nothing usable.
    #[error("api.{key} {path}: {detail}")]
    TlsFile {
        /// `tls_cert` or `tls_key`.
        key: &'static str,
        /// The file.
        path: PathBuf,
        /// What is wrong (never the key material).
        detail: String,
    },
    /// The certificate and key do not make a usable pair.
    #[error(
        "api.tls_cert {cert} and api.tls_key {key} cannot be used together: {detail}; check that the key is the certificate's and the certificate comes first in its file"
    )]
    TlsPair {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// What rustls reported.
        detail: String,
    },
}

impl ApiConfig {
    /// Checks that need no secrets: bind vs tokens, names, secret sources, body limit.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.tokens.is_empty() && !self.bind.ip().is_loopback() && !self.insecure {
            return Err(ConfigError::OpenNonLoopback { bind: self.bind });
        }
        match (&self.tls_cert, &self.tls_key) {
            (Some(_), None) => return Err(ConfigError::TlsHalf { missing: "tls_key" }),
            (None, Some(_)) => return Err(ConfigError::TlsHalf { missing: "tls_cert" }),
            _ => {}
        }
        if self.max_body_bytes == 0 {
            return Err(ConfigError::ZeroBodyLimit);
        }
        if self.max_connections == 0 {
            return Err(ConfigError::ZeroLimit {
                key: "max_connections",
                default: DEFAULT_MAX_CONNECTIONS as u64,
            });
        }
        if self.idle_timeout_s == 0 {
            return Err(ConfigError::ZeroLimit {
                key: "idle_timeout_s",
                default: DEFAULT_IDLE_TIMEOUT_S,
            });
        }
        if self.header_timeout_s == 0 {
            return Err(ConfigError::ZeroLimit {
                key: "header_timeout_s",
                default: DEFAULT_HEADER_TIMEOUT_S,
            });
        }
        let mut seen = std::collections::HashSet::new();
        for t in &self.tokens {
            let name_ok = (1..=64).contains(&t.name.chars().count())
                && t.name
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
                && t.name != Caller::ANONYMOUS;
            if !name_ok {
                return Err(ConfigError::TokenName { name: t.name.clone() });
            }
            if !seen.insert(t.name.as_str()) {
                return Err(ConfigError::DuplicateName { name: t.name.clone() });
            }
            let found = match (&t.secret_env, &t.secret_file) {
                (Some(_), None) | (None, Some(_)) => continue,
                (Some(_), Some(_)) => "both",
                (None, None) => "neither",
            };
            return Err(ConfigError::SecretSource {
                name: t.name.clone(),
                found,
            });
        }
        Ok(())
    }

    /// Validates, reads every secret, and returns the settings to serve with. A secret file
    /// readable by group or others is accepted with a warning (logged and returned).
    pub fn resolve(&self) -> Result<ApiSettings, ConfigError> {
        self.validate()?;
        let mut warnings = Vec::new();
        let mut tokens: Vec<ApiToken> = Vec::with_capacity(self.tokens.len());
        for t in &self.tokens {
            let secret = match (&t.secret_env, &t.secret_file) {
                (Some(var), _) => std::env::var(var).map_err(|_| ConfigError::MissingEnv {
                    name: t.name.clone(),
                    var: var.clone(),
                })?,
                (None, Some(path)) => {
                    let what = format!("api token {:?}: secret_file", t.name);
                    if let Some(w) = vigil_core::secret_file::warn_if_exposed(&what, path) {
                        warnings.push(w);
                    }
                    std::fs::read_to_string(path)
                        .map_err(|source| ConfigError::SecretFile {
                            name: t.name.clone(),
                            path: path.clone(),
                            source,
                        })?
                        .trim_end_matches(['\n', '\r'])
                        .to_owned()
                }
                // validate() already refused this; kept as an error, not a panic.
                (None, None) => {
                    return Err(ConfigError::SecretSource {
                        name: t.name.clone(),
                        found: "neither",
                    });
                }
            };
            if secret.len() < MIN_SECRET_BYTES {
                return Err(ConfigError::WeakSecret {
                    name: t.name.clone(),
                    len: secret.len(),
                });
            }
            if let Some(first) = tokens.iter().find(|o| o.secret.expose() == secret) {
                return Err(ConfigError::DuplicateSecret {
                    first: first.name.clone(),
                    second: t.name.clone(),
                });
            }
            tokens.push(ApiToken {
                name: t.name.clone(),
                secret: Secret(secret),
            });
        }
        if tokens.is_empty() && !self.bind.ip().is_loopback() {
            let w = format!(
                "the API on {} accepts requests without a token (api.insecure = true)",
                self.bind
            );
            tracing::warn!("{w}");
            warnings.push(w);
        }
        let tls = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some(ServerTls::load(cert, key, &mut warnings)?),
            _ => None,
        };
        Ok(ApiSettings {
            bind: self.bind,
            tls,
            tokens,
            max_body_bytes: self.max_body_bytes,
            auth_metrics: self.auth_metrics,
            max_alert_streams: self.max_alert_streams,
            max_connections: self.max_connections,
            idle_timeout: Duration::from_secs(self.idle_timeout_s),
            header_timeout: Duration::from_secs(self.header_timeout_s),
            warnings,
            live_tokens: None,
        })
    }
}

/// A warning when `path` is readable by group or others (the secret could leak to other
/// local users); `None` when private or when its mode cannot be read (the read reports that).
pub fn permission_warning(token: &str, path: &Path) -> Option<String> {
    // One check for every secret file in Vigil (sink passwords, HMAC keys, TLS keys too).
    vigil_core::secret_file::permission_warning(&format!("api token {token:?}: secret_file"), path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    const SECRET: &str = "s3cret-value-that-is-long-enough";

    fn token_file(dir: &Path, mode: u32) -> PathBuf {
        let path = dir.join("tok");
        std::fs::write(&path, format!("{SECRET}\n")).expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
        path
    }

    fn cfg(bind: &str, tokens: Vec<TokenConfig>) -> ApiConfig {
        ApiConfig {
            bind: bind.parse().expect("addr"),
            tokens,
            ..ApiConfig::default()
        }
    }

    fn file_token(name: &str, path: &Path) -> TokenConfig {
        TokenConfig {
            name: name.into(),
            secret_env: None,
            secret_file: Some(path.to_path_buf()),
        }
    }

    #[test]
    fn non_loopback_without_tokens_is_refused_unless_insecure() {
        let c = cfg("0.0.0.0:8480", vec![]);
        let err = c.validate().expect_err("refused");
        let msg = err.to_string();
        assert!(
            msg.contains("0.0.0.0:8480") && msg.contains("insecure = true"),
            "{msg}"
        );
        assert!(cfg("[::]:8480", vec![]).validate().is_err());
        assert!(cfg("127.0.0.1:8480", vec![]).validate().is_ok());
        assert!(cfg("[::1]:8480", vec![]).validate().is_ok());
        let insecure = ApiConfig { insecure: true, ..c };
        let settings = insecure.resolve().expect("allowed when told");
        assert_eq!(settings.warnings.len(), 1, "{:?}", settings.warnings);
    }

    #[test]
    fn zero_limits_are_refused() {
        for (c, key) in [
            (
                ApiConfig {
                    max_connections: 0,
                    ..ApiConfig::default()
                },
                "max_connections",
            ),
            (
                ApiConfig {
                    idle_timeout_s: 0,
                    ..ApiConfig::default()
                },
                "idle_timeout_s",
            ),
            (
                ApiConfig {
                    header_timeout_s: 0,
                    ..ApiConfig::default()
                },
                "header_timeout_s",
            ),
        ] {
            let e = c.validate().expect_err("zero");
            assert!(e.to_string().contains(key), "{e}");
        }
        assert!(matches!(
            ApiConfig {
                max_body_bytes: 0,
                ..ApiConfig::default()
            }
            .validate(),
            Err(ConfigError::ZeroBodyLimit)
        ));
    }

    #[test]
    fn parses_with_defaults_and_rejects_unknown_keys_and_inline_secrets() {
        let c: ApiConfig = serde_json::from_str("{}").expect("defaults");
        assert_eq!(c, ApiConfig::default());
        assert_eq!(c.bind.to_string(), DEFAULT_BIND);
        let inline = r#"{"tokens": [{"name": "ops", "secret": "abc"}]}"#;
        assert!(serde_json::from_str::<ApiConfig>(inline).is_err());
        assert!(serde_json::from_str::<ApiConfig>(r#"{"bnd": "127.0.0.1:1"}"#).is_err());
    }

    #[test]
    fn token_checks() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = token_file(dir.path(), 0o600);
        let both = TokenConfig {
            secret_env: Some("X".into()),
            ..file_token("ops", &path)
        };
        assert!(matches!(
            cfg("127.0.0.1:1", vec![both]).validate(),
            Err(ConfigError::SecretSource { found: "both", .. })
        ));
        let dup = vec![file_token("ops", &path), file_token("ops", &path)];
        assert!(matches!(
            cfg("127.0.0.1:1", dup).validate(),
            Err(ConfigError::DuplicateName { .. })
        ));
        let same_secret = vec![file_token("a", &path), file_token("b", &path)];
        assert!(matches!(
            cfg("127.0.0.1:1", same_secret).resolve(),
            Err(ConfigError::DuplicateSecret { .. })
        ));
        for bad in ["", "a b", "anonymous", "x/y"] {
            assert!(
                matches!(
                    cfg("127.0.0.1:1", vec![file_token(bad, &path)]).validate(),
                    Err(ConfigError::TokenName { .. })
                ),
                "{bad:?}"
            );
        }
        let missing = TokenConfig {
            name: "ops".into(),
            secret_env: Some("VIGIL_HTTP_SURELY_UNSET_9f1c".into()),
            secret_file: None,
        };
        assert!(matches!(
            cfg("127.0.0.1:1", vec![missing]).resolve(),
            Err(ConfigError::MissingEnv { .. })
        ));
    }

    #[test]
    fn short_secret_is_refused_without_echoing_it() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("short");
        std::fs::write(&path, "hunter2\n").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let err = cfg("127.0.0.1:1", vec![file_token("ops", &path)])
            .resolve()
            .expect_err("weak");
        let text = format!("{err} {err:?}");
        assert!(text.contains("7 bytes"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }

    #[test]
    fn secret_file_is_read_and_never_shown() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = token_file(dir.path(), 0o600);
        let settings = cfg("0.0.0.0:1", vec![file_token("ops", &path)])
            .resolve()
            .expect("resolve");
        assert_eq!(settings.tokens[0].secret.expose(), SECRET);
        assert!(settings.warnings.is_empty(), "{:?}", settings.warnings);
        let shown = format!("{settings:?}");
        assert!(!shown.contains(SECRET), "{shown}");
        assert!(shown.contains("Secret(***)"), "{shown}");
    }

    #[test]
    fn group_or_world_readable_secret_file_warns() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = token_file(dir.path(), 0o644);
        let settings = cfg("127.0.0.1:1", vec![file_token("ops", &path)])
            .resolve()
            .expect("accepted with a warning");
        assert_eq!(settings.warnings.len(), 1);
        assert!(
            settings.warnings[0].contains("chmod 600"),
            "{:?}",
            settings.warnings
        );
        assert!(!settings.warnings[0].contains(SECRET));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        assert!(permission_warning("ops", &path).is_some());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400)).expect("chmod");
        assert!(permission_warning("ops", &path).is_none());
    }
}
