//! Unit tests of the outbox bookkeeping (routing, acks, counters, reopen).

use super::*;
use crate::meta::Severity;
use crate::route::RouteConfig;

fn meta(camera: &str, severity: Severity) -> AlertMeta {
    AlertMeta::for_test(camera, "zone.intrusion", severity)
}

fn two_sinks() -> OutboxConfig {
    OutboxConfig::default()
        .with_sink("all", RouteConfig::default())
        .with_sink(
            "urgent",
            RouteConfig {
                min_severity: Some(Severity::High),
                ..Default::default()
            },
        )
}

#[test]
fn entry_leaves_only_after_every_routed_sink_acked() {
    let dir = tempfile::tempdir().expect("tmp");
    let ob = Outbox::open(dir.path().join("o.redb"), two_sinks()).expect("open");
    let low = ob
        .enqueue_json(meta("c1", Severity::Low), serde_json::json!({}))
        .expect("enq")
        .expect("routed");
    let high = ob
        .enqueue_json(meta("c1", Severity::High), serde_json::json!({}))
        .expect("enq")
        .expect("routed");
    assert!(high > low);
    assert_eq!(
        (ob.len(), ob.pending_for("all"), ob.pending_for("urgent")),
        (2, 2, 1)
    );

    // "urgent" skips the low alert entirely.
    assert_eq!(ob.next_for("urgent", 0).expect("next").map(|e| e.seq), Some(high));
    ob.ack("urgent", high).expect("ack");
    assert_eq!(ob.len(), 2, "still pending for `all`");
    ob.ack("all", low).expect("ack");
    assert_eq!(ob.len(), 1, "low needed only `all`");
    ob.ack("all", high).expect("ack");
    assert!(ob.is_empty());
    assert_eq!(ob.bytes(), 0);
    assert_eq!(
        (ob.cursor("all").expect("c"), ob.cursor("urgent").expect("c")),
        (high, high)
    );
    // Acking twice is harmless.
    ob.ack("all", high).expect("re-ack");
}

#[test]
fn unrouted_alerts_are_counted_not_stored() {
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = OutboxConfig::default().with_sink(
        "urgent",
        RouteConfig {
            min_severity: Some(Severity::High),
            ..Default::default()
        },
    );
    let ob = Outbox::open(dir.path().join("o.redb"), cfg).expect("open");
    assert_eq!(
        ob.enqueue_json(meta("c1", Severity::Low), serde_json::json!({}))
            .expect("enq"),
        None
    );
    assert_eq!((ob.len(), ob.unrouted()), (0, 1));
}

#[test]
fn reopen_restores_counters_and_never_reuses_seqs() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("o.redb");
    let first = {
        let ob = Outbox::open(&path, two_sinks()).expect("open");
        let s = ob
            .enqueue_json(meta("c1", Severity::Critical), serde_json::json!({"a": 1}))
            .expect("enq");
        let s = s.expect("routed");
        ob.ack("all", s).expect("ack");
        ob.ack("urgent", s).expect("ack");
        ob.enqueue_json(meta("c2", Severity::Low), serde_json::json!({"a": 2}))
            .expect("enq")
            .expect("routed")
    };
    let ob = Outbox::open(&path, two_sinks()).expect("reopen");
    assert_eq!(
        (ob.len(), ob.pending_for("all"), ob.pending_for("urgent")),
        (1, 1, 0)
    );
    let ev = ob
        .next_for("all", ob.cursor("all").expect("cursor"))
        .expect("next")
        .expect("pending");
    assert_eq!(ev.seq, first);
    let body: serde_json::Value = serde_json::from_slice(&ev.body).expect("json");
    assert_eq!(body["data"]["a"], 2);
    ob.ack("all", first).expect("ack");
    let again = ob
        .enqueue_json(meta("c3", Severity::Low), serde_json::json!({}))
        .expect("enq")
        .expect("routed");
    assert!(again > first, "seq {again} reused after the outbox emptied");
}

#[test]
fn entries_for_an_unconfigured_sink_are_kept_until_forgotten() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("o.redb");
    {
        let ob = Outbox::open(&path, two_sinks()).expect("open");
        ob.enqueue_json(meta("c1", Severity::Low), serde_json::json!({}))
            .expect("enq");
    }
    let only_urgent = OutboxConfig::default().with_sink(
        "urgent",
        RouteConfig {
            min_severity: Some(Severity::High),
            ..Default::default()
        },
    );
    let ob = Outbox::open(&path, only_urgent).expect("reopen");
    assert_eq!(ob.len(), 1, "not dropped because `all` left the config");
    assert_eq!(ob.forget_sink("all").expect("forget"), 1);
    assert!(ob.is_empty());
}
