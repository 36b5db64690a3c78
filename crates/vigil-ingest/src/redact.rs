//! Removing credentials from URIs and from free text that may contain URIs.
//!
//! Every log line, error message and metric label that names a camera source goes through
//! [`redact_uri`] (or a [`Redactor`], which also knows the camera's separately configured
//! password). The functions over-redact rather than leak: an unencoded `@` or `/` inside a password
//! still ends up hidden.

/// Marker that replaces removed credentials.
pub const REDACTED: &str = "***";

/// Query parameter names whose values are treated as secrets (matched case-insensitively).
const SECRET_QUERY_KEYS: &[&str] = &[
    "password", "passwd", "pass", "pwd", "secret", "token", "auth", "key", "apikey", "api_key",
];

/// Removes `user:password@` from every URI in `text` and hides the values of secret-looking query
/// parameters (`?pwd=…`, `&token=…`).
///
/// Works on a bare URI (`rtsp://admin:hunter2@10.0.0.5/ch1` → `rtsp://***@10.0.0.5/ch1`) and on
/// text that contains URIs, such as a GStreamer error message. Text without `://` is returned
/// unchanged.
pub fn redact_uri(text: &str) -> String {
    let cleaned = redact_schemeless(text);
    let text: &str = &cleaned;
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(sep) = rest.find("://") {
        // The URI token runs from `://` to the next whitespace.
        let after = &rest[sep + 3..];
        let token_len = after.find(is_token_end).unwrap_or(after.len());
        out.push_str(&rest[..sep + 3]);
        redact_after_scheme(&after[..token_len], &mut out);
        rest = &after[token_len..];
    }
    out.push_str(rest);
    out
}

/// Hides `user:password@` in words that have no `scheme://` (an operator who forgot the scheme
/// still wrote the password): every whitespace-separated word without `://` whose part before
/// its last `@` holds a `:` keeps only what follows the `@`.
fn redact_schemeless(text: &str) -> std::borrow::Cow<'_, str> {
    let leaks = |w: &str| !w.contains("://") && w.rfind('@').is_some_and(|at| w[..at].contains(':'));
    if !text.split_whitespace().any(leaks) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let start = rest.find(|c: char| !c.is_whitespace()).unwrap_or(rest.len());
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let word = &rest[..end];
        match word.rfind('@') {
            Some(at) if leaks(word) => {
                // Keep punctuation that opened the word (a quote or backtick) readable.
                let lead = word.len() - word.trim_start_matches(['`', '"', '\'', '(']).len();
                out.push_str(&word[..lead]);
                out.push_str(REDACTED);
                out.push_str(&word[at..]);
            }
            _ => out.push_str(word),
        }
        rest = &rest[end..];
    }
    std::borrow::Cow::Owned(out)
}

/// A URI in free text ends at whitespace. Quotes and brackets are NOT token ends: a password may
/// contain them, and a trailing `")` after a URI only makes the redaction look further for `@`.
fn is_token_end(c: char) -> bool {
    c.is_whitespace()
}

/// Redacts one URI after its `scheme://` and appends the result to `out`.
fn redact_after_scheme(uri: &str, out: &mut String) {
    // Userinfo ends at the LAST '@' before the query/fragment: an unencoded '@' or '/' in the
    // password must not make us print its tail.
    let query_start = uri.find(['?', '#']).unwrap_or(uri.len());
    let (authority_and_path, query) = uri.split_at(query_start);
    match authority_and_path.rfind('@') {
        Some(at) => {
            out.push_str(REDACTED);
            out.push_str(&authority_and_path[at..]);
        }
        None => out.push_str(authority_and_path),
    }
    redact_query(query, out);
}

/// Appends `query` (starting with `?` or `#`, or empty) with secret parameter values hidden.
fn redact_query(query: &str, out: &mut String) {
    let mut first = true;
    for part in query.split('&') {
        if !first {
            out.push('&');
        }
        first = false;
        let (key, value) = match part.split_once('=') {
            Some(kv) => kv,
            None => {
                out.push_str(part);
                continue;
            }
        };
        let bare_key = key.trim_start_matches(['?', '#']).to_ascii_lowercase();
        out.push_str(key);
        out.push('=');
        if SECRET_QUERY_KEYS.contains(&bare_key.as_str()) && !value.is_empty() {
            out.push_str(REDACTED);
        } else {
            out.push_str(value);
        }
    }
}

