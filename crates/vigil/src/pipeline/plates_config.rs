//! The `[plates]` and `[watchlists]` tables of the pipeline file, and their checks.
//!
//! ```toml
//! [plates]                      # the plate stage, used by cameras with `plates = true`
//! workers = 1
//!
//! [plates.read_log]             # optional: every voted read as a keyed hash (off by default)
//! enabled = true
//! key_file = "/etc/vigil/read-log.key"
//! retention_days = 7
//!
//! [watchlists]
//! dir = "/var/lib/vigil/watchlists"
//! [[watchlists.list]]
//! name = "stolen"
//! kind = "hotlist"
//! file = "watchlists/stolen.csv"   # optional: imported at start when it differs
//! ```

use super::config::{PipelineConfig, line_col};
use serde::Deserialize;
use std::path::PathBuf;
use vigil_lpr::PlateReaderConfig;
use vigil_plate::{PlateGrammarConfig, VoterConfig};
use vigil_rules::RuleKind;
use vigil_watchlist::{ImportOptions, ListKind, ListName, MatchConfig};

/// The plate stage: models, workers and when a vehicle track is read.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PlatesConfig {
    /// Manifest name of the plate localiser: a PP-OCR text detector or a YOLO plate detector
    /// (default `ppocr-det`).
    pub localiser: String,
    /// Manifest name of the text recogniser (default `ppocr-rec`).
    pub recogniser: String,
    /// Plate worker threads, each with its own sessions (default 1).
    pub workers: usize,
    /// ONNX Runtime intra-op threads per plate worker (default 1).
    pub intra_threads: usize,
    /// Vehicle regions waiting for a plate worker; when full a new one is dropped and counted
    /// (the track is simply read on a later frame). Default 4.
    pub queue: usize,
    /// Smallest vehicle box height in pixels worth reading; smaller vehicles are too far away for
    /// a legible plate (default 40).
    pub min_vehicle_height_px: f32,
    /// Read a track at most every N analysed frames (default 1 = every frame).
    pub every_n_frames: u32,
    /// Most reads attempted per track; then the track waits for its end (default 12).
    pub max_reads_per_track: u32,
    /// Reader tuning (`[plates.reader]`, see vigil-lpr's `PlateReaderConfig`).
    pub reader: PlateReaderConfig,
    /// Per-track voting (`[plates.voter]`).
    pub voter: VoterConfig,
    /// Plate formats (`[plates.grammar]`); absent = the built-in mainland China formats.
    pub grammar: Option<PlateGrammarConfig>,
    /// Read logging as keyed hashes (`[plates.read_log]`); off by default.
    pub read_log: ReadLogConfig,
}

/// `[plates.read_log]`: keep every voted read (hit or not) as an HMAC-SHA256 of its text plus
/// time and camera, for a limited time (see `super::read_log`). Off by default: without it a
/// read that hits no watchlist is not kept anywhere.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReadLogConfig {
    /// Log reads (default false).
    pub enabled: bool,
    /// File holding the HMAC key (≥ 32 bytes; a trailing newline is ignored; mode 0600).
    pub key_file: Option<PathBuf>,
    /// Environment variable holding the HMAC key, instead of `key_file`.
    pub key_env: Option<String>,
    /// Days an entry is kept; older ones are deleted by a background prune (default 7).
    pub retention_days: u32,
}

impl Default for ReadLogConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            key_file: None,
            key_env: None,
            retention_days: 7,
        }
    }
}

impl Default for PlatesConfig {
    fn default() -> Self {
        Self {
            localiser: "ppocr-det".into(),
            recogniser: "ppocr-rec".into(),
            workers: 1,
            intra_threads: 1,
            queue: 4,
            min_vehicle_height_px: 40.0,
            every_n_frames: 1,
            max_reads_per_track: 12,
            reader: PlateReaderConfig::default(),
            voter: VoterConfig::default(),
            grammar: None,
            read_log: ReadLogConfig::default(),
        }
    }
}

