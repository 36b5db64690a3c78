//! HTTPS for the API (`[api] tls_cert` / `tls_key`) with a throwaway CA and server certificate
//! (`vigil_testkit::tls`): HTTPS with the CA works (health, auth), plain HTTP and clients that
//! do not trust the CA fail, a client stalling its handshake does not hold up others, bad TLS
//! settings are errors naming the file, and shared secret files (token, TLS key) are warned
//! about in the log without the secret ever appearing there.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use vigil_http::{ApiConfig, ApiSettings, ConfigError, TokenConfig};
use vigil_testkit::tls::TestPki;

/// An HTTPS client that trusts exactly `ca_pem`.
fn https_agent(ca_pem: &str) -> ureq::Agent {
    let ca = ureq::tls::Certificate::from_pem(ca_pem.as_bytes())
        .expect("CA PEM")
        .to_owned();
    let tls = ureq::tls::TlsConfig::builder()
        .provider(ureq::tls::TlsProvider::Rustls)
        .root_certs(ureq::tls::RootCerts::Specific(Arc::new(vec![ca])))
        .build();
    ureq::Agent::config_builder()
        .tls_config(tls)
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

/// GET `url` with an optional bearer token: the status, or the transport error as text.
fn status(agent: &ureq::Agent, url: &str, token: Option<&str>) -> Result<u16, String> {
    let mut req = agent.get(url);
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    req.call().map(|r| r.status().as_u16()).map_err(|e| e.to_string())
}

/// Settings with HTTPS from `pki`, loaded the way the daemon loads them, and the test tokens.
fn https_settings(pki: &TestPki) -> ApiSettings {
    let cfg = ApiConfig {
        tls_cert: Some(pki.cert_file.clone()),
        tls_key: Some(pki.key_file.clone()),
        ..ApiConfig::default()
    };
    let mut settings = cfg.resolve().expect("TLS settings load");
    assert!(settings.warnings.is_empty(), "{:?}", settings.warnings);
    settings.tokens = tokens();
    settings
}

#[test]
fn https_with_the_ca_works_and_plain_http_or_another_ca_does_not() {
    let dir = tempfile::tempdir().expect("tmp");
    let pki = TestPki::generate(dir.path(), "api");
    let stranger = TestPki::generate(dir.path(), "stranger");
    let mut s = Server::start(https_settings(&pki), TestBackend::new());
    let https = s.base.replace("http://", "https://");
    let addr = s.base.trim_start_matches("http://").to_string();
    let trusted = https_agent(&pki.ca_pem);

    assert_eq!(status(&trusted, &format!("{https}/healthz"), None), Ok(200));
    assert_eq!(
        status(&trusted, &format!("{https}/api/v1/cameras"), None),
        Ok(401)
    );
    assert_eq!(
        status(&trusted, &format!("{https}/api/v1/cameras"), Some(OPS_SECRET)),
        Ok(200)
    );

    // Plain HTTP on the HTTPS port: the handshake fails and no HTTP answer ever comes back.
    let plain = status(&agent(), &format!("http://{addr}/healthz"), None);
    assert!(plain.is_err(), "plain HTTP must not be served: {plain:?}");
    let mut raw = TcpStream::connect(&addr).expect("connect");
    raw.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    raw.write_all(b"GET /healthz HTTP/1.1\r\nHost: vigil\r\n\r\n")
        .expect("write");
    let mut answer = Vec::new();
    let _ = raw.read_to_end(&mut answer);
    assert!(
        !answer.starts_with(b"HTTP/"),
        "an HTTP answer came back over plain TCP: {:?}",
        String::from_utf8_lossy(&answer)
    );

    // A client that trusts another CA refuses the server.
    let refused = status(&https_agent(&stranger.ca_pem), &format!("{https}/healthz"), None);
    let err = refused.expect_err("an untrusted certificate must be refused");
    assert!(
        err.to_lowercase().contains("certificate") || err.to_lowercase().contains("issuer"),
        "{err}"
    );

    // The failures cost the server nothing.
    assert_eq!(status(&trusted, &format!("{https}/healthz"), None), Ok(200));
    s.shutdown(Duration::from_secs(10)).expect("clean shutdown");
}

#[test]
fn a_client_stalling_its_handshake_does_not_hold_up_others() {
    let dir = tempfile::tempdir().expect("tmp");
    let pki = TestPki::generate(dir.path(), "api");
    let s = Server::start(https_settings(&pki), TestBackend::new());
    let addr = s.base.trim_start_matches("http://").to_string();
    // Connected, silent: its handshake waits (up to the handshake timeout) in its own task.
    let _stalled: Vec<TcpStream> = (0..3)
        .map(|_| TcpStream::connect(&addr).expect("connect"))
        .collect();
    std::thread::sleep(Duration::from_millis(100));
    let started = Instant::now();
    let trusted = https_agent(&pki.ca_pem);
    let https = s.base.replace("http://", "https://");
    assert_eq!(status(&trusted, &format!("{https}/healthz"), None), Ok(200));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "a stalled handshake delayed another client by {:?}",
        started.elapsed()
    );
}

