//! Whole-scene evaluation: vehicles → plates, scored against the labelled plate boxes.

use std::path::Path;
use std::time::Instant;

use serde::Serialize;
use vigil_core::{BoxPx, Detection};

use super::labels::{LabelConfidence, SceneLabel, load_image, scene_labels};
use super::{EvalError, ReadSummary};
use crate::reader::{PlateReader, SceneReads, VehicleFinder};

/// IoU from which a candidate box counts as having localised a labelled plate. Labels are
/// hand-drawn around the plate frame and DB boxes hug the characters, so the bar is loose.
pub const LOCALISED_IOU: f32 = 0.3;

/// The outcome for one labelled plate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelResult {
    /// The label row.
    pub label: SceneLabel,
    /// True when a read has exactly the labelled text (never for illegible rows).
    pub exact: bool,
    /// IoU of the exactly matching read's box with the label box (0 without a match).
    pub read_iou: f32,
    /// Best IoU of any recognised candidate box with the label box.
    pub best_candidate_iou: f32,
    /// True when `best_candidate_iou` ≥ [`LOCALISED_IOU`].
    pub localised: bool,
    /// Colour of the exactly matching read (`None` without a match, or when unsure).
    pub colour_read: Option<String>,
    /// Whether `colour_read` equals the labelled colour; `None` when the plate was not read.
    pub colour_correct: Option<bool>,
}

/// The outcome for one scene.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SceneResult {
    /// Image file name.
    pub file: String,
    /// Image width.
    pub width: u32,
    /// Image height.
    pub height: u32,
    /// Time to read the scene (detection, localisation, recognition), seconds.
    pub seconds: f64,
    /// Vehicles the detector found.
    pub vehicles: Vec<Detection>,
    /// Every plate read.
    pub reads: Vec<ReadSummary>,
    /// One entry per labelled plate.
    pub labels: Vec<LabelResult>,
    /// Reads whose text matches no label of this scene.
    pub false_plates: Vec<ReadSummary>,
}

/// The scenes evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScenesReport {
    /// Folder evaluated.
    pub dir: String,
    /// Labels with confidence `high`.
    pub high_total: usize,
    /// Of those, read exactly.
    pub high_exact: usize,
    /// Labels with confidence `low`.
    pub low_total: usize,
    /// Of those, read exactly.
    pub low_exact: usize,
    /// Labels with confidence `illegible`.
    pub illegible_total: usize,
    /// Of those, localised by a candidate box.
    pub illegible_localised: usize,
    /// Reads, over all scenes, whose text matches no label of their scene.
    pub false_plates: usize,
    /// True when every `high` plate was read exactly and there is no false plate (colour is
    /// reported separately, in the `colour_*` fields).
    pub passed: bool,
    /// Labels read exactly: the rows whose colour is scored.
    pub colour_scored: usize,
    /// Of those, read with the labelled colour (an unsure read counts as wrong).
    pub colour_correct: usize,
    /// `high` labels read exactly and with the labelled colour.
    pub high_colour_correct: usize,
    /// Total wall time, seconds.
    pub seconds: f64,
    /// Per scene.
    pub scenes: Vec<SceneResult>,
}

/// Reads every scene named in `dir/labels.csv`; `finder` supplies vehicle boxes (without it,
/// only the reader's whole-image pass runs).
pub fn eval_scenes(
    dir: &Path,
    reader: &mut PlateReader,
    mut finder: Option<&mut VehicleFinder>,
) -> Result<ScenesReport, EvalError> {
    let (labels, files) = scene_labels(dir)?;
    let mut scenes = Vec::with_capacity(files.len());
    let all = Instant::now();
    for file in &files {
        let img = load_image(&dir.join(file))?;
        let start = Instant::now();
        let found = reader
            .read_image_detailed(img.view(), finder.as_deref_mut())
            .map_err(|source| EvalError::Reader {
                file: file.clone(),
                source: Box::new(source),
            })?;
        let seconds = start.elapsed().as_secs_f64();
        let mine: Vec<&SceneLabel> = labels.iter().filter(|l| &l.file == file).collect();
        scenes.push(score_scene(file, img.width, img.height, seconds, &mine, &found));
    }
    let count = |c: LabelConfidence, f: fn(&LabelResult) -> bool| {
        scenes
            .iter()
            .flat_map(|s| &s.labels)
            .filter(|l| l.label.confidence == c && f(l))
            .count()
    };
    let high_total = count(LabelConfidence::High, |_| true);
    let high_exact = count(LabelConfidence::High, |l| l.exact);
    let false_plates = scenes.iter().map(|s| s.false_plates.len()).sum();
    let coloured =
        |f: fn(&LabelResult) -> bool| scenes.iter().flat_map(|s| &s.labels).filter(|l| f(l)).count();
    Ok(ScenesReport {
        dir: dir.display().to_string(),
        high_total,
        high_exact,
        low_total: count(LabelConfidence::Low, |_| true),
        low_exact: count(LabelConfidence::Low, |l| l.exact),
        illegible_total: count(LabelConfidence::Illegible, |_| true),
        illegible_localised: count(LabelConfidence::Illegible, |l| l.localised),
        false_plates,
        passed: high_exact == high_total && false_plates == 0,
        colour_scored: coloured(|l| l.colour_correct.is_some()),
        colour_correct: coloured(|l| l.colour_correct == Some(true)),
        high_colour_correct: count(LabelConfidence::High, |l| l.colour_correct == Some(true)),
        seconds: all.elapsed().as_secs_f64(),
        scenes,
    })
}

