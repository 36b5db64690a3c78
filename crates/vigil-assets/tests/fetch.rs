//! Fetch behaviour on real files: good mirror, corrupt mirror, corrupt file in place, wheel member.

use std::io::Write;
use vigil_assets::{
    Asset, AssetKind, FetchError, FetchOptions, FetchOutcome, Source, fetch, file_sha256, verify,
};

struct Dirs {
    _root: tempfile::TempDir,
    opts: FetchOptions,
}

fn dirs() -> Dirs {
    let root = tempfile::tempdir().expect("tempdir");
    let opts = FetchOptions {
        dest_dir: root.path().join("models"),
        mirror: Some(root.path().join("mirror")),
        cache_dir: root.path().join("cache"),
        progress: false,
    };
    std::fs::create_dir_all(opts.mirror.as_ref().expect("mirror")).expect("mkdir");
    Dirs { _root: root, opts }
}

fn asset(sha: &str, sources: Vec<Source>) -> Asset {
    Asset {
        name: "toy-model".into(),
        path: "toy.onnx".into(),
        kind: AssetKind::File,
        sha256: sha.into(),
        size_bytes: 0,
        licence: "Apache-2.0".into(),
        sources,
    }
}

const GOOD: &[u8] = b"pretend these are model weights";

fn good_sha() -> String {
    let d = tempfile::tempdir().expect("tempdir");
    let p = d.path().join("x");
    std::fs::write(&p, GOOD).expect("write");
    file_sha256(&p).expect("hash")
}

#[test]
fn fetches_from_mirror_then_reports_present() {
    let d = dirs();
    std::fs::write(d.opts.mirror.as_ref().expect("m").join("toy.onnx"), GOOD).expect("write");
    let a = asset(
        &good_sha(),
        vec![Source::Mirror {
            path: "toy.onnx".into(),
        }],
    );
    assert!(matches!(fetch(&a, &d.opts), Ok(FetchOutcome::Fetched(_))));
    assert_eq!(
        std::fs::read(d.opts.dest_dir.join("toy.onnx")).expect("read"),
        GOOD
    );
    assert_eq!(fetch(&a, &d.opts).expect("second"), FetchOutcome::AlreadyPresent);
}

#[test]
fn corrupt_mirror_file_is_rejected_and_never_moved_into_place() {
    let d = dirs();
    std::fs::write(
        d.opts.mirror.as_ref().expect("m").join("toy.onnx"),
        b"pretend these are model weighTs",
    )
    .expect("write");
    let a = asset(
        &good_sha(),
        vec![Source::Mirror {
            path: "toy.onnx".into(),
        }],
    );
    let err = fetch(&a, &d.opts).expect_err("corrupt source must fail");
    let msg = err.to_string();
    assert!(matches!(err, FetchError::AllSourcesFailed { .. }));
    assert!(
        msg.contains("toy-model") && msg.contains("sha256 mismatch"),
        "{msg}"
    );
    assert!(msg.contains("fix:"), "{msg}");
    assert!(
        !d.opts.dest_dir.join("toy.onnx").exists(),
        "corrupt bytes must not land"
    );
    assert!(
        !d.opts.dest_dir.join("toy.onnx.part").exists(),
        "no .part left behind"
    );
}

#[test]
fn corrupt_file_in_place_is_detected_and_replaced_from_the_next_good_source() {
    let d = dirs();
    std::fs::create_dir_all(&d.opts.dest_dir).expect("mkdir");
    std::fs::write(d.opts.dest_dir.join("toy.onnx"), b"truncated").expect("write");
    std::fs::write(d.opts.mirror.as_ref().expect("m").join("good.onnx"), GOOD).expect("write");
    let a = asset(
        &good_sha(),
        vec![
            Source::Mirror {
                path: "missing.onnx".into(),
            },
            Source::Mirror {
                path: "good.onnx".into(),
            },
        ],
    );
    assert!(
        verify(&a, &d.opts.dest_dir).is_err(),
        "verify reports the corrupt file"
    );
    let out = fetch(&a, &d.opts).expect("second source is good");
    assert_eq!(out, FetchOutcome::Fetched("mirror file good.onnx".into()));
    assert_eq!(verify(&a, &d.opts.dest_dir), Ok(true));
}

#[test]
fn extracts_a_member_from_a_cached_wheel() {
    let d = dirs();
    let wheels = d.opts.cache_dir.join("wheels");
    std::fs::create_dir_all(&wheels).expect("mkdir");
    let whl = std::fs::File::create(wheels.join("toy_pkg-1.0-py3-none-any.whl")).expect("create");
    let mut zip = zip::ZipWriter::new(whl);
    zip.start_file(
        "toy_pkg/models/toy.onnx",
        zip::write::SimpleFileOptions::default(),
    )
    .expect("start");
    zip.write_all(GOOD).expect("write");
    zip.finish().expect("finish");
    let a = asset(
        &good_sha(),
        vec![Source::Wheel {
            package: "toy-pkg".into(),
            version: "1.0".into(),
            member: "toy_pkg/models/toy.onnx".into(),
        }],
    );
    fetch(&a, &d.opts).expect("wheel member");
    assert_eq!(
        std::fs::read(d.opts.dest_dir.join("toy.onnx")).expect("read"),
        GOOD
    );

    let missing = asset(
        &good_sha(),
        vec![Source::Wheel {
            package: "toy-pkg".into(),
            version: "1.0".into(),
            member: "nope.onnx".into(),
        }],
    );
    let mut m = missing;
    m.path = "other.onnx".into();
    let msg = fetch(&m, &d.opts).expect_err("member missing").to_string();
    assert!(msg.contains("nope.onnx not in"), "{msg}");
}

#[test]
fn no_mirror_configured_is_a_clear_reason() {
    let mut d = dirs();
    d.opts.mirror = None;
    let a = asset(
        &good_sha(),
        vec![Source::Mirror {
            path: "toy.onnx".into(),
        }],
    );
    let msg = fetch(&a, &d.opts).expect_err("no mirror").to_string();
    assert!(msg.contains("no mirror directory configured"), "{msg}");
}
