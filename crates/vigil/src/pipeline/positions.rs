//! Where things are in a pipeline file, for the `file:line:col` of semantic errors.
//!
//! serde's structs keep no positions, and searching the text for an id finds the first string
//! with that value anywhere: a watchlist named like a rule, the first of two cameras sharing an
//! id. This index parses the text a second time with spans kept (`toml::de::DeTable`) and
//! answers by structure — the n-th `[[camera]]`, its zone with id `"yard"`, that zone's
//! `points` — falling back to the nearest enclosing thing it can find, and to no position at
//! all (never a wrong one) when the text is not a pipeline file (the API validates rules it
//! received as JSON with an empty text).

use std::fmt;
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};
use vigil_rules::{ConfigError, ConfigProblem, Subject};

use super::config::line_col;

/// A `line:col:` position to put after `file:`; empty when unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos(Option<(usize, usize)>);

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some((l, c)) => write!(f, "{l}:{c}:"),
            None => Ok(()),
        }
    }
}

/// The kinds of entry in a camera's `[camera.rules]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// `[[camera.rules.zone]]`
    Zone,
    /// `[[camera.rules.line]]`
    Line,
    /// `[[camera.rules.rule]]`
    Rule,
}

impl Entry {
    /// The key and its alias (`zone` / `zones`, …), as `RulesConfig` accepts them.
    fn keys(self) -> [&'static str; 2] {
        match self {
            Entry::Zone => ["zone", "zones"],
            Entry::Line => ["line", "lines"],
            Entry::Rule => ["rule", "rules"],
        }
    }
}

/// Which entry of a list.
#[derive(Debug, Clone, Copy)]
pub enum Which<'s> {
    /// The first with this id.
    First(&'s str),
    /// The last with this id (for "defined twice": the second definition is the mistake).
    Last(&'s str),
    /// By position in the list, from 0.
    Index(usize),
}

/// The span index of one pipeline (or rules overlay) text.
pub struct Positions<'a> {
    text: &'a str,
    root: Option<Spanned<DeTable<'a>>>,
}

type Value<'a> = Spanned<DeValue<'a>>;

fn str_of<'v>(v: &'v Value<'_>, key: &str) -> Option<&'v str> {
    v.get_ref().get(key).and_then(|s| s.get_ref().as_str())
}

impl<'a> Positions<'a> {
    /// Parses `text`; a text that does not parse gives an index that knows no positions.
    pub fn new(text: &'a str) -> Self {
        Self {
            text,
            root: DeTable::parse(text).ok(),
        }
    }

    fn at(&self, span: Range<usize>) -> Pos {
        Pos(Some(line_col(self.text, span.start)))
    }

