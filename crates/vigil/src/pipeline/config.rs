//! The pipeline file (`pipelines/*.toml`): raw serde structs, parsed with file:line:col errors
//! and validated in one place (used by `vigil check`, `vigil run` and `vigil demo`).

use serde::Deserialize;
use std::path::{Path, PathBuf};
use vigil_alert::SinkSpec;
use vigil_rules::RulesConfig;

pub use super::plates_config::{PlatesConfig, WatchlistsConfig};

/// Node identity and storage.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// Name of this node in alert sources (`vigil/<node>/<camera>`).
    pub id: String,
    /// Directory for the outbox and other state (created if missing).
    pub data_dir: PathBuf,
    /// Largest alert snapshot (JPEG of the frame) in bytes; quality steps down to fit, and an
    /// alert whose frame cannot fit goes without one. 0 = no snapshots. Default 262144.
    #[serde(default = "default_snapshot_max")]
    pub snapshot_max_bytes: usize,
    /// Alert snapshots of wider frames are scaled down by a whole factor to at most this width
    /// before encoding (a 4K frame is halved). 0 = the frame's own size. Default 1920.
    #[serde(default = "default_snapshot_width")]
    pub snapshot_max_width_px: u32,
    /// Outbox soft limit in alerts: above it only `high`/`critical` alerts are accepted (hard
    /// limit 1.25 ×: nothing accepted). Default 100000.
    #[serde(default = "default_outbox_entries")]
    pub outbox_max_entries: u64,
    /// Outbox soft limit in bytes, same rule. Default 1 GiB.
    #[serde(default = "default_outbox_bytes")]
    pub outbox_max_bytes: u64,
    /// Alert history retention by age, in days (alerts and their snapshots older than this are
    /// deleted by the minute's prune, which logs what it removed). Default 30.
    #[serde(default = "default_history_days")]
    pub history_max_age_days: u64,
    /// Alert history retention by count: beyond it the oldest are deleted. Default 100000.
    #[serde(default = "default_history_alerts")]
    pub history_max_alerts: u64,
}

fn default_history_days() -> u64 {
    30
}
fn default_history_alerts() -> u64 {
    100_000
}

fn default_outbox_entries() -> u64 {
    100_000
}
fn default_outbox_bytes() -> u64 {
    1 << 30
}

fn default_snapshot_width() -> u32 {
    crate::pipeline::snapshot::DEFAULT_MAX_WIDTH_PX
}

fn default_snapshot_max() -> usize {
    256 * 1024
}

/// The object detector and its worker pool.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectorConfig {
    /// Model manifest name under the model directory (default `yolox-nano`).
    #[serde(default = "default_model")]
    pub model: String,
    /// Inference worker threads (default 1).
    #[serde(default = "one")]
    pub workers: usize,
    /// ONNX Runtime intra-op threads per worker (default 2). Keep workers × this ≤ cores.
    #[serde(default = "two")]
    pub intra_threads: usize,
    /// Minimum detection score (default 0.35).
    #[serde(default = "default_score")]
    pub score: f32,
    /// Classes kept; empty keeps all (default person and road vehicles).
    #[serde(default = "default_classes")]
    pub classes: Vec<String>,
    /// Frames each camera may queue for the pool before the oldest is dropped (default 2).
    #[serde(default = "two")]
    pub queue_per_camera: usize,
    /// ONNX Runtime execution providers to try, in order: `cuda`, `tensorrt`, `openvino`, `cpu`.
    /// Empty (the default) = CPU. A provider this build or the loaded library lacks is skipped
    /// with a warning naming it, and the model runs on the next one (CPU last).
    #[serde(default)]
    pub providers: Vec<String>,
}

/// Execution provider names the pipeline file accepts (see [`DetectorConfig::providers`]).
pub const PROVIDERS: [&str; 4] = ["cuda", "tensorrt", "openvino", "cpu"];

fn default_model() -> String {
    "yolox-nano".into()
}
fn one() -> usize {
    1
}
fn two() -> usize {
    2
}
fn default_score() -> f32 {
    0.35
}
fn default_classes() -> Vec<String> {
    ["person", "bicycle", "car", "motorcycle", "bus", "truck"]
        .map(String::from)
        .to_vec()
}

impl Default for DetectorConfig {
    fn default() -> Self {
        Self {
            model: default_model(),
            workers: 1,
            intra_threads: 2,
            score: default_score(),
            classes: default_classes(),
            queue_per_camera: 2,
            providers: Vec::new(),
        }
    }
}

