//! Plate background colour from the pixels of a rectified plate strip, and how the plate's
//! format refines it.
//!
//! Chinese plates come in five backgrounds, and the text is always achromatic (or red, on a
//! small part of police plates): white text on **blue** (small cars) and **black** (foreign,
//! consular, Hong Kong/Macau crossing); black text on **yellow** (large vehicles, learners,
//! trailers, and the yellow-green large new-energy plate), **green** (small new-energy: a
//! white-to-green gradient) and **white** (police, military).
//!
//! The pixel classifier ([`strip_stats`] then [`classify_stats`]; [`classify_strips`] does both)
//! is a pure function:
//! 1. Luminance of the strip's inner part (the outer rim is often the plate frame or the car
//!    body) is split into a dark and a light class at Otsu's threshold. Without contrast there is
//!    no text to separate and no answer.
//! 2. Each class is summarised by the mean colour of its *core* (pixels clearly away from the
//!    threshold, so anti-aliased stroke edges do not blend the two).
//! 3. Two polarities are possible: light text on a dark background (blue, black) or dark text
//!    on a light background (yellow, green, white). For light text the text is a white
//!    reference, so the background is white-balanced halfway by it (square-root von Kries
//!    gains, clamped): half, because blurred strokes take on the background's own colour.
//!    Dark text carries no illuminant information, so light backgrounds are judged as they are.
//! 4. Every colour gets a score from soft hue / saturation / brightness memberships and the
//!    share of the strip its background class covers (backgrounds cover most of a plate); the
//!    best score wins, and the confidence is its margin over the runner-up times the
//!    evidence's strength.
//!
//! [`fuse_with_format`] then uses what the text says: an 8-character new-energy read is green
//! (small cars, class letter third) or yellow (large vehicles, D/F last), and the special
//! suffixes name their colour (警 white, 学/挂 yellow, 港/澳/领/使 black). Pixels stay the primary
//! evidence: the format only decides when the pixels are unsure or disagree within the same
//! polarity (the gradient of a green plate can look white or yellow-ish), never when they see
//! the opposite polarity (a clear blue plate read as new-energy is a misread, not a green plate).

use serde::Serialize;
use vigil_core::model::ColorOrder;
use vigil_infer::ImageView;

/// A plate background colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PlateColour {
    /// White text on blue: ordinary small vehicles.
    Blue,
    /// Black text on yellow: large vehicles, learners, trailers; also the yellow-green
    /// large-vehicle new-energy plate.
    Yellow,
    /// Black text on a white-to-green gradient: small new-energy vehicles.
    Green,
    /// Black (or red) text on white: police, military.
    White,
    /// White text on black: foreign, consular, Hong Kong / Macau crossing.
    Black,
}

impl PlateColour {
    /// Every colour, in a fixed order.
    pub const ALL: [PlateColour; 5] = [
        PlateColour::Blue,
        PlateColour::Yellow,
        PlateColour::Green,
        PlateColour::White,
        PlateColour::Black,
    ];

    /// The name used in [`vigil_core::plate::PlateRead::colour`] and the labels files.
    pub fn as_str(self) -> &'static str {
        match self {
            PlateColour::Blue => "blue",
            PlateColour::Yellow => "yellow",
            PlateColour::Green => "green",
            PlateColour::White => "white",
            PlateColour::Black => "black",
        }
    }

    /// True for the colours with light text on a dark background.
    pub fn light_text(self) -> bool {
        matches!(self, PlateColour::Blue | PlateColour::Black)
    }
}

/// Where a colour estimate came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ColourSource {
    /// The strip's pixels alone.
    Pixels,
    /// The plate format alone (the pixels were unsure or disagreed within the polarity).
    Format,
    /// Pixels and format agree.
    Both,
}

/// A plate colour with how sure the classifier is.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ColourEstimate {
    /// The colour.
    pub colour: PlateColour,
    /// Confidence in 0..1.
    pub confidence: f32,
    /// What decided it.
    pub source: ColourSource,
}

