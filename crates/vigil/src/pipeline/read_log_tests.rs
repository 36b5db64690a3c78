//! Hashing, key loading, storage bytes and retention of the plate read log. Time is driven
//! through the `now`/`at` arguments, never by sleeping.

use super::*;
use sha2::Digest as _;
use std::os::unix::fs::PermissionsExt;
use vigil_core::plate::PlateRead;

const KEY: &[u8] = b"0123456789abcdef0123456789abcdef-test-key";

fn key() -> ReadLogKey {
    ReadLogKey::new(KEY.to_vec()).expect("key long enough")
}

fn read(text: &str) -> PlateRead {
    PlateRead {
        text: text.into(),
        confidence: 0.91,
        char_confidences: vec![0.91; text.chars().count()],
        format: "cn-ordinary".into(),
        box_px: None,
        colour: Some("blue".into()),
    }
}

fn ts(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

/// HMAC-SHA256 written out from its definition (RFC 2104) on plain SHA-256, so the module's
/// use of the hmac crate is checked against something that does not use it.
fn hmac_by_definition(key: &[u8], msg: &[u8]) -> String {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&sha2::Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let ipad: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
    let opad: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
    let inner = sha2::Sha256::digest([ipad.as_slice(), msg].concat());
    hex::encode(sha2::Sha256::digest([opad.as_slice(), inner.as_slice()].concat()))
}

/// Every byte of every file under `dir`.
fn all_bytes(dir: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("read dir") {
        let p = e.expect("entry").path();
        if p.is_file() {
            out.extend(std::fs::read(&p).expect("read file"));
        }
    }
    out
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn hash_is_hmac_sha256_of_the_normalised_text() {
    let k = key();
    let expected = hmac_by_definition(KEY, "京A12345".as_bytes());
    assert_eq!(k.hash_hex("京A12345"), expected);
    // Every spelling the pipeline normalises to the same plate hashes the same.
    assert_eq!(k.hash_hex("京a·12345"), expected);
    assert_eq!(k.hash_hex("京Ａ１２３４５"), expected);
    assert_ne!(k.hash_hex("京A12346"), expected);
    // Another key, another hash: the log is useless without its key.
    let other = ReadLogKey::new(b"another-key-of-at-least-32-bytes-long".to_vec()).expect("key");
    assert_ne!(other.hash_hex("京A12345"), expected);
    assert_eq!(format!("{k:?}"), "ReadLogKey(***)");
}

#[test]
fn key_problems_name_the_source_and_the_fix_never_the_value() {
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = |file: Option<PathBuf>, env: Option<&str>| ReadLogConfig {
        enabled: true,
        key_file: file,
        key_env: env.map(str::to_string),
        retention_days: 7,
    };
    let missing = dir.path().join("absent.key");
    let e = ReadLogKey::load(&cfg(Some(missing.clone()), None)).expect_err("missing file");
    assert!(
        e.contains(&missing.display().to_string()) && e.contains("does not exist"),
        "{e}"
    );
    assert!(e.contains("fix:") && e.contains("chmod 600"), "{e}");

    let short = dir.path().join("short.key");
    std::fs::write(&short, "tiny-secret-value\n").expect("write");
    let e = ReadLogKey::load(&cfg(Some(short), None)).expect_err("short key");
    assert!(e.contains("17 bytes") && e.contains("at least 32"), "{e}");
    assert!(!e.contains("tiny-secret-value"), "{e}");

    let good = dir.path().join("good.key");
    std::fs::write(&good, [KEY, b"\n"].concat()).expect("write");
    let k = ReadLogKey::load(&cfg(Some(good.clone()), None)).expect("good key");
    // The trailing newline is not part of the key.
    assert_eq!(k.hash_hex("京A12345"), key().hash_hex("京A12345"));

    let e = ReadLogKey::load(&cfg(None, Some("VIGIL_SURELY_UNSET_READ_LOG_KEY_42"))).expect_err("unset env");
    assert!(e.contains("VIGIL_SURELY_UNSET_READ_LOG_KEY_42 is not set"), "{e}");
    let e = ReadLogKey::load(&cfg(Some(good.clone()), Some("X"))).expect_err("two sources");
    assert!(e.contains("not both"), "{e}");
    let e = ReadLogKey::load(&cfg(None, None)).expect_err("no source");
    assert!(e.contains("key_file or key_env"), "{e}");

    std::fs::set_permissions(&good, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let w = permission_warning(&cfg(Some(good.clone()), None)).expect("world-readable warns");
    assert!(w.contains("644") && w.contains("chmod 600"), "{w}");
    std::fs::set_permissions(&good, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    assert!(permission_warning(&cfg(Some(good), None)).is_none());
}

#[test]
fn pipeline_file_keys_are_validated_with_position_and_fix() {
    let dir = tempfile::tempdir().expect("tmp");
    let base = format!(
        "[node]\nid = \"n\"\ndata_dir = \"{}\"\n\n[plates.read_log]\nenabled = true\n",
        dir.path().display()
    );
    let missing = dir.path().join("nope.key");
    let text = format!("{base}key_file = \"{}\"\n", missing.display());
    let e = crate::pipeline::config::parse("p.toml", &text).expect_err("missing key file");
    assert!(e.contains("p.toml:5:1: [plates.read_log] key_file"), "{e}");
    assert!(e.contains("does not exist") && e.contains("fix:"), "{e}");

    let e = crate::pipeline::config::parse("p.toml", &format!("{base}retention_days = 0\nkey_env = \"K\"\n"))
        .expect_err("zero retention");
    assert!(e.contains("retention_days 0 must be 1..=3650"), "{e}");

    // The key itself is not a key of the file: writing it there is rejected.
    let e = crate::pipeline::config::parse(
        "p.toml",
        &format!("{base}key = \"s3cret-s3cret-s3cret-s3cret-s3cret\"\n"),
    )
    .expect_err("inline key");
    assert!(e.contains("unknown field `key`") && !e.contains("s3cret"), "{e}");

    // Off (the default) needs nothing and keeps nothing.
    let c =
        crate::pipeline::config::parse("p.toml", &base.replace("enabled = true", "")).expect("off is valid");
    assert!(!c.plates.read_log.enabled);
    assert_eq!(c.plates.read_log.retention_days, 7);
}

#[test]
fn store_holds_the_keyed_hash_time_and_camera_never_the_text() {
    let data = tempfile::tempdir().expect("tmp");
    let now = ts("2025-03-10T12:30:00Z");
    let log = ReadLog::open(data.path(), key(), 7, now).expect("open");
    log.record("gate-1", &read("京A12345"), now).expect("record");
    log.record("gate-2", &read("京A12345"), ts("2025-03-10T13:05:00Z"))
        .expect("record");
    assert_eq!(log.entries(), 2);
    let dir = dir_of(data.path());
    let bytes = all_bytes(&dir);
    assert!(!contains(&bytes, "京A12345") && !contains(&bytes, "A12345"));
    assert!(contains(&bytes, &hmac_by_definition(KEY, "京A12345".as_bytes())));
    assert!(contains(&bytes, "gate-1") && contains(&bytes, "2025-03-10T12:30:00Z"));
    // One file per UTC hour, private to the daemon's user.
    let names: Vec<String> = segments(&dir)
        .expect("segments")
        .iter()
        .filter_map(|(_, p)| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    assert_eq!(names, ["reads-20250310T12.jsonl", "reads-20250310T13.jsonl"]);
    let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join(&names[0])), 0o600);

    let found = lookup(&dir, &key().hash_hex("京a 12345"), None, None).expect("lookup");
    let cams: Vec<&str> = found.entries.iter().map(|e| e.camera.as_str()).collect();
    assert_eq!(cams, ["gate-1", "gate-2"]);
    assert_eq!(found.entries[0].colour.as_deref(), Some("blue"));
    let later = lookup(
        &dir,
        &key().hash_hex("京A12345"),
        Some(ts("2025-03-10T13:00:00Z")),
        None,
    )
    .expect("lookup");
    assert_eq!(later.entries.len(), 1);
    assert!(
        lookup(&dir, &key().hash_hex("京B00000"), None, None)
            .expect("lookup")
            .entries
            .is_empty()
    );
}

#[test]
fn prune_deletes_entries_older_than_retention_and_their_bytes() {
    let data = tempfile::tempdir().expect("tmp");
    let now = ts("2025-03-10T12:30:00Z");
    let log = ReadLog::open(data.path(), key(), 7, ts("2025-03-01T00:00:00Z")).expect("open");
    // Cutoff = 2025-03-03T12:30Z. Two in a whole expired hour, one just before the cutoff in
    // the straddling hour, one just after it in the same hour, one recent.
    let plan = [
        ("京A00001", "2025-03-02T08:00:00Z"),
        ("京A00002", "2025-03-02T08:59:59Z"),
        ("京A00003", "2025-03-03T12:20:00Z"),
        ("京A00004", "2025-03-03T12:40:00Z"),
        ("京A00005", "2025-03-10T12:00:00Z"),
    ];
    for (plate, at) in plan {
        log.record("gate", &read(plate), ts(at)).expect("record");
    }
    assert_eq!(log.entries(), 5);
    let dir = dir_of(data.path());
    let hash = |p: &str| key().hash_hex(p);
    // Nothing is due a day before the cutoff passes.
    assert_eq!(log.prune(ts("2025-03-09T00:00:00Z")).expect("prune"), 0);

    assert_eq!(log.prune(now).expect("prune"), 3);
    assert_eq!(log.entries(), 2);
    let bytes = all_bytes(&dir);
    for (plate, _) in &plan[..3] {
        assert!(!contains(&bytes, &hash(plate)), "{plate}'s hash is still on disk");
    }
    for (plate, _) in &plan[3..] {
        assert_eq!(
            lookup(&dir, &hash(plate), None, None)
                .expect("lookup")
                .entries
                .len(),
            1
        );
    }
    assert!(!dir.join("reads-20250302T08.jsonl").exists());
    // Pruning again finds nothing more; a reopened store counts what is left.
    assert_eq!(log.prune(now).expect("prune"), 0);
    drop(log);
    let again = ReadLog::open(data.path(), key(), 7, now).expect("reopen");
    assert_eq!(again.entries(), 2);
}

#[test]
fn appends_after_a_prune_rewrote_the_open_file_are_kept() {
    let data = tempfile::tempdir().expect("tmp");
    let log = ReadLog::open(data.path(), key(), 1, ts("2025-03-01T00:00:00Z")).expect("open");
    // Both in the hour 10:00–11:00 of 03-01; the prune at 03-02T10:30 drops only the first.
    log.record("gate", &read("京A00001"), ts("2025-03-01T10:10:00Z"))
        .expect("record");
    log.record("gate", &read("京A00002"), ts("2025-03-01T10:50:00Z"))
        .expect("record");
    assert_eq!(log.prune(ts("2025-03-02T10:30:00Z")).expect("prune"), 1);
    // The writer's handle pointed at the replaced file; this append must land in the new one.
    log.record("gate", &read("京A00003"), ts("2025-03-01T10:55:00Z"))
        .expect("record");
    let dir = dir_of(data.path());
    for p in ["京A00002", "京A00003"] {
        assert_eq!(
            lookup(&dir, &key().hash_hex(p), None, None)
                .expect("lookup")
                .entries
                .len(),
            1,
            "{p}"
        );
    }
    assert_eq!(log.entries(), 2);
}

#[test]
fn lookup_skips_a_half_written_line_and_foreign_files() {
    let data = tempfile::tempdir().expect("tmp");
    let at = ts("2025-03-10T12:00:00Z");
    let log = ReadLog::open(data.path(), key(), 7, at).expect("open");
    log.record("gate", &read("京A12345"), at).expect("record");
    let dir = dir_of(data.path());
    let seg = dir.join("reads-20250310T12.jsonl");
    let mut f = OpenOptions::new().append(true).open(&seg).expect("open");
    f.write_all(b"{\"at\":\"2025-03-10T12:0").expect("write");
    std::fs::write(dir.join("notes.txt"), "not a segment").expect("write");
    let found = lookup(&dir, &key().hash_hex("京A12345"), None, None).expect("lookup");
    assert_eq!((found.entries.len(), found.unreadable), (1, 1));
}

#[test]
fn segment_names_round_trip() {
    for t in [
        "1970-01-01T00:00:00Z",
        "2025-12-31T23:59:59Z",
        "2024-02-29T07:15:00Z",
    ] {
        let start = segment_of(ts(t));
        assert_eq!(parse_segment_name(&segment_name(start)), Some(start), "{t}");
    }
    for bad in [
        "reads-2025031012.jsonl",
        "reads-20250310T1x.jsonl",
        "reads-20251310T12.jsonl",
        "x.jsonl",
    ] {
        assert_eq!(parse_segment_name(bad), None, "{bad}");
    }
}
