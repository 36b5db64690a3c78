//! Class names in `[detector] classes` and in rules' `classes` are checked against what the
//! detector can report, so a typo (`"people"`) fails `vigil check` instead of silently making a
//! rule that never fires.
//!
//! What the detector reports: the model manifest's class list, narrowed by `[detector] classes`
//! when that is not empty. The manifest is read from the model directory; when it cannot be
//! read there (a check on a machine without the models) only `[detector] classes` is used, and
//! `vigil run` refuses the missing model itself.

use super::config::PipelineConfig;
use super::positions::{Entry, Positions, Which};

/// Every class-name problem in `cfg`, each with its position and a fix hint.
pub fn check(
    origin: &str,
    at: &Positions<'_>,
    cfg: &PipelineConfig,
    manifest_classes: Option<&[String]>,
) -> Vec<String> {
    let mut errs = Vec::new();
    let kept: Vec<&str> = if cfg.detector.classes.is_empty() {
        manifest_classes
            .map(|m| m.iter().map(String::as_str).collect())
            .unwrap_or_default()
    } else {
        cfg.detector.classes.iter().map(String::as_str).collect()
    };
    if let Some(model) = manifest_classes {
        let model: Vec<&str> = model.iter().map(String::as_str).collect();
        for c in &cfg.detector.classes {
            if !model.contains(&c.as_str()) {
                errs.push(format!(
                    "{origin}:{} [detector] class {c:?} is not a class of model '{}'{}\n  fix: use the model's class names (its manifest lists them)",
                    at.table("detector", Some("classes")),
                    cfg.detector.model,
                    hint(c, &model)
                ));
            }
        }
    }
    // Without a manifest and with `classes = []` nothing is known: say nothing rather than guess.
    if kept.is_empty() {
        return errs;
    }
    for (i, cam) in cfg.cameras.iter().enumerate() {
        for (j, r) in cam.rules.rules.iter().enumerate() {
            for c in r.classes.iter().flatten() {
                if c == "*" || kept.contains(&c.as_str()) {
                    continue;
                }
                let pos = at.rules_entry(i, &cam.id, Entry::Rule, Which::Index(j), Some("classes"));
                errs.push(format!(
                    "{origin}:{pos} camera '{}' rule '{}': class {c:?} is never reported by the detector{}\n  fix: use one of {} (or add it to [detector] classes if the model has it)",
                    cam.id,
                    r.id,
                    hint(c, &kept),
                    kept.join(", ")
                ));
            }
        }
    }
    errs
}

/// `"; did you mean \"person\"?"` when a known name is close to `given`, else nothing.
fn hint(given: &str, known: &[&str]) -> String {
    closest(given, known).map_or(String::new(), |k| format!("; did you mean {k:?}?"))
}

/// The known name nearest to `given` by edit distance (case-insensitive), if it is near enough
/// to be a likely typo: at most half of the longer name's characters differ, or the two share
/// their first two characters and at most two thirds differ ("people" → "person").
pub fn closest<'k>(given: &str, known: &[&'k str]) -> Option<&'k str> {
    let g = given.to_lowercase();
    known
        .iter()
        .map(|k| (edit_distance(&g, &k.to_lowercase()), *k))
        .filter(|(d, k)| {
            let k = k.to_lowercase();
            let longest = g.chars().count().max(k.chars().count());
            let prefix = g.chars().zip(k.chars()).take_while(|(a, b)| a == b).count();
            *d * 2 <= longest || (prefix >= 2 && *d * 3 <= longest * 2)
        })
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_near_names_only() {
        let known = ["person", "bicycle", "car", "motorcycle", "bus", "truck"];
        assert_eq!(closest("people", &known), Some("person"));
        assert_eq!(closest("Persn", &known), Some("person"));
        assert_eq!(closest("trucks", &known), Some("truck"));
        assert_eq!(closest("motorbike", &known), Some("motorcycle"));
        assert_eq!(closest("giraffe", &known), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }
}