impl PlatesConfig {
    /// The grammar to decode with.
    pub fn grammar(&self) -> Result<vigil_plate::PlateGrammar, vigil_plate::GrammarError> {
        match &self.grammar {
            Some(g) => vigil_plate::PlateGrammar::from_config(g),
            None => Ok(vigil_plate::PlateGrammar::cn_mainland()),
        }
    }
}

/// Where watchlists live and which lists exist.
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct WatchlistsConfig {
    /// Store directory (default `<data_dir>/watchlists`).
    pub dir: Option<PathBuf>,
    /// Fuzzy matching (`[watchlists.matching]`: `max_distance`, `confusion_cost`,
    /// `max_candidates`).
    pub matching: MatchConfig,
    /// The lists rules may name (`[[watchlists.list]]`).
    #[serde(rename = "list")]
    pub lists: Vec<ListDecl>,
}

/// One declared list.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListDecl {
    /// List name (letters, digits, `-`, `_`).
    pub name: String,
    /// `hotlist` or `allowlist`.
    pub kind: String,
    /// CSV file imported into the store at start (and reload) when its content differs from
    /// the stored list; relative to the working directory. Without it the list is managed
    /// through the API only.
    #[serde(default)]
    pub file: Option<PathBuf>,
}

impl ListDecl {
    /// Name and kind, validated.
    pub fn parsed(&self) -> Result<(ListName, ListKind), String> {
        let name = ListName::parse(&self.name).map_err(|e| e.to_string())?;
        let kind = self.kind.parse::<ListKind>().map_err(|e| e.to_string())?;
        Ok((name, kind))
    }
}

fn pos_of(text: &str, needle: &str) -> String {
    text.find(needle)
        .map(|o| line_col(text, o))
        .map_or(String::new(), |(l, c)| format!("{l}:{c}:"))
}