    fn root(&self) -> Option<&DeTable<'a>> {
        self.root.as_ref().map(Spanned::get_ref)
    }

    /// A top-level table's header (`[api]`, `[log]`), or a key in it when `key` is given and
    /// present (its value).
    pub fn table(&self, table: &str, key: Option<&str>) -> Pos {
        let Some(root) = self.root() else {
            return Pos(None);
        };
        let Some((name, value)) = root.iter().find(|(k, _)| k.get_ref() == table) else {
            return Pos(None);
        };
        if let Some(v) = key.and_then(|k| value.get_ref().get(k)) {
            return self.at(v.span());
        }
        // A `[table]` header's key span sits inside the brackets; point at the bracket.
        let start = name.span().start;
        let bracket = self.text[..start].rfind('[').filter(|&b| b + 1 == start);
        self.at(bracket.unwrap_or(start)..start)
    }

    /// `[[camera]]` number `index` when its id is `id`, else the first with that id.
    fn camera_value(&self, index: usize, id: &str) -> Option<&Value<'a>> {
        let cams = self.root()?.get("camera")?.get_ref().as_array()?;
        let is = |c: &&Value<'a>| str_of(c, "id") == Some(id);
        cams.get(index).filter(is).or_else(|| cams.iter().find(is))
    }

    /// A camera's `id` value.
    pub fn camera(&self, index: usize, id: &str) -> Pos {
        match self.camera_value(index, id) {
            Some(c) => match c.get_ref().get("id") {
                Some(v) => self.at(v.span()),
                None => self.at(c.span()),
            },
            None => Pos(None),
        }
    }

    /// A key of a camera (its value), else the camera.
    pub fn camera_key(&self, index: usize, id: &str, key: &str) -> Pos {
        match self.camera_value(index, id).and_then(|c| c.get_ref().get(key)) {
            Some(v) => self.at(v.span()),
            None => self.camera(index, id),
        }
    }

    /// A camera's rules table: `[camera.rules]` in a pipeline file, `[camera.<id>]` in the
    /// console's rules overlay.
    fn rules_table(&self, index: usize, id: &str) -> Option<&Value<'a>> {
        match self.camera_value(index, id) {
            Some(c) => c.get_ref().get("rules"),
            None => self.root()?.get("camera")?.get_ref().get(id),
        }
    }

    /// An entry of a list of tables, chosen by `which`.
    fn pick<'v>(list: &'v [Value<'a>], which: Which<'_>) -> Option<&'v Value<'a>> {
        match which {
            Which::First(id) => list.iter().find(|e| str_of(e, "id") == Some(id)),
            Which::Last(id) => list.iter().rev().find(|e| str_of(e, "id") == Some(id)),
            Which::Index(i) => list.get(i),
        }
    }

    /// A zone, line or rule of a camera: the value of `field` when given and present, else
    /// the entry's `id`, else the camera.
    pub fn rules_entry(
        &self,
        index: usize,
        camera: &str,
        kind: Entry,
        which: Which<'_>,
        field: Option<&str>,
    ) -> Pos {
        let entry = self.rules_table(index, camera).and_then(|t| {
            let list = kind
                .keys()
                .iter()
                .find_map(|k| t.get_ref().get(*k))?
                .get_ref()
                .as_array()?;
            Self::pick(list, which)
        });
        self.entry_pos(entry, field)
            .unwrap_or_else(|| self.camera(index, camera))
    }

    /// A key of a camera's rules table itself (`timezone`, `forget_after_s`), else the camera.
    pub fn rules_key(&self, index: usize, camera: &str, key: &str) -> Pos {
        match self.rules_table(index, camera).and_then(|t| t.get_ref().get(key)) {
            Some(v) => self.at(v.span()),
            None => self.camera(index, camera),
        }
    }

    /// Privacy mask `k` (from 0) of a camera: its `field`, else the mask, else the camera.
    pub fn mask(&self, index: usize, camera: &str, k: usize, field: Option<&str>) -> Pos {
        let mask = self
            .camera_value(index, camera)
            .and_then(|c| c.get_ref().get("privacy_mask"))
            .and_then(|m| m.get_ref().as_array())
            .and_then(|list| list.get(k));
        self.entry_pos(mask, field)
            .unwrap_or_else(|| self.camera(index, camera))
    }

    /// `[[sink]]` number `k` (from 0): its `field` (`name`, or a key of its kind table such as
    /// `url`), else the entry.
    pub fn sink(&self, k: usize, field: &str) -> Pos {
        let entry = self
            .root()
            .and_then(|r| r.get("sink"))
            .and_then(|l| l.get_ref().as_array())
            .and_then(|list| list.get(k));
        let Some(e) = entry else { return Pos(None) };
        // Kind keys live one table down, in `[sink.sink.<kind>]`.
        let kind_field = e
            .get_ref()
            .get("sink")
            .and_then(|s| s.get_ref().as_table())
            .and_then(|t| t.values().find_map(|kind| kind.get_ref().get(field)));
        match kind_field {
            Some(v) => self.at(v.span()),
            None => self.entry_pos(Some(e), Some(field)).unwrap_or(Pos(None)),
        }
    }

    /// `[[watchlists.list]]` number `k` (from 0): its `field`, else the entry.
    pub fn watchlist(&self, k: usize, field: &str) -> Pos {
        let entry = self
            .root()
            .and_then(|r| r.get("watchlists"))
            .and_then(|w| w.get_ref().get("list"))
            .and_then(|l| l.get_ref().as_array())
            .and_then(|list| list.get(k));
        self.entry_pos(entry, Some(field)).unwrap_or(Pos(None))
    }

    fn entry_pos(&self, entry: Option<&Value<'a>>, field: Option<&str>) -> Option<Pos> {
        let e = entry?;
        let v = field
            .and_then(|f| e.get_ref().get(f))
            .or_else(|| e.get_ref().get("id"));
        Some(self.at(v.map_or_else(|| e.span(), Spanned::span)))
    }

    /// Where a `vigil_rules` error of camera `index` is: the zone, line or rule it names, at
    /// the key the problem is about.
    pub fn rules_error(&self, index: usize, camera: &str, e: &ConfigError) -> Pos {
        let field = problem_field(&e.problem);
        let (kind, id) = match &e.subject {
            Subject::Camera => {
                let key = match &e.problem {
                    ConfigProblem::Schedule(_) => "timezone",
                    _ => field.unwrap_or("forget_after_s"),
                };
                return self.rules_key(index, camera, key);
            }
            Subject::Zone(id) => (Entry::Zone, id),
            Subject::Line(id) => (Entry::Line, id),
            Subject::Rule(id) => (Entry::Rule, id),
        };
        let which = match e.problem {
            ConfigProblem::DuplicateId => Which::Last(id),
            _ => Which::First(id),
        };
        let field = match (&e.problem, kind) {
            (ConfigProblem::Shape(_), Entry::Zone) => Some("points"),
            (ConfigProblem::Shape(_), _) => Some("a"),
            (ConfigProblem::Schedule(_), _) => Some("schedule"),
            _ => field,
        };
        self.rules_entry(index, camera, kind, which, field)
    }
}

