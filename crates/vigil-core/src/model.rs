//! Model manifest schema: what a model file is, where it comes from, and how to feed it.
//!
//! One TOML file per model lives under `models/`. The fetcher reads `file`, `sha256` and
//! `source`; the inference engine reads `family`, `input`, `output` and `classes`. Swapping in an
//! operator's own export (a YOLOv8 plate detector, say) is a new manifest, not a code change.

use serde::{Deserialize, Serialize};

/// How a model's raw output tensor is decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelFamily {
    /// YOLOX: `[1, anchors, 5 + classes]`, grid + stride decoding, objectness × class score.
    Yolox,
    /// Ultralytics YOLOv8 / YOLO11: `[1, 4 + classes, anchors]`, centre-size boxes, no objectness.
    Yolov8,
    /// PP-OCR text detector (DB): `[1, 1, H, W]` probability map.
    PpocrDet,
    /// PP-OCR text recogniser: `[1, T, dictionary]` CTC probabilities.
    PpocrRec,
}

impl ModelFamily {
    /// True for families whose output is boxes with class scores.
    pub fn is_object_detector(self) -> bool {
        matches!(self, ModelFamily::Yolox | ModelFamily::Yolov8)
    }
}

/// Channel order the model expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColorOrder {
    /// Red, green, blue.
    Rgb,
    /// Blue, green, red.
    Bgr,
}

/// Where the resized image sits on the model's input canvas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Letterbox {
    /// Keep aspect ratio, image at the top-left, padding right and bottom (YOLOX export).
    #[default]
    TopLeft,
    /// Keep aspect ratio, image centred, padding split evenly (Ultralytics).
    Center,
}

/// Input tensor description.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSpec {
    /// Tensor name in the ONNX graph.
    pub name: String,
    /// Expected shape, NCHW; `-1` marks a dynamic axis.
    pub shape: Vec<i64>,
    /// Channel order.
    pub color: ColorOrder,
    /// Multiplier applied to each 0..255 byte before mean/std (1.0 or 1/255).
    #[serde(default = "one")]
    pub scale: f32,
    /// Per-channel mean subtracted after scaling, in the model's channel order.
    #[serde(default = "zeros")]
    pub mean: [f32; 3],
    /// Per-channel divisor applied after mean subtraction, in the model's channel order.
    #[serde(default = "ones")]
    pub std: [f32; 3],
    /// Value of the padding bytes around a letterboxed image (before normalisation).
    #[serde(default)]
    pub pad_value: u8,
    /// Letterbox placement.
    #[serde(default)]
    pub letterbox: Letterbox,
}

fn one() -> f32 {
    1.0
}
fn zeros() -> [f32; 3] {
    [0.0; 3]
}
fn ones() -> [f32; 3] {
    [1.0; 3]
}

/// Output tensor description.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSpec {
    /// Tensor name in the ONNX graph.
    pub name: String,
    /// Expected shape; `-1` marks a dynamic axis.
    pub shape: Vec<i64>,
    /// Feature-map strides in anchor order (YOLOX); empty for other families.
    #[serde(default)]
    pub strides: Vec<u32>,
}

/// One place a model file can be fetched from; tried in the order written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Source {
    /// A file in a local mirror directory (`VIGIL_MODEL_MIRROR`, default `../shared/models`).
    Mirror {
        /// Path relative to the mirror directory.
        path: String,
    },
    /// A member of a Python wheel fetched with `pip download` from the configured index.
    Wheel {
        /// Distribution name, e.g. `rapidocr-onnxruntime`.
        package: String,
        /// Exact version.
        version: String,
        /// Path of the file inside the wheel.
        member: String,
    },
    /// A member of a Debian package fetched with `apt-get download`.
    Deb {
        /// Package name, e.g. `opencv-doc`.
        package: String,
        /// Path of the file inside the package's data archive (without the leading `./`).
        member: String,
    },
    /// A plain HTTP(S) download.
    Url {
        /// Address of the file.
        url: String,
    },
}

/// A model manifest (`models/*.toml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelManifest {
    /// Short name used in pipeline files (`model = "yolox-nano"`).
    pub name: String,
    /// Decoder family.
    pub family: ModelFamily,
    /// File name of the ONNX model in the model directory.
    pub file: String,
    /// Lower-case hex SHA-256 of the file.
    pub sha256: String,
    /// Size of the file in bytes (for progress output and a quick sanity check).
    pub size_bytes: u64,
    /// SPDX licence expression of the weights.
    pub licence: String,
    /// One line on what the model is and where its weights come from.
    #[serde(default)]
    pub description: String,
    /// Input tensor.
    pub input: InputSpec,
    /// Output tensor.
    pub output: OutputSpec,
    /// Class names in output order (detectors). Empty when `classes_from_metadata` is set.
    #[serde(default)]
    pub classes: Vec<String>,
    /// ONNX metadata key that holds the class list / dictionary, one entry per line (PP-OCR rec).
    #[serde(default)]
    pub classes_from_metadata: Option<String>,
    /// Where to fetch the file from, tried in order.
    #[serde(default, rename = "source")]
    pub sources: Vec<Source>,
}

