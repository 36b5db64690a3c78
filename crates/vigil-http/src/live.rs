//! Tokens that change while the server runs.
//!
//! A reload that adds, removes or rotates a token must not restart the listener (open alert
//! streams and keep-alive connections would drop). The authentication middleware therefore
//! reads the accepted set through a [`LiveTokens`] handle on every request; the daemon keeps a
//! clone and [`LiveTokens::replace`]s the set, and the next request — on any connection, old or
//! new — is checked against it. A clone given to a newly started server (a changed `bind`)
//! carries the same set over.

use std::sync::{Arc, PoisonError, RwLock};

use serde::Serialize;

use crate::auth::Authenticator;
use crate::config::ApiToken;

/// A shared, replaceable set of accepted tokens; clones share the set. Set
/// [`crate::ApiSettings::live_tokens`] to serve with it.
#[derive(Clone)]
pub struct LiveTokens {
    current: Arc<RwLock<Arc<Authenticator>>>,
}

impl std::fmt::Debug for LiveTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveTokens")
            .field("names", &self.names())
            .finish()
    }
}

/// What [`LiveTokens::replace`] changed, by token name (never a secret).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TokenChanges {
    /// Names accepted from now on that were not before.
    pub added: Vec<String>,
    /// Names no longer accepted.
    pub removed: Vec<String>,
    /// Names kept whose secret changed (the old secret is refused from now on).
    pub rotated: Vec<String>,
}

impl TokenChanges {
    /// True when the accepted set is the same as before.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.rotated.is_empty()
    }
}

impl LiveTokens {
    /// A set holding `tokens` (empty = every caller is anonymous).
    pub fn new(tokens: &[ApiToken]) -> Self {
        Self {
            current: Arc::new(RwLock::new(Arc::new(Authenticator::new(tokens)))),
        }
    }

    /// Replaces the accepted set; requests that arrive from now on are checked against
    /// `tokens`. Returns what changed.
    pub fn replace(&self, tokens: &[ApiToken]) -> TokenChanges {
        let new = Arc::new(Authenticator::new(tokens));
        let mut slot = self.current.write().unwrap_or_else(PoisonError::into_inner);
        let changes = diff(&slot, &new);
        *slot = new;
        changes
    }

    /// The names of the accepted tokens.
    pub fn names(&self) -> Vec<String> {
        self.current().entries().iter().map(|(n, _)| n.clone()).collect()
    }

    /// The set in force now (a cheap clone, so no lock is held while a request is checked).
    pub(crate) fn current(&self) -> Arc<Authenticator> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

fn diff(old: &Authenticator, new: &Authenticator) -> TokenChanges {
    let mut c = TokenChanges::default();
    for (name, digest) in new.entries() {
        match old.entries().iter().find(|(n, _)| n == name) {
            None => c.added.push(name.clone()),
            Some((_, d)) if d != digest => c.rotated.push(name.clone()),
            Some(_) => {}
        }
    }
    for (name, _) in old.entries() {
        if !new.entries().iter().any(|(n, _)| n == name) {
            c.removed.push(name.clone());
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;
    use axum::http::{HeaderMap, HeaderValue, header};

    fn token(name: &str, secret: &str) -> ApiToken {
        ApiToken {
            name: name.into(),
            secret: Secret::new(secret),
        }
    }

    fn bearer(secret: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        let v = HeaderValue::from_str(&format!("Bearer {secret}")).expect("header");
        h.insert(header::AUTHORIZATION, v);
        h
    }

    #[test]
    fn replacing_the_set_applies_to_the_next_check_and_reports_by_name() {
        let live = LiveTokens::new(&[
            token("ops", "ops-secret-0123456789"),
            token("old", "old-secret-0123456789"),
        ]);
        let shared = live.clone();
        assert!(shared.current().check(&bearer("old-secret-0123456789")).is_ok());
        let changes = live.replace(&[
            token("ops", "ops-secret-rotated-0123"),
            token("new", "new-secret-0123456789"),
        ]);
        assert_eq!(
            changes,
            TokenChanges {
                added: vec!["new".into()],
                removed: vec!["old".into()],
                rotated: vec!["ops".into()],
            }
        );
        // The clone (what a running server holds) sees the new set at once.
        let now = shared.current();
        assert!(now.check(&bearer("old-secret-0123456789")).is_err());
        assert!(now.check(&bearer("ops-secret-0123456789")).is_err());
        assert_eq!(now.check(&bearer("ops-secret-rotated-0123")), Ok("ops".into()));
        assert_eq!(now.check(&bearer("new-secret-0123456789")), Ok("new".into()));
        assert!(
            live.replace(&[
                token("ops", "ops-secret-rotated-0123"),
                token("new", "new-secret-0123456789"),
            ])
            .is_empty()
        );
        let shown = format!("{live:?}");
        assert!(
            shown.contains("ops") && !shown.contains("secret-rotated"),
            "{shown}"
        );
    }
}
