//! Logging: human-readable on a terminal, JSON lines otherwise; the pipeline file's `[log]` table
//! sets the filter and may force the format.
//!
//! Logging starts before anything else, so even a pipeline file that fails to parse is reported
//! through it. `vigil run` and `vigil demo` peek at the file's `[log]` table first ([`peek`]) to
//! pick the format; the filter sits behind a `tracing_subscriber::reload` handle, so the level
//! from the file is applied again after the full parse and on every reload ([`apply_level`]).
//! The format is fixed for the life of the process: switching a running daemon's log between
//! text and JSON would break whatever parses it (journald, a log shipper), so a reload that
//! changes `format` only warns. `RUST_LOG`, when set, always wins over `[log] level`.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::OnceLock;

use serde::Deserialize;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Registry, reload};

/// Filter used when neither `RUST_LOG` nor `[log] level` says otherwise: warnings from
/// everything, `info` from Vigil's own crates (targets match by prefix, so `vigil` covers
/// `vigil_ingest`, `vigil_alert`, …). At `info` the daemon logs one line per camera state
/// change, reload and sink state change.
pub const DEFAULT_LEVEL: &str = "warn,vigil=info";

/// The `[log]` table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// tracing `EnvFilter` directives, e.g. `"warn,vigil=info,vigil_ingest=debug"`. Default
    /// [`DEFAULT_LEVEL`]. Applied again on reload. Ignored while `RUST_LOG` is set.
    #[serde(default = "default_level")]
    pub level: String,
    /// `auto` (text on a terminal, JSON otherwise), `json` or `text`. Read at start only.
    #[serde(default)]
    pub format: LogFormat,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            level: default_level(),
            format: LogFormat::Auto,
        }
    }
}

fn default_level() -> String {
    DEFAULT_LEVEL.to_owned()
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Text when stderr is a terminal, JSON lines otherwise.
    #[default]
    Auto,
    /// One JSON object per line.
    Json,
    /// Human-readable text (no colours unless stderr is a terminal).
    Text,
}

impl LogFormat {
    /// `Json` or `Text`: what `Auto` means on this process's stderr.
    fn resolve(self) -> LogFormat {
        match self {
            LogFormat::Auto if std::io::stderr().is_terminal() => LogFormat::Text,
            LogFormat::Auto => LogFormat::Json,
            f => f,
        }
    }
}

/// Checks `[log] level` the way the subscriber will parse it; `Err` says what is wrong.
pub fn check_level(level: &str) -> Result<(), String> {
    EnvFilter::builder()
        .parse(level)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// The reload handle of the filter, and what was set up at start.
struct Installed {
    filter: reload::Handle<EnvFilter, Registry>,
    /// The format in use (resolved: never `Auto`).
    format: LogFormat,
    /// `RUST_LOG` was set and valid at start; `[log] level` is then ignored.
    env_wins: bool,
}

static INSTALLED: OnceLock<Installed> = OnceLock::new();

/// Reads only the `[log]` table of a pipeline file, before logging starts. `None` when the file
/// or the table cannot be read: the full parse, with logging up, reports why.
pub fn peek(path: &Path) -> Option<LogConfig> {
    #[derive(Deserialize)]
    struct OnlyLog {
        log: Option<LogConfig>,
    }
    let text = std::fs::read_to_string(path).ok()?;
    toml::from_str::<OnlyLog>(&text).ok()?.log
}

/// Installs the global subscriber with `cfg` (the peeked `[log]` table, or the defaults). Logs
/// go to stderr so stdout stays for command output.
pub fn init(cfg: Option<&LogConfig>) {
    let defaults = LogConfig::default();
    let cfg = cfg.unwrap_or(&defaults);
    let env = std::env::var("RUST_LOG")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .and_then(|v| EnvFilter::builder().parse(v).ok());
    let env_wins = env.is_some();
    // A bad level in the file falls back to the default here; `vigil check`/`run` report it.
    let filter = env.unwrap_or_else(|| {
        EnvFilter::builder()
            .parse(&cfg.level)
            .unwrap_or_else(|_| EnvFilter::new(DEFAULT_LEVEL))
    });
    let (filter, handle) = reload::Layer::new(filter);
    let format = cfg.format.resolve();
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let registry = Registry::default().with(filter);
    let installed = match format {
        LogFormat::Json => registry.with(fmt.json()).try_init(),
        _ => registry
            .with(fmt.with_ansi(std::io::stderr().is_terminal()))
            .try_init(),
    };
    if installed.is_ok() {
        let _ = INSTALLED.set(Installed {
            filter: handle,
            format,
            env_wins,
        });
    }
}

/// Applies `[log]` to the running process: the level now (unless `RUST_LOG` wins), the format
/// never (a warning says a restart is needed when it differs). Returns one line for the reload
/// outcome when something changed or was ignored, `None` otherwise.
pub fn apply(cfg: &LogConfig) -> Option<String> {
    let installed = INSTALLED.get()?;
    let mut notes = Vec::new();
    if cfg.format.resolve() != installed.format {
        tracing::warn!(
            format = ?cfg.format,
            "[log] format changes take effect at the next start; the running daemon keeps its format"
        );
        notes.push("log format: needs a restart".to_owned());
    }
    if installed.env_wins {
        return (!notes.is_empty()).then(|| notes.join("; "));
    }
    let new = match EnvFilter::builder().parse(&cfg.level) {
        Ok(f) => f,
        // Validation refuses such a file first; kept as an error, not a panic.
        Err(e) => {
            tracing::warn!(error = %e, "[log] level not applied");
            return Some(format!("log level not applied: {e}"));
        }
    };
    let mut changed = false;
    let res = installed.filter.modify(|f| {
        changed = f.to_string() != new.to_string();
        *f = new;
    });
    match res {
        Ok(()) if changed => {
            // Under the new filter: seen whenever the daemon's info lines are.
            tracing::info!(level = %cfg.level, "log level changed");
            notes.push(format!("log level now \"{}\"", cfg.level));
        }
        Ok(()) => {}
        Err(e) => notes.push(format!("log level not applied: {e}")),
    }
    (!notes.is_empty()).then(|| notes.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_checked_like_the_subscriber_parses_them() {
        assert!(check_level(DEFAULT_LEVEL).is_ok());
        assert!(check_level("info,vigil_ingest=debug").is_ok());
        assert!(check_level("vigil=verbose").is_err());
        assert!(check_level("warn,[unclosed").is_err());
    }

    #[test]
    fn log_table_parses_with_defaults_and_rejects_unknown_keys() {
        let c: LogConfig = toml::from_str("").expect("defaults");
        assert_eq!(c, LogConfig::default());
        let c: LogConfig = toml::from_str("format = \"json\"\nlevel = \"debug\"").expect("set");
        assert_eq!((c.format, c.level.as_str()), (LogFormat::Json, "debug"));
        assert!(toml::from_str::<LogConfig>("format = \"xml\"").is_err());
        assert!(toml::from_str::<LogConfig>("colour = true").is_err());
        assert_eq!(LogFormat::Text.resolve(), LogFormat::Text);
        assert_ne!(LogFormat::Auto.resolve(), LogFormat::Auto);
    }

    #[test]
    fn peek_reads_only_the_log_table() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("p.toml");
        std::fs::write(&p, "[node]\nid = 3\n[log]\nformat = \"text\"\n").expect("write");
        assert_eq!(peek(&p).map(|c| c.format), Some(LogFormat::Text));
        std::fs::write(&p, "[node]\nid = \"n\"\n").expect("write");
        assert_eq!(peek(&p), None);
        assert_eq!(peek(&dir.path().join("missing.toml")), None);
    }
}
