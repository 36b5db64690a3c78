//! Voting across a track: many noisy per-frame reads → one plate per vehicle.
//!
//! A vehicle crossing a camera is read in many frames; glare, blur and angle flip single
//! characters in some of them (`0`↔`D`, `8`↔`B`). Reads are first grouped by format and length
//! (a 7-character and an 8-character read cannot be compared position by position), the group
//! with the largest total confidence wins, and within it each position takes the character with
//! the largest summed per-character confidence. The voted plate is emitted once per track:
//! early, as soon as enough confident reads agree with it exactly, or when the track ends.

use std::collections::HashMap;
use std::hash::Hash;

use vigil_core::plate::PlateRead;

/// Knobs of [`PlateVoter`].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VoterConfig {
    /// Reads whose text equals the voted text, each with confidence ≥ `min_read_confidence`,
    /// needed to emit before the track ends. Default 3.
    pub min_agreeing_reads: usize,
    /// Confidence a read needs to count as agreeing. Default 0.6.
    pub min_read_confidence: f32,
    /// Reads kept per track; beyond it the least confident is dropped, so a car parked in view
    /// all day costs bounded memory. Default 32.
    pub max_reads_per_track: usize,
    /// Lowest confidence of the voted plate for [`PlateVoter::finish`] to emit it. Default 0.2.
    pub min_final_confidence: f32,
}

impl Default for VoterConfig {
    fn default() -> Self {
        Self {
            min_agreeing_reads: 3,
            min_read_confidence: 0.6,
            max_reads_per_track: 32,
            min_final_confidence: 0.2,
        }
    }
}

/// Why a [`VoterConfig`] was rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VoterConfigError {
    /// A confidence threshold outside 0..1.
    #[error("plate voter: {field} = {value} is not in 0..1")]
    BadConfidence {
        /// Which field.
        field: &'static str,
        /// The value given.
        value: f32,
    },
    /// `min_agreeing_reads` is 0 or more than `max_reads_per_track` can ever hold.
    #[error("plate voter: min_agreeing_reads = {agreeing} must be between 1 and max_reads_per_track = {max}")]
    BadReadCounts {
        /// `min_agreeing_reads`.
        agreeing: usize,
        /// `max_reads_per_track`.
        max: usize,
    },
}

/// Per-track reads and whether the track's plate was already emitted.
#[derive(Debug, Clone, Default)]
struct TrackVotes {
    /// Reads kept for voting (at most `max_reads_per_track`).
    reads: Vec<PlateRead>,
    /// True once the plate was emitted early; later reads are ignored.
    decided: bool,
}

/// Accumulates plate reads per track id and emits one voted read per track.
///
/// `K` is the tracker's id type. Call [`PlateVoter::finish`] when a track ends, or its reads
/// stay in memory.
#[derive(Debug, Clone)]
pub struct PlateVoter<K> {
    /// Thresholds.
    config: VoterConfig,
    /// Live tracks.
    tracks: HashMap<K, TrackVotes>,
}

/// The outcome of a vote over one track's reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Vote {
    /// The voted plate. Per-character confidence = agreement share (the winner's summed
    /// confidence over all reads' at that position) × (1 − Π(1 − cᵢ) over the reads that
    /// support it): frames count as independent evidence, so many agreeing frames make a
    /// character surer than any one of them, while dissent caps it at the share. Frames are not
    /// truly independent (the same glare repeats a confusion), which this overstates; the share
    /// is the guard. Overall = product of the characters, as for a single read.
    pub read: PlateRead,
    /// Reads in the winning group whose text equals the voted text, at or above
    /// `min_read_confidence`.
    pub agreeing: usize,
    /// Reads in the winning group.
    pub group_size: usize,
}

impl<K: Hash + Eq + Clone> PlateVoter<K> {
    /// A voter with validated thresholds.
    pub fn new(config: VoterConfig) -> Result<Self, VoterConfigError> {
        for (field, value) in [
            ("min_read_confidence", config.min_read_confidence),
            ("min_final_confidence", config.min_final_confidence),
        ] {
            if !(0.0..=1.0).contains(&value) {
                return Err(VoterConfigError::BadConfidence { field, value });
            }
        }
        if config.min_agreeing_reads == 0 || config.min_agreeing_reads > config.max_reads_per_track {
            return Err(VoterConfigError::BadReadCounts {
                agreeing: config.min_agreeing_reads,
                max: config.max_reads_per_track,
            });
        }
        Ok(Self {
            config,
            tracks: HashMap::new(),
        })
    }

