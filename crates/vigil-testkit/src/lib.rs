//! Test and bench support shared by every crate's model and media tests: where the workspace,
//! the fetched models and the fetched media are. Missing files fail with the fix (`make setup`),
//! never skip. Used only as a dev-dependency.
//!
//! With the `webdriver` feature, `webdriver::Browser` drives headless Chromium for the
//! operator console's browser tests (against a test backend in `vigil-http`, against the real
//! daemon in `vigil`).
//!
//! With the `logs` feature, `logs::Capture` and `logs::logged` capture `tracing` output as text.
//!
//! With the `tls` feature, `tls::TestPki` generates a throwaway CA and server certificate for
//! the TLS tests of the sinks and the HTTP API.

use std::path::PathBuf;
use vigil_core::model::ModelManifest;

#[cfg(feature = "logs")]
pub mod logs;
#[cfg(feature = "tls")]
pub mod tls;
#[cfg(feature = "webdriver")]
pub mod webdriver;

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `<root>/test-output/<name>`, created: where tests leave artefacts for a person to look at
/// (screenshots); ignored by git.
pub fn test_output(name: &str) -> PathBuf {
    let dir = root().join("test-output").join(name);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

/// Model directory: `VIGIL_MODEL_DIR`, else `<root>/models`.
pub fn model_dir() -> PathBuf {
    std::env::var_os("VIGIL_MODEL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("models"))
}

/// Fetched media: `VIGIL_TESTDATA`, else `<root>/.cache/testdata`; panics with the fix if any
/// of vtest.avi, the plate crops or the scenes is missing.
pub fn testdata() -> PathBuf {
    let p = std::env::var_os("VIGIL_TESTDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".cache/testdata"));
    let complete = ["vtest.avi", "plates/labels.csv", "scenes/labels.csv"]
        .iter()
        .all(|f| p.join(f).is_file());
    assert!(
        complete,
        "test media missing in {}: run `make setup` first",
        p.display()
    );
    p
}

/// The manifest `models/<name>.toml`, asserting its model file has been fetched.
pub fn manifest(name: &str) -> ModelManifest {
    let path = model_dir().join(format!("{name}.toml"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let m = ModelManifest::from_toml(&path.display().to_string(), &text).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        model_dir().join(&m.file).is_file(),
        "model file {} missing: run `make setup` (or `vigil models fetch`)",
        m.file
    );
    m
}
