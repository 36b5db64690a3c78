//! Building `ort` sessions from model manifests, with the graph checked against the manifest.

use crate::error::InferError;
use crate::runtime::{RuntimeOptions, environment};
#[cfg(any(feature = "cuda", feature = "tensorrt", feature = "openvino"))]
use ort::ep::ExecutionProvider;
use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use std::path::Path;
use vigil_core::model::ModelManifest;

/// Per-session knobs.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    /// Threads ONNX Runtime may use inside one operator. Workers × intra threads should not
    /// exceed the core count, or the workers fight over cores.
    pub intra_threads: usize,
    /// Execution providers to try, in order (`cuda`, `tensorrt`, `openvino`); CPU is always the
    /// fallback. Providers missing from the loaded library are skipped with a log line.
    pub providers: Vec<String>,
    /// Runtime (library) options, used if this is the first session of the process.
    pub runtime: RuntimeOptions,
}

impl Default for SessionOptions {
    fn default() -> Self {
        Self {
            intra_threads: 1,
            providers: Vec::new(),
            runtime: RuntimeOptions::default(),
        }
    }
}

/// Reads and validates a manifest file.
pub fn load_manifest(path: &Path) -> Result<ModelManifest, InferError> {
    let text = std::fs::read_to_string(path).map_err(|e| vigil_core::model::ManifestError {
        name: path.display().to_string(),
        problem: format!("cannot read: {e}"),
        hint: "check the path; manifests live under models/".into(),
    })?;
    Ok(ModelManifest::from_toml(&path.display().to_string(), &text)?)
}

fn ort_err<'a>(model: &'a str, context: &'static str) -> impl Fn(ort::Error) -> InferError + 'a {
    move |e| InferError::Ort {
        model: model.to_string(),
        context,
        message: e.to_string(),
    }
}

/// Opens the manifest's model from `model_dir` and checks its input/output names and fixed
/// dimensions against the manifest.
pub fn open_session(
    manifest: &ModelManifest,
    model_dir: &Path,
    opts: &SessionOptions,
) -> Result<Session, InferError> {
    let path = model_dir.join(&manifest.file);
    if !path.is_file() {
        return Err(InferError::ModelMissing {
            model: manifest.name.clone(),
            path,
        });
    }
    let env = environment(&opts.runtime)?;
    let name = manifest.name.as_str();
    let mut builder = Session::builder(env).map_err(ort_err(name, "creating a session builder"))?;
    builder = builder
        .with_optimization_level(GraphOptimizationLevel::All)
        .map_err(|e| ort_err(name, "enabling graph optimisation")(e.into()))?
        .with_intra_threads(opts.intra_threads.max(1))
        .map_err(|e| ort_err(name, "setting intra-op threads")(e.into()))?;
    let eps = providers(name, &opts.providers)?;
    if !eps.is_empty() {
        builder = builder
            .with_execution_providers(eps)
            .map_err(|e| ort_err(name, "registering execution providers")(e.into()))?;
    }
    let session = builder
        .commit_from_file(&path)
        .map_err(ort_err(name, "loading the model"))?;
    check_io(manifest, &session)?;
    Ok(session)
}

/// Resolves provider names to the execution providers compiled into this build (cargo features
/// `cuda`, `tensorrt`, `openvino` of vigil-infer) and present in the loaded library.
fn providers(model: &str, names: &[String]) -> Result<Vec<ort::ep::ExecutionProviderDispatch>, InferError> {
    let mut eps = Vec::new();
    for p in names {
        let found: Option<(ort::Result<bool>, ort::ep::ExecutionProviderDispatch)> = match p.as_str() {
            "cpu" => continue,
            #[cfg(feature = "cuda")]
            "cuda" => Some((ort::ep::CUDA::is_available(), ort::ep::CUDA::default().build())),
            #[cfg(feature = "tensorrt")]
            "tensorrt" => Some((
                ort::ep::TensorRT::is_available(),
                ort::ep::TensorRT::default().build(),
            )),
            #[cfg(feature = "openvino")]
            "openvino" => Some((
                ort::ep::OpenVINO::is_available(),
                ort::ep::OpenVINO::default().build(),
            )),
            "cuda" | "tensorrt" | "openvino" => None,
            other => {
                return Err(InferError::Ort {
                    model: model.into(),
                    context: "choosing execution providers",
                    message: format!("unknown provider '{other}' (use cuda, tensorrt, openvino or cpu)"),
                });
            }
        };
        match found {
            Some((Ok(true), ep)) => eps.push(ep),
            Some(_) => {
                tracing::warn!(model, provider = %p, "execution provider not in the loaded ONNX Runtime library; using CPU")
            }
            None => {
                tracing::warn!(model, provider = %p, "execution provider not compiled in (build with --features {p}); using CPU")
            }
        }
    }
    Ok(eps)
}

