//! Checks of the `[[sink]]` entries beyond their types: unique names, and no credentials inside
//! URLs. Client libraries (NATS, HTTP, AMQP) log the URLs they connect to at debug level, so a
//! password in a URL reaches the log the moment someone turns debugging on; every sink that takes
//! a URL has a separate key for its secret, read from a file.

use vigil_alert::{SinkConfig, SinkSpec};

use super::positions::Positions;

/// Every sink problem, each with its position and a fix hint.
pub fn check(origin: &str, at: &Positions<'_>, sinks: &[SinkSpec]) -> Vec<String> {
    let mut errs = Vec::new();
    let mut names = std::collections::HashSet::new();
    for (k, s) in sinks.iter().enumerate() {
        if !names.insert(s.name.as_str()) {
            errs.push(format!(
                "{origin}:{} sink '{}' is defined twice\n  fix: sink names must be unique (they key the outbox cursors and the metrics)",
                at.sink(k, "name"),
                s.name
            ));
        }
        let (url, fix) = match &s.sink {
            SinkConfig::Nats(c) => (&c.url, "username + password_file"),
            SinkConfig::Amqp(c) => (&c.url, "username + password_file"),
            SinkConfig::Webhook(c) => (
                &c.url,
                "secret_file (the receiver checks the request's HMAC signature)",
            ),
            _ => continue,
        };
        if has_userinfo(url) {
            // The URL is not repeated: it holds the secret.
            errs.push(format!(
                "{origin}:{} sink '{}': the url carries credentials (user:password@), which client libraries write to debug logs\n  fix: remove them from the url and use {fix}",
                at.sink(k, "url"),
                s.name
            ));
        }
    }
    errs
}

/// True when `url` has a `user:password@` (or `user@`) part in its authority.
pub fn has_userinfo(url: &str) -> bool {
    let Some((_, rest)) = url.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    authority.contains('@')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_is_found_in_the_authority_only() {
        assert!(has_userinfo("nats://alice:s3cret@127.0.0.1:4222"));
        assert!(has_userinfo("https://token@hooks.example/x"));
        assert!(!has_userinfo("nats://127.0.0.1:4222"));
        assert!(!has_userinfo("https://h.example/path/user@x"));
        assert!(!has_userinfo("not a url"));
    }
}
