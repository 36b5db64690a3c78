//! Bounds on what one pipeline file may configure (issue 11).
//!
//! Every camera costs threads and memory, every zone, line and rule is tested against every
//! track of every analysed frame, and a polygon's self-intersection check is quadratic in its
//! points. The pipeline file (and the rules the console sends through the API, validated by the
//! same code) is therefore bounded; the bounds sit far above real sites, so hitting one means a
//! generated or corrupted file rather than a real need. A camera over a limit is reported by
//! this check alone: its geometry is not examined, so a huge polygon costs nothing.

use super::config::PipelineConfig;
use super::positions::{Entry, Positions, Which};

/// Most `[[camera]]` tables in one file (one node).
pub const MAX_CAMERAS: usize = 256;
/// Most zones per camera.
pub const MAX_ZONES: usize = 64;
/// Most lines per camera.
pub const MAX_LINES: usize = 64;
/// Most rules per camera.
pub const MAX_RULES: usize = 128;
/// Most privacy masks per camera.
pub const MAX_MASKS: usize = 32;
/// Most points of one zone or privacy mask polygon.
pub const MAX_POINTS: usize = 256;

/// Checks the limits; returns the errors and, per camera (by index), whether it is over one.
pub fn check(origin: &str, at: &Positions<'_>, cfg: &PipelineConfig) -> (Vec<String>, Vec<bool>) {
    let mut errs = Vec::new();
    if cfg.cameras.len() > MAX_CAMERAS {
        let first_extra = &cfg.cameras[MAX_CAMERAS];
        errs.push(format!(
            "{origin}:{} {} cameras, more than the {MAX_CAMERAS} one node runs (this is camera {})\n  fix: split the cameras over several nodes, each with its own pipeline file",
            at.camera(MAX_CAMERAS, &first_extra.id),
            cfg.cameras.len(),
            MAX_CAMERAS + 1
        ));
    }
    let mut over = vec![false; cfg.cameras.len()];
    for (i, c) in cfg.cameras.iter().enumerate() {
        let r = &c.rules;
        for (kind, what, n, max, fix) in [
            (
                Entry::Zone,
                "zones",
                r.zones.len(),
                MAX_ZONES,
                "merge zones that the rules treat alike, or remove unused ones",
            ),
            (
                Entry::Line,
                "lines",
                r.lines.len(),
                MAX_LINES,
                "remove lines no rule uses",
            ),
            (
                Entry::Rule,
                "rules",
                r.rules.len(),
                MAX_RULES,
                "one rule can cover several classes; remove disabled or duplicate rules",
            ),
        ] {
            if n > max {
                over[i] = true;
                errs.push(format!(
                    "{origin}:{} camera '{}': {n} {what}, more than the {max} allowed per camera\n  fix: {fix}",
                    at.rules_entry(i, &c.id, kind, Which::Index(max), None),
                    c.id
                ));
            }
        }
        if c.privacy_masks.len() > MAX_MASKS {
            over[i] = true;
            errs.push(format!(
                "{origin}:{} camera '{}': {} privacy masks, more than the {MAX_MASKS} allowed per camera\n  fix: merge neighbouring masks into one polygon",
                at.mask(i, &c.id, MAX_MASKS, Some("points")),
                c.id,
                c.privacy_masks.len()
            ));
        }
        for z in r.zones.iter().filter(|z| z.points.len() > MAX_POINTS) {
            over[i] = true;
            errs.push(format!(
                "{origin}:{} camera '{}': zone '{}' has {} points, more than the {MAX_POINTS} allowed\n  fix: simplify the polygon; a zone rarely needs more than a few dozen corners",
                at.rules_entry(i, &c.id, Entry::Zone, Which::First(&z.id), Some("points")),
                c.id,
                z.id,
                z.points.len()
            ));
        }
        for (k, m) in c.privacy_masks.iter().enumerate() {
            if m.points.len() > MAX_POINTS {
                over[i] = true;
                errs.push(format!(
                    "{origin}:{} camera '{}': privacy_mask {} has {} points, more than the {MAX_POINTS} allowed\n  fix: simplify the polygon; a mask rarely needs more than a few dozen corners",
                    at.mask(i, &c.id, k, Some("points")),
                    c.id,
                    k + 1,
                    m.points.len()
                ));
            }
        }
    }
    (errs, over)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(cameras: usize, zones: usize, points: usize) -> String {
        let mut t = String::from("[node]\nid = \"n\"\ndata_dir = \"/tmp/x\"\n");
        let poly: Vec<String> = (0..points)
            .map(|k| {
                let a = k as f64 / points as f64 * std::f64::consts::TAU;
                format!("[{:.4}, {:.4}]", 0.5 + 0.4 * a.cos(), 0.5 + 0.4 * a.sin())
            })
            .collect();
        for c in 0..cameras {
            t += &format!("\n[[camera]]\nid = \"c{c}\"\nuri = \"rtsp://h/{c}\"\n");
            for z in 0..zones {
                t += &format!(
                    "[[camera.rules.zone]]\nid = \"z{z}\"\npoints = [{}]\n",
                    poly.join(", ")
                );
            }
        }
        t
    }

    fn errors(text: &str) -> Vec<String> {
        let cfg: PipelineConfig = toml::from_str(text).expect("parses");
        check("p.toml", &Positions::new(text), &cfg).0
    }

    #[test]
    fn at_the_limits_is_fine() {
        assert!(errors(&file(2, MAX_ZONES, MAX_POINTS)).is_empty());
        assert!(errors(&file(MAX_CAMERAS, 0, 3)).is_empty());
    }

    #[test]
    fn each_exceeded_limit_is_named_at_the_first_entry_over_it() {
        let e = errors(&file(MAX_CAMERAS + 1, 0, 3));
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].contains("257 cameras, more than the 256"), "{e:?}");
        assert!(e[0].contains("fix: split"), "{e:?}");
        // The 257th camera's id: 3 header lines, then 4 lines per camera.
        let line = 3 + 4 * MAX_CAMERAS + 3;
        assert!(e[0].starts_with(&format!("p.toml:{line}:6:")), "{e:?}");

        let e = errors(&file(1, MAX_ZONES + 1, 3));
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].contains("camera 'c0': 65 zones, more than the 64"), "{e:?}");
        // Zone z64's id: camera at lines 5..=7, then 3 lines per zone.
        assert!(
            e[0].starts_with(&format!("p.toml:{}:6:", 7 + 3 * MAX_ZONES + 2)),
            "{e:?}"
        );

        let e = errors(&file(1, 1, MAX_POINTS + 1));
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].starts_with("p.toml:10:10: camera 'c0': zone 'z0' has 257 points"),
            "{e:?}"
        );
    }
}