fn dims_match(expected: &[i64], actual: &[i64]) -> bool {
    expected.len() == actual.len()
        && expected
            .iter()
            .zip(actual)
            .all(|(e, a)| *e < 0 || *a < 0 || e == a)
}

fn check_io(m: &ModelManifest, s: &Session) -> Result<(), InferError> {
    let mismatch = |problem: String| InferError::ShapeMismatch {
        model: m.name.clone(),
        problem,
    };
    let find = |outlets: &[ort::value::Outlet], name: &str, what: &str| -> Result<Vec<i64>, InferError> {
        let names: Vec<&str> = outlets.iter().map(|o| o.name()).collect();
        let o = outlets.iter().find(|o| o.name() == name).ok_or_else(|| {
            mismatch(format!(
                "{what} tensor '{name}' not in the graph (it has {names:?}); fix the manifest's {what}.name"
            ))
        })?;
        let shape = o
            .dtype()
            .tensor_shape()
            .ok_or_else(|| mismatch(format!("{what} '{name}' is not a tensor")))?;
        Ok(shape.iter().copied().collect())
    };
    let input = find(s.inputs(), &m.input.name, "input")?;
    if !dims_match(&m.input.shape, &input) {
        return Err(mismatch(format!(
            "input '{}' has shape {input:?}, manifest says {:?}",
            m.input.name, m.input.shape
        )));
    }
    let output = find(s.outputs(), &m.output.name, "output")?;
    if !dims_match(&m.output.shape, &output) {
        return Err(mismatch(format!(
            "output '{}' has shape {output:?}, manifest says {:?}",
            m.output.name, m.output.shape
        )));
    }
    Ok(())
}

/// Runs `session` on one f32 input tensor and returns the named output's shape and values.
pub(crate) fn run_f32(
    session: &mut Session,
    m: &ModelManifest,
    shape: &[usize],
    data: &[f32],
) -> Result<(Vec<i64>, Vec<f32>), InferError> {
    let name = m.name.as_str();
    let tensor = ort::value::TensorRef::from_array_view((shape.to_vec(), data))
        .map_err(ort_err(name, "wrapping the input"))?;
    let outputs = session
        .run(ort::inputs![m.input.name.as_str() => tensor])
        .map_err(ort_err(name, "running"))?;
    let out = outputs
        .get(m.output.name.as_str())
        .ok_or_else(|| InferError::ShapeMismatch {
            model: m.name.clone(),
            problem: format!("output '{}' missing from the run's results", m.output.name),
        })?;
    let (shape, values) = out
        .try_extract_tensor::<f32>()
        .map_err(ort_err(name, "reading the output"))?;
    Ok((shape.iter().copied().collect(), values.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::dims_match;

    #[test]
    fn dynamic_axes_match_anything() {
        assert!(dims_match(&[1, 3, 416, 416], &[1, 3, 416, 416]));
        assert!(dims_match(&[-1, 3, 48, -1], &[-1, 3, 48, -1]));
        assert!(dims_match(&[1, 3, -1, -1], &[1, 3, 640, 640]));
        assert!(!dims_match(&[1, 3, 416, 416], &[1, 3, 640, 640]));
        assert!(!dims_match(&[1, 3, 416], &[1, 3, 416, 416]));
    }
}
