//! Grammar-constrained CTC decoding: the most probable *plate* in the recogniser output.
//!
//! # Why an exact constrained Viterbi, not segment re-picking or a beam
//!
//! The obvious approach — greedy-decode to find character segments, then re-pick each segment's
//! class among those the format allows — breaks exactly when it is needed most: greedy
//! collapses a double character that the network separated by a weak blank (`88` → `8`), or
//! splits one character whose top class flickers (`0`,`O`,`0` → three characters), and the
//! segment count no longer fits any format. A beam search repairs some of that but prunes.
//!
//! A plate format with per-position classes is a linear automaton, so the best CTC path
//! *through it* can be found exactly by dynamic programming (Viterbi): states are "k characters
//! emitted, now on a blank" and "k-th character is class c, now on it", with the standard CTC
//! transitions (stay, blank → next character, character → different next character). Every
//! path covers all T steps, so path log-likelihoods are directly comparable across formats of
//! different lengths. The cost is T × (positions + Σ allowed classes) per format — about 40 ×
//! 230 for a Chinese plate — far below the T × C argmax over PP-OCR's 6625 classes, which this
//! decoder does not even need. The segment re-pick is the special case where the path follows
//! the greedy segmentation, so nothing of it is lost.
//!
//! # Scores
//!
//! * Per character: the highest probability of the chosen class over the steps the best path
//!   spends on it (the same definition greedy decoding uses).
//! * Overall confidence: the product of the character confidences, an estimate of the chance
//!   that the *whole* plate is right (one doubtful character should make a hotlist hit
//!   doubtful), compared against [`DecodeOptions::min_confidence`].
//! * Choice among formats: the highest path log-likelihood among candidates that pass the
//!   format's regex; ties go to the earlier format in the grammar. Only then is the floor
//!   applied: when the most probable plate is doubtful the answer is "no plate", never a less
//!   probable format whose characters happen to look confident (confidences do not see a
//!   character the path skipped as blank; the likelihood does).
//!
//! Formats configured without positions (regex only) are tried on the greedy text.

use vigil_core::plate::PlateRead;

use crate::alphabet::CtcAlphabet;
use crate::ctc::{CtcMatrix, DecodeError, GreedyDecode, greedy_decode, log_prob, sanitize};
use crate::grammar::PlateGrammar;
use crate::normalize::normalize_plate_text;

/// Knobs of [`PlateDecoder`].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DecodeOptions {
    /// Lowest overall confidence (product of character confidences, 0..1) for a read to be
    /// reported. Default 0.25: a 7-character plate at 0.82 per character still passes, a plate
    /// with one character the network barely saw does not.
    pub min_confidence: f32,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        Self { min_confidence: 0.25 }
    }
}

/// Why a [`PlateDecoder`] could not be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecoderError {
    /// A position of a format allows only characters the recogniser cannot output.
    #[error(
        "plate format {format:?}, position {position}: none of the allowed characters {allowed:?} is in the recogniser's dictionary ({dictionary_len} entries), so this format can never be read; use a model whose dictionary has them or drop the format"
    )]
    PositionNotInDictionary {
        /// Format name.
        format: String,
        /// 1-based position.
        position: usize,
        /// The allowed characters.
        allowed: String,
        /// Dictionary size.
        dictionary_len: usize,
    },
    /// `min_confidence` is outside 0..1 or NaN.
    #[error("min_confidence {value} is not in 0..1; use e.g. 0.25")]
    BadMinConfidence {
        /// The value given.
        value: f32,
    },
}

/// One allowed character at one position of a compiled format.
#[derive(Debug, Clone, Copy)]
struct Allowed {
    /// Column of this character in the per-decode probability tables.
    column: u32,
    /// The normalised character.
    ch: char,
}

/// A positional format resolved against the alphabet.
#[derive(Debug, Clone)]
struct CompiledFormat {
    /// Index into the grammar's formats.
    format: usize,
    /// Allowed classes per position.
    positions: Vec<Vec<Allowed>>,
}

