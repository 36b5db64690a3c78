//! The HTTP API's listener as the daemon runs it, so that a reload can change `[api]`.
//!
//! * **Tokens change in place.** Every server started here authenticates through one
//!   [`LiveTokens`] set, which a reload replaces: a removed token is refused from the next
//!   request, a new one accepted, and no connection (alert stream, keep-alive) is dropped.
//! * **A new `bind` is bound before the old listener is let go**, so an address that cannot be
//!   bound (taken, not on this host) leaves the old listener serving; the outcome says why, and
//!   the next reload tries again.
//! * **Other keys** (limits, `auth_metrics`, the TLS files, or new contents in them) restart
//!   the server on the *same socket*: a duplicate of the listening socket is kept, so the
//!   kernel keeps queueing connections while the old server winds down and the new one takes
//!   over; no connection attempt is refused (one the old server accepts in the instant before
//!   it sees the stop is closed unanswered, as at any graceful shutdown; HTTP clients retry
//!   such a request).
//! * The servers run on a runtime the caller owns; this holds only its handle, and never waits
//!   for a server except in [`ApiServer::shutdown`]. That matters because `POST
//!   /api/v1/reload` runs on that very server: the reply must be able to finish while the
//!   server it came in on is told to stop.

use std::net::SocketAddr;
use std::sync::{Mutex, OnceLock, Weak};
use std::time::Duration;

use tokio::runtime::Handle;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use vigil_http::{ApiConfig, ApiReloadOutcome, ApiSettings, Backend, HttpError, LiveTokens};

use crate::pipeline::shared::lock;

/// What the daemon's API is: the servers it started and the token set they share.
pub struct ApiServer {
    handle: Handle,
    /// The backend new servers serve; weak, because the backend owns this.
    backend: OnceLock<Weak<dyn Backend>>,
    /// Shared by every server started here.
    tokens: LiveTokens,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// The server taking new connections, if the API is on.
    running: Option<Running>,
    /// Servers told to stop that may still be finishing requests.
    retired: Vec<JoinHandle<Result<(), HttpError>>>,
}

struct Running {
    /// The `[api]` table in force (for deciding what a reload must restart).
    config: ApiConfig,
    /// [`tls_fingerprint`] of the certificate and key in use.
    tls: Option<[u8; 32]>,
    /// A duplicate of the listening socket, for restarting on the same one.
    spare: std::net::TcpListener,
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), HttpError>>,
}

/// A checked `[api]` table with its secrets read: what [`ApiServer::apply`] will put in force.
/// Preparing can fail (a token's variable unset, a file unreadable); applying cannot refuse.
pub struct Prepared {
    api: Option<(ApiConfig, ApiSettings, Option<[u8; 32]>)>,
}

impl Prepared {
    /// Validates `[api]` (absent = the API off) and reads every token secret (and the TLS
    /// certificate and key, when set).
    pub fn new(cfg: Option<&ApiConfig>) -> Result<Self, String> {
        let api = match cfg {
            Some(c) => {
                let settings = c.resolve().map_err(|e| format!("[api] {e}"))?;
                Some((c.clone(), settings, tls_fingerprint(c)))
            }
            None => None,
        };
        Ok(Self { api })
    }
}

/// SHA-256 over the TLS certificate and key files: a certificate renewed in place (same paths,
/// new contents) must restart the server too. Only compared, never shown.
fn tls_fingerprint(c: &ApiConfig) -> Option<[u8; 32]> {
    use sha2::Digest as _;
    let mut h = sha2::Sha256::new();
    for path in [c.tls_cert.as_ref()?, c.tls_key.as_ref()?] {
        h.update(std::fs::read(path).ok()?);
        h.update([0]);
    }
    Some(h.finalize().into())
}

/// Binds `addr` (non-blocking, as tokio needs it; duplicates share the flag).
fn bind(addr: SocketAddr) -> Result<std::net::TcpListener, String> {
    std::net::TcpListener::bind(addr)
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .map_err(|source| HttpError::Bind { addr, source }.to_string())
}

