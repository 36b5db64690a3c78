//! The label files of the development sets (`plates/labels.csv`, `scenes/labels.csv`), the
//! documented exclusions, and image loading.

use std::path::{Path, PathBuf};

use serde::Serialize;
use vigil_core::BoxPx;
use vigil_core::model::ColorOrder;
use vigil_infer::ImageView;

use super::EvalError;

/// Crops of the plates set that are not plates, with the reason. They are read and reported
/// but not scored. Source: the "Known label problems" of `testdata/README.md`.
pub const NOT_PLATES: &[(&str, &str)] = &[(
    "皖AJ0J22.jpg",
    "the crop shows the sign text 合肥城泊, not a plate (testdata README, known label problems)",
)];

/// Plate colour of every crop of the plates set: `labels.csv` has no colour column, and the
/// testdata README says "visually all are blue plates (some with strong colour casts)".
pub const PLATES_SET_COLOUR: &str = "blue";

/// Why `file` is excluded from plate accuracy, if it is.
pub fn exclusion(file: &str) -> Option<&'static str> {
    NOT_PLATES.iter().find(|(f, _)| *f == file).map(|(_, why)| *why)
}

/// One row of `plates/labels.csv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlateLabel {
    /// Image file name in the folder.
    pub file: String,
    /// Expected plate text (normalised).
    pub plate: String,
}

/// How sure the labeller was of a scene plate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LabelConfidence {
    /// Every character read with confidence: must be read exactly.
    High,
    /// Mostly readable, at least one character a best guess: counted when read.
    Low,
    /// A plate is there but cannot be read: tests localisation only.
    Illegible,
}

/// One plate row of `scenes/labels.csv` (scenes without plates have no row here).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SceneLabel {
    /// Image file name.
    pub file: String,
    /// 1-based line number in the CSV (header = line 1), for messages.
    pub line: usize,
    /// Plate text; `None` for illegible plates.
    pub plate: Option<String>,
    /// Plate background colour as labelled.
    pub colour: String,
    /// Plate box in image pixels.
    pub box_px: BoxPx,
    /// Labeller's confidence.
    pub confidence: LabelConfidence,
}

fn read_csv(path: &Path) -> Result<csv::Reader<std::fs::File>, EvalError> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .from_path(path)
        .map_err(|e| EvalError::Labels {
            path: path.to_owned(),
            line: 0,
            problem: e.to_string(),
        })
}

/// Reads `plates/labels.csv` (`file,plate`). Without a labels file, every `*.jpg`/`*.png` of
/// the folder is labelled by its file name (the upstream convention).
pub fn plate_labels(dir: &Path) -> Result<Vec<PlateLabel>, EvalError> {
    let path = dir.join("labels.csv");
    if !path.is_file() {
        return labels_from_names(dir);
    }
    let mut out = Vec::new();
    for (i, row) in read_csv(&path)?.records().enumerate() {
        let line = i + 2;
        let bad = |problem: String| EvalError::Labels {
            path: path.clone(),
            line,
            problem,
        };
        let row = row.map_err(|e| bad(e.to_string()))?;
        let (Some(file), Some(plate)) = (row.get(0), row.get(1)) else {
            return Err(bad("expected the columns file,plate".into()));
        };
        if file.is_empty() || plate.is_empty() {
            return Err(bad("empty file or plate".into()));
        }
        out.push(PlateLabel {
            file: file.to_owned(),
            plate: vigil_plate::normalize_plate_text(plate),
        });
    }
    Ok(out)
}

fn labels_from_names(dir: &Path) -> Result<Vec<PlateLabel>, EvalError> {
    let entries = std::fs::read_dir(dir).map_err(|e| EvalError::Io {
        path: dir.to_owned(),
        source: e,
    })?;
    let mut out: Vec<PlateLabel> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let stem = name.strip_suffix(".jpg").or_else(|| name.strip_suffix(".png"))?;
            Some(PlateLabel {
                plate: vigil_plate::normalize_plate_text(stem),
                file: name,
            })
        })
        .collect();
    out.sort_by(|a, b| a.file.cmp(&b.file));
    if out.is_empty() {
        return Err(EvalError::Labels {
            path: dir.to_owned(),
            line: 0,
            problem: "no labels.csv and no .jpg/.png files".into(),
        });
    }
    Ok(out)
}

