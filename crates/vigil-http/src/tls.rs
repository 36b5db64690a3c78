//! HTTPS for the API (`[api] tls_cert` / `tls_key`): the rustls server configuration loaded from
//! PEM files, and the listener that turns accepted connections into TLS streams.
//!
//! With TLS configured the port speaks HTTPS only: a plain HTTP request fails the handshake and
//! the connection is closed, so no token ever crosses the network in clear text by mistake.
//!
//! Handshakes run in their own tasks, each bounded by [`HANDSHAKE_TIMEOUT`], and finished
//! connections are handed to the server through a channel. Doing them inside `accept` would let
//! one client that opens a connection and sends nothing stall every other client for the
//! timeout. A connection counts against `max_connections` from the TCP accept on (it holds its
//! [`LimitedListener`] slot through the handshake), so handshakes in flight are bounded too; a
//! connection still in its handshake is idle (no request yet), so `api.header_timeout_s` covers
//! the handshake, and a new connection may take its slot when all are taken.
//!
//! rustls with the ring provider, chosen explicitly: the NATS client already links both, and
//! naming the provider keeps rustls from having to guess a process-wide default.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::activity::Peer;
use crate::config::ConfigError;
use crate::listener::{LimitedListener, LimitedStream};

/// Longest a TLS handshake may take before the connection is dropped.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Finished handshakes waiting for the server to take them. The server's accept loop takes
/// them as fast as they come; when it does not, a full channel makes the handshake tasks wait
/// (each still holding its connection slot), so nothing piles up unbounded.
const READY_QUEUE: usize = 32;

/// The API's TLS settings, loaded and checked: certificate chain and private key.
#[derive(Clone)]
pub struct ServerTls {
    config: Arc<ServerConfig>,
    /// For the start-up log and `Debug`.
    cert_file: PathBuf,
}

impl fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerTls")
            .field("cert_file", &self.cert_file)
            .finish_non_exhaustive()
    }
}

impl ServerTls {
    /// Loads `cert_file` (PEM: the server certificate first, then any intermediates) and
    /// `key_file` (PEM: PKCS#8, PKCS#1 or SEC1 private key) and checks that they belong
    /// together. A key file readable by group or others is used with a warning, returned in
    /// `warnings` and logged.
    pub fn load(cert_file: &Path, key_file: &Path, warnings: &mut Vec<String>) -> Result<Self, ConfigError> {
        let file_error = |key: &'static str, path: &Path, detail: String| ConfigError::TlsFile {
            key,
            path: path.to_path_buf(),
            detail,
        };
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert_file)
            .map_err(|e| file_error("tls_cert", cert_file, pem_error(&e)))?
            .collect::<Result<_, _>>()
            .map_err(|e| file_error("tls_cert", cert_file, pem_error(&e)))?;
        if chain.is_empty() {
            return Err(file_error(
                "tls_cert",
                cert_file,
                "holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into(),
            ));
        }
        if let Some(w) = vigil_core::secret_file::warn_if_exposed("api.tls_key", key_file) {
            warnings.push(w);
        }
        let key = PrivateKeyDer::from_pem_file(key_file).map_err(|e| {
            let detail = match e {
                rustls::pki_types::pem::Error::NoItemsFound => {
                    "holds no PEM private key (-----BEGIN PRIVATE KEY----- or similar)".into()
                }
                other => pem_error(&other),
            };
            file_error("tls_key", key_file, detail)
        })?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .and_then(|b| b.with_no_client_auth().with_single_cert(chain, key))
            .map_err(|e| ConfigError::TlsPair {
                cert: cert_file.to_path_buf(),
                key: key_file.to_path_buf(),
                detail: e.to_string(),
            })?;
        // The router speaks HTTP/1.1 only (axum's `http1` feature).
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            config: Arc::new(config),
            cert_file: cert_file.to_path_buf(),
        })
    }
}

fn pem_error(e: &rustls::pki_types::pem::Error) -> String {
    match e {
        rustls::pki_types::pem::Error::Io(io) => format!("cannot read: {io}"),
        other => format!("not a usable PEM file: {other}"),
    }
}

/// A listener yielding TLS streams: see the module docs.
pub(crate) struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<LimitedStream>, SocketAddr)>,
    local: Option<SocketAddr>,
    /// Accepts TCP connections and spawns their handshakes; aborted when the server drops us.
    acceptor: JoinHandle<()>,
}

impl TlsListener {
    /// Must be called inside a tokio runtime (it spawns the accept task).
    pub(crate) fn new(inner: LimitedListener, tls: &ServerTls) -> Self {
        let local = inner.local_addr().ok();
        let (tx, ready) = mpsc::channel(READY_QUEUE);
        let inner = inner.without_plain_replies();
        let acceptor = tokio::spawn(accept_loop(inner, TlsAcceptor::from(tls.config.clone()), tx));
        Self {
            ready,
            local,
            acceptor,
        }
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.acceptor.abort();
    }
}

async fn accept_loop(
    mut inner: LimitedListener,
    acceptor: TlsAcceptor,
    ready: mpsc::Sender<(TlsStream<LimitedStream>, SocketAddr)>,
) {
    while !ready.is_closed() {
        let (stream, peer) = inner.accept().await;
        let (acceptor, ready) = (acceptor.clone(), ready.clone());
        tokio::spawn(async move {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                // A closed channel means the server is gone; the connection is just dropped.
                Ok(Ok(tls)) => {
                    let _ = ready.send((tls, peer)).await;
                }
                // Port scanners, plain-HTTP clients and clients that distrust the certificate
                // end up here; debug level keeps them out of an operator's log.
                Ok(Err(e)) => tracing::debug!(%peer, error = %e, "HTTP API TLS handshake failed"),
                Err(_) => tracing::debug!(%peer, "HTTP API TLS handshake timed out"),
            }
        });
    }
}

impl Listener for TlsListener {
    type Io = TlsStream<LimitedStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(conn) => conn,
            // Only if the accept task died (it never returns while we hold the receiver):
            // stop accepting rather than spin.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.local
            .ok_or_else(|| io::Error::other("the HTTP API listener's address is unknown"))
    }
}

impl Connected<IncomingStream<'_, TlsListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, TlsListener>) -> Self {
        Self {
            addr: *stream.remote_addr(),
            activity: stream.io().get_ref().0.activity().clone(),
        }
    }
}
