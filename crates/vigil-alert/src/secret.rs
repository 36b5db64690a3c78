//! Credentials read from environment variables or files, never from the config text itself.
//!
//! Config files end up in git, tickets and support bundles; so a password is referenced
//! (`password_env = "VIGIL_NATS_PASSWORD"` or `password_file = "/run/secrets/nats"`) and
//! resolved at start-up into a [`Secret`] whose `Debug`/`Display` print `***`.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::ConfigError;

/// A resolved credential. Its formatting impls redact the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value (used by tests and by callers that resolved it themselves).
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The clear-text value; call only where it is handed to a client library.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Resolves an optional secret from `<what>_env` or `<what>_file` (at most one may be set).
///
/// A file's trailing newline is trimmed (files written with `echo` have one). A file readable
/// by group or others is used, with a warning naming the sink, the file and the `chmod` that
/// fixes it ([`vigil_core::secret_file::warn_if_exposed`], shared with the API's token files);
/// the value itself is never logged.
pub fn resolve(
    sink: &str,
    what: &str,
    env: Option<&str>,
    file: Option<&Path>,
) -> Result<Option<Secret>, ConfigError> {
    match (env, file) {
        (Some(_), Some(_)) => Err(ConfigError::TwoSecretSources {
            sink: sink.into(),
            what: what.into(),
        }),
        (Some(var), None) => {
            std::env::var(var)
                .map(|v| Some(Secret(v)))
                .map_err(|_| ConfigError::MissingEnv {
                    sink: sink.into(),
                    var: var.into(),
                })
        }
        (None, Some(path)) => {
            vigil_core::secret_file::warn_if_exposed(&format!("sink {sink:?}: {what}_file"), path);
            std::fs::read_to_string(path)
                .map(|v| Some(Secret(v.trim_end_matches(['\n', '\r']).to_owned())))
                .map_err(|source| ConfigError::SecretFile {
                    sink: sink.into(),
                    path: PathBuf::from(path),
                    source,
                })
        }
        (None, None) => Ok(None),
    }
}

/// `scheme://user:pass@host/…` → `scheme://user:***@host/…`, for logging URLs.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => {
            let userinfo = &rest[..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..scheme_end + 3], &rest[at..])
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new("hunter2");
        assert!(!format!("{s:?}").contains("hunter2"));
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn resolves_from_file_and_rejects_two_sources() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("pw");
        std::fs::write(&path, "s3cret\n").expect("write");
        let got = resolve("bus", "password", None, Some(&path)).expect("resolve");
        assert_eq!(got.map(|s| s.expose().to_owned()), Some("s3cret".into()));
        assert!(matches!(
            resolve("bus", "password", Some("X"), Some(&path)),
            Err(ConfigError::TwoSecretSources { .. })
        ));
        assert!(matches!(
            resolve("bus", "password", Some("VIGIL_SURELY_UNSET_VAR_42"), None),
            Err(ConfigError::MissingEnv { var, .. }) if var == "VIGIL_SURELY_UNSET_VAR_42"
        ));
        assert!(resolve("bus", "password", None, None).expect("none").is_none());
    }

    #[test]
    fn redacts_url_passwords() {
        assert_eq!(
            redact_url("amqp://guest:guest@127.0.0.1:5672/%2f"),
            "amqp://guest:***@127.0.0.1:5672/%2f"
        );
        assert_eq!(redact_url("nats://127.0.0.1:4222"), "nats://127.0.0.1:4222");
    }
}
