//! Finding and loading the ONNX Runtime shared library, once per process.
//!
//! `ort` is built with `load-dynamic`: the library comes from the PyPI `onnxruntime` wheel that
//! `make setup` unpacks into `.cache/onnxruntime/`. Lookup order: an explicit path (pipeline key
//! `runtime.onnxruntime_library` / CLI flag), `ORT_DYLIB_PATH`, the project cache relative to the
//! working directory and to the executable, then system library directories. A missing library
//! is reported with every path tried and the fix — never a panic or a bare dlopen error.

use crate::error::InferError;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Version of the ONNX Runtime library `make setup` installs.
pub const ORT_VERSION: &str = "1.32.0";

/// Where the library was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrtLibrary {
    /// Absolute or relative path of the `.so` file.
    pub path: PathBuf,
    /// How it was chosen (e.g. "ORT_DYLIB_PATH").
    pub origin: &'static str,
}

/// Options for the process-wide runtime.
#[derive(Debug, Clone, Default)]
pub struct RuntimeOptions {
    /// Explicit library path (highest priority).
    pub library: Option<PathBuf>,
}

fn candidates(opts: &RuntimeOptions) -> Vec<(PathBuf, &'static str)> {
    let mut c = Vec::new();
    if let Some(p) = &opts.library {
        c.push((p.clone(), "configured path"));
    }
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH") {
        c.push((PathBuf::from(p), "ORT_DYLIB_PATH"));
    }
    let rel = Path::new(".cache/onnxruntime").join(format!("libonnxruntime.so.{ORT_VERSION}"));
    c.push((rel.clone(), "project cache"));
    if let Ok(cwd) = std::env::current_dir() {
        // Tests and benches run inside crate folders: look up the tree for the project cache.
        for up in cwd.ancestors().skip(1).take(4) {
            c.push((up.join(&rel), "project cache above the working directory"));
        }
    }
    if let Ok(exe) = std::env::current_exe() {
        // target/{debug,release}/vigil → the workspace root two or three levels up.
        for up in exe.ancestors().skip(1).take(4) {
            c.push((up.join(&rel), "project cache next to the executable"));
        }
        if let Some(dir) = exe.parent() {
            c.push((
                dir.join("../lib/libonnxruntime.so"),
                "lib/ next to the executable",
            ));
        }
    }
    for dir in [
        "/usr/local/lib",
        "/usr/lib",
        "/usr/lib/x86_64-linux-gnu",
        "/usr/lib/aarch64-linux-gnu",
    ] {
        c.push((
            Path::new(dir).join("libonnxruntime.so"),
            "system library directory",
        ));
    }
    c
}

/// Finds the library without loading it.
pub fn find_library(opts: &RuntimeOptions) -> Result<OrtLibrary, InferError> {
    let cands = candidates(opts);
    // An explicit path or env var that is wrong is an error in itself: silently falling back
    // would run a different library than the operator asked for.
    for (path, origin) in &cands {
        let explicit = matches!(*origin, "configured path" | "ORT_DYLIB_PATH");
        if path.is_file() {
            return Ok(OrtLibrary {
                path: path.clone(),
                origin,
            });
        }
        if explicit {
            return Err(InferError::Runtime {
                problem: format!("{origin} points at {}, which does not exist", path.display()),
                looked: path.display().to_string(),
                hint: "correct the path, or unset it to use the library `make setup` installs".into(),
            });
        }
    }
    Err(InferError::Runtime {
        problem: "libonnxruntime.so was not found".into(),
        looked: cands
            .iter()
            .map(|(p, _)| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
        hint: format!(
            "run `make setup` (it unpacks ONNX Runtime {ORT_VERSION} into .cache/onnxruntime/), \
             or set ORT_DYLIB_PATH=/path/to/libonnxruntime.so"
        ),
    })
}

static ENV: OnceLock<Result<(ort::environment::Environment, OrtLibrary), String>> = OnceLock::new();

/// The process-wide ONNX Runtime environment, loading the library on first use.
///
/// The options of the first call win; later calls get the same environment (ONNX Runtime allows
/// one library per process).
pub fn environment(opts: &RuntimeOptions) -> Result<&'static ort::environment::Environment, InferError> {
    let r = ENV.get_or_init(|| {
        let lib = find_library(opts).map_err(|e| e.to_string())?;
        let builder = ort::init_from(&lib.path).map_err(|e| {
            format!(
                "ONNX Runtime library not usable: loading {} ({}) failed: {e}\n  fix: it must be ONNX Runtime ≥ 1.22 \
                 for this CPU; run `make setup` or point ORT_DYLIB_PATH at a matching libonnxruntime.so",
                lib.path.display(),
                lib.origin
            )
        })?;
        let env = builder.with_name("vigil").build().map_err(|e| format!("creating the ONNX Runtime environment: {e}"))?;
        tracing::info!(library = %lib.path.display(), origin = lib.origin, "ONNX Runtime loaded");
        Ok((env, lib))
    });
    match r {
        Ok((env, _)) => Ok(env),
        Err(msg) => Err(InferError::RuntimeLoad(msg.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_missing_path_is_an_error_naming_it() {
        let opts = RuntimeOptions {
            library: Some(PathBuf::from("/nonexistent/libonnxruntime.so")),
        };
        let e = find_library(&opts).expect_err("must fail").to_string();
        assert!(e.contains("/nonexistent/libonnxruntime.so"), "{e}");
        assert!(e.contains("fix:"), "{e}");
    }
}