/// A candidate read of one format, before the confidence floor.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The read (format name filled in, no box or colour).
    pub read: PlateRead,
    /// Log-probability of the best path through the format.
    pub log_likelihood: f32,
    /// Index of the format in the grammar (lower = higher priority).
    pub format_index: usize,
}

/// Decodes recogniser output into plate reads under a grammar. Build once per model and
/// grammar; `&self` methods are cheap to call from many threads.
#[derive(Debug, Clone)]
pub struct PlateDecoder {
    /// The formats that count as plates.
    grammar: PlateGrammar,
    /// The recogniser's classes.
    alphabet: CtcAlphabet,
    /// Thresholds.
    options: DecodeOptions,
    /// Formats with positions, resolved to classes.
    compiled: Vec<CompiledFormat>,
    /// Indices of regex-only formats, matched on the greedy text.
    regex_only: Vec<usize>,
    /// The characters the Viterbi needs, as the recogniser classes that read as each (`A`,
    /// `a`, `Ａ`); column 0 is the blank. A step's probability of a character is the largest
    /// of its classes', so a flicker between spellings of one character stays one character.
    columns: Vec<Vec<u32>>,
}

impl PlateDecoder {
    /// Resolves every format's positions to recogniser classes.
    pub fn new(
        grammar: PlateGrammar,
        alphabet: CtcAlphabet,
        options: DecodeOptions,
    ) -> Result<Self, DecoderError> {
        if !(0.0..=1.0).contains(&options.min_confidence) {
            return Err(DecoderError::BadMinConfidence {
                value: options.min_confidence,
            });
        }
        let mut columns: Vec<Vec<u32>> = vec![vec![0]];
        let mut column_of = std::collections::HashMap::<char, u32>::new();
        let mut compiled = Vec::new();
        let mut regex_only = Vec::new();
        for (index, format) in grammar.formats().iter().enumerate() {
            let Some(positions) = format.positions() else {
                regex_only.push(index);
                continue;
            };
            let mut resolved = Vec::with_capacity(positions.len());
            for (p, allowed_chars) in positions.iter().enumerate() {
                let mut allowed = Vec::new();
                for &ch in allowed_chars {
                    let classes = alphabet.classes_for(ch);
                    if classes.is_empty() {
                        continue;
                    }
                    let next = u32::try_from(columns.len()).unwrap_or(u32::MAX);
                    let column = *column_of.entry(ch).or_insert_with(|| {
                        columns.push(classes.to_vec());
                        next
                    });
                    allowed.push(Allowed { column, ch });
                }
                if allowed.is_empty() {
                    return Err(DecoderError::PositionNotInDictionary {
                        format: format.name().to_owned(),
                        position: p + 1,
                        allowed: allowed_chars.iter().collect(),
                        dictionary_len: alphabet.dictionary_len(),
                    });
                }
                resolved.push(allowed);
            }
            compiled.push(CompiledFormat {
                format: index,
                positions: resolved,
            });
        }
        Ok(Self {
            grammar,
            alphabet,
            options,
            compiled,
            regex_only,
            columns,
        })
    }

    /// The grammar decoded against.
    pub fn grammar(&self) -> &PlateGrammar {
        &self.grammar
    }

    /// The recogniser's alphabet.
    pub fn alphabet(&self) -> &CtcAlphabet {
        &self.alphabet
    }

    /// Plain greedy decoding of one crop's `[T, C]` output (the unconstrained baseline).
    pub fn greedy(&self, probs: &[f32], shape: [usize; 2]) -> Result<GreedyDecode, DecodeError> {
        let m = CtcMatrix::new(probs, shape, &self.alphabet)?;
        Ok(greedy_decode(&m, &self.alphabet))
    }

