//! Exact-match evaluation on tight plate crops.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use super::labels::{PLATES_SET_COLOUR, exclusion, load_image, plate_labels};
use super::{EvalError, ReadSummary, ratio};
use crate::reader::PlateReader;

/// The outcome for one crop.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CropResult {
    /// Image file name.
    pub file: String,
    /// Labelled plate text.
    pub expected: String,
    /// The grammar-constrained read, if any.
    pub read: Option<ReadSummary>,
    /// Plain greedy CTC text of the crop as it is (no margin, no grammar): the baseline.
    pub greedy: String,
    /// True when `read` equals `expected` exactly.
    pub correct: bool,
    /// True when the read's colour is [`PLATES_SET_COLOUR`] (false without a read or colour).
    pub colour_correct: bool,
}

/// A crop read but not scored, with the documented reason.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExcludedCrop {
    /// Image file name.
    pub file: String,
    /// Why it is not scored.
    pub reason: String,
    /// What the reader returned (expected: nothing, or nonsense).
    pub read: Option<ReadSummary>,
}

/// How often `expected` was read as `got` at a 1-based position (reads of the right length).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Confusion {
    /// 1-based character position.
    pub position: usize,
    /// Labelled character.
    pub expected: char,
    /// Read character.
    pub got: char,
    /// Occurrences.
    pub count: usize,
}

/// The plates evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlatesReport {
    /// Folder evaluated.
    pub dir: String,
    /// Scored crops (labelled, not excluded).
    pub scored: usize,
    /// Crops read exactly.
    pub correct: usize,
    /// `correct / scored`.
    pub accuracy: f64,
    /// Crops whose greedy (unconstrained) text equals the label.
    pub greedy_correct: usize,
    /// `greedy_correct / scored`: the baseline the constrained decoding must beat.
    pub greedy_accuracy: f64,
    /// Scored crops with no read at all (no format fits with enough confidence).
    pub no_read: usize,
    /// Per-position character confusions, most frequent first.
    pub confusions: Vec<Confusion>,
    /// Scored crops with a read: the crops whose colour is scored.
    pub colour_scored: usize,
    /// Of those, the colour is [`PLATES_SET_COLOUR`].
    pub colour_correct: usize,
    /// Of those, no colour (the estimate was under `colour_min_confidence`).
    pub colour_unsure: usize,
    /// `colour_correct / colour_scored`.
    pub colour_accuracy: f64,
    /// Colours read, with counts (`"none"` for unsure), most frequent first.
    pub colours: Vec<(String, usize)>,
    /// Scored crops read wrongly or not at all.
    pub misses: Vec<CropResult>,
    /// Crops read but not scored.
    pub excluded: Vec<ExcludedCrop>,
    /// Wall time of recognition and decoding (image decoding excluded), seconds.
    pub seconds: f64,
    /// Crops per second through recognition and decoding.
    pub crops_per_s: f64,
    /// Every crop.
    pub crops: Vec<CropResult>,
}

