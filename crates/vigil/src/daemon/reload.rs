//! Reloading the pipeline file (SIGHUP, `POST /api/v1/reload`, the console's rules editor).
//!
//! Order matters: everything that can refuse is checked before anything is applied — the file
//! (the same validation as `vigil check`), the `[api]` secrets, then the pipeline's own refusal
//! of changes that need a restart. Only then do the cameras change, the API follow (tokens in
//! place, listener moved or restarted; a failed move is reported, not a refusal, because the
//! cameras already changed), and the log level follow. The outcome is one log line and the
//! reply to the caller.

use vigil_http::{ApiReloadOutcome, ReloadOutcome};

use crate::daemon::api_server::{self, Prepared};
use crate::daemon::backend::DaemonBackend;
use crate::pipeline::{self, shared::lock};

/// What a successful reload did.
#[derive(Debug, Clone)]
pub struct Reloaded {
    /// Cameras added, removed, restarted, reconfigured; watchlists re-imported.
    pub cameras: pipeline::run::ReloadReport,
    /// The HTTP API.
    pub api: ApiReloadOutcome,
    /// The log settings, when they changed or could not be applied.
    pub log: Option<String>,
}

impl Reloaded {
    /// True when nothing changed at all.
    pub fn is_empty(&self) -> bool {
        self.cameras.is_empty() && api_server::summary(&self.api).is_none() && self.log.is_none()
    }

    /// One line for the operator.
    pub fn message(&self) -> String {
        if self.is_empty() {
            return "no changes".into();
        }
        let r = &self.cameras;
        let mut m = format!(
            "applied: {} added, {} removed, {} restarted, {} reconfigured{}",
            r.added.len(),
            r.removed.len(),
            r.restarted.len(),
            r.reconfigured.len(),
            if r.lists_reimported {
                ", watchlists re-imported"
            } else {
                ""
            }
        );
        let api = api_server::summary(&self.api).map(|a| format!("api: {a}"));
        for extra in [api, self.log.clone()].into_iter().flatten() {
            m.push_str("; ");
            m.push_str(&extra);
        }
        m
    }

    /// The API's reply; `message` replaces [`Reloaded::message`] when given.
    pub fn outcome(self, message: Option<String>) -> ReloadOutcome {
        let applied = !self.is_empty();
        let message = message.unwrap_or_else(|| self.message());
        let r = self.cameras;
        ReloadOutcome {
            applied,
            message,
            cameras_added: r.added,
            cameras_removed: r.removed,
            cameras_restarted: r.restarted.into_iter().chain(r.reconfigured).collect(),
            api: Some(self.api),
        }
    }
}

impl DaemonBackend {
    /// Re-reads and applies `self.file`; the outcome is logged either way. `who` is the token
    /// name or `SIGHUP`.
    pub fn reload_file(&self, who: &str) -> Result<Reloaded, String> {
        let refused = |e: String| {
            tracing::warn!(by = who, error = %e, "reload refused; the running pipeline is unchanged");
            e
        };
        let (cfg, _) = pipeline::load(&self.file).map_err(refused)?;
        let api =
            Prepared::new(cfg.api.as_ref()).map_err(|e| refused(format!("{}: {e}", self.file.display())))?;
        // Held to the end: two reloads never interleave.
        let mut guard = lock(&self.pipeline);
        let Some(p) = guard.as_mut() else {
            return Err("the pipeline is stopping".into());
        };
        let cameras = p.reload(&cfg).map_err(|e| refused(format!("{e:#}")))?;
        let api = self.api.apply(api);
        let r = &cameras;
        tracing::info!(
            by = who,
            added = ?r.added,
            removed = ?r.removed,
            restarted = ?r.restarted,
            reconfigured = ?r.reconfigured,
            lists_reimported = r.lists_reimported,
            api = api_server::summary(&api).as_deref().unwrap_or("unchanged"),
            "reload applied"
        );
        if let Some(e) = &api.error {
            tracing::error!(by = who, error = %e, "reload: the API change was not applied");
        }
        // After the line above, so the reload is logged under the level it was requested at.
        let log = crate::logging::apply(&cfg.log);
        Ok(Reloaded { cameras, api, log })
    }
}