/// True when the server must be restarted for `new`: any key other than `bind` (a move), the
/// tokens (swapped in place) and `insecure` (only a validation switch). Written as "all but",
/// so a key added to `[api]` later restarts the server rather than being silently ignored.
fn limits_differ(old: &ApiConfig, new: &ApiConfig) -> bool {
    let rest = |c: &ApiConfig| ApiConfig {
        bind: old.bind,
        tokens: Vec::new(),
        insecure: false,
        ..c.clone()
    };
    rest(old) != rest(new)
}

impl ApiServer {
    /// An API with no server yet, whose servers will run on `handle`'s runtime.
    pub fn new(handle: Handle) -> Self {
        Self {
            handle,
            backend: OnceLock::new(),
            tokens: LiveTokens::new(&[]),
            state: Mutex::default(),
        }
    }

    /// Sets the backend the servers serve (once; later calls are ignored).
    pub fn attach(&self, backend: Weak<dyn Backend>) {
        let _ = self.backend.set(backend);
    }

    /// Starts the API at daemon start; a listener that cannot be bound is an error.
    pub fn start(&self, p: Prepared) -> Result<(), String> {
        let out = self.apply(p);
        match out.error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Starts a server on `listener` with `settings` and the shared tokens.
    fn spawn(&self, listener: std::net::TcpListener, mut settings: ApiSettings) -> Result<Running, String> {
        let backend = self
            .backend
            .get()
            .and_then(Weak::upgrade)
            .ok_or("the daemon is stopping")?;
        let spare = listener
            .try_clone()
            .map_err(|e| format!("duplicating the API socket: {e}"))?;
        settings.live_tokens = Some(self.tokens.clone());
        let (stop, rx) = oneshot::channel::<()>();
        let task = self.handle.spawn(async move {
            let l = tokio::net::TcpListener::from_std(listener).map_err(HttpError::Serve)?;
            vigil_http::serve_on(l, settings, backend, async {
                let _ = rx.await;
            })
            .await
        });
        Ok(Running {
            config: ApiConfig::default(),
            tls: None,
            spare,
            stop,
            task,
        })
    }

    /// Puts a prepared `[api]` in force and says what happened; see the module docs.
    pub fn apply(&self, p: Prepared) -> ApiReloadOutcome {
        let mut st = lock(&self.state);
        st.retired.retain(|t| !t.is_finished());
        let mut out = ApiReloadOutcome::default();
        let Some((config, settings, tls)) = p.api else {
            out.listener = match st.running.take() {
                Some(old) => {
                    retire(&mut st, old);
                    out.tokens_removed = self.tokens.replace(&[]).removed;
                    "stopped"
                }
                None => "off",
            }
            .into();
            return out;
        };
        let set_tokens = |out: &mut ApiReloadOutcome| {
            let c = self.tokens.replace(&settings.tokens);
            (out.tokens_added, out.tokens_removed, out.tokens_rotated) = (c.added, c.removed, c.rotated);
        };
        let start_new = |listener: std::net::TcpListener| {
            self.spawn(listener, settings.clone()).map(|r| Running {
                config: config.clone(),
                tls,
                ..r
            })
        };
        match st.running.take() {
            None => match bind(config.bind).and_then(start_new) {
                Ok(new) => {
                    set_tokens(&mut out);
                    st.running = Some(new);
                    out.listener = "started".into();
                    out.bind = Some(config.bind.to_string());
                }
                Err(e) => {
                    out.listener = "off".into();
                    out.error = Some(e);
                }
            },
            Some(old) if old.config.bind != config.bind => {
                match bind(config.bind).and_then(start_new) {
                    Ok(new) => {
                        set_tokens(&mut out);
                        retire(&mut st, old);
                        st.running = Some(new);
                        out.listener = "moved".into();
                        out.bind = Some(config.bind.to_string());
                    }
                    Err(e) => {
                        // The old listener keeps serving; its tokens may follow the file only
                        // if that combination is itself allowed (never an open API off
                        // loopback because the move failed).
                        let on_old = ApiConfig {
                            bind: old.config.bind,
                            ..config.clone()
                        };
                        let e = match on_old.validate() {
                            Ok(()) => {
                                set_tokens(&mut out);
                                e
                            }
                            Err(why) => format!("{e}; tokens unchanged too: {why}"),
                        };
                        out.listener = "kept".into();
                        out.bind = Some(old.config.bind.to_string());
                        out.error = Some(e);
                        st.running = Some(old);
                    }
                }
            }
            Some(old) if limits_differ(&old.config, &config) || old.tls != tls => {
                let same = old.spare.try_clone().map_err(|e| e.to_string());
                match same.and_then(start_new) {
                    Ok(new) => {
                        set_tokens(&mut out);
                        retire(&mut st, old);
                        st.running = Some(new);
                        out.listener = "restarted".into();
                    }
                    Err(e) => {
                        out.listener = "kept".into();
                        out.error = Some(format!("the API could not be restarted with the new limits: {e}"));
                        st.running = Some(old);
                    }
                }
                out.bind = Some(config.bind.to_string());
            }
            Some(old) => {
                set_tokens(&mut out);
                // `insecure` and the token entries only matter to validation and the set above.
                st.running = Some(Running { config, ..old });
                out.listener = "unchanged".into();
                out.bind = st.running.as_ref().map(|r| r.config.bind.to_string());
            }
        }
        out
    }

    /// True when the server taking connections has ended on its own (it failed).
    pub fn failed(&self) -> bool {
        lock(&self.state)
            .running
            .as_ref()
            .is_some_and(|r| r.task.is_finished())
    }

    /// Stops every server: no new connections, alert streams end, in-flight requests get up
    /// to `grace` (each server's own grace is [`vigil_http::SHUTDOWN_GRACE`]).
    pub fn shutdown(&self, grace: Duration) {
        let tasks = {
            let mut st = lock(&self.state);
            if let Some(old) = st.running.take() {
                retire(&mut st, old);
            }
            std::mem::take(&mut st.retired)
        };
        if tasks.is_empty() {
            return;
        }
        self.handle.block_on(async {
            let all = async {
                for t in tasks {
                    match t.await {
                        Ok(Err(e)) => tracing::warn!(error = %e, "HTTP API ended with an error"),
                        Err(e) if e.is_panic() => tracing::error!(error = %e, "HTTP API task panicked"),
                        _ => {}
                    }
                }
            };
            if tokio::time::timeout(grace, all).await.is_err() {
                tracing::warn!(grace_s = grace.as_secs(), "HTTP API did not stop in time");
            }
        });
    }
}

/// Tells a server to stop taking connections and finish what it serves; it is awaited only at
/// shutdown.
fn retire(st: &mut State, old: Running) {
    let _ = old.stop.send(());
    st.retired.push(old.task);
}

/// One line for the log and the reload reply; `None` when the API did not change.
pub fn summary(o: &ApiReloadOutcome) -> Option<String> {
    let mut parts = Vec::new();
    match o.listener.as_str() {
        "unchanged" | "off" => {}
        l => parts.push(match &o.bind {
            Some(b) => format!("listener {l} ({b})"),
            None => format!("listener {l}"),
        }),
    }
    for (what, names) in [
        ("added", &o.tokens_added),
        ("removed", &o.tokens_removed),
        ("rotated", &o.tokens_rotated),
    ] {
        if !names.is_empty() {
            parts.push(format!("tokens {what}: {}", names.join(", ")));
        }
    }
    if let Some(e) = &o.error {
        parts.push(format!("error: {e}"));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

#[cfg(test)]
#[path = "api_server_tests.rs"]
mod tests;
