//! Test and bench support shared by every crate's model and media tests: where the workspace,
//! the fetched models and the fetched media are. Missing files fail with the fix (`make setup`),
//! never skip. Used only as a dev-dependency.

use std::path::PathBuf;
use vigil_core::model::ModelManifest;

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
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
