//! OCR-aware weighted edit distance between two matching keys.
//!
//! Plate OCR confuses a few glyph families far more often than anything else: a `0` read as
//! `D`, an `8` read as `B`. Substituting within one of [`CONFUSION_GROUPS`] therefore costs
//! little (default 0.3); any other substitution, insertion or deletion costs 1.0. The distance
//! is Levenshtein's dynamic programme with those costs.
//!
//! Costs are kept internally as integer thousandths ("milli-edits") so that sums are exact:
//! three confusions are exactly 0.9, never 0.90000004, and a threshold of 0.9 behaves as written.

/// Glyph families plate OCR confuses; the first character of each is its representative in
/// [`confusion_class`].
pub const CONFUSION_GROUPS: [&[char]; 6] = [
    &['0', 'O', 'D', 'Q'],
    &['1', 'I', 'L', '7'],
    &['2', 'Z'],
    &['5', 'S'],
    &['8', 'B'],
    &['6', 'G'],
];

/// Cost of an insertion, deletion or unrelated substitution, in thousandths.
pub(crate) const EDIT_MILLI: u32 = 1000;

/// The representative of `c`'s confusion group (`O`, `D`, `Q` → `0`; `B` → `8`…), or `c` itself.
///
/// Two keys with the same classes at every position differ only by confusions.
pub fn confusion_class(c: char) -> char {
    match c {
        'O' | 'D' | 'Q' => '0',
        'I' | 'L' | '7' => '1',
        'Z' => '2',
        'S' => '5',
        'B' => '8',
        'G' => '6',
        _ => c,
    }
}

/// Weighted edit distance between two keys (already normalised), with `confusion_cost` per
/// within-group substitution and 1.0 for every other edit. Rounded to thousandths.
pub fn weighted_distance(a: &str, b: &str, confusion_cost: f32) -> f32 {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let confusion = to_milli(confusion_cost);
    distance_milli(&a, &b, confusion, u32::MAX).map_or(f32::INFINITY, from_milli)
}

/// Converts a cost to thousandths, rounding; negative and NaN become 0.
pub(crate) fn to_milli(cost: f32) -> u32 {
    (cost.max(0.0) * 1000.0).round() as u32
}

/// Converts thousandths back to a cost.
pub(crate) fn from_milli(milli: u32) -> f32 {
    milli as f32 / 1000.0
}

/// The distance in thousandths, or `None` as soon as it is certain to exceed `bound`.
///
/// O(|a|·|b|) time; no allocation when `b` has fewer than 32 characters (always true for
/// stored keys, see [`crate::MAX_PLATE_CHARS`]).
pub(crate) fn distance_milli(a: &[char], b: &[char], confusion: u32, bound: u32) -> Option<u32> {
    let gap = a.len().abs_diff(b.len()) as u64 * u64::from(EDIT_MILLI);
    if gap > u64::from(bound) {
        return None;
    }
    const STACK: usize = 32;
    if b.len() < STACK {
        let (mut prev, mut cur) = ([0u32; STACK], [0u32; STACK]);
        dp(
            a,
            b,
            confusion,
            bound,
            &mut prev[..=b.len()],
            &mut cur[..=b.len()],
        )
    } else {
        dp(
            a,
            b,
            confusion,
            bound,
            &mut vec![0; b.len() + 1],
            &mut vec![0; b.len() + 1],
        )
    }
}

/// Two-row Levenshtein with early exit: once every cell of a row exceeds `bound`, no path
/// through it can come back under.
fn dp<'r>(
    a: &[char],
    b: &[char],
    confusion: u32,
    bound: u32,
    mut prev: &'r mut [u32],
    mut cur: &'r mut [u32],
) -> Option<u32> {
    for (j, cell) in prev.iter_mut().enumerate() {
        *cell = j as u32 * EDIT_MILLI;
    }
    for (i, &ca) in a.iter().enumerate() {
        cur[0] = (i as u32 + 1) * EDIT_MILLI;
        let mut row_min = cur[0];
        for (j, &cb) in b.iter().enumerate() {
            let sub = if ca == cb {
                0
            } else if confusion_class(ca) == confusion_class(cb) {
                confusion
            } else {
                EDIT_MILLI
            };
            let best = (prev[j] + sub)
                .min(prev[j + 1] + EDIT_MILLI)
                .min(cur[j] + EDIT_MILLI);
            cur[j + 1] = best;
            row_min = row_min.min(best);
        }
        if row_min > bound {
            return None;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    let d = prev[b.len()];
    (d <= bound).then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_confusion_pair_costs_the_confusion_cost() {
        for group in CONFUSION_GROUPS {
            for &x in group {
                for &y in group {
                    let (a, b) = (format!("京A{x}234"), format!("京A{y}234"));
                    let want = if x == y { 0.0 } else { 0.3 };
                    assert_eq!(weighted_distance(&a, &b, 0.3), want, "{a} vs {b}");
                }
            }
        }
    }

    #[test]
    fn unrelated_edits_cost_one() {
        assert_eq!(
            weighted_distance("京A12345", "京A12346", 0.3),
            1.0,
            "5→6 is not a confusion"
        );
        assert_eq!(weighted_distance("京A12345", "京A1234", 0.3), 1.0, "deletion");
        assert_eq!(weighted_distance("京A12345", "京AX12345", 0.3), 1.0, "insertion");
        assert_eq!(weighted_distance("京A12345", "沪A12345", 0.3), 1.0, "province");
        assert_eq!(weighted_distance("", "ABC", 0.3), 3.0);
    }

    #[test]
    fn confusions_add_up_exactly() {
        // 0→D, 1→I, 8→B: three confusions are exactly 0.9 thanks to integer thousandths.
        assert_eq!(weighted_distance("京A018", "京ADIB", 0.3), 0.9);
        assert_eq!(weighted_distance("京A018X", "京ADIBY", 0.3), 1.9);
    }

    #[test]
    fn bound_cuts_off_early_but_never_wrongly() {
        let a: Vec<char> = "京A12345".chars().collect();
        let b: Vec<char> = "沪B98765".chars().collect();
        assert_eq!(distance_milli(&a, &b, 300, 1000), None);
        assert_eq!(distance_milli(&a, &a, 300, 0), Some(0));
        let c: Vec<char> = "京A1234S".chars().collect();
        assert_eq!(distance_milli(&a, &c, 300, 300), Some(300), "bound is inclusive");
        assert_eq!(distance_milli(&a, &c, 300, 299), None);
    }

    fn key() -> impl Strategy<Value = String> {
        "[京沪0ODQ1IL72Z5S8B6GAX]{0,9}"
    }

    proptest! {
        #[test]
        fn is_a_metric(a in key(), b in key(), c in key()) {
            let d = |x: &str, y: &str| distance_milli(
                &x.chars().collect::<Vec<_>>(), &y.chars().collect::<Vec<_>>(), 300, u32::MAX,
            ).expect("unbounded");
            prop_assert_eq!(d(&a, &b), d(&b, &a));
            prop_assert_eq!(d(&a, &b) == 0, a == b);
            prop_assert!(d(&a, &c) <= d(&a, &b) + d(&b, &c));
        }

        #[test]
        fn bounded_agrees_with_unbounded(a in key(), b in key(), bound in 0u32..3000) {
            let (x, y): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
            let full = distance_milli(&x, &y, 300, u32::MAX).expect("unbounded");
            let cut = distance_milli(&x, &y, 300, bound);
            prop_assert_eq!(cut, (full <= bound).then_some(full));
        }
    }
}
