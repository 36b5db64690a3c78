//! Secret files (sink passwords, webhook HMAC keys) readable by group or others are used with
//! a logged warning that names the sink, the file and the fix; the secret never appears in the
//! log, the errors or the sinks' `Debug` output.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use vigil_alert::sink::amqp::{AmqpConfig, AmqpSink};
use vigil_alert::sink::nats::{NatsConfig, NatsSink};
use vigil_alert::sink::webhook::{WebhookConfig, WebhookSink};

const PASSWORD: &str = "nats-password-3f9a1c";
const HMAC_KEY: &str = "webhook-hmac-key-77b2e0";
const PRIVATE: &str = "amqp-password-private-51d4";

fn secret_file(dir: &Path, name: &str, value: &str, mode: u32) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("{value}\n")).expect("write");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    path
}

#[test]
fn shared_secret_files_warn_without_ever_showing_the_secret() {
    let dir = tempfile::tempdir().expect("tmp");
    let password = secret_file(dir.path(), "nats-password", PASSWORD, 0o644);
    let key = secret_file(dir.path(), "hmac-key", HMAC_KEY, 0o640);
    let private = secret_file(dir.path(), "amqp-password", PRIVATE, 0o600);

    let (shown, log) = vigil_testkit::logs::logged(tracing::Level::TRACE, || {
        let mut nats = NatsConfig::with_url("nats://127.0.0.1:4222");
        nats.username = Some("vigil".into());
        nats.password_file = Some(password.clone());
        let nats = NatsSink::new("bus", "n", nats).expect("a shared file is used, with a warning");

        let mut hook = WebhookConfig::with_url("http://127.0.0.1:9/hook");
        hook.secret_file = Some(key.clone());
        let hook = WebhookSink::new("hook", hook).expect("a shared file is used, with a warning");

        let mut amqp = AmqpConfig::with_exchange("amqp://127.0.0.1:5672/%2f", "vigil.alerts");
        amqp.password_file = Some(private.clone());
        let amqp = AmqpSink::new("rabbit", "n", amqp).expect("private file");

        // A missing file is an error that names it, not its (absent) contents.
        let mut missing = NatsConfig::with_url("nats://127.0.0.1:4222");
        missing.username = Some("vigil".into());
        missing.password_file = Some(dir.path().join("nope"));
        let err = NatsSink::new("bus2", "n", missing).expect_err("missing file");
        format!("{nats:?} {hook:?} {amqp:?} {err} {err:?}")
    });

    let expected = [
        format!("sink \"bus\": password_file {} has mode 644", password.display()),
        format!("sink \"hook\": secret_file {} has mode 640", key.display()),
    ];
    for line in &expected {
        assert!(log.contains(line), "missing warning {line:?} in log:\n{log}");
    }
    assert_eq!(
        log.matches("chmod 600").count(),
        2,
        "one warning per shared file:\n{log}"
    );
    assert!(log.contains("WARN"), "{log}");
    assert!(
        !log.contains(&private.display().to_string()),
        "a private file is not warned about:\n{log}"
    );
    for secret in [PASSWORD, HMAC_KEY, PRIVATE] {
        assert!(!log.contains(secret), "secret in the log:\n{log}");
        assert!(!shown.contains(secret), "secret in Debug/error output: {shown}");
    }
}