/// One camera.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CameraConfig {
    /// Unique id, used in alerts, logs and metric labels.
    pub id: String,
    /// Human-readable name.
    #[serde(default)]
    pub name: String,
    /// Free-text location.
    #[serde(default)]
    pub location: String,
    /// Stream URI (`rtsp://`, `rtsps://`, `file://`, `http(s)://`). `{camsim}` is replaced by
    /// the demo's test camera address.
    pub uri: String,
    /// Frames per second to analyse (default 5).
    #[serde(default = "default_fps")]
    pub analysis_fps: f64,
    /// RTSP user name.
    #[serde(default)]
    pub username: Option<String>,
    /// Environment variable holding the RTSP password (never written in the file).
    #[serde(default)]
    pub password_env: Option<String>,
    /// Decoder element override (e.g. `avdec_h264`).
    #[serde(default)]
    pub decoder: Option<String>,
    /// Read the plates of this camera's vehicles (needs the `[plates]` stage; default false).
    #[serde(default)]
    pub plates: bool,
    /// Where plates are looked for: `vehicles` (regions of vehicle tracks; streets, car parks)
    /// or `frame` (the whole frame; gates and barriers where the vehicle fills the view and the
    /// object detector sees no whole vehicle). Default `vehicles`.
    #[serde(default)]
    pub plate_source: PlateSource,
    /// Zones, lines and rules of this camera.
    #[serde(default)]
    pub rules: RulesConfig,
    /// Privacy masks (`[[camera.privacy_mask]]`): blacked out before anything is stored or
    /// sent; detections inside are ignored.
    #[serde(default, rename = "privacy_mask")]
    pub privacy_masks: Vec<super::privacy::MaskConfig>,
}

impl CameraConfig {
    /// True when the stream itself must be restarted to apply `new` (rather than only the
    /// analysis being reconfigured).
    pub fn stream_differs(&self, new: &CameraConfig) -> bool {
        self.uri != new.uri
            || self.analysis_fps != new.analysis_fps
            || self.username != new.username
            || self.password_env != new.password_env
            || self.decoder != new.decoder
    }
}

/// Where a camera's plates are looked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlateSource {
    /// In the regions of vehicle tracks.
    #[default]
    Vehicles,
    /// In the whole frame; the plate boxes are tracked themselves.
    Frame,
}

fn default_fps() -> f64 {
    5.0
}

/// The whole pipeline file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineConfig {
    /// Node identity.
    pub node: NodeConfig,
    /// Detector.
    #[serde(default)]
    pub detector: DetectorConfig,
    /// Cameras (`[[camera]]`).
    #[serde(rename = "camera", default)]
    pub cameras: Vec<CameraConfig>,
    /// Plate stage (used by cameras with `plates = true`).
    #[serde(default)]
    pub plates: PlatesConfig,
    /// Watchlists: where they are stored and which lists the rules may name.
    #[serde(default)]
    pub watchlists: WatchlistsConfig,
    /// Alert sinks (`[[sink]]`).
    #[serde(rename = "sink", default)]
    pub sinks: Vec<SinkSpec>,
    /// HTTP API, console and metrics (`[api]`); absent = not served.
    #[serde(default)]
    pub api: Option<vigil_http::ApiConfig>,
    /// Log filter and format (`[log]`).
    #[serde(default)]
    pub log: crate::logging::LogConfig,
}

/// 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Parses pipeline text; errors say `file:line:col: problem`.
pub fn parse(origin: &str, text: &str) -> Result<PipelineConfig, String> {
    let cfg: PipelineConfig = toml::from_str(text).map_err(|e| {
        let at = e.span().map(|s| line_col(text, s.start));
        let msg = e.message().to_string();
        // serde's words for an enum table with two variants say nothing to an operator.
        let (msg, fix) = if msg.contains("wanted exactly 1 element") {
            (
                "this table names more than one kind".to_string(),
                "a [sink.sink] table holds exactly one of nats, mqtt, amqp, webhook, file (or kafka): write one [[sink]] per kind",
            )
        } else {
            (msg, "see docs/configuration.md for the keys of this table")
        };
        match at {
            Some((l, c)) => format!("{origin}:{l}:{c}: {msg}\n  fix: {fix}"),
            None => format!("{origin}: {msg}"),
        }
    })?;
    validate(origin, text, &cfg)?;
    Ok(cfg)
}