/// Scores one scene's reads against its labels (pure).
pub fn score_scene(
    file: &str,
    width: u32,
    height: u32,
    seconds: f64,
    labels: &[&SceneLabel],
    found: &SceneReads,
) -> SceneResult {
    let iou = |a: &Option<BoxPx>, b: &BoxPx| a.map_or(0.0, |a| a.iou(b));
    let results = labels
        .iter()
        .map(|l| {
            let hit = l
                .plate
                .as_ref()
                .and_then(|p| found.reads.iter().find(|r| &r.text == p));
            let best_candidate_iou = found
                .candidates
                .iter()
                .map(|c| c.iou(&l.box_px))
                .fold(0.0f32, f32::max);
            let colour_read = hit.and_then(|r| r.colour.clone());
            LabelResult {
                label: (*l).clone(),
                exact: hit.is_some(),
                colour_correct: hit.map(|_| colour_read.as_deref() == Some(l.colour.as_str())),
                colour_read,
                read_iou: hit.map_or(0.0, |r| iou(&r.box_px, &l.box_px)),
                best_candidate_iou,
                localised: best_candidate_iou >= LOCALISED_IOU,
            }
        })
        .collect();
    let false_plates = found
        .reads
        .iter()
        .filter(|r| !labels.iter().any(|l| l.plate.as_ref() == Some(&r.text)))
        .map(ReadSummary::from)
        .collect();
    SceneResult {
        file: file.to_owned(),
        width,
        height,
        seconds,
        vehicles: found.vehicles.clone(),
        reads: found.reads.iter().map(ReadSummary::from).collect(),
        labels: results,
        false_plates,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_core::plate::PlateRead;

    fn label(plate: Option<&str>, b: BoxPx, c: LabelConfidence) -> SceneLabel {
        SceneLabel {
            file: "s.jpg".into(),
            line: 2,
            plate: plate.map(str::to_owned),
            colour: "blue".into(),
            box_px: b,
            confidence: c,
        }
    }

    fn read(text: &str, b: BoxPx) -> PlateRead {
        PlateRead {
            text: text.into(),
            confidence: 0.9,
            char_confidences: vec![0.9; text.chars().count()],
            format: "cn-ordinary".into(),
            box_px: Some(b),
            colour: Some("blue".into()),
        }
    }

    #[test]
    fn scoring_matches_text_measures_iou_and_flags_false_plates() {
        let plate_box = BoxPx::new(100.0, 100.0, 200.0, 130.0);
        let far_box = BoxPx::new(400.0, 50.0, 440.0, 60.0);
        let labels = [
            label(Some("京A12345"), plate_box, LabelConfidence::High),
            label(None, far_box, LabelConfidence::Illegible),
        ];
        let refs: Vec<&SceneLabel> = labels.iter().collect();
        let found = SceneReads {
            reads: vec![
                read("京A12345", BoxPx::new(105.0, 102.0, 195.0, 128.0)),
                read("苏E99999", BoxPx::new(0.0, 0.0, 50.0, 15.0)),
            ],
            candidates: vec![
                BoxPx::new(105.0, 102.0, 195.0, 128.0),
                BoxPx::new(401.0, 50.0, 440.0, 61.0),
            ],
            vehicles: Vec::new(),
        };
        let s = score_scene("s.jpg", 640, 480, 0.1, &refs, &found);
        assert!(s.labels[0].exact && s.labels[0].read_iou > 0.75);
        assert!(!s.labels[1].exact && s.labels[1].localised);
        assert_eq!(s.labels[0].colour_correct, Some(true));
        assert_eq!(
            s.labels[1].colour_correct, None,
            "an unread plate's colour is not scored"
        );
        assert_eq!(s.false_plates.len(), 1);
        assert_eq!(s.false_plates[0].text, "苏E99999");
    }
}
