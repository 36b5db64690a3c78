//! Throwaway PKI for the TLS tests: a CA and a server certificate for `localhost` and
//! `127.0.0.1` signed by it, written as PEM files into a directory the test owns. Every call
//! makes new keys, so a second [`TestPki`] is a CA the first one's clients do not trust.

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

/// The files of one generated PKI.
#[derive(Debug, Clone)]
pub struct TestPki {
    /// The CA certificate (PEM): what a client trusts.
    pub ca_file: PathBuf,
    /// The server certificate (PEM), valid for `localhost` and `127.0.0.1`.
    pub cert_file: PathBuf,
    /// The server's private key (PEM, PKCS#8), mode 0600.
    pub key_file: PathBuf,
    /// The CA certificate's PEM text.
    pub ca_pem: String,
}

impl TestPki {
    /// Generates a CA named `Vigil test CA <label>` and a server certificate signed by it, and
    /// writes `<label>-ca.pem`, `<label>-server.pem` and `<label>-server.key` into `dir`.
    pub fn generate(dir: &Path, label: &str) -> Self {
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, format!("Vigil test CA {label}"));
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca.self_signed(&ca_key).expect("self-sign CA");
        let issuer = Issuer::new(ca, ca_key);

        let server_key = KeyPair::generate().expect("server key");
        let mut server = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .expect("server params");
        server
            .distinguished_name
            .push(DnType::CommonName, format!("vigil test server {label}"));
        let server_cert = server
            .signed_by(&server_key, &issuer)
            .expect("sign server certificate");

        let pki = Self {
            ca_file: dir.join(format!("{label}-ca.pem")),
            cert_file: dir.join(format!("{label}-server.pem")),
            key_file: dir.join(format!("{label}-server.key")),
            ca_pem: ca_cert.pem(),
        };
        write(&pki.ca_file, &pki.ca_pem);
        write(&pki.cert_file, &server_cert.pem());
        write(&pki.key_file, &server_key.serialize_pem());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&pki.key_file, std::fs::Permissions::from_mode(0o600))
                .unwrap_or_else(|e| panic!("chmod {}: {e}", pki.key_file.display()));
        }
        pki
    }
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}