    /// Adds one read of `track`. Returns the voted plate the first time enough confident reads
    /// agree on it; `None` otherwise, and always `None` once the track's plate was emitted.
    /// Reads with empty text or a non-finite confidence are ignored.
    pub fn push(&mut self, track: K, read: PlateRead) -> Option<PlateRead> {
        if read.text.is_empty() || !read.confidence.is_finite() {
            return None;
        }
        let max = self.config.max_reads_per_track;
        let votes = self.tracks.entry(track).or_default();
        if votes.decided {
            return None;
        }
        votes.reads.push(read);
        if votes.reads.len() > max {
            // Drop the least confident read; the earliest of equals, so recent views win.
            let worst = votes
                .reads
                .iter()
                .enumerate()
                .min_by(|a, b| a.1.confidence.total_cmp(&b.1.confidence))
                .map(|(i, _)| i);
            if let Some(i) = worst {
                votes.reads.remove(i);
            }
        }
        let vote = vote(&votes.reads, self.config.min_read_confidence)?;
        if vote.agreeing >= self.config.min_agreeing_reads {
            votes.decided = true;
            votes.reads.clear();
            return Some(vote.read);
        }
        None
    }

    /// Ends `track`: returns its voted plate unless it was already emitted, no read was kept,
    /// or the vote's confidence is below `min_final_confidence`. Forgets the track either way.
    pub fn finish(&mut self, track: &K) -> Option<PlateRead> {
        let votes = self.tracks.remove(track)?;
        if votes.decided {
            return None;
        }
        vote(&votes.reads, self.config.min_read_confidence)
            .map(|v| v.read)
            .filter(|r| r.confidence >= self.config.min_final_confidence)
    }

    /// The vote so far for `track`, without emitting or forgetting anything.
    pub fn current(&self, track: &K) -> Option<Vote> {
        vote(&self.tracks.get(track)?.reads, self.config.min_read_confidence)
    }

    /// True when `track`'s plate was already emitted by [`PlateVoter::push`].
    pub fn is_decided(&self, track: &K) -> bool {
        self.tracks.get(track).is_some_and(|v| v.decided)
    }

    /// Tracks currently held (decided ones included until they are finished).
    pub fn track_count(&self) -> usize {
        self.tracks.len()
    }

    /// Reads currently held for `track`.
    pub fn read_count(&self, track: &K) -> usize {
        self.tracks.get(track).map_or(0, |v| v.reads.len())
    }
}

/// Votes over a set of reads (see the module docs); `None` for no reads.
pub fn vote(reads: &[PlateRead], min_read_confidence: f32) -> Option<Vote> {
    // Groups by (format, length), in first-seen order so ties are deterministic.
    let mut groups: Vec<((&str, usize), Vec<&PlateRead>, f32)> = Vec::new();
    for r in reads {
        let key = (r.format.as_str(), r.char_count());
        let weight = unit(r.confidence);
        match groups.iter_mut().find(|g| g.0 == key) {
            Some(g) => {
                g.1.push(r);
                g.2 += weight;
            }
            None => groups.push((key, vec![r], weight)),
        }
    }
    let (_, group, _) = groups
        .into_iter()
        .reduce(|best, g| if g.2 > best.2 { g } else { best })?;
    let len = group.first()?.char_count();

    let mut text = String::with_capacity(len * 3);
    let mut char_confidences = Vec::with_capacity(len);
    for pos in 0..len {
        // (character, summed weight, product of (1 − weight) of its supporters).
        let mut tally: Vec<(char, f32, f32)> = Vec::new();
        let mut total = 0.0f32;
        for r in &group {
            let Some(c) = r.text.chars().nth(pos) else {
                continue;
            };
            let w = char_weight(r, pos);
            total += w;
            match tally.iter_mut().find(|t| t.0 == c) {
                Some(t) => {
                    t.1 += w;
                    t.2 *= 1.0 - w;
                }
                None => tally.push((c, w, 1.0 - w)),
            }
        }
        let (c, w, miss) = tally
            .into_iter()
            .reduce(|best, t| if t.1 > best.1 { t } else { best })?;
        text.push(c);
        let share = if total > 0.0 { w / total } else { 0.0 };
        char_confidences.push((share * (1.0 - miss)).clamp(0.0, 1.0));
    }

    let agreeing: Vec<&PlateRead> = group
        .iter()
        .copied()
        .filter(|r| r.text == text && r.confidence >= min_read_confidence)
        .collect();
    // The box and snapshot come from the best read that agrees, else the best of the group.
    let representative = most_confident(&agreeing).or_else(|| most_confident(&group))?;
    let read = PlateRead {
        confidence: char_confidences.iter().product(),
        text,
        char_confidences,
        format: representative.format.clone(),
        box_px: representative.box_px,
        colour: vote_colour(&group),
    };
    Some(Vote {
        read,
        agreeing: agreeing.len(),
        group_size: group.len(),
    })
}

