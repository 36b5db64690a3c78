//! TLS for the broker sinks (NATS, MQTT): one rustls client configuration per sink, built with
//! the sink, so a missing or unreadable `ca_file` is a config error naming the sink (`vigil
//! check` reports it) rather than a failure at the first alert.
//!
//! Trust: with `ca_file`, only the CA certificates in that PEM file. Brokers on a site network
//! usually carry certificates from a private CA, and trusting the public CAs as well would let
//! anyone holding a public certificate for the broker's name stand in for it. Without
//! `ca_file`, the system's CA certificates.
//!
//! The crypto provider (ring) is chosen here explicitly instead of left to rustls' process-wide
//! default: when a build links two providers rustls refuses to pick one, and that refusal is a
//! panic at connect time, not an error.
//!
//! Handshake failures are explained by [`ClientTls::explain`]: it finds the rustls error in the
//! client library's error chain and says what it means (unknown CA, wrong host name, expired)
//! and what the sink trusts, so the log line points at the fix.

use std::error::Error as StdError;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::{CertificateError, ClientConfig, RootCertStore};

use crate::error::ConfigError;

/// A sink's TLS client settings: the rustls configuration and what it trusts.
#[derive(Clone)]
pub struct ClientTls {
    config: Arc<ClientConfig>,
    /// What the sink trusts, for error messages: `ca_file /etc/vigil/ca.pem` or the system's
    /// CA certificates.
    trust: String,
}

impl fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientTls").field("trust", &self.trust).finish()
    }
}

impl ClientTls {
    /// Trusts the CA certificates in `ca_file` (PEM), or the system's when `None`.
    pub fn new(sink: &str, ca_file: Option<&Path>) -> Result<Self, ConfigError> {
        let (roots, trust) = match ca_file {
            Some(path) => (
                load_ca_file(sink, path)?,
                format!("only ca_file {}", path.display()),
            ),
            None => (system_roots(sink), "the system's CA certificates".to_owned()),
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| ConfigError::Invalid {
                sink: sink.into(),
                message: format!("TLS set-up: {e}"),
            })?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self {
            config: Arc::new(config),
            trust,
        })
    }

    /// The rustls configuration to hand to the client library.
    pub fn config(&self) -> Arc<ClientConfig> {
        self.config.clone()
    }

    /// `err` as text; when its cause is a TLS failure, followed by what that means and what to
    /// check, e.g. `…: invalid peer certificate: UnknownIssuer; TLS handshake failed: the
    /// broker's certificate is not signed by a CA this sink trusts (only ca_file
    /// /etc/vigil/ca.pem); set ca_file to the CA certificate that signed it`.
    pub fn explain(&self, err: &(dyn StdError + 'static)) -> String {
        match tls_problem(err, &self.trust) {
            Some(problem) => format!("{err}; TLS handshake failed: {problem}"),
            None => err.to_string(),
        }
    }
}

/// The PEM text of `ca_file`, checked as [`ClientTls::new`] checks it (readable, at least one
/// usable CA certificate), for client libraries that take PEM text (lapin, AMQP).
pub(crate) fn read_ca_pem(sink: &str, path: &Path) -> Result<String, ConfigError> {
    load_ca_file(sink, path)?;
    std::fs::read_to_string(path).map_err(|e| ConfigError::CaFile {
        sink: sink.into(),
        path: PathBuf::from(path),
        detail: format!("cannot read: {e}"),
    })
}