/// Reads every labelled crop of `dir` with `reader` (batched by the reader's `rec_batch`).
pub fn eval_plates(dir: &Path, reader: &mut PlateReader) -> Result<PlatesReport, EvalError> {
    let labels = plate_labels(dir)?;
    let images = labels
        .iter()
        .map(|l| load_image(&dir.join(&l.file)))
        .collect::<Result<Vec<_>, _>>()?;
    let views: Vec<_> = images.iter().map(|i| i.view()).collect();
    let failed = |source| EvalError::Reader {
        file: dir.display().to_string(),
        source: Box::new(source),
    };
    let start = Instant::now();
    let reads = reader.read_crops(&views).map_err(failed)?;
    let seconds = start.elapsed().as_secs_f64();
    let greedy = reader.greedy_crops(&views).map_err(failed)?;

    let mut crops = Vec::with_capacity(labels.len());
    let mut excluded = Vec::new();
    for ((label, r), greedy) in labels.iter().zip(&reads).zip(greedy) {
        let read = r.as_ref().map(ReadSummary::from);
        if let Some(reason) = exclusion(&label.file) {
            excluded.push(ExcludedCrop {
                file: label.file.clone(),
                reason: reason.to_owned(),
                read,
            });
            continue;
        }
        crops.push(CropResult {
            file: label.file.clone(),
            expected: label.plate.clone(),
            correct: read.as_ref().is_some_and(|x| x.text == label.plate),
            colour_correct: read
                .as_ref()
                .is_some_and(|x| x.colour.as_deref() == Some(PLATES_SET_COLOUR)),
            read,
            greedy,
        });
    }
    let scored = crops.len();
    let correct = crops.iter().filter(|c| c.correct).count();
    let greedy_correct = crops.iter().filter(|c| c.greedy == c.expected).count();
    let read: Vec<&CropResult> = crops.iter().filter(|c| c.read.is_some()).collect();
    let colour_correct = read.iter().filter(|c| c.colour_correct).count();
    let mut colours: BTreeMap<String, usize> = BTreeMap::new();
    for c in &read {
        let name = c.read.as_ref().and_then(|x| x.colour.clone());
        *colours.entry(name.unwrap_or_else(|| "none".into())).or_default() += 1;
    }
    let mut colours: Vec<(String, usize)> = colours.into_iter().collect();
    colours.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Ok(PlatesReport {
        dir: dir.display().to_string(),
        scored,
        correct,
        accuracy: ratio(correct, scored),
        greedy_correct,
        greedy_accuracy: ratio(greedy_correct, scored),
        no_read: crops.iter().filter(|c| c.read.is_none()).count(),
        colour_scored: read.len(),
        colour_correct,
        colour_unsure: colours.iter().find(|(n, _)| n == "none").map_or(0, |(_, k)| *k),
        colour_accuracy: ratio(colour_correct, read.len()),
        colours,
        confusions: confusions(&crops),
        misses: crops.iter().filter(|c| !c.correct).cloned().collect(),
        excluded,
        seconds,
        crops_per_s: ratio(labels.len(), 1) / seconds.max(1e-9),
        crops,
    })
}

/// Per-position substitutions among reads of the labelled length.
pub fn confusions(crops: &[CropResult]) -> Vec<Confusion> {
    let mut counts: BTreeMap<(usize, char, char), usize> = BTreeMap::new();
    for c in crops {
        let Some(read) = &c.read else { continue };
        if read.text.chars().count() != c.expected.chars().count() {
            continue;
        }
        for (i, (e, g)) in c.expected.chars().zip(read.text.chars()).enumerate() {
            if e != g {
                *counts.entry((i + 1, e, g)).or_default() += 1;
            }
        }
    }
    let mut out: Vec<Confusion> = counts
        .into_iter()
        .map(|((position, expected, got), count)| Confusion {
            position,
            expected,
            got,
            count,
        })
        .collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then(a.position.cmp(&b.position)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crop(expected: &str, got: Option<&str>) -> CropResult {
        CropResult {
            file: format!("{expected}.jpg"),
            expected: expected.into(),
            read: got.map(|t| ReadSummary {
                text: t.into(),
                confidence: 0.9,
                format: "cn-ordinary".into(),
                box_px: None,
                colour: Some("blue".into()),
            }),
            greedy: String::new(),
            correct: got == Some(expected),
            colour_correct: got.is_some(),
        }
    }

    #[test]
    fn confusions_count_substitutions_per_position() {
        let crops = [
            crop("皖A12345", Some("皖A12345")),
            crop("皖A18345", Some("皖A1B345")),
            crop("皖A88888", Some("皖AB8888")),
            crop("皖A88888", Some("皖AB888")),
            crop("皖A55555", None),
        ];
        let c = confusions(&crops);
        assert_eq!(
            c,
            vec![
                Confusion {
                    position: 3,
                    expected: '8',
                    got: 'B',
                    count: 1
                },
                Confusion {
                    position: 4,
                    expected: '8',
                    got: 'B',
                    count: 1
                },
            ]
        );
    }
}
