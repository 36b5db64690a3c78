//! [`PlateReaderConfig`]: every knob of the plate stage with its default and why.
//!
//! Defaults were measured on the development sets (`vigil eval plates|scenes`, see
//! docs/accuracy.md), not guessed; each field says what changing it costs.

use vigil_infer::textbox::DbParams;

use crate::error::LprError;
use crate::geometry::Margins;

/// Settings of a [`crate::PlateReader`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PlateReaderConfig {
    /// Added around a vehicle box before localising (default 5 % left/right, 0 above, 10 %
    /// below: detector boxes sometimes end at the bumper, just above the plate).
    pub vehicle_margins: Margins,
    /// Longer side of the text detector's input for a vehicle crop, pixels, multiple of 32
    /// (default 960; small crops are enlarged to it, which is what finds distant plates, and
    /// a close car filling a 1920×1080 frame keeps its plate above ~55 px: at 640 the DB
    /// detector missed the tilted green plate of the scenes set, at 960 and 1280 it finds it).
    pub vehicle_max_side: u32,
    /// Longer side for the whole-image pass of [`crate::PlateReader::read_image`]; 0 turns the
    /// pass off (default 960: plates on vehicles the object detector misses, e.g. cut off by
    /// the frame edge or seen from straight behind at close range).
    pub scene_max_side: u32,
    /// DB binarisation threshold (default 0.3, PaddleOCR's).
    pub db_thresh: f32,
    /// DB minimum mean probability of a box (default 0.5, PaddleOCR's).
    pub db_box_thresh: f32,
    /// DB unclip ratio: how far the shrunk text kernel is grown back (default 1.6, PaddleOCR's;
    /// larger keeps the plate border, smaller cuts into the characters).
    pub db_unclip_ratio: f32,
    /// Candidates narrower than this (source pixels) are not read (default 16: under ~2 px
    /// per character stroke nothing is legible).
    pub min_plate_width_px: f32,
    /// Candidates lower than this (source pixels) are not read (default 7).
    pub min_plate_height_px: f32,
    /// Smallest width / height of a candidate line (default 1.2: the top line of a double-row
    /// plate, two characters, is the squarest text that is still part of a plate).
    pub min_aspect: f32,
    /// Largest width / height (default 12: a slogan line is longer than any plate).
    pub max_aspect: f32,
    /// At most this many candidates per localised image, highest score × area first
    /// (default 12; every candidate costs one recogniser row).
    pub max_candidates: usize,
    /// Strips per recogniser run (default 1: on the CPU with one intra-op thread a batch of 8
    /// plate crops took 27.7 ms per crop against 21.2 ms one at a time, and batches pad every
    /// strip to the widest; with a GPU execution provider use 8 or more).
    pub rec_batch: usize,
    /// Lowest overall confidence (product of character confidences) to report (default 0.25).
    pub min_confidence: f32,
    /// Lowest plate-detector score, for a YOLO-family localiser (default 0.3).
    pub plate_detector_min_score: f32,
    /// Grows each text quad along its own edges before rectifying, × its width (each side)
    /// (default 0.0: DB's unclip already leaves a margin).
    pub quad_pad_x: f32,
    /// Same, × its height, top and bottom (default 0.0).
    pub quad_pad_y: f32,
    /// Margins tried on a tight plate crop ([`crate::PlateReader::read_crop`]): each is one
    /// recogniser pass over the crop with edge-replicated margins, and the variants vote (summed
    /// confidence per text). The recogniser was trained on line crops with a margin around the
    /// glyphs; plate crops cut at the frame are outside that. Default three margins near
    /// (0.17 h, 0.125 h) — a single margin scores 98.0–99.0 % on the plates set depending on
    /// the exact value, the vote of three 99.0 % (docs/accuracy.md). An empty list reads the
    /// crop as it is.
    pub crop_pads: Vec<CropPad>,
    /// Straighten slanted characters of rectified strips (see [`crate::deskew`]) (default
    /// true: plates seen from the side are parallelograms, and the DB rectangle shears them).
    pub deskew: bool,
    /// Smallest estimated shear (px per px of height) that triggers a second rectification
    /// (default 0.1, about 6°; below it the re-warp costs more than it brings).
    pub min_slant: f32,
    /// Rectified strips narrower than this width / height are read a second time stretched
    /// to it, and the more confident read kept (default 3.0, a single-row plate's physical
    /// aspect is 3.1–3.4: a narrower strip is a plate seen from the side, its characters
    /// squeezed under the recogniser's 8-px time step). 0 turns it off.
    pub stretch_aspect: f32,
    /// Decode only the recogniser steps that cover the strip, not the batch padding after it
    /// (default true).
    pub trim_padding: bool,
    /// Lowest confidence of a plate colour estimate ([`crate::colour`]) for a read to carry
    /// it; below it `PlateRead::colour` is `None` (default 0.3: on the plate crops the one
    /// wrong pixel estimate scored 0.02 and every right one over 0.5, see docs/accuracy.md).
    /// 0 always reports the best guess.
    pub colour_min_confidence: f32,
}