/// The key a rules problem is about, when it names one.
fn problem_field(p: &ConfigProblem) -> Option<&'static str> {
    match p {
        ConfigProblem::UnknownZone(_) => Some("zone"),
        ConfigProblem::UnknownLine(_) => Some("line"),
        ConfigProblem::NotApplicable { field, .. } | ConfigProblem::BadNumber { field, .. } => Some(field),
        ConfigProblem::EmptyList(field) => Some(field),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"[node]
id = "n"

[[camera]]
id = "gate"
uri = "rtsp://h/a"

[[camera.rules.zone]]
id = "yard"
points = [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9]]

[[camera.rules.rule]]
id = "gate"
kind = "zone_intrusion"
zone = "roof"

[[camera]]
id = "gate"
uri = "rtsp://h/b"

[[camera.privacy_mask]]
points = [[0, 0], [1, 0], [1, 1]]

[api]
bind = "127.0.0.1:1"
"#;

    fn s(p: Pos) -> String {
        p.to_string()
    }

    #[test]
    fn positions_follow_the_structure_not_the_first_matching_string() {
        let at = Positions::new(TEXT);
        assert_eq!(s(at.camera(0, "gate")), "5:6:");
        assert_eq!(
            s(at.camera(1, "gate")),
            "18:6:",
            "the second camera, not the first"
        );
        assert_eq!(s(at.camera_key(1, "gate", "uri")), "19:7:");
        let yard = at.rules_entry(0, "gate", Entry::Zone, Which::First("yard"), Some("points"));
        assert_eq!(s(yard), "10:10:");
        let rule = at.rules_entry(0, "gate", Entry::Rule, Which::First("gate"), None);
        assert_eq!(s(rule), "13:6:", "the rule's id, not the camera's");
        let roof = at.rules_entry(0, "gate", Entry::Rule, Which::Index(0), Some("zone"));
        assert_eq!(s(roof), "15:8:");
        assert_eq!(s(at.mask(1, "gate", 0, Some("points"))), "22:10:");
        assert_eq!(s(at.table("api", None)), "24:1:");
        assert_eq!(s(at.table("api", Some("bind"))), "25:8:");
        // Unknown things fall back to the enclosing camera, then to nothing.
        let missing = at.rules_entry(0, "gate", Entry::Line, Which::First("x"), None);
        assert_eq!(s(missing), "5:6:");
        assert_eq!(s(at.camera(0, "nope")), "");
        assert_eq!(s(Positions::new("").camera(0, "gate")), "");
    }

    #[test]
    fn every_rules_error_of_a_camera_gets_its_own_position() {
        let text = r#"[node]
id = "n"
data_dir = "/tmp/x"

[[camera]]
id = "gate"
uri = "rtsp://h/a"

[[camera.rules.zone]]
id = "yard"
points = [[0.1, 0.1], [0.9, 0.9]]

[[camera.rules.line]]
id = "kerb"
a = [0.2, 0.5]
b = [0.2, 0.5]

[[camera.rules.rule]]
id = "loiter"
kind = "loitering"
zone = "yard"
dwell_s = -1
"#;
        let e = crate::pipeline::config::parse("p.toml", text).expect_err("three problems");
        let firsts: Vec<&str> = e
            .lines()
            .filter(|l| l.starts_with("p.toml:"))
            .map(|l| l.split(' ').next().unwrap_or_default())
            .collect();
        // The zone's points, the line's `a`, the rule's `dwell_s` — not the camera three times.
        assert_eq!(firsts, ["p.toml:11:10:", "p.toml:15:5:", "p.toml:22:11:"], "{e}");
    }

    #[test]
    fn the_rules_overlay_layout_is_understood() {
        let ov = "[[camera.gate.zone]]\nid = \"yard\"\npoints = [[0, 0], [1, 1]]\n";
        let at = Positions::new(ov);
        let p = at.rules_entry(3, "gate", Entry::Zone, Which::First("yard"), Some("points"));
        assert_eq!(s(p), "3:10:");
    }
}