/// Where a top-level-looking `key =` first appears, for error positions (empty when absent).
fn key_pos(text: &str, key: &str) -> String {
    text.lines()
        .scan(0usize, |off, l| {
            let start = *off;
            *off += l.len() + 1;
            Some((start, l))
        })
        .find(|(_, l)| {
            l.trim_start()
                .strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map(|(o, l)| line_col(text, o + (l.len() - l.trim_start().len())))
        .map_or(String::new(), |(l, c)| format!("{l}:{c}:"))
}

/// Semantic checks beyond the types; all problems are reported together.
pub fn validate(origin: &str, text: &str, cfg: &PipelineConfig) -> Result<(), String> {
    let at = super::positions::Positions::new(text);
    let (mut errs, over_limits) = super::limits::check(origin, &at, cfg);
    let mut seen = std::collections::HashSet::new();
    for (i, c) in cfg.cameras.iter().enumerate() {
        let pos = at.camera(i, &c.id);
        if !seen.insert(c.id.clone()) {
            errs.push(format!(
                "{origin}:{pos} camera '{}' is defined twice\n  fix: give each [[camera]] a unique id",
                c.id
            ));
        }
        if !c.analysis_fps.is_finite() || c.analysis_fps <= 0.0 || c.analysis_fps > 240.0 {
            errs.push(format!(
                "{origin}:{} camera '{}': analysis_fps {} must be > 0 and ≤ 240",
                at.camera_key(i, &c.id, "analysis_fps"),
                c.id,
                c.analysis_fps
            ));
        }
        let uri = c.uri.replace("{camsim}", "rtsp://127.0.0.1:1");
        if let Err(e) = vigil_ingest::CameraSourceConfig::new(&c.id, uri).validate() {
            errs.push(format!("{origin}:{} {e}", at.camera_key(i, &c.id, "uri")));
        }
        // A camera over a limit is not examined further: its polygons may be huge.
        if over_limits[i] {
            continue;
        }
        // Masks and zones in pixels need the frame size: checked against a nominal frame here
        // and again on the stream's first frame.
        for (k, m) in c.privacy_masks.iter().enumerate() {
            if let Err(e) = m.polygon_px(100_000, 100_000) {
                // Every shape problem carries its own fix hint.
                errs.push(format!(
                    "{origin}:{} camera '{}': privacy_mask {}: {e}",
                    at.mask(i, &c.id, k, Some("points")),
                    c.id,
                    k + 1
                ));
            }
        }
        // Zone geometry needs the frame size for pixel coordinates; check normalised zones now
        // against a nominal frame, and pixel zones again when the stream's size is known.
        if let Err(e) = vigil_rules::validate(
            &c.rules,
            &c.id,
            vigil_rules::FrameSize {
                width: 100_000,
                height: 100_000,
            },
        ) {
            for e in &e.0 {
                errs.push(format!("{origin}:{} {e}", at.rules_error(i, &c.id, e)));
            }
        }
    }
    if let Err(e) = crate::logging::check_level(&cfg.log.level) {
        errs.push(format!(
            "{origin}:{} [log] level {:?} is not a valid filter: {e}\n  fix: comma-separated `target=level` directives, e.g. \"{}\" (levels: error, warn, info, debug, trace)",
            at.table("log", Some("level")),
            cfg.log.level,
            crate::logging::DEFAULT_LEVEL
        ));
    }
    errs.extend(super::plates_config::validate(origin, text, cfg));
    let manifest =
        vigil_infer::load_manifest(&crate::paths::model_dir().join(format!("{}.toml", cfg.detector.model)))
            .ok();
    errs.extend(super::classes_check::check(
        origin,
        &at,
        cfg,
        manifest.as_ref().map(|m| m.classes.as_slice()),
    ));
    if let Some(api) = &cfg.api
        && let Err(e) = api.validate()
    {
        errs.push(format!("{origin}:{} [api] {e}", at.table("api", None)));
    }
    if !(1..=3650).contains(&cfg.node.history_max_age_days) || cfg.node.history_max_alerts == 0 {
        let pos = key_pos(text, "history_max_age_days");
        errs.push(format!(
            "{origin}:{pos} [node] history_max_age_days must be 1–3650 and history_max_alerts ≥ 1\n  fix: the retention of alert history (and its snapshots); the defaults are 30 days and 100000 alerts"
        ));
    }
    if cfg.node.outbox_max_entries < 100 || cfg.node.outbox_max_bytes < 1 << 20 {
        let key = if cfg.node.outbox_max_entries < 100 {
            "outbox_max_entries"
        } else {
            "outbox_max_bytes"
        };
        errs.push(format!(
            "{origin}:{} [node] outbox_max_entries must be ≥ 100 and outbox_max_bytes ≥ 1048576\n  fix: the outbox must hold at least an outage's worth of alerts",
            at.table("node", Some(key))
        ));
    }
    for (key, v) in [
        ("workers", cfg.detector.workers),
        ("intra_threads", cfg.detector.intra_threads),
        ("queue_per_camera", cfg.detector.queue_per_camera),
    ] {
        if v == 0 {
            errs.push(format!(
                "{origin}:{} [detector] {key} must be ≥ 1\n  fix: workers × intra_threads ≤ the machine's cores; the defaults are 1, 2 and 2",
                at.table("detector", Some(key))
            ));
        }
    }
    for p in &cfg.detector.providers {
        if !PROVIDERS.contains(&p.as_str()) {
            let pos = key_pos(text, "providers");
            errs.push(format!(
                "{origin}:{pos} [detector] unknown execution provider '{p}'\n  fix: use {} (CPU is always the last resort)",
                PROVIDERS.join(", ")
            ));
        }
    }
    errs.extend(super::sinks_check::check(origin, &at, &cfg.sinks));
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs.join("\n"))
    }
}