/// Redacts URIs and, in addition, every literal occurrence of the camera's own secrets.
///
/// Needed because a password configured separately from the URI (`password = "…"`) could show up
/// in a message without any URI around it.
#[derive(Clone, Default)]
pub struct Redactor {
    /// Secrets to hide wherever they appear; only those of [`Redactor::MIN_SECRET_LEN`] or more
    /// characters, since shorter ones cannot be told apart from ordinary words.
    secrets: Vec<String>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redactor")
            .field("secrets", &self.secrets.len())
            .finish()
    }
}

impl Redactor {
    /// Shortest secret that is replaced literally in free text.
    pub const MIN_SECRET_LEN: usize = 3;

    /// A redactor that hides URI credentials and the given secrets.
    pub fn new<'a>(secrets: impl IntoIterator<Item = &'a str>) -> Self {
        let mut secrets: Vec<String> = secrets
            .into_iter()
            .filter(|s| s.chars().count() >= Self::MIN_SECRET_LEN)
            .map(str::to_owned)
            .collect();
        // Longest first, so that a secret containing another is replaced whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        Self { secrets }
    }

    /// `text` with URI credentials and known secrets replaced by [`REDACTED`].
    pub fn redact(&self, text: &str) -> String {
        let mut out = redact_uri(text);
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), REDACTED);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn removes_user_and_password() {
        assert_eq!(
            redact_uri("rtsp://admin:hunter2@10.0.0.5:554/ch1"),
            "rtsp://***@10.0.0.5:554/ch1"
        );
        assert_eq!(
            redact_uri("rtsps://user@cam.local/live"),
            "rtsps://***@cam.local/live"
        );
    }

    #[test]
    fn hides_credentials_of_a_uri_without_scheme() {
        assert_eq!(
            redact_uri("uri admin:hunter2@127.0.0.1/campus has no scheme"),
            "uri ***@127.0.0.1/campus has no scheme"
        );
        assert_eq!(redact_uri("`admin:pw@cam`"), "`***@cam`");
        // Mail addresses and times are not credentials.
        assert_eq!(redact_uri("ops@example.org at 10:00"), "ops@example.org at 10:00");
    }

    #[test]
    fn leaves_uris_without_credentials_alone() {
        for uri in [
            "rtsp://10.0.0.5/ch1",
            "file:///data/a.mp4",
            "http://host:8080/x?fps=5",
            "plain text",
        ] {
            assert_eq!(redact_uri(uri), uri);
        }
    }

    #[test]
    fn unencoded_at_and_slash_in_password_stay_hidden() {
        assert_eq!(redact_uri("rtsp://admin:p@ss/w@rd@cam/ch1"), "rtsp://***@cam/ch1");
    }

    #[test]
    fn hides_secret_query_values() {
        assert_eq!(
            redact_uri("http://cam/snap.cgi?user=admin&pwd=secret1&res=hd"),
            "http://cam/snap.cgi?user=admin&pwd=***&res=hd"
        );
        assert_eq!(redact_uri("https://cam/x?Token=abc"), "https://cam/x?Token=***");
    }

    #[test]
    fn redacts_every_uri_inside_free_text() {
        let msg = "Could not open rtsp://a:b1@h1/x (also tried \"rtsp://c:d2@h2/y\"): 401";
        assert_eq!(
            redact_uri(msg),
            "Could not open rtsp://***@h1/x (also tried \"rtsp://***@h2/y\"): 401"
        );
    }

    #[test]
    fn redactor_hides_bare_secrets_but_not_short_ones() {
        let r = Redactor::new(["s3cret-pw", "ab"]);
        assert_eq!(
            r.redact("auth failed for s3cret-pw at rtsp://u:x@h/"),
            "auth failed for *** at rtsp://***@h/"
        );
        assert_eq!(r.redact("about"), "about");
        assert!(!format!("{r:?}").contains("s3cret"));
    }

    proptest! {
        #[test]
        fn password_never_survives(
            user in "[A-Za-z0-9._~-]{1,12}",
            pass in "[A-Za-z0-9!$&'()*+,;=:@/%._~\"<>`-]{1,24}",
            path in "(/[a-z0-9]{1,8}){0,3}",
        ) {
            let uri = format!("rtsp://{user}:{pass}@cam.example:554{path}");
            prop_assert_eq!(redact_uri(&uri), format!("rtsp://***@cam.example:554{path}"));
        }

        #[test]
        fn text_without_scheme_is_unchanged(text in "[^:]{0,64}") {
            prop_assert_eq!(redact_uri(&text), text);
        }
    }
}
