use super::*;
use crate::meta::Severity;

fn meta() -> AlertMeta {
    AlertMeta {
        id: "0190a6f0-0000-7000-8000-000000000001".into(),
        camera: "gate 1/north".into(),
        kind: "plate.hotlist".into(),
        severity: Severity::High,
        time: "2024-05-01T12:00:00Z".into(),
    }
}

fn sink(config: KafkaConfig) -> Result<KafkaSink, ConfigError> {
    KafkaSink::new("bus", "node-a", config)
}

#[test]
fn config_parses_with_defaults_and_rejects_unknown_keys() {
    let c: KafkaConfig = toml::from_str(r#"brokers = "127.0.0.1:9092""#).expect("parse");
    assert_eq!(c, KafkaConfig::with_brokers("127.0.0.1:9092"));
    assert_eq!((c.topic.as_str(), c.timeout_ms), ("vigil.alerts", 10_000));
    assert!(toml::from_str::<KafkaConfig>("brokers = \"a:1\"\ntopik = \"x\"").is_err());
    assert!(
        toml::from_str::<KafkaConfig>("topic = \"x\"").is_err(),
        "brokers is required"
    );
}

#[test]
fn brokers_must_be_host_port_lists() {
    for ok in [
        "127.0.0.1:9092",
        "k1:9092, k2:9093",
        "PLAINTEXT://k1:9092",
        "[::1]:9092",
    ] {
        assert!(sink(KafkaConfig::with_brokers(ok)).is_ok(), "{ok}");
    }
    for bad in [
        "",
        "  ",
        "k1",
        "k1:",
        ":9092",
        "k1:0",
        "k1:99999",
        "k1:9092,,k2:9092",
    ] {
        let err = sink(KafkaConfig::with_brokers(bad)).expect_err(bad);
        assert!(err.to_string().contains("host:port"), "{bad}: {err}");
    }
}

#[test]
fn zero_timeout_is_refused() {
    let mut c = KafkaConfig::with_brokers("k:9092");
    c.timeout_ms = 0;
    assert!(sink(c).expect_err("zero").to_string().contains("timeout_ms"));
}

#[test]
fn topic_template_renders_and_illegal_topics_are_refused() {
    let mut c = KafkaConfig::with_brokers("k:9092");
    c.topic = "vigil.{node}.{kind}.{camera}".into();
    let s = sink(c.clone()).expect("sink");
    let r = s.record(&meta());
    // Camera sanitised (space and slash → _), kind dots kept as levels.
    assert_eq!(r.topic, "vigil.node-a.plate.hotlist.gate_1_north");
    assert_eq!(
        r.key, "gate 1/north",
        "key is the raw camera id (partitioning, not naming)"
    );

    for bad in ["vigil/alerts", "vigil alerts", "{camera}#", ".", ".."] {
        c.topic = bad.into();
        assert!(sink(c.clone()).is_err(), "{bad} must be refused");
    }
    c.topic = format!("{}{{camera}}", "x".repeat(MAX_TOPIC_LEN));
    assert!(sink(c.clone()).expect_err("long").to_string().contains("249"));
    c.topic = "alerts.{unknown}".into();
    assert!(matches!(sink(c), Err(ConfigError::Template { .. })));
}

#[test]
fn headers_carry_the_envelope_in_structured_mode() {
    let s = sink(KafkaConfig::with_brokers("k:9092")).expect("sink");
    let r = s.record(&meta());
    assert_eq!(r.topic, "vigil.alerts");
    assert_eq!(
        r.headers,
        vec![
            ("content-type", CONTENT_TYPE.to_owned()),
            ("ce_id", "0190a6f0-0000-7000-8000-000000000001".to_owned()),
            ("ce_type", "vigil.alert.plate.hotlist".to_owned()),
            ("ce_subject", "gate 1/north".to_owned()),
            ("vigil_severity", "high".to_owned()),
        ]
    );
    assert!(
        r.headers.iter().all(|(k, _)| *k != "ce_specversion"),
        "ce_specversion would mark binary mode"
    );
}

#[test]
fn producer_settings_are_safe_and_sasl_needs_both_halves() {
    let s = sink(KafkaConfig::with_brokers("k1:9092,k2:9092")).expect("sink");
    let cc = s.client_config();
    assert_eq!(cc.get("bootstrap.servers"), Some("k1:9092,k2:9092"));
    assert_eq!(cc.get("acks"), Some("all"));
    assert_eq!(cc.get("enable.idempotence"), Some("true"));
    assert_eq!(cc.get("message.timeout.ms"), Some("10000"));
    assert_eq!(cc.get("client.id"), Some("vigil-node-a-bus"));
    assert_eq!(cc.get("security.protocol"), None);

    let dir = tempfile::tempdir().expect("tmp");
    let pw = dir.path().join("kafka-pw");
    std::fs::write(&pw, "k4fka-s3cret\n").expect("write");
    let mut c = KafkaConfig::with_brokers("k:9092");
    c.username = Some("vigil".into());
    c.password_file = Some(pw.clone());
    let s = sink(c.clone()).expect("sink");
    let cc = s.client_config();
    assert_eq!(cc.get("security.protocol"), Some("SASL_PLAINTEXT"));
    assert_eq!(cc.get("sasl.mechanisms"), Some("PLAIN"));
    assert_eq!(cc.get("sasl.username"), Some("vigil"));
    assert_eq!(cc.get("sasl.password"), Some("k4fka-s3cret"));
    assert!(
        !format!("{s:?}").contains("k4fka-s3cret"),
        "Debug shows the password"
    );

    let mut user_only = c.clone();
    user_only.password_file = None;
    assert!(
        sink(user_only)
            .expect_err("user only")
            .to_string()
            .contains("password")
    );
    let mut pw_only = c;
    pw_only.username = None;
    assert!(
        sink(pw_only)
            .expect_err("password only")
            .to_string()
            .contains("username")
    );
}