    /// The best plate read of one crop's `[T, C]` output, or `None` when no format fits with
    /// at least [`DecodeOptions::min_confidence`].
    pub fn decode(&self, probs: &[f32], shape: [usize; 2]) -> Result<Option<PlateRead>, DecodeError> {
        // The most probable reading or nothing: a less probable format that happens to look
        // confident (e.g. one that skips a clearly present character) is not a substitute.
        let floor = self.options.min_confidence;
        Ok(self
            .candidates(probs, shape)?
            .into_iter()
            .next()
            .filter(|c| c.read.confidence >= floor)
            .map(|c| c.read))
    }

    /// Every format's best read, best first (highest log-likelihood, then grammar order),
    /// without the confidence floor; for evaluation and debugging. Candidates whose text fails
    /// the format's regex are left out.
    pub fn candidates(&self, probs: &[f32], shape: [usize; 2]) -> Result<Vec<Candidate>, DecodeError> {
        let m = CtcMatrix::new(probs, shape, &self.alphabet)?;
        let mut out = Vec::new();
        if m.steps() > 0 {
            let tables = self.tables(&m);
            for cf in &self.compiled {
                if let Some(c) = self.viterbi(&tables, cf) {
                    out.push(c);
                }
            }
            if !self.regex_only.is_empty() {
                out.extend(self.regex_only_candidates(&greedy_decode(&m, &self.alphabet)));
            }
        }
        out.sort_by(|a, b| {
            b.log_likelihood
                .total_cmp(&a.log_likelihood)
                .then(a.format_index.cmp(&b.format_index))
        });
        Ok(out)
    }

    /// Probabilities and log-probabilities of the needed characters, `[T, columns]`.
    fn tables(&self, m: &CtcMatrix<'_>) -> Tables {
        let width = self.columns.len();
        let mut prob = Vec::with_capacity(m.steps() * width);
        for t in 0..m.steps() {
            let row = m.row(t);
            prob.extend(self.columns.iter().map(|classes| {
                classes
                    .iter()
                    .map(|&c| sanitize(row.get(c as usize).copied().unwrap_or(0.0)))
                    .fold(0.0f32, f32::max)
            }));
        }
        let log = prob.iter().map(|&p| log_prob(p)).collect();
        Tables {
            steps: m.steps(),
            width,
            prob,
            log,
        }
    }

    /// Best path through one format; `None` when no path fits (fewer steps than needed) or the
    /// text fails the regex.
    fn viterbi(&self, tables: &Tables, cf: &CompiledFormat) -> Option<Candidate> {
        let lattice = Lattice::new(&cf.positions);
        let path = lattice.best_path(tables)?;
        let mut text = String::new();
        let mut confs = Vec::with_capacity(cf.positions.len());
        for (i, allowed) in cf.positions.iter().enumerate() {
            let a = allowed.get(path.chosen[i])?;
            text.push(a.ch);
            let conf = path.steps_of[i]
                .clone()
                .map(|t| tables.prob(t, a.column))
                .fold(0.0f32, f32::max);
            confs.push(conf);
        }
        let format = self.grammar.formats().get(cf.format)?;
        if !format.matches(&text) {
            return None;
        }
        Some(Candidate {
            read: read(text, confs, format.name()),
            log_likelihood: path.log_likelihood,
            format_index: cf.format,
        })
    }

    /// Regex-only formats matched on the normalised greedy text.
    fn regex_only_candidates(&self, g: &GreedyDecode) -> Vec<Candidate> {
        let mut text = String::new();
        let mut confs = Vec::new();
        for c in &g.chars {
            for ch in normalize_plate_text(self.alphabet.label(c.class as usize)).chars() {
                text.push(ch);
                confs.push(c.confidence);
            }
        }
        let formats = self.grammar.formats();
        self.regex_only
            .iter()
            .filter_map(|&i| {
                let f = formats.get(i)?;
                f.matches(&text).then(|| Candidate {
                    read: read(text.clone(), confs.clone(), f.name()),
                    log_likelihood: g.log_likelihood,
                    format_index: i,
                })
            })
            .collect()
    }
}

/// Assembles a read; overall confidence is the product of the character confidences.
fn read(text: String, char_confidences: Vec<f32>, format: &str) -> PlateRead {
    PlateRead {
        confidence: char_confidences.iter().product(),
        text,
        char_confidences,
        format: format.to_owned(),
        box_px: None,
        colour: None,
    }
}