/// Reads and parses a pipeline file.
///
/// When the rules overlay written by the console's zone editor exists next to the file
/// ([`overlay_path`]), its rules replace those of the same cameras, and the result is validated
/// again; errors in the overlay name the overlay file.
pub fn load(path: &Path) -> Result<(PipelineConfig, String), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let mut cfg = parse(&path.display().to_string(), &text)?;
    let ov_path = overlay_path(path);
    if let Ok(ov_text) = std::fs::read_to_string(&ov_path) {
        let origin = ov_path.display().to_string();
        let ov: RulesOverlay = toml::from_str(&ov_text).map_err(|e| {
            let at = e.span().map(|s| line_col(&ov_text, s.start));
            match at {
                Some((l, c)) => format!("{origin}:{l}:{c}: {}", e.message()),
                None => format!("{origin}: {}", e.message()),
            }
        })?;
        for (id, rules) in ov.camera {
            let cam = cfg.cameras.iter_mut().find(|c| c.id == id).ok_or_else(|| {
                format!(
                    "{origin}: camera '{id}' is not in {}\n  fix: delete its table from the overlay",
                    path.display()
                )
            })?;
            cam.rules = rules;
        }
        validate(&origin, &ov_text, &cfg)?;
    }
    Ok((cfg, text))
}

/// The console's rules overlay of a pipeline file: `site.toml` → `site.rules-overlay.toml`.
pub fn overlay_path(path: &Path) -> std::path::PathBuf {
    path.with_extension("rules-overlay.toml")
}

/// `[camera.<id>]` tables, each a camera's whole `[camera.rules]`.
#[derive(Debug, Default, serde::Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesOverlay {
    #[serde(default)]
    camera: std::collections::BTreeMap<String, RulesConfig>,
}

/// Sets `camera`'s rules in the overlay of `path` (atomically: temp file, fsync, rename);
/// returns the previous overlay text, if any, so a failed apply can put it back.
pub fn write_overlay(path: &Path, camera: &str, rules: &RulesConfig) -> Result<Option<String>, String> {
    let ov_path = overlay_path(path);
    let old = std::fs::read_to_string(&ov_path).ok();
    let mut ov: RulesOverlay = match &old {
        Some(t) => toml::from_str(t).map_err(|e| format!("{}: {}", ov_path.display(), e.message()))?,
        None => RulesOverlay::default(),
    };
    ov.camera.insert(camera.to_string(), rules.clone());
    let body = toml::to_string(&ov).map_err(|e| format!("{}: {e}", ov_path.display()))?;
    let text = format!(
        "# Rules edited in the Vigil console; they replace the same cameras' [camera.rules] of\n# {}. Copy them there and delete this file to make them part of the pipeline file.\n\n{body}",
        path.file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
    );
    restore_overlay(path, Some(&text))?;
    Ok(old)
}

