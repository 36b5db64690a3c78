//! What to fetch: a file or a directory, its hash, and where it may come from.

use serde::Deserialize;
use std::path::PathBuf;
use vigil_core::model::{ModelManifest, Source};

/// Whether an asset is a single file or a directory tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AssetKind {
    /// One file; `sha256` is the file's digest.
    #[default]
    File,
    /// A directory; `sha256` is its [`crate::tree_sha256`].
    Dir,
}

/// One fetchable file or directory.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Asset {
    /// Human name used in progress lines and errors.
    pub name: String,
    /// Destination, relative to the target directory.
    pub path: String,
    /// File or directory.
    #[serde(default)]
    pub kind: AssetKind,
    /// Lower-case hex SHA-256 (file digest or tree digest).
    pub sha256: String,
    /// Expected size in bytes (files only; 0 = unknown), shown in progress output.
    #[serde(default)]
    pub size_bytes: u64,
    /// Licence of the content, for the README table.
    #[serde(default)]
    pub licence: String,
    /// Where to fetch from, tried in order.
    #[serde(rename = "source")]
    pub sources: Vec<Source>,
}

/// The test-media manifest (`testdata/media.toml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediaManifest {
    /// The media files and folders.
    #[serde(rename = "asset")]
    pub assets: Vec<Asset>,
}

impl MediaManifest {
    /// Parses the manifest; `origin` names the file in errors.
    pub fn from_toml(origin: &str, text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| format!("{origin}: {e}"))
    }
}

/// The asset that stands for a model manifest's ONNX file.
pub fn model_asset(m: &ModelManifest) -> Asset {
    Asset {
        name: m.name.clone(),
        path: m.file.clone(),
        kind: AssetKind::File,
        sha256: m.sha256.clone(),
        size_bytes: m.size_bytes,
        licence: m.licence.clone(),
        sources: m.sources.clone(),
    }
}

impl Asset {
    /// Destination path under `dir`.
    pub fn dest(&self, dir: &std::path::Path) -> PathBuf {
        dir.join(&self.path)
    }
}