/// A margin added around a tight crop, as fractions of the crop's *height* (margins are about
/// glyph size, and the glyph size follows the height).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CropPad {
    /// Columns added left and right, × crop height.
    pub x: f32,
    /// Rows added above and below, × crop height.
    pub y: f32,
}

impl Default for PlateReaderConfig {
    fn default() -> Self {
        Self {
            vehicle_margins: Margins {
                x: 0.05,
                top: 0.0,
                bottom: 0.1,
            },
            vehicle_max_side: 960,
            scene_max_side: 960,
            db_thresh: 0.3,
            db_box_thresh: 0.5,
            db_unclip_ratio: 1.6,
            min_plate_width_px: 16.0,
            min_plate_height_px: 7.0,
            min_aspect: 1.2,
            max_aspect: 12.0,
            max_candidates: 12,
            rec_batch: 1,
            min_confidence: 0.25,
            plate_detector_min_score: 0.3,
            quad_pad_x: 0.0,
            quad_pad_y: 0.0,
            crop_pads: vec![
                CropPad { x: 0.17, y: 0.125 },
                CropPad { x: 0.17, y: 0.17 },
                CropPad { x: 0.25, y: 0.125 },
            ],
            deskew: true,
            min_slant: 0.1,
            stretch_aspect: 3.0,
            trim_padding: true,
            colour_min_confidence: 0.3,
        }
    }
}

impl PlateReaderConfig {
    /// The DB post-processing parameters these settings select.
    pub fn db_params(&self) -> DbParams {
        DbParams {
            thresh: self.db_thresh,
            box_thresh: self.db_box_thresh,
            unclip_ratio: self.db_unclip_ratio,
            ..DbParams::default()
        }
    }

