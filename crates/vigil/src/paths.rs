//! Default locations of models, media and caches, overridable by environment variables.

use std::path::PathBuf;

fn env_or(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default))
}

/// Directory holding model manifests (`*.toml`) and fetched model files (`VIGIL_MODEL_DIR`).
pub fn model_dir() -> PathBuf {
    env_or("VIGIL_MODEL_DIR", "models")
}

/// Local model mirror (`VIGIL_MODEL_MIRROR`, default `../shared/models`).
pub fn model_mirror() -> PathBuf {
    env_or("VIGIL_MODEL_MIRROR", "../shared/models")
}

/// Local media mirror (`VIGIL_MEDIA_MIRROR`, default `../shared/testdata`).
pub fn media_mirror() -> PathBuf {
    env_or("VIGIL_MEDIA_MIRROR", "../shared/testdata")
}

/// Where fetched test media lives (`VIGIL_TESTDATA`, default `.cache/testdata`).
pub fn media_dir() -> PathBuf {
    env_or("VIGIL_TESTDATA", ".cache/testdata")
}

/// Scratch space for downloads (`VIGIL_CACHE_DIR`, default `.cache/downloads`).
pub fn download_cache() -> PathBuf {
    env_or("VIGIL_CACHE_DIR", ".cache/downloads")
}