/// A manifest that does not describe a usable model.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("model manifest '{name}': {problem} (fix: {hint})")]
pub struct ManifestError {
    /// Model name (or file name when the name is unknown).
    pub name: String,
    /// What is wrong.
    pub problem: String,
    /// How to fix it.
    pub hint: String,
}

impl ModelManifest {
    /// Parses and validates a manifest; `origin` (usually the file path) names it in errors.
    pub fn from_toml(origin: &str, text: &str) -> Result<Self, ManifestError> {
        let m: ModelManifest = toml::from_str(text).map_err(|e| ManifestError {
            name: origin.to_string(),
            problem: e.to_string(),
            hint: "compare with models/yolox-nano.toml and docs/configuration.md".into(),
        })?;
        m.validate()?;
        Ok(m)
    }

    /// Checks the invariants the fetcher and the decoders rely on.
    pub fn validate(&self) -> Result<(), ManifestError> {
        let err = |problem: String, hint: &str| ManifestError {
            name: self.name.clone(),
            problem,
            hint: hint.into(),
        };
        if self.sha256.len() != 64
            || !self
                .sha256
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        {
            return Err(err(
                format!("sha256 '{}' is not 64 lower-case hex digits", self.sha256),
                "run `sha256sum FILE`",
            ));
        }
        if self.file.contains('/') || self.file.is_empty() {
            return Err(err(
                format!("file '{}' must be a plain file name", self.file),
                "drop the directory part",
            ));
        }
        if self.input.shape.len() != 4 {
            return Err(err(
                format!("input shape {:?} is not NCHW (4 axes)", self.input.shape),
                "write [N, 3, H, W], -1 for dynamic axes",
            ));
        }
        if self.input.std.iter().any(|s| *s == 0.0 || !s.is_finite()) {
            return Err(err(
                "input std has a zero or non-finite entry".into(),
                "use 1.0 for no scaling",
            ));
        }
        if self.family.is_object_detector() && self.classes.is_empty() {
            return Err(err(
                "a detector needs its class names".into(),
                "list them in `classes`, in output order",
            ));
        }
        if self.family == ModelFamily::Yolox && self.output.strides.is_empty() {
            return Err(err(
                "YOLOX output needs its strides".into(),
                "add `strides = [8, 16, 32]` under [output]",
            ));
        }
        if self.family == ModelFamily::PpocrRec
            && self.classes.is_empty()
            && self.classes_from_metadata.is_none()
        {
            return Err(err(
                "a recogniser needs a dictionary".into(),
                "set classes_from_metadata = \"character\"",
            ));
        }
        if self.sources.is_empty() {
            return Err(err(
                "no [[source]] given".into(),
                "add a mirror, wheel or url source",
            ));
        }
        Ok(())
    }

    /// Index of a class by name, if the model has it.
    pub fn class_index(&self, name: &str) -> Option<usize> {
        self.classes.iter().position(|c| c == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name = "m"
family = "yolox"
file = "m.onnx"
sha256 = "695e750a5d5754bb5a8d5325643b59282191a7e7a564e435a415fd3c578eab14"
size_bytes = 10
licence = "Apache-2.0"
classes = ["person"]
[input]
name = "images"
shape = [1, 3, 416, 416]
color = "bgr"
pad_value = 114
[output]
name = "output"
shape = [1, 3549, 85]
strides = [8, 16, 32]
[[source]]
kind = "mirror"
path = "m.onnx"
[[source]]
kind = "wheel"
package = "p"
version = "1"
member = "p/m.onnx"
"#;

    #[test]
    fn parses_a_complete_manifest() {
        let m = ModelManifest::from_toml("m.toml", GOOD).expect("valid");
        assert_eq!(m.family, ModelFamily::Yolox);
        assert_eq!(m.sources.len(), 2);
        assert_eq!(m.input.scale, 1.0);
        assert_eq!(m.input.letterbox, Letterbox::TopLeft);
    }

    #[test]
    fn rejects_unknown_keys_with_the_origin_named() {
        let bad = GOOD.replace("licence =", "licenze =");
        let e = ModelManifest::from_toml("models/m.toml", &bad).expect_err("unknown key");
        assert!(e.to_string().contains("models/m.toml"), "{e}");
        assert!(e.to_string().contains("licenze"), "{e}");
    }

    #[test]
    fn rejects_bad_sha_and_missing_strides() {
        let e = ModelManifest::from_toml("x", &GOOD.replace("695e750a", "695E750A")).expect_err("upper-case");
        assert!(e.problem.contains("sha256"));
        let e =
            ModelManifest::from_toml("x", &GOOD.replace("strides = [8, 16, 32]", "")).expect_err("strides");
        assert!(e.problem.contains("strides"));
    }
}