    /// Checks every value; the error names the field and a usable value.
    pub fn validate(&self) -> Result<(), LprError> {
        let bad = |field: &'static str, problem: String, hint: &'static str| {
            Err(LprError::Config { field, problem, hint })
        };
        self.db_params().validate().or_else(|problem| {
            bad(
                "db_thresh/db_box_thresh/db_unclip_ratio",
                problem,
                "use 0.3 / 0.5 / 1.6",
            )
        })?;
        let m = self.vehicle_margins;
        if ![m.x, m.top, m.bottom]
            .iter()
            .all(|v| v.is_finite() && (0.0..=1.0).contains(v))
        {
            return bad(
                "vehicle_margins",
                format!("{m:?} has a value outside 0..=1"),
                "fractions of the box size, e.g. x = 0.05, bottom = 0.1",
            );
        }
        for (field, side, allow_zero) in [
            ("vehicle_max_side", self.vehicle_max_side, false),
            ("scene_max_side", self.scene_max_side, true),
        ] {
            let off = side == 0 && allow_zero;
            if !off && !(32..=4096).contains(&side) {
                return bad(
                    field,
                    format!("{side} is outside 32..=4096"),
                    "e.g. 640 (scene_max_side may be 0 to turn the whole-image pass off)",
                );
            }
        }
        for (field, v) in [
            ("min_plate_width_px", self.min_plate_width_px),
            ("min_plate_height_px", self.min_plate_height_px),
            ("quad_pad_x", self.quad_pad_x),
            ("quad_pad_y", self.quad_pad_y),
            ("min_slant", self.min_slant),
            ("stretch_aspect", self.stretch_aspect),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return bad(field, format!("{v} is not a number ≥ 0"), "e.g. 16 / 7 / 0");
            }
        }
        if !(self.min_aspect > 0.0 && self.min_aspect < self.max_aspect && self.max_aspect.is_finite()) {
            return bad(
                "min_aspect/max_aspect",
                format!(
                    "{} .. {} is not a range of positive widths / heights",
                    self.min_aspect, self.max_aspect
                ),
                "use 1.2 and 12",
            );
        }
        for (field, v) in [
            ("min_confidence", self.min_confidence),
            ("plate_detector_min_score", self.plate_detector_min_score),
            ("colour_min_confidence", self.colour_min_confidence),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return bad(field, format!("{v} is not in 0..=1"), "e.g. 0.25");
            }
        }
        if let Some(p) = self.crop_pads.iter().find(|p| {
            !(p.x.is_finite() && p.y.is_finite() && (0.0..=2.0).contains(&p.x) && (0.0..=2.0).contains(&p.y))
        }) {
            return bad(
                "crop_pads",
                format!("{p:?} is outside 0..=2 crop heights"),
                "e.g. { x = 0.17, y = 0.125 }",
            );
        }
        if self.max_candidates == 0 || self.rec_batch == 0 {
            return bad(
                "max_candidates/rec_batch",
                format!(
                    "{} / {} must both be at least 1",
                    self.max_candidates, self.rec_batch
                ),
                "use 12 and 1",
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate_and_bad_values_name_their_field() {
        PlateReaderConfig::default()
            .validate()
            .expect("defaults are valid");
        let cases: [(PlateReaderConfig, &str); 6] = [
            (
                PlateReaderConfig {
                    colour_min_confidence: 1.5,
                    ..Default::default()
                },
                "colour_min_confidence",
            ),
            (
                PlateReaderConfig {
                    db_thresh: 1.5,
                    ..Default::default()
                },
                "db_thresh",
            ),
            (
                PlateReaderConfig {
                    vehicle_max_side: 8,
                    ..Default::default()
                },
                "vehicle_max_side",
            ),
            (
                PlateReaderConfig {
                    min_aspect: 20.0,
                    ..Default::default()
                },
                "min_aspect",
            ),
            (
                PlateReaderConfig {
                    rec_batch: 0,
                    ..Default::default()
                },
                "rec_batch",
            ),
            (
                PlateReaderConfig {
                    min_confidence: f32::NAN,
                    ..Default::default()
                },
                "min_confidence",
            ),
        ];
        for (cfg, field) in cases {
            let e = cfg.validate().expect_err(field).to_string();
            assert!(e.contains(field), "{e}");
        }
        let off = PlateReaderConfig {
            scene_max_side: 0,
            ..Default::default()
        };
        off.validate().expect("0 turns the scene pass off");
    }

    #[test]
    fn config_parses_from_json_with_defaults_and_rejects_typos() {
        let c: PlateReaderConfig = serde_json::from_str(r#"{"rec_batch": 4}"#).expect("parse");
        assert_eq!(c.rec_batch, 4);
        assert_eq!(c.vehicle_max_side, PlateReaderConfig::default().vehicle_max_side);
        assert!(serde_json::from_str::<PlateReaderConfig>(r#"{"rec_bach": 4}"#).is_err());
    }
}