/// Reads every certificate in `path` into a root store; at least one is required.
fn load_ca_file(sink: &str, path: &Path) -> Result<RootCertStore, ConfigError> {
    let ca_error = |detail: String| ConfigError::CaFile {
        sink: sink.into(),
        path: PathBuf::from(path),
        detail,
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .map_err(|e| ca_error(pem_error(&e)))?
        .collect::<Result<_, _>>()
        .map_err(|e| ca_error(pem_error(&e)))?;
    if certs.is_empty() {
        return Err(ca_error(
            "holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into(),
        ));
    }
    let mut roots = RootCertStore::empty();
    for (i, cert) in certs.into_iter().enumerate() {
        roots
            .add(cert)
            .map_err(|e| ca_error(format!("certificate {} is not usable as a CA: {e}", i + 1)))?;
    }
    Ok(roots)
}

fn pem_error(e: &rustls::pki_types::pem::Error) -> String {
    match e {
        rustls::pki_types::pem::Error::Io(io) => format!("cannot read: {io}"),
        other => format!("not a PEM file: {other}"),
    }
}

/// The system's CA certificates. Unreadable ones are skipped: a sink that does not use TLS, or
/// a broker whose CA is still among the readable ones, must not fail for them; when none is
/// left, the handshake fails with "unknown issuer", which [`ClientTls::explain`] spells out.
fn system_roots(sink: &str) -> RootCertStore {
    let found = rustls_native_certs::load_native_certs();
    for e in &found.errors {
        tracing::debug!(sink, error = %e, "skipping unreadable system CA certificates");
    }
    let mut roots = RootCertStore::empty();
    let (added, ignored) = roots.add_parsable_certificates(found.certs);
    if ignored > 0 {
        tracing::debug!(sink, added, ignored, "some system CA certificates are not usable");
    }
    roots
}

/// What went wrong in a TLS handshake, in words, when `err` or one of its causes is a rustls
/// error (directly, or inside an `io::Error` as the async clients wrap it). `trust` says what
/// the sink trusts.
pub(crate) fn tls_problem(err: &(dyn StdError + 'static), trust: &str) -> Option<String> {
    let mut cause: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cause {
        if let Some(r) = e.downcast_ref::<rustls::Error>() {
            return Some(describe(r, trust));
        }
        if let Some(r) = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            return Some(describe(r, trust));
        }
        cause = e.source();
    }
    None
}

fn describe(e: &rustls::Error, trust: &str) -> String {
    use rustls::Error as E;
    match e {
        E::InvalidCertificate(CertificateError::UnknownIssuer) => format!(
            "the broker's certificate is not signed by a CA this sink trusts ({trust}); set ca_file to \
             the CA certificate that signed it"
        ),
        E::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        ) => "the broker's certificate does not name the host this sink connects to; use a host name \
              (or IP address) listed in the certificate"
            .into(),
        E::InvalidCertificate(
            CertificateError::Expired
            | CertificateError::ExpiredContext { .. }
            | CertificateError::NotValidYet
            | CertificateError::NotValidYetContext { .. },
        ) => "the broker's certificate is expired or not yet valid (check its dates and this machine's \
              clock)"
            .into(),
        E::InvalidCertificate(other) => {
            format!("the broker's certificate was refused ({other:?}); trusted: {trust}")
        }
        E::AlertReceived(alert) => {
            format!("the broker ended the handshake ({alert:?}); check its TLS settings and logs")
        }
        other => format!("handshake failed ({other})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_or_empty_ca_file_is_a_config_error_naming_sink_and_file() {
        let dir = tempfile::tempdir().expect("tmp");
        let missing = dir.path().join("nope.pem");
        let err = ClientTls::new("bus", Some(&missing)).expect_err("missing");
        let text = err.to_string();
        assert!(
            text.contains("\"bus\"") && text.contains("nope.pem") && text.contains("cannot read"),
            "{text}"
        );

        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").expect("write");
        let text = ClientTls::new("plc", Some(&empty))
            .expect_err("empty")
            .to_string();
        assert!(
            text.contains("\"plc\"") && text.contains("no PEM certificate"),
            "{text}"
        );
    }

    #[test]
    fn unknown_issuer_deep_in_an_io_error_is_explained() {
        let tls = ClientTls::new("bus", None).expect("system roots");
        let rustls_err = rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, rustls_err);
        #[derive(Debug, thiserror::Error)]
        #[error("IO error: {0}")]
        struct Wrapper(#[source] std::io::Error);
        let text = tls.explain(&Wrapper(io));
        assert!(text.contains("not signed by a CA this sink trusts"), "{text}");
        assert!(
            text.contains("the system's CA certificates") && text.contains("set ca_file"),
            "{text}"
        );

        let plain = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert_eq!(tls.explain(&plain), "refused", "non-TLS errors are left alone");
    }
}