/// Checks `[plates]`, `[watchlists]` and the plate rules against them; all problems together.
pub fn validate(origin: &str, text: &str, cfg: &PipelineConfig) -> Vec<String> {
    let mut errs = Vec::new();
    let p = &cfg.plates;
    let plates_pos = pos_of(text, "[plates");
    for (key, v) in [
        ("workers", p.workers),
        ("intra_threads", p.intra_threads),
        ("queue", p.queue),
        ("every_n_frames", p.every_n_frames as usize),
        ("max_reads_per_track", p.max_reads_per_track as usize),
    ] {
        if v == 0 {
            errs.push(format!("{origin}:{plates_pos} [plates] {key} must be ≥ 1"));
        }
    }
    if !p.min_vehicle_height_px.is_finite() || p.min_vehicle_height_px < 0.0 {
        errs.push(format!(
            "{origin}:{plates_pos} [plates] min_vehicle_height_px must be ≥ 0"
        ));
    }
    if let Err(e) = p.reader.validate() {
        errs.push(format!("{origin}:{plates_pos} [plates.reader] {e}"));
    }
    if let Err(e) = vigil_plate::PlateVoter::<u64>::new(p.voter) {
        errs.push(format!("{origin}:{plates_pos} [plates.voter] {e}"));
    }
    if let Err(e) = p.grammar() {
        errs.push(format!("{origin}:{plates_pos} [plates.grammar] {e}"));
    }
    errs.extend(validate_read_log(origin, text, &p.read_log));
    if let Err(e) = vigil_watchlist::WatchlistIndex::build(Vec::new(), cfg.watchlists.matching) {
        errs.push(format!("{origin}: [watchlists.matching] {e}"));
    }

    // Declared lists: valid names and kinds, unique, readable files that import cleanly.
    let at = super::positions::Positions::new(text);
    let grammar_policy = p
        .grammar()
        .ok()
        .map(|g| vigil_watchlist::ListPolicy::new(Default::default(), Some(g)));
    let mut declared = std::collections::HashMap::new();
    for (k, d) in cfg.watchlists.lists.iter().enumerate() {
        let pos = at.watchlist(k, "name");
        match d.parsed() {
            Ok((name, kind)) => {
                if declared.insert(d.name.clone(), kind).is_some() {
                    errs.push(format!(
                        "{origin}:{pos} watchlist '{}' is declared twice\n  fix: one [[watchlists.list]] per name",
                        d.name
                    ));
                }
                if let Some(file) = &d.file {
                    let file_pos = at.watchlist(k, "file");
                    match read_list_file(file, &name, kind) {
                        Err(e) => errs.push(format!("{origin}:{file_pos} watchlist '{}': {e}", d.name)),
                        // The same grammar as reads: an entry no read can match is a mistake.
                        Ok(list) => errs.extend(list.entries().iter().filter_map(|e| {
                            grammar_policy.as_ref()?.check_entry(e).err().map(|err| {
                                format!("{origin}:{file_pos} watchlist '{}' ({}): {err}", d.name, file.display())
                            })
                        })),
                    }
                }
            }
            Err(e) => errs.push(format!(
                "{origin}:{pos} [[watchlists.list]] '{}': {e}\n  fix: kind is hotlist or allowlist; names use letters, digits, - and _",
                d.name
            )),
        }
    }

    // Plate rules: only on plate cameras, and only naming declared lists of the right kind.
    for (i, c) in cfg.cameras.iter().enumerate() {
        for (j, r) in c.rules.rules.iter().enumerate() {
            let unknown_vehicle = match r.kind {
                RuleKind::PlateHotlist => false,
                RuleKind::PlateUnknownVehicle => true,
                _ => continue,
            };
            use super::positions::{Entry, Which};
            let pos = at.rules_entry(i, &c.id, Entry::Rule, Which::Index(j), None);
            let lists_pos = at.rules_entry(i, &c.id, Entry::Rule, Which::Index(j), Some("lists"));
            if !c.plates {
                errs.push(format!(
                    "{origin}:{pos} camera '{}' rule '{}' is a plate rule but the camera reads no plates\n  fix: add `plates = true` to the [[camera]]",
                    c.id, r.id
                ));
            }
            for l in r.lists.iter().flatten() {
                match declared.get(l) {
                    None => errs.push(format!(
                        "{origin}:{lists_pos} camera '{}' rule '{}' names watchlist '{l}', which is not declared\n  fix: add a [[watchlists.list]] with name = \"{l}\"",
                        c.id, r.id
                    )),
                    Some(kind) if unknown_vehicle && *kind != ListKind::Allowlist => errs.push(format!(
                        "{origin}:{lists_pos} camera '{}' rule '{}' (plate_unknown_vehicle) names '{l}', a {}\n  fix: unknown-vehicle rules name allowlists",
                        c.id,
                        r.id,
                        kind.as_str()
                    )),
                    Some(_) => {}
                }
            }
        }
    }
    errs
}

/// Checks `[plates.read_log]`; when enabled the key must be readable now (the daemon refuses
/// to start without it rather than log reads unkeyed or not at all).
fn validate_read_log(origin: &str, text: &str, rl: &ReadLogConfig) -> Vec<String> {
    use super::read_log::{MAX_RETENTION_DAYS, ReadLogKey};
    let pos = pos_of(text, "[plates.read_log");
    let mut errs = Vec::new();
    if rl.retention_days == 0 || rl.retention_days > MAX_RETENTION_DAYS {
        errs.push(format!(
            "{origin}:{pos} [plates.read_log] retention_days {} must be 1..={MAX_RETENTION_DAYS}\n  fix: keep reads no longer than the deployment's legal basis allows (default 7)",
            rl.retention_days
        ));
    }
    if rl.enabled
        && let Err(e) = ReadLogKey::load(rl)
    {
        errs.push(format!("{origin}:{pos} [plates.read_log] {e}"));
    }
    errs
}

/// Reads a declared list's CSV file (validated, not stored).
pub fn read_list_file(
    file: &std::path::Path,
    name: &ListName,
    kind: ListKind,
) -> Result<vigil_watchlist::Watchlist, String> {
    let f = std::fs::File::open(file).map_err(|e| {
        format!(
            "cannot open {}: {e}\n  fix: the path is relative to the working directory",
            file.display()
        )
    })?;
    vigil_watchlist::csv_io::read_csv_list(std::io::BufReader::new(f), name, kind, &ImportOptions::default())
        .map_err(|e| format!("{}: {e}", file.display()))
}