/// Per-step probabilities of the characters the formats need (see `PlateDecoder::columns`).
struct Tables {
    /// Time steps T.
    steps: usize,
    /// Columns per step.
    width: usize,
    /// Sanitised probabilities, `[T, width]`.
    prob: Vec<f32>,
    /// Their floored logs, same layout.
    log: Vec<f32>,
}

impl Tables {
    /// Probability of `column` at step `t` (0 outside the table).
    fn prob(&self, t: usize, column: u32) -> f32 {
        self.prob
            .get(t * self.width + column as usize)
            .copied()
            .unwrap_or(0.0)
    }

    /// The log row of step `t`.
    fn log_row(&self, t: usize) -> &[f32] {
        self.log.get(t * self.width..(t + 1) * self.width).unwrap_or(&[])
    }
}

/// The best path found by [`Lattice::best_path`].
struct BestPath {
    /// Index into each position's allowed list.
    chosen: Vec<usize>,
    /// Steps spent on each position's character.
    steps_of: Vec<std::ops::Range<usize>>,
    /// Path log-probability.
    log_likelihood: f32,
}

/// Back-pointer of a state: stayed in the same state.
const FROM_STAY: i32 = -1;
/// Back-pointer of a character state: came from the blank before it.
const FROM_BLANK: i32 = -2;

/// The state layout of one format: blank states `0..=L` ("k characters emitted, on a blank"),
/// then one state per (position, allowed class).
struct Lattice<'a> {
    /// Allowed classes per position.
    positions: &'a [Vec<Allowed>],
    /// First state index of each position's character states.
    offsets: Vec<usize>,
    /// Total states.
    states: usize,
}

impl<'a> Lattice<'a> {
    fn new(positions: &'a [Vec<Allowed>]) -> Self {
        let mut offsets = Vec::with_capacity(positions.len());
        let mut next = positions.len() + 1;
        for p in positions {
            offsets.push(next);
            next += p.len();
        }
        Self {
            positions,
            offsets,
            states: next,
        }
    }