/// Summary of one luminance class of a strip.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ClassStats {
    /// Share of the inspected pixels in this class, 0..1.
    pub share: f32,
    /// Mean RGB of the class core, 0..1 each.
    pub rgb: [f32; 3],
}

/// The two luminance classes of a strip: the input of [`classify_stats`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct StripStats {
    /// Otsu threshold on luminance, 0..1.
    pub threshold: f32,
    /// Pixels darker than the threshold.
    pub dark: ClassStats,
    /// Pixels at or above it.
    pub light: ClassStats,
}

/// Fraction of the width trimmed off each side before measuring: the rim is often frame,
/// bolt heads or bodywork.
const TRIM_X: f32 = 0.06;
/// Same, of the height, top and bottom.
const TRIM_Y: f32 = 0.12;
/// Luminance gap between the class means below which there is no text to separate.
const MIN_CONTRAST: f32 = 0.08;
/// Pixels within this fraction of the class-mean gap from the threshold are stroke edges and
/// left out of the class colours.
const EDGE_BAND: f32 = 0.15;
/// White-balance gains are clamped to 1/MAX_GAIN..MAX_GAIN: beyond that the "white" text is
/// not white text.
const MAX_GAIN: f32 = 2.5;

fn luma(p: [f32; 3]) -> f32 {
    0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]
}

/// Hue in degrees (0..360), saturation and value (0..1) of an RGB colour.
pub fn hsv(p: [f32; 3]) -> (f32, f32, f32) {
    let [r, g, b] = p;
    let max = r.max(g).max(b);
    let min = r.min(g).min(b);
    let c = max - min;
    let s = if max > 0.0 { c / max } else { 0.0 };
    let h = if c <= f32::EPSILON {
        0.0
    } else if max == r {
        60.0 * ((g - b) / c).rem_euclid(6.0)
    } else if max == g {
        60.0 * ((b - r) / c + 2.0)
    } else {
        60.0 * ((r - g) / c + 4.0)
    };
    (h, s, max)
}