/// The read with the highest overall confidence; the first of equals.
fn most_confident<'a>(reads: &[&'a PlateRead]) -> Option<&'a PlateRead> {
    reads
        .iter()
        .copied()
        .reduce(|a, b| if b.confidence > a.confidence { b } else { a })
}

/// Confidence-weighted majority of the colours the reads carry.
fn vote_colour(group: &[&PlateRead]) -> Option<String> {
    let mut tally: Vec<(&str, f32)> = Vec::new();
    for r in group {
        if let Some(c) = r.colour.as_deref() {
            match tally.iter_mut().find(|t| t.0 == c) {
                Some(t) => t.1 += unit(r.confidence),
                None => tally.push((c, unit(r.confidence))),
            }
        }
    }
    tally
        .into_iter()
        .reduce(|best, t| if t.1 > best.1 { t } else { best })
        .map(|(c, _)| c.to_owned())
}

/// The weight of a read's character at `pos`: its own confidence when the read carries one per
/// character, else the read's overall confidence.
fn char_weight(r: &PlateRead, pos: usize) -> f32 {
    if r.char_confidences.len() == r.char_count() {
        r.char_confidences.get(pos).copied().map_or(0.0, unit)
    } else {
        unit(r.confidence)
    }
}

/// Clamps a confidence into 0..1; NaN counts as 0.
fn unit(c: f32) -> f32 {
    if c.is_nan() { 0.0 } else { c.clamp(0.0, 1.0) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A read as the decoder makes it: every character at `char_conf`, overall = product.
    fn read(text: &str, char_conf: f32) -> PlateRead {
        let n = text.chars().count();
        PlateRead {
            text: text.into(),
            confidence: char_conf.powi(n as i32),
            char_confidences: vec![char_conf; n],
            format: if n == 8 {
                "cn-new-energy".into()
            } else {
                "cn-ordinary".into()
            },
            box_px: None,
            colour: None,
        }
    }

    fn voter(cfg: VoterConfig) -> PlateVoter<u64> {
        PlateVoter::new(cfg).expect("valid config")
    }

    #[test]
    fn noisy_track_emits_the_true_plate_once() {
        let mut v = voter(VoterConfig::default());
        // Frames 2 and 4 flip one character each (0→D, H→N).
        let frames = [
            read("皖A0H627", 0.95),
            read("皖ADH627", 0.9),
            read("皖A0H627", 0.97),
            read("皖A0N627", 0.9),
            read("皖A0H627", 0.96),
            read("皖A0H627", 0.95),
        ];
        let emitted: Vec<(usize, PlateRead)> = frames
            .into_iter()
            .enumerate()
            .filter_map(|(i, r)| v.push(7, r).map(|out| (i, out)))
            .collect();
        assert_eq!(emitted.len(), 1, "one emission per track: {emitted:?}");
        let (frame, out) = &emitted[0];
        assert_eq!(out.text, "皖A0H627");
        assert_eq!(*frame, 4, "decided at the third agreeing confident read");
        assert!(out.is_consistent(), "{out:?}");
        assert!(v.is_decided(&7));
        assert_eq!(v.finish(&7), None, "already emitted");
        assert_eq!(v.track_count(), 0);
    }

    #[test]
    fn vote_recovers_a_plate_no_single_frame_read_right() {
        let mut v = voter(VoterConfig::default());
        for text in ["京B8123Z", "京A8I23Z", "京A812ZZ", "京A81232", "京AB123Z"] {
            assert_eq!(
                v.push(1, read(text, 0.8)),
                None,
                "no read agrees with the vote exactly"
            );
        }
        let out = v.finish(&1).expect("track ends with a plate");
        assert_eq!(out.text, "京A8123Z");
        // Position 2 was read 'A' in 4 of 5 frames at 0.8: share 0.8 × (1 − 0.2⁴).
        let want = 0.8 * (1.0 - 0.2f32.powi(4));
        assert!(
            (out.char_confidences[1] - want).abs() < 1e-5,
            "{:?}",
            out.char_confidences
        );
        // Position 1 (京) was unanimous: five frames at 0.8 → 1 − 0.2⁵, above any single frame.
        assert!((out.char_confidences[0] - (1.0 - 0.2f32.powi(5))).abs() < 1e-5);
    }

    #[test]
    fn reads_group_by_length_and_format_first() {
        let mut v = voter(VoterConfig {
            min_agreeing_reads: 10,
            ..Default::default()
        });
        // Two confident 8-character reads (0.99⁸ ≈ 0.92 each) against four 7-character ones
        // (0.95⁷ ≈ 0.70 each): 1.85 < 2.79, so the 7-character group wins.
        v.push(1, read("粤BD12345", 0.99));
        v.push(1, read("粤BD12345", 0.99));
        for _ in 0..4 {
            v.push(1, read("粤B12345", 0.95));
        }
        let out = v.finish(&1).expect("plate");
        assert_eq!(out.text, "粤B12345");
        assert_eq!(out.format, "cn-ordinary");
    }

    #[test]
    fn unconfident_reads_never_decide_early_and_weak_votes_are_dropped() {
        let mut v = voter(VoterConfig::default());
        // 0.9 per character is 0.48 overall, under min_read_confidence 0.6.
        for _ in 0..10 {
            assert_eq!(v.push(3, read("京A12345", 0.9)), None);
        }
        assert_eq!(v.current(&3).map(|c| c.agreeing), Some(0));
        assert_eq!(v.finish(&3).map(|r| r.text), Some("京A12345".to_owned()));

        // One read at 0.8 per char over 7 chars: product 0.21 ≥ 0.2 emits; 0.7 → 0.08 does not.
        v.push(4, read("京A12345", 0.8));
        assert!(v.finish(&4).is_some());
        v.push(5, read("京A12345", 0.7));
        assert_eq!(v.finish(&5), None);
        assert_eq!(v.finish(&99), None, "unknown track");
    }

    #[test]
    fn tracks_are_independent_and_memory_is_bounded() {
        let cfg = VoterConfig {
            max_reads_per_track: 5,
            min_agreeing_reads: 5,
            min_final_confidence: 0.0,
            ..Default::default()
        };
        let mut v = voter(cfg);
        for i in 0..100 {
            v.push(1, read("京A12345", 0.3 + (i % 7) as f32 * 0.01));
            v.push(2, read("沪C8GK31", 0.5));
        }
        assert_eq!(v.read_count(&1), 5);
        assert_eq!(v.finish(&2).map(|r| r.text), Some("沪C8GK31".to_owned()));
        assert_eq!(v.finish(&1).map(|r| r.text), Some("京A12345".to_owned()));
    }

    #[test]
    fn box_and_colour_come_from_the_reads() {
        let mut v = voter(VoterConfig::default());
        let mut a = read("京A12345", 0.95);
        a.box_px = Some(vigil_core::BoxPx::new(1.0, 2.0, 3.0, 4.0));
        a.colour = Some("blue".into());
        let mut b = read("京A12345", 0.7);
        b.colour = Some("green".into());
        v.push(1, b);
        v.push(1, a.clone());
        let out = v.finish(&1).expect("plate");
        assert_eq!(out.box_px, a.box_px);
        assert_eq!(out.colour.as_deref(), Some("blue"));
    }

    #[test]
    fn bad_config_is_rejected() {
        let bad = |cfg| PlateVoter::<u64>::new(cfg).is_err();
        assert!(bad(VoterConfig {
            min_agreeing_reads: 0,
            ..Default::default()
        }));
        assert!(bad(VoterConfig {
            max_reads_per_track: 2,
            ..Default::default()
        }));
        assert!(bad(VoterConfig {
            min_read_confidence: f32::NAN,
            ..Default::default()
        }));
        assert!(bad(VoterConfig {
            min_final_confidence: 1.5,
            ..Default::default()
        }));
    }

    proptest! {
        /// With fewer than half the frames flipping one character each, the vote is the truth.
        #[test]
        fn minority_flips_never_win(
            truth in "[京沪粤][A-HJ-NP-Z][0-9A-HJ-NP-Z]{5}",
            n in 3usize..15,
            flips in prop::collection::vec((0usize..7, "[0-9A-HJ-NP-Z]"), 0..7),
        ) {
            let flipped = flips.len().min((n - 1) / 2);
            let mut reads = Vec::new();
            for i in 0..n {
                let mut chars: Vec<char> = truth.chars().collect();
                if let Some((pos, c)) = flips.get(i).filter(|_| i < flipped) {
                    chars[*pos] = c.chars().next().unwrap_or('Z');
                }
                reads.push(read(&chars.iter().collect::<String>(), 0.8));
            }
            let v = vote(&reads, 0.6).expect("reads given");
            prop_assert_eq!(v.read.text, truth);
        }
    }
}