    /// Exact Viterbi over the log table (column 0 = blank).
    fn best_path(&self, tables: &Tables) -> Option<BestPath> {
        let steps = tables.steps;
        let l = self.positions.len();
        if steps == 0 || l == 0 {
            return None;
        }
        let ninf = f32::NEG_INFINITY;
        let lp = |row: &[f32], col: u32| row.get(col as usize).copied().unwrap_or(ninf);
        let mut prev = vec![ninf; self.states];
        let mut cur = vec![ninf; self.states];
        let mut back = vec![FROM_STAY; steps * self.states];

        let row0 = tables.log_row(0);
        prev[0] = lp(row0, 0);
        for (j, a) in self.positions[0].iter().enumerate() {
            prev[self.offsets[0] + j] = lp(row0, a.column);
        }
        // Best and runner-up character state of each position at the previous step, shared by
        // the blank and character updates.
        let mut tops = vec![((0usize, ninf), (0usize, ninf)); l];
        for t in 1..steps {
            for (p, top) in tops.iter_mut().enumerate() {
                *top = self.best_of(p, &prev);
            }
            let bp = &mut back[t * self.states..(t + 1) * self.states];
            let row = tables.log_row(t);
            let blank = lp(row, 0);
            // Blank states: stay, or step off the last character.
            cur[0] = blank + prev[0];
            for n in 1..=l {
                let (best_j, best) = tops[n - 1].0;
                if best > prev[n] {
                    cur[n] = blank + best;
                    bp[n] = best_j as i32;
                } else {
                    cur[n] = blank + prev[n];
                    bp[n] = FROM_STAY;
                }
            }
            // Character states: stay, come from the blank after the previous character, or
            // come straight from a *different* previous character (the same one would be a
            // repeat and collapse).
            // Written select-style over zipped slices: no bounds checks, no unpredictable
            // branches in the loop that does nearly all the work.
            for (i, allowed) in self.positions.iter().enumerate() {
                let from_blank = prev[i];
                // Best and runner-up of the previous position, with the character of the best.
                let ((j1, v1), (j2, v2), col1) = match i.checked_sub(1) {
                    Some(p) => {
                        let (b1, b2) = tops[p];
                        (b1, b2, self.positions[p].get(b1.0).map_or(u32::MAX, |a| a.column))
                    }
                    None => ((0, ninf), (0, ninf), u32::MAX),
                };
                let range = self.offsets[i]..self.offsets[i] + allowed.len();
                let states = prev[range.clone()]
                    .iter()
                    .zip(&mut cur[range.clone()])
                    .zip(&mut bp[range]);
                for (a, ((&stay, out), back)) in allowed.iter().zip(states) {
                    let same = col1 == a.column;
                    let (fj, fv) = if same { (j2, v2) } else { (j1, v1) };
                    let take_blank = from_blank > stay;
                    let mut best = if take_blank { from_blank } else { stay };
                    let mut from = if take_blank { FROM_BLANK } else { FROM_STAY };
                    let take_char = fv > best;
                    best = if take_char { fv } else { best };
                    from = if take_char { fj as i32 } else { from };
                    *out = lp(row, a.column) + best;
                    *back = from;
                }
            }
            std::mem::swap(&mut prev, &mut cur);
        }

        // End on the blank after the last character or on the last character itself.
        let ((last_j, last_v), _) = self.best_of(l - 1, &prev);
        let (mut state, log_likelihood) = if last_v > prev[l] {
            (self.offsets[l - 1] + last_j, last_v)
        } else {
            (l, prev[l])
        };
        if !log_likelihood.is_finite() {
            return None;
        }

        let mut chosen = vec![usize::MAX; l];
        // (first, last + 1) step per position, widened as the walk back meets them.
        let mut spans = vec![(usize::MAX, 0usize); l];
        for t in (0..steps).rev() {
            if let Some((i, j)) = self.char_state(state) {
                chosen[i] = j;
                spans[i].0 = spans[i].0.min(t);
                spans[i].1 = spans[i].1.max(t + 1);
            }
            if t == 0 {
                break;
            }
            let bp = back[t * self.states + state];
            state = match (self.char_state(state), bp) {
                (_, FROM_STAY) => state,
                (Some((i, _)), FROM_BLANK) => i,
                (Some((i, _)), j) => self.offsets[i.checked_sub(1)?] + usize::try_from(j).ok()?,
                (None, j) => self.offsets[state.checked_sub(1)?] + usize::try_from(j).ok()?,
            };
        }
        // A valid path visits every position; anything else is a bug, reported as "no path".
        if chosen.contains(&usize::MAX) {
            return None;
        }
        Some(BestPath {
            chosen,
            steps_of: spans.into_iter().map(|(a, b)| a..b).collect(),
            log_likelihood,
        })
    }

    /// Best and second-best character state of `position` in `scores`: ((j, v), (j, v)).
    fn best_of(&self, position: usize, scores: &[f32]) -> ((usize, f32), (usize, f32)) {
        let ninf = f32::NEG_INFINITY;
        let mut best = (0usize, ninf);
        let mut second = (0usize, ninf);
        let start = self.offsets[position];
        for (j, &v) in scores[start..start + self.positions[position].len()]
            .iter()
            .enumerate()
        {
            if v > best.1 {
                second = best;
                best = (j, v);
            } else if v > second.1 {
                second = (j, v);
            }
        }
        (best, second)
    }

    /// `(position, j)` of a character state; `None` for a blank state.
    fn char_state(&self, state: usize) -> Option<(usize, usize)> {
        if state <= self.positions.len() {
            return None;
        }
        let i = self.offsets.partition_point(|&o| o <= state).checked_sub(1)?;
        Some((i, state - self.offsets[i]))
    }
}

#[cfg(test)]
#[path = "constrained_tests.rs"]
mod tests;