/// Reads `scenes/labels.csv` (`file,plate,color,x1,y1,x2,y2,confidence`). Returns the plate
/// rows and every file named (including scenes whose only row is empty: no plate).
pub fn scene_labels(dir: &Path) -> Result<(Vec<SceneLabel>, Vec<String>), EvalError> {
    let path = dir.join("labels.csv");
    let mut labels = Vec::new();
    let mut files: Vec<String> = Vec::new();
    for (i, row) in read_csv(&path)?.records().enumerate() {
        let line = i + 2;
        let bad = |problem: String| EvalError::Labels {
            path: path.clone(),
            line,
            problem,
        };
        let row = row.map_err(|e| bad(e.to_string()))?;
        let col = |i: usize| row.get(i).unwrap_or("").trim();
        let file = col(0);
        if file.is_empty() {
            return Err(bad("empty file name".into()));
        }
        if !files.iter().any(|f| f == file) {
            files.push(file.to_owned());
        }
        if (1..8).all(|i| col(i).is_empty()) {
            continue;
        }
        let num = |i: usize| {
            col(i)
                .parse::<f32>()
                .map_err(|e| bad(format!("column {} ({:?}): {e}", i + 1, col(i))))
        };
        let box_px = BoxPx::new(num(3)?, num(4)?, num(5)?, num(6)?);
        let confidence = match col(7) {
            "high" => LabelConfidence::High,
            "low" => LabelConfidence::Low,
            "illegible" => LabelConfidence::Illegible,
            other => {
                return Err(bad(format!("confidence {other:?} is not high, low or illegible")));
            }
        };
        let plate = Some(vigil_plate::normalize_plate_text(col(1))).filter(|p| !p.is_empty());
        if plate.is_none() != (confidence == LabelConfidence::Illegible) {
            return Err(bad(
                "only illegible rows may (and must) leave the plate empty".into()
            ));
        }
        labels.push(SceneLabel {
            file: file.to_owned(),
            line,
            plate,
            colour: col(2).to_owned(),
            box_px,
            confidence,
        });
    }
    Ok((labels, files))
}

/// A decoded image, packed RGB.
#[derive(Debug, Clone)]
pub struct LoadedImage {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Packed RGB bytes.
    pub data: Vec<u8>,
}

impl LoadedImage {
    /// The image as a view for the models.
    pub fn view(&self) -> ImageView<'_> {
        ImageView {
            width: self.width,
            height: self.height,
            stride: self.width as usize * 3,
            color: ColorOrder::Rgb,
            data: &self.data,
        }
    }
}

/// Decodes a JPEG or PNG (any bit depth, alpha dropped) to packed RGB.
pub fn load_image(path: &Path) -> Result<LoadedImage, EvalError> {
    let img = image::open(path)
        .map_err(|e| EvalError::Image {
            path: PathBuf::from(path),
            problem: e.to_string(),
        })?
        .to_rgb8();
    Ok(LoadedImage {
        width: img.width(),
        height: img.height(),
        data: img.into_raw(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scene_rows_parse_with_their_rules() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path();
        std::fs::write(
            dir.join("labels.csv"),
            "file,plate,color,x1,y1,x2,y2,confidence\n\
             a.jpg,京A12345,blue,1,2,30,12,high\n\
             a.jpg,,green,5,5,9,9,illegible\n\
             b.jpg,,,,,,,\n",
        )
        .expect("write");
        let (labels, files) = scene_labels(dir).expect("parse");
        assert_eq!(files, ["a.jpg", "b.jpg"]);
        assert_eq!(labels.len(), 2);
        assert_eq!(labels[0].plate.as_deref(), Some("京A12345"));
        assert_eq!(labels[0].box_px, BoxPx::new(1.0, 2.0, 30.0, 12.0));
        assert_eq!(labels[1].confidence, LabelConfidence::Illegible);
        assert_eq!(labels[1].line, 3);

        std::fs::write(
            dir.join("labels.csv"),
            "file,plate,color,x1,y1,x2,y2,confidence\na.jpg,京A12345,blue,1,2,x,12,high\n",
        )
        .expect("write");
        let e = scene_labels(dir).expect_err("bad number").to_string();
        assert!(e.contains("line 2") && e.contains("column 6"), "{e}");
        std::fs::write(
            dir.join("labels.csv"),
            "file,plate,color,x1,y1,x2,y2,confidence\na.jpg,,blue,1,2,3,12,high\n",
        )
        .expect("write");
        assert!(scene_labels(dir).is_err(), "a high row needs a plate");
    }

    #[test]
    fn plates_fall_back_to_file_names_and_exclusions_are_listed() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path();
        std::fs::write(dir.join("京A12345.jpg"), b"").expect("write");
        std::fs::write(dir.join("notes.txt"), b"").expect("write");
        let labels = plate_labels(dir).expect("names");
        assert_eq!(
            labels,
            [PlateLabel {
                file: "京A12345.jpg".into(),
                plate: "京A12345".into()
            }]
        );
        assert!(exclusion("皖AJ0J22.jpg").is_some_and(|w| w.contains("合肥城泊")));
        assert!(exclusion("京A12345.jpg").is_none());
    }
}