#[test]
fn bad_tls_settings_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().expect("tmp");
    let pki = TestPki::generate(dir.path(), "api");
    let stranger = TestPki::generate(dir.path(), "stranger");
    let with = |cert: Option<&Path>, key: Option<&Path>| ApiConfig {
        tls_cert: cert.map(Path::to_path_buf),
        tls_key: key.map(Path::to_path_buf),
        ..ApiConfig::default()
    };

    let half = with(Some(&pki.cert_file), None).validate().expect_err("half");
    assert!(
        matches!(half, ConfigError::TlsHalf { missing: "tls_key" }),
        "{half}"
    );
    assert!(half.to_string().contains("api.tls_key"), "{half}");

    let missing = dir.path().join("missing.pem");
    let err = with(Some(&missing), Some(&pki.key_file))
        .resolve()
        .expect_err("missing cert");
    assert!(
        matches!(err, ConfigError::TlsFile { key: "tls_cert", .. }),
        "{err}"
    );
    assert!(err.to_string().contains("missing.pem"), "{err}");

    // The key where the certificate should be: no certificate in it.
    let err = with(Some(&pki.key_file), Some(&pki.key_file))
        .resolve()
        .expect_err("no cert");
    assert!(err.to_string().contains("no PEM certificate"), "{err}");

    // Another certificate's key: the pair is refused, naming both files.
    let err = with(Some(&pki.cert_file), Some(&stranger.key_file))
        .resolve()
        .expect_err("mismatched pair");
    assert!(matches!(err, ConfigError::TlsPair { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("api-server.pem") && text.contains("stranger-server.key"),
        "{text}"
    );
    let key_pem = std::fs::read_to_string(&stranger.key_file).expect("key");
    let key_body = key_pem.lines().nth(1).expect("a base64 line");
    assert!(
        !format!("{err} {err:?}").contains(key_body),
        "key material in an error"
    );

    // TLS does not replace tokens: off loopback without one is still refused.
    let open = ApiConfig {
        bind: "0.0.0.0:8443".parse().expect("addr"),
        ..with(Some(&pki.cert_file), Some(&pki.key_file))
    };
    assert!(matches!(open.resolve(), Err(ConfigError::OpenNonLoopback { .. })));
}

#[test]
fn shared_token_and_key_files_are_warned_about_without_showing_them() {
    const TOKEN: &str = "token-secret-9c41d07e2b55";
    let dir = tempfile::tempdir().expect("tmp");
    let pki = TestPki::generate(dir.path(), "api");
    let token_file = dir.path().join("ops.token");
    std::fs::write(&token_file, format!("{TOKEN}\n")).expect("write");
    for path in [&token_file, &pki.key_file] {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    }
    let cfg = ApiConfig {
        tokens: vec![TokenConfig {
            name: "ops".into(),
            secret_env: None,
            secret_file: Some(token_file.clone()),
        }],
        tls_cert: Some(pki.cert_file.clone()),
        tls_key: Some(pki.key_file.clone()),
        ..ApiConfig::default()
    };

    let capture = Capture::default();
    let settings =
        tracing::subscriber::with_default(capture.subscriber(tracing::Level::TRACE), || cfg.resolve())
            .expect("accepted with warnings");
    let log = capture.text();

    for expected in [
        format!(
            "api token \"ops\": secret_file {} has mode 644",
            token_file.display()
        ),
        format!("api.tls_key {} has mode 644", pki.key_file.display()),
    ] {
        assert!(log.contains(&expected), "missing {expected:?} in log:\n{log}");
        assert!(
            settings.warnings.iter().any(|w| w.contains(&expected)),
            "{:?}",
            settings.warnings
        );
    }
    assert_eq!(log.matches("chmod 600").count(), 2, "{log}");
    let key_pem = std::fs::read_to_string(&pki.key_file).expect("key");
    let shown = format!("{log} {settings:?}");
    assert!(!shown.contains(TOKEN), "token secret shown:\n{shown}");
    for line in key_pem.lines().filter(|l| !l.starts_with("-----")) {
        assert!(!shown.contains(line), "key material shown:\n{shown}");
    }
}