/// Writes (or with `None` removes) the overlay text atomically.
pub fn restore_overlay(path: &Path, text: Option<&str>) -> Result<(), String> {
    use std::io::Write as _;
    let ov_path = overlay_path(path);
    let Some(text) = text else {
        return match std::fs::remove_file(&ov_path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(format!("{}: {e}", ov_path.display())),
            _ => Ok(()),
        };
    };
    let tmp = ov_path.with_extension("toml.tmp");
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, &ov_path)
    };
    write().map_err(|e| format!("{}: {e}", ov_path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[node]
id = "n"
data_dir = "/tmp/x"

[[camera]]
id = "cam"
uri = "rtsp://127.0.0.1:8554/a"

[[camera.rules.zone]]
id = "lawn"
points = [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9]]

[[camera.rules.rule]]
id = "intrusion"
kind = "zone_intrusion"
zone = "lawn"
"#;

    #[test]
    fn good_file_parses() {
        let c = parse("p.toml", GOOD).expect("valid");
        assert_eq!(c.cameras[0].rules.rules.len(), 1);
        assert_eq!(c.detector.model, "yolox-nano");
    }

    #[test]
    fn unknown_key_names_file_line_and_column() {
        let bad = GOOD.replace("uri = ", "url = ");
        let e = parse("p.toml", &bad).expect_err("unknown key");
        assert!(e.starts_with("p.toml:8:1:"), "{e}");
        assert!(e.contains("url"), "{e}");
    }

    #[test]
    fn semantic_errors_are_all_reported() {
        let bad = GOOD
            .replace("uri = \"rtsp", "uri = \"gopher")
            .replace("zone = \"lawn\"", "zone = \"roof\"")
            + "\n[[camera]]\nid = \"cam\"\nuri = \"rtsp://h/x\"\nanalysis_fps = 0\n";
        let e = parse("p.toml", &bad).expect_err("invalid");
        assert!(e.contains("defined twice"), "{e}");
        assert!(e.contains("gopher") || e.contains("scheme"), "{e}");
        assert!(e.contains("roof"), "{e}");
        assert!(e.contains("analysis_fps"), "{e}");
    }

    #[test]
    fn execution_providers_are_read_and_unknown_ones_named_with_position() {
        let with = |list: &str| {
            GOOD.replace(
                "[[camera]]",
                &format!("[detector]\nproviders = {list}\n\n[[camera]]"),
            )
        };
        let c = parse("p.toml", &with(r#"["cuda", "cpu"]"#)).expect("valid");
        assert_eq!(c.detector.providers, ["cuda", "cpu"]);
        assert!(
            parse("p.toml", GOOD)
                .expect("valid")
                .detector
                .providers
                .is_empty()
        );
        let e = parse("p.toml", &with(r#"["cuda", "gpu"]"#)).expect_err("unknown provider");
        assert!(
            e.starts_with("p.toml:7:1: [detector] unknown execution provider 'gpu'"),
            "{e}"
        );
        assert!(e.contains("fix: use cuda, tensorrt, openvino, cpu"), "{e}");
    }

    #[test]
    fn history_retention_is_read_and_checked() {
        let c = parse("p.toml", GOOD).expect("valid");
        assert_eq!(
            (c.node.history_max_age_days, c.node.history_max_alerts),
            (30, 100_000)
        );
        let with =
            |keys: &str| GOOD.replace("data_dir = \"/tmp/x\"", &format!("data_dir = \"/tmp/x\"\n{keys}"));
        let c = parse(
            "p.toml",
            &with("history_max_age_days = 7\nhistory_max_alerts = 500"),
        )
        .expect("valid");
        assert_eq!((c.node.history_max_age_days, c.node.history_max_alerts), (7, 500));
        let e = parse("p.toml", &with("history_max_age_days = 0")).expect_err("zero days");
        assert!(e.starts_with("p.toml:5:1: [node] history_max_age_days"), "{e}");
        assert!(parse("p.toml", &with("history_max_alerts = 0")).is_err());
    }

    #[test]
    fn outbox_limits_are_read_and_checked() {
        let c = parse(
            "p.toml",
            &GOOD.replace(
                "data_dir = \"/tmp/x\"",
                "data_dir = \"/tmp/x\"\noutbox_max_entries = 5000",
            ),
        )
        .expect("valid");
        assert_eq!(c.node.outbox_max_entries, 5000);
        assert_eq!(c.node.outbox_max_bytes, 1 << 30);
        let e = parse(
            "p.toml",
            &GOOD.replace(
                "data_dir = \"/tmp/x\"",
                "data_dir = \"/tmp/x\"\noutbox_max_entries = 5",
            ),
        )
        .expect_err("too small");
        assert!(e.contains("outbox_max_entries"), "{e}");
    }

    #[test]
    fn demo_pipeline_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../pipelines/demo.toml");
        load(&path).expect("pipelines/demo.toml must stay valid");
    }
}