/// Measures the two luminance classes of a strip (or of the strips of one plate, e.g. both
/// rows of a double-row plate, pooled). `None` when there are too few pixels or no contrast.
pub fn strip_stats(strips: &[ImageView<'_>]) -> Option<StripStats> {
    let mut px: Vec<[f32; 3]> = Vec::new();
    for s in strips {
        if s.validate().is_err() {
            continue;
        }
        let (w, h) = (s.width as usize, s.height as usize);
        let (x0, y0) = ((w as f32 * TRIM_X) as usize, (h as f32 * TRIM_Y) as usize);
        let (x1, y1) = (w - x0, h - y0);
        for y in y0..y1 {
            let row = s.data.get(y * s.stride..y * s.stride + 3 * w)?;
            for x in x0..x1 {
                let q = &row[3 * x..3 * x + 3];
                let (a, b, c) = (f32::from(q[0]), f32::from(q[1]), f32::from(q[2]));
                let rgb = match s.color {
                    ColorOrder::Rgb => [a, b, c],
                    ColorOrder::Bgr => [c, b, a],
                };
                px.push(rgb.map(|v| v / 255.0));
            }
        }
    }
    if px.len() < 16 {
        return None;
    }
    let lum: Vec<f32> = px.iter().map(|p| luma(*p)).collect();
    let threshold = otsu(&lum);
    let (mut n_dark, mut sum_dark, mut sum_light) = (0usize, 0.0f32, 0.0f32);
    for &l in &lum {
        if l < threshold {
            n_dark += 1;
            sum_dark += l;
        } else {
            sum_light += l;
        }
    }
    let n_light = lum.len() - n_dark;
    if n_dark == 0 || n_light == 0 {
        return None;
    }
    let (m_dark, m_light) = (sum_dark / n_dark as f32, sum_light / n_light as f32);
    if m_light - m_dark < MIN_CONTRAST {
        return None;
    }
    let band = EDGE_BAND * (m_light - m_dark);
    let mean_of = |keep: &dyn Fn(f32) -> bool| {
        let (mut n, mut acc) = (0usize, [0.0f32; 3]);
        for (p, &l) in px.iter().zip(&lum) {
            if keep(l) {
                n += 1;
                for (a, v) in acc.iter_mut().zip(p) {
                    *a += v;
                }
            }
        }
        (n > 0).then(|| acc.map(|a| a / n as f32))
    };
    let dark_rgb = mean_of(&|l| l < threshold - band).or_else(|| mean_of(&|l| l < threshold))?;
    let light_rgb = mean_of(&|l| l >= threshold + band).or_else(|| mean_of(&|l| l >= threshold))?;
    let total = lum.len() as f32;
    Some(StripStats {
        threshold,
        dark: ClassStats {
            share: n_dark as f32 / total,
            rgb: dark_rgb,
        },
        light: ClassStats {
            share: n_light as f32 / total,
            rgb: light_rgb,
        },
    })
}

/// Otsu's threshold of values in 0..1 (64 bins: plenty for a two-class split).
fn otsu(values: &[f32]) -> f32 {
    const BINS: usize = 64;
    let mut hist = [0usize; BINS];
    for &v in values {
        let b = ((v.clamp(0.0, 1.0) * BINS as f32) as usize).min(BINS - 1);
        hist[b] += 1;
    }
    let total = values.len() as f64;
    let sum_all: f64 = hist.iter().enumerate().map(|(i, &c)| i as f64 * c as f64).sum();
    let (mut w0, mut sum0, mut best, mut best_t) = (0.0f64, 0.0f64, -1.0f64, BINS / 2);
    for (t, &c) in hist.iter().enumerate().take(BINS - 1) {
        w0 += c as f64;
        sum0 += t as f64 * c as f64;
        let w1 = total - w0;
        if w0 == 0.0 || w1 == 0.0 {
            continue;
        }
        let (m0, m1) = (sum0 / w0, (sum_all - sum0) / w1);
        let between = w0 * w1 * (m0 - m1) * (m0 - m1);
        if between > best {
            best = between;
            best_t = t;
        }
    }
    (best_t + 1) as f32 / BINS as f32
}

/// 0 below `a`, 1 above `b`, linear between (`a > b` gives a falling ramp).
fn ramp(x: f32, a: f32, b: f32) -> f32 {
    ((x - a) / (b - a)).clamp(0.0, 1.0)
}

/// Membership of hue `h` in the band `lo..hi` (degrees), fading out over `soft` degrees.
fn hue_in(h: f32, lo: f32, hi: f32, soft: f32) -> f32 {
    let d = if h < lo {
        (lo - h).min(h + 360.0 - hi)
    } else if h > hi {
        (h - hi).min(lo + 360.0 - h)
    } else {
        0.0
    };
    (1.0 - d / soft).clamp(0.0, 1.0)
}

/// Saturation that does not explode for dark colours: chroma over the value, with the value
/// floored at a share of the strip's light level (a near-black pixel's tiny channel noise is
/// not colour).
fn sat_floored(p: [f32; 3], light_v: f32) -> f32 {
    let max = p[0].max(p[1]).max(p[2]);
    let min = p[0].min(p[1]).min(p[2]);
    (max - min) / max.max(0.35 * light_v).max(1e-3)
}

/// `bg` white-balanced halfway towards making `text` grey: square roots of the von Kries
/// gains, clamped to [`MAX_GAIN`]. Half, because thin or blurred white strokes pick up the
/// background's own colour (a blue halo), and full correction would then grey a blue plate.
fn balanced(bg: [f32; 3], text: [f32; 3]) -> [f32; 3] {
    let grey = (text[0] + text[1] + text[2]) / 3.0;
    let mut out = [0.0; 3];
    for ((o, b), t) in out.iter_mut().zip(bg).zip(text) {
        let gain = (grey / t.max(1e-3)).clamp(1.0 / MAX_GAIN, MAX_GAIN).sqrt();
        *o = (b * gain).min(1.0);
    }
    out
}

/// Per-colour scores (0..1) of a strip, in [`PlateColour::ALL`] order.
pub fn colour_scores(s: &StripStats) -> [f32; 5] {
    let (h_l, sat_l, light_v) = hsv(s.light.rgb);
    // Light text on a dark background (blue, black): the text is the white reference. The
    // background class should cover most of the strip.
    let light_text = ramp(s.dark.share, 0.35, 0.55);
    let bg = balanced(s.dark.rgb, s.light.rgb);
    let (h_d, _, _) = hsv(bg);
    let sat_d = sat_floored(bg, light_v);
    // Blue is the commonest plate and stays blue-hued even when dull, so a little chroma in
    // the blue band is enough.
    let blue = light_text * hue_in(h_d, 185.0, 255.0, 30.0) * ramp(sat_d, 0.06, 0.2);
    // Black needs white text: a saturated light class is a coloured background instead.
    let black =
        light_text * ramp(sat_d, 0.16, 0.06) * ramp(sat_l, 0.5, 0.3) * ramp(hsv(s.dark.rgb).2, 0.5, 0.3);
    // Dark text on a light background (yellow, green, white), judged as it is: dark text
    // carries no illuminant information.
    let dark_text = ramp(s.light.share, 0.35, 0.55);
    let yellow = dark_text * hue_in(h_l, 35.0, 65.0, 12.0) * ramp(sat_l, 0.3, 0.5);
    let green = dark_text * hue_in(h_l, 75.0, 170.0, 15.0) * ramp(sat_l, 0.06, 0.15);
    // White needs dark, near-achromatic text: a saturated dark class is a coloured background.
    // Yellow plates are deeply saturated (0.5–0.9 measured), a white plate under warm light stays
    // under ~0.25: the line between them is drawn at 0.3.
    let white = dark_text * ramp(sat_l, 0.32, 0.2) * ramp(sat_floored(s.dark.rgb, light_v), 0.45, 0.25);
    [blue, yellow, green, white, black]
}

/// Classifies measured strip statistics; `None` when no colour scores at all.
pub fn classify_stats(s: &StripStats) -> Option<ColourEstimate> {
    let scores = colour_scores(s);
    let mut order: Vec<(PlateColour, f32)> = PlateColour::ALL.into_iter().zip(scores).collect();
    order.sort_by(|a, b| b.1.total_cmp(&a.1));
    let (best, second) = (order[0], order[1]);
    if best.1 <= 0.0 {
        return None;
    }
    Some(ColourEstimate {
        colour: best.0,
        confidence: best.1 * ramp(best.1 - second.1, 0.0, 0.5),
        source: ColourSource::Pixels,
    })
}

/// Confidence given to a colour that only the plate format implies.
pub const FORMAT_CONFIDENCE: f32 = 0.6;

/// The colour a plate's format and text imply, when they imply one: new-energy plates (green
/// for small cars, yellow(-green) for large vehicles) and the special suffixes. Ordinary
/// 7-character plates can be blue, yellow, black or white, so they imply nothing.
pub fn format_colour(format: &str, text: &str) -> Option<PlateColour> {
    use vigil_plate::cn::{CN_NEW_ENERGY, CN_NEW_ENERGY_LARGE, CN_SPECIAL_SUFFIX};
    match format {
        CN_NEW_ENERGY => Some(PlateColour::Green),
        CN_NEW_ENERGY_LARGE => Some(PlateColour::Yellow),
        CN_SPECIAL_SUFFIX => match text.chars().last()? {
            '警' => Some(PlateColour::White),
            '学' | '挂' => Some(PlateColour::Yellow),
            '港' | '澳' | '领' | '使' => Some(PlateColour::Black),
            _ => None,
        },
        _ => None,
    }
}

/// Combines the pixel estimate with what the format implies ([`format_colour`]):
/// - agreement raises the confidence (two independent sources);
/// - no pixel answer, or a pixel answer of the same polarity (dark text: yellow / green /
///   white; light text: blue / black), gives the format's colour at [`FORMAT_CONFIDENCE`] ×
///   what is left: the light backgrounds differ only in hue, which casts and the green plate's
///   white-to-green gradient blur;
/// - a pixel answer of the opposite polarity is kept at half its confidence: text and pixels
///   contradict each other, so one of them is wrong, and a format is one misread character
///   away from another while the polarity of a plate is hard to mistake.
pub fn fuse_with_format(pixels: Option<ColourEstimate>, format: &str, text: &str) -> Option<ColourEstimate> {
    let Some(implied) = format_colour(format, text) else {
        return pixels;
    };
    let from_format = ColourEstimate {
        colour: implied,
        confidence: FORMAT_CONFIDENCE,
        source: ColourSource::Format,
    };
    let Some(p) = pixels else {
        return Some(from_format);
    };
    if p.colour == implied {
        Some(ColourEstimate {
            colour: implied,
            confidence: 1.0 - (1.0 - p.confidence) * (1.0 - FORMAT_CONFIDENCE),
            source: ColourSource::Both,
        })
    } else if p.colour.light_text() == implied.light_text() {
        Some(ColourEstimate {
            confidence: FORMAT_CONFIDENCE * (1.0 - 0.5 * p.confidence),
            ..from_format
        })
    } else {
        Some(ColourEstimate {
            confidence: 0.5 * p.confidence,
            ..p
        })
    }
}

/// [`strip_stats`] then [`classify_stats`].
pub fn classify_strips(strips: &[ImageView<'_>]) -> Option<ColourEstimate> {
    classify_stats(&strip_stats(strips)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Width and height of the synthetic strips (a plate's 3.2 aspect at 40 px).
    const W: usize = 128;
    const H: usize = 40;

    /// A synthetic plate strip: background `bg(y)` (a function of the row, for gradients), seven
    /// text "characters" (filled rectangles with a hole, like 0/8) in `text`, a small
    /// deterministic noise, then a per-channel `cast` and a `brightness` factor.
    fn strip(bg: impl Fn(usize) -> [f32; 3], text: [f32; 3], cast: [f32; 3], brightness: f32) -> Vec<u8> {
        let mut seed = 0x2545_f491_u32;
        let mut out = Vec::with_capacity(W * H * 3);
        for y in 0..H {
            for x in 0..W {
                let cx = x % 17;
                let in_char = (4..12).contains(&cx) && (7..33).contains(&y) && (4..4 + 7 * 17).contains(&x);
                let hole = (7..9).contains(&cx) && (13..27).contains(&y);
                let base = if in_char && !hole { text } else { bg(y) };
                for (c, v) in base.iter().enumerate() {
                    seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    let noise = ((seed >> 24) as f32 / 255.0 - 0.5) * 12.0;
                    let px = v * cast[c] * brightness + noise;
                    out.push(px.clamp(0.0, 255.0) as u8);
                }
            }
        }
        out
    }

    fn view(data: &[u8], color: ColorOrder) -> ImageView<'_> {
        ImageView {
            width: W as u32,
            height: H as u32,
            stride: W * 3,
            color,
            data,
        }
    }

    const WHITE_TEXT: [f32; 3] = [235.0, 235.0, 232.0];
    const BLACK_TEXT: [f32; 3] = [18.0, 18.0, 20.0];
    const NEUTRAL: [f32; 3] = [1.0, 1.0, 1.0];
    /// Sodium / tungsten light.
    const WARM: [f32; 3] = [1.12, 1.0, 0.85];
    /// Shade / LED light.
    const COOL: [f32; 3] = [0.88, 1.0, 1.12];

    /// (colour, background by row, text) of the five plate kinds.
    /// Background colour as a function of the row.
    type Background = Box<dyn Fn(usize) -> [f32; 3]>;

    fn kinds() -> Vec<(PlateColour, Background, [f32; 3])> {
        vec![
            (PlateColour::Blue, Box::new(|_| [22.0, 62.0, 170.0]), WHITE_TEXT),
            (
                PlateColour::Yellow,
                Box::new(|_| [232.0, 178.0, 24.0]),
                BLACK_TEXT,
            ),
            (
                PlateColour::Green,
                // White at the top to green at the bottom, as on small new-energy plates.
                Box::new(|y| {
                    let t = y as f32 / (H - 1) as f32;
                    [235.0 - 170.0 * t, 245.0 - 50.0 * t, 235.0 - 140.0 * t]
                }),
                BLACK_TEXT,
            ),
            (
                PlateColour::White,
                Box::new(|_| [236.0, 236.0, 232.0]),
                BLACK_TEXT,
            ),
            (PlateColour::Black, Box::new(|_| [24.0, 24.0, 26.0]), WHITE_TEXT),
        ]
    }

    #[test]
    fn each_kind_is_classified_under_casts_and_brightness_changes() {
        for (want, bg, text) in kinds() {
            for (cast_name, cast) in [("neutral", NEUTRAL), ("warm", WARM), ("cool", COOL)] {
                for brightness in [0.45, 0.75, 1.0, 1.15] {
                    let data = strip(&bg, text, cast, brightness);
                    let stats = strip_stats(&[view(&data, ColorOrder::Rgb)]).expect("contrast");
                    let got = classify_stats(&stats);
                    let case = format!("{want:?} {cast_name} ×{brightness}: {stats:?} → {got:?}");
                    let got = got.expect(&case);
                    assert_eq!(got.colour, want, "{case}");
                    assert!(got.confidence >= 0.5, "{case}");
                    assert_eq!(got.source, ColourSource::Pixels);
                }
            }
        }
    }

    #[test]
    fn channel_order_is_respected() {
        let (_, bg, text) = kinds().remove(0);
        let rgb = strip(bg, text, NEUTRAL, 1.0);
        let bgr: Vec<u8> = rgb.chunks(3).flat_map(|p| [p[2], p[1], p[0]]).collect();
        let a = classify_strips(&[view(&rgb, ColorOrder::Rgb)]).expect("rgb");
        let b = classify_strips(&[view(&bgr, ColorOrder::Bgr)]).expect("bgr");
        assert_eq!((a.colour, b.colour), (PlateColour::Blue, PlateColour::Blue));
        assert!((a.confidence - b.confidence).abs() < 1e-6);
        // Read with the wrong order, the blue plate is an orange one, not blue.
        let wrong = classify_strips(&[view(&bgr, ColorOrder::Rgb)]);
        assert_ne!(wrong.map(|e| e.colour), Some(PlateColour::Blue));
    }

    #[test]
    fn featureless_or_tiny_strips_have_no_colour() {
        let flat = vec![90u8; W * H * 3];
        assert_eq!(
            strip_stats(&[view(&flat, ColorOrder::Rgb)]),
            None,
            "no contrast, no text"
        );
        let tiny = ImageView {
            width: 3,
            height: 3,
            stride: 9,
            color: ColorOrder::Rgb,
            data: &[0u8; 27],
        };
        assert_eq!(classify_strips(&[tiny]), None);
        let short = ImageView {
            data: &[0u8; 10],
            ..view(&flat, ColorOrder::Rgb)
        };
        assert_eq!(
            classify_strips(&[short]),
            None,
            "a short buffer is skipped, not read"
        );
    }

    #[test]
    fn a_desaturated_strip_is_unsure_between_blue_and_black() {
        // Halfway between a blue and a black plate: neither should be claimed confidently.
        let data = strip(|_| [30.0, 32.0, 40.0], WHITE_TEXT, NEUTRAL, 1.0);
        let got = classify_strips(&[view(&data, ColorOrder::Rgb)]);
        assert!(got.is_none_or(|e| e.confidence < 0.3), "{got:?}");
    }

    #[test]
    fn both_rows_of_a_plate_are_pooled() {
        let (_, bg, text) = kinds().remove(1);
        let data = strip(bg, text, NEUTRAL, 1.0);
        let v = view(&data, ColorOrder::Rgb);
        let got = classify_strips(&[v, v]).expect("pooled");
        assert_eq!(got.colour, PlateColour::Yellow);
    }

    #[test]
    fn formats_imply_colours_only_where_the_rules_fix_them() {
        use vigil_plate::cn::{CN_NEW_ENERGY, CN_NEW_ENERGY_LARGE, CN_ORDINARY, CN_SPECIAL_SUFFIX};
        assert_eq!(
            format_colour(CN_NEW_ENERGY, "苏ED51712"),
            Some(PlateColour::Green)
        );
        assert_eq!(
            format_colour(CN_NEW_ENERGY_LARGE, "粤B12345D"),
            Some(PlateColour::Yellow)
        );
        assert_eq!(
            format_colour(CN_SPECIAL_SUFFIX, "京A1234警"),
            Some(PlateColour::White)
        );
        assert_eq!(
            format_colour(CN_SPECIAL_SUFFIX, "京A1234学"),
            Some(PlateColour::Yellow)
        );
        assert_eq!(
            format_colour(CN_SPECIAL_SUFFIX, "粤Z1234港"),
            Some(PlateColour::Black)
        );
        assert_eq!(format_colour(CN_ORDINARY, "京A12345"), None);
        assert_eq!(format_colour("uk-current", "AB12CDE"), None);
    }

    #[test]
    fn format_refines_but_does_not_override_the_pixels() {
        let px = |colour, confidence| {
            Some(ColourEstimate {
                colour,
                confidence,
                source: ColourSource::Pixels,
            })
        };
        // Ordinary plates: the pixels alone.
        assert_eq!(
            fuse_with_format(px(PlateColour::Blue, 0.9), "cn-ordinary", "京A12345"),
            px(PlateColour::Blue, 0.9)
        );
        // Agreement raises the confidence.
        let both = fuse_with_format(px(PlateColour::Green, 0.5), "cn-new-energy", "苏ED51712").expect("both");
        assert_eq!(
            (both.colour, both.source),
            (PlateColour::Green, ColourSource::Both)
        );
        assert!(both.confidence > FORMAT_CONFIDENCE, "{both:?}");
        // Unsure pixels: the format decides.
        let fmt = fuse_with_format(None, "cn-new-energy", "苏ED51712").expect("format");
        assert_eq!(
            (fmt.colour, fmt.source),
            (PlateColour::Green, ColourSource::Format)
        );
        // Same polarity (a gradient green plate seen as white): the format decides, less sure
        // the surer the pixels were.
        let same = fuse_with_format(px(PlateColour::White, 0.4), "cn-new-energy", "苏ED51712").expect("same");
        assert_eq!(same.colour, PlateColour::Green);
        assert!(same.confidence < FORMAT_CONFIDENCE);
        // Opposite polarity (a clear blue plate misread as new-energy): the pixels stay, halved.
        let opposite =
            fuse_with_format(px(PlateColour::Blue, 0.9), "cn-new-energy", "苏ED51712").expect("opp");
        assert_eq!(
            (opposite.colour, opposite.source),
            (PlateColour::Blue, ColourSource::Pixels)
        );
        assert!((opposite.confidence - 0.45).abs() < 1e-6);
    }

    #[test]
    fn helpers_behave_at_their_edges() {
        assert_eq!(hue_in(220.0, 185.0, 255.0, 30.0), 1.0);
        assert_eq!(
            hue_in(10.0, 350.0, 20.0, 10.0),
            0.0,
            "bands do not wrap; none of ours does"
        );
        assert!(
            (hue_in(355.0, 0.0, 10.0, 10.0) - 0.5).abs() < 1e-6,
            "distance wraps around 0°"
        );
        let (h, s, v) = hsv([0.0, 0.0, 1.0]);
        assert_eq!((h, s, v), (240.0, 1.0, 1.0));
        let t = otsu(&[0.1, 0.12, 0.11, 0.9, 0.88, 0.91]);
        assert!(t > 0.12 && t <= 0.88, "{t}");
        for c in PlateColour::ALL {
            assert_eq!(serde_json::to_value(c).expect("json"), c.as_str());
        }
    }
}
