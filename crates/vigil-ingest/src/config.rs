//! Camera source configuration: the raw, deserialised form and its validation into
//! [`SourceSettings`], the trusted form the pipeline builder reads.
//!
//! Validation happens once, at load time, so that a typo (an `rstp://` scheme, a zero fps) is
//! reported with the camera's id before any pipeline starts.

use crate::error::ConfigError;
use crate::redact::{Redactor, redact_uri};
use serde::{Deserialize, Serialize};
use std::fmt;
use vigil_core::{CameraId, PixelFormat};

/// A password or other secret; `Debug` and `Display` never print it.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself — only for handing to the element that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(crate::redact::REDACTED)
    }
}

/// Lower transport for RTSP sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RtspTransport {
    /// RTP interleaved in the RTSP TCP connection. Default: passes NAT and firewalls, no packet
    /// loss on busy links, and a server-side disconnect is noticed at once.
    #[default]
    Tcp,
    /// RTP over UDP: lowest latency on a clean LAN, but loses packets under load.
    Udp,
    /// Let rtspsrc try UDP first and fall back to TCP.
    Auto,
}

/// Pixel order of the frames handed to analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    /// Red, green, blue.
    Rgb,
    /// Blue, green, red — the order OpenCV-trained models (YOLOX) expect; default.
    #[default]
    Bgr,
}

impl From<OutputFormat> for PixelFormat {
    fn from(f: OutputFormat) -> Self {
        match f {
            OutputFormat::Rgb => PixelFormat::Rgb8,
            OutputFormat::Bgr => PixelFormat::Bgr8,
        }
    }
}

/// What a file source does when it reaches its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EosPolicy {
    /// Start again from the beginning (the file behaves like an endless camera). Default.
    #[default]
    Loop,
    /// Stop the source; its state becomes `Stopped`.
    Stop,
}

/// What a file source does when the media itself is broken (truncated, corrupt, missing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaErrorPolicy {
    /// Give up: state `Failed`, the error kept in the status. Default, since re-reading the same
    /// broken file cannot succeed.
    #[default]
    Fail,
    /// Keep retrying with backoff (useful when the file is being replaced or an HTTP server is
    /// flaky).
    Retry,
}

/// One camera source as written in a pipeline file (`[[camera]]`).
///
/// ```toml
/// id = "gate-1"
/// uri = "rtsp://10.0.0.5:554/Streaming/Channels/101"
/// username = "viewer"
/// password = "…"
/// analysis_fps = 5.0
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CameraSourceConfig {
    /// Unique camera id, used in frames, logs and metric labels.
    pub id: String,
    /// Source URI: `rtsp://`, `rtsps://`, `file://`, `http://` or `https://`. Credentials inside
    /// the URI are accepted but moved out of it at validation.
    pub uri: String,
    /// RTSP/HTTP user name. Default: none.
    #[serde(default)]
    pub username: Option<String>,
    /// RTSP/HTTP password, never logged. Default: none.
    #[serde(default)]
    pub password: Option<Secret>,
    /// RTSP lower transport. Default: `tcp`.
    #[serde(default)]
    pub transport: RtspTransport,
    /// RTSP jitter-buffer latency in milliseconds. Default: 200.
    #[serde(default = "default_latency_ms")]
    pub latency_ms: u32,
    /// Frames per second handed to analysis (e.g. 5 from a 25 fps stream); surplus frames are
    /// dropped right after decoding. Default: none = every decoded frame.
    #[serde(default)]
    pub analysis_fps: Option<f64>,
    /// Pixel order of the frames. Default: `bgr`.
    #[serde(default)]
    pub pixel_format: OutputFormat,
    /// Decoder element to use instead of the automatic choice (e.g. `"avdec_h264"`).
    /// Default: none = prefer hardware decoders, else libav.
    #[serde(default)]
    pub decoder: Option<String>,
    /// Scale frames down (keeping the aspect ratio) so that they are at most this wide.
    /// Default: none = no scaling.
    #[serde(default)]
    pub max_width: Option<u32>,
    /// Scale frames down so that they are at most this high. Default: none.
    #[serde(default)]
    pub max_height: Option<u32>,
    /// Frames buffered between this camera and the analysis workers; when full the oldest is
    /// dropped. Default: 2.
    #[serde(default = "default_queue_capacity")]
    pub queue_capacity: usize,
    /// File sources only: what to do at the end of the file. Default: `loop`.
    #[serde(default)]
    pub on_eos: EosPolicy,
    /// File/HTTP sources only: what to do when the media is broken. Default: `fail`.
    #[serde(default)]
    pub on_media_error: MediaErrorPolicy,
}

fn default_latency_ms() -> u32 {
    200
}

fn default_queue_capacity() -> usize {
    2
}

/// Which GStreamer front end a URI needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// `rtsp://` / `rtsps://` through `rtspsrc` — a live source.
    Rtsp,
    /// `file://`, `http://`, `https://` through `urisourcebin` — a stored or progressive source.
    Uri,
}

/// Optional user name and password for a source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// User name.
    pub username: String,
    /// Password (may be empty).
    pub password: Secret,
}

/// Validated, trusted settings of one camera source.
#[derive(Debug, Clone)]
pub struct SourceSettings {
    /// Camera id.
    pub camera: CameraId,
    /// Source URI without any user info.
    pub uri: String,
    /// Front end derived from the scheme.
    pub kind: SourceKind,
    /// Credentials, from the config fields or moved out of the URI.
    pub credentials: Option<Credentials>,
    /// RTSP lower transport.
    pub transport: RtspTransport,
    /// RTSP latency in milliseconds.
    pub latency_ms: u32,
    /// Analysis rate; `None` = every frame.
    pub analysis_fps: Option<f64>,
    /// Output pixel order.
    pub format: PixelFormat,
    /// Decoder element override.
    pub decoder: Option<String>,
    /// Maximum output width in pixels.
    pub max_width: Option<u32>,
    /// Maximum output height in pixels.
    pub max_height: Option<u32>,
    /// Queue capacity in frames (≥ 1).
    pub queue_capacity: usize,
    /// End-of-file behaviour (file sources).
    pub on_eos: EosPolicy,
    /// Broken-media behaviour (file/HTTP sources).
    pub on_media_error: MediaErrorPolicy,
    /// Whether the sink paces frames by their timestamps. True for stored media, so that a file
    /// plays at its own speed like a camera; false for live RTSP (already paced by the network)
    /// and for throughput benchmarks.
    pub sync_to_clock: bool,
}

impl SourceSettings {
    /// The URI with credentials removed, for logs and errors.
    pub fn redacted_uri(&self) -> String {
        redact_uri(&self.uri)
    }

    /// A redactor that also hides this source's password wherever it appears.
    pub fn redactor(&self) -> Redactor {
        Redactor::new(self.credentials.iter().map(|c| c.password.expose()))
    }
}

/// Highest analysis rate accepted; above it the value is almost certainly a typo.
const MAX_ANALYSIS_FPS: f64 = 240.0;
/// Smallest accepted scale-down bound; smaller frames are useless for detection.
const MIN_SCALED_SIDE_PX: u32 = 16;

impl CameraSourceConfig {
    /// Checks every field and produces the trusted settings, or the first problem found, naming
    /// the camera.
    pub fn validate(&self) -> Result<SourceSettings, ConfigError> {
        let camera = self.id.trim();
        if camera.is_empty() {
            return Err(ConfigError::EmptyId {
                uri: redact_uri(&self.uri),
            });
        }
        let invalid = |field: &'static str, value: String, reason: &'static str| ConfigError::InvalidValue {
            camera: camera.to_owned(),
            field,
            value,
            reason,
        };
        let (scheme, _) = self
            .uri
            .split_once("://")
            .ok_or_else(|| ConfigError::MissingScheme {
                camera: camera.to_owned(),
                uri: redact_uri(&self.uri),
            })?;
        let kind = match scheme.to_ascii_lowercase().as_str() {
            "rtsp" | "rtsps" => SourceKind::Rtsp,
            "file" | "http" | "https" => SourceKind::Uri,
            other => {
                return Err(ConfigError::UnsupportedScheme {
                    camera: camera.to_owned(),
                    scheme: other.to_owned(),
                    uri: redact_uri(&self.uri),
                });
            }
        };
        let (uri, userinfo) = split_userinfo(&self.uri);
        let credentials = match (&self.username, &self.password, userinfo) {
            (Some(user), password, _) => Some(Credentials {
                username: user.clone(),
                password: password.clone().unwrap_or_default(),
            }),
            (None, Some(_), _) => {
                return Err(ConfigError::PasswordWithoutUser {
                    camera: camera.to_owned(),
                });
            }
            (None, None, Some((user, pass))) => Some(Credentials {
                username: user,
                password: pass,
            }),
            (None, None, None) => None,
        };
        if let Some(fps) = self.analysis_fps
            && !(fps.is_finite() && fps > 0.0 && fps <= MAX_ANALYSIS_FPS)
        {
            return Err(invalid("analysis_fps", fps.to_string(), "must be > 0 and ≤ 240"));
        }
        for (field, value) in [("max_width", self.max_width), ("max_height", self.max_height)] {
            if let Some(v) = value
                && v < MIN_SCALED_SIDE_PX
            {
                return Err(invalid(field, v.to_string(), "must be at least 16 pixels"));
            }
        }
        if self.queue_capacity == 0 {
            return Err(invalid("queue_capacity", "0".into(), "must be at least 1"));
        }
        if let Some(dec) = &self.decoder
            && (dec.is_empty()
                || !dec
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        {
            return Err(invalid(
                "decoder",
                dec.clone(),
                "must be a GStreamer element name like avdec_h264",
            ));
        }
        Ok(SourceSettings {
            camera: CameraId::new(camera),
            uri,
            kind,
            credentials,
            transport: self.transport,
            latency_ms: self.latency_ms,
            analysis_fps: self.analysis_fps,
            format: self.pixel_format.into(),
            decoder: self.decoder.clone(),
            max_width: self.max_width,
            max_height: self.max_height,
            queue_capacity: self.queue_capacity,
            on_eos: self.on_eos,
            on_media_error: self.on_media_error,
            sync_to_clock: kind == SourceKind::Uri,
        })
    }

    /// A config with every optional field at its default.
    pub fn new(id: impl Into<String>, uri: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            uri: uri.into(),
            username: None,
            password: None,
            transport: RtspTransport::default(),
            latency_ms: default_latency_ms(),
            analysis_fps: None,
            pixel_format: OutputFormat::default(),
            decoder: None,
            max_width: None,
            max_height: None,
            queue_capacity: default_queue_capacity(),
            on_eos: EosPolicy::default(),
            on_media_error: MediaErrorPolicy::default(),
        }
    }
}

/// Splits `scheme://user:pass@host/…` into the URI without user info and the (percent-decoded)
/// user and password.
fn split_userinfo(uri: &str) -> (String, Option<(String, Secret)>) {
    let Some((scheme, rest)) = uri.split_once("://") else {
        return (uri.to_owned(), None);
    };
    let query_start = rest.find(['?', '#']).unwrap_or(rest.len());
    let Some(at) = rest[..query_start].rfind('@') else {
        return (uri.to_owned(), None);
    };
    let (user, pass) = rest[..at].split_once(':').unwrap_or((&rest[..at], ""));
    let clean = format!("{scheme}://{}", &rest[at + 1..]);
    (
        clean,
        Some((percent_decode(user), Secret::new(percent_decode(pass)))),
    )
}

/// Decodes `%XX` escapes; malformed escapes are kept literally.
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(toml_text: &str) -> Result<CameraSourceConfig, toml::de::Error> {
        toml::from_str(toml_text)
    }

    #[test]
    fn full_config_round_trips_into_settings() {
        let cfg = parse(
            r#"
            id = "gate-1"
            uri = "rtsp://10.0.0.5/ch1"
            username = "viewer"
            password = "pw-123"
            transport = "udp"
            latency_ms = 100
            analysis_fps = 5.0
            pixel_format = "rgb"
            decoder = "avdec_h264"
            max_width = 1280
            queue_capacity = 4
            "#,
        )
        .expect("valid toml");
        let s = cfg.validate().expect("valid config");
        assert_eq!(s.camera.as_str(), "gate-1");
        assert_eq!(s.kind, SourceKind::Rtsp);
        assert_eq!(s.transport, RtspTransport::Udp);
        assert_eq!(s.format, PixelFormat::Rgb8);
        assert_eq!(s.analysis_fps, Some(5.0));
        assert_eq!(s.queue_capacity, 4);
        assert!(!s.sync_to_clock, "live sources must not be paced by the sink");
        let creds = s.credentials.expect("credentials");
        assert_eq!(
            (creds.username.as_str(), creds.password.expose()),
            ("viewer", "pw-123")
        );
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let err = parse("id = \"a\"\nuri = \"rtsp://h/\"\nfps = 5").expect_err("unknown field");
        assert!(err.to_string().contains("fps"), "{err}");
    }

    #[test]
    fn unknown_scheme_names_the_camera_and_hides_the_password() {
        let err = CameraSourceConfig::new("yard", "rstp://admin:hunter2@cam/1")
            .validate()
            .expect_err("bad scheme");
        let msg = err.to_string();
        assert!(msg.contains("yard") && msg.contains("rstp"), "{msg}");
        assert!(!msg.contains("hunter2"), "{msg}");
        assert!(matches!(err, ConfigError::UnsupportedScheme { .. }));
        let err = CameraSourceConfig::new("yard", "/data/a.mp4")
            .validate()
            .expect_err("no scheme");
        assert!(matches!(err, ConfigError::MissingScheme { .. }), "{err}");
    }

    #[test]
    fn credentials_in_the_uri_move_out_of_it() {
        let s = CameraSourceConfig::new("c", "rtsp://ad%40min:p%3Ass@10.0.0.5:554/ch1?x=1")
            .validate()
            .expect("valid");
        assert_eq!(s.uri, "rtsp://10.0.0.5:554/ch1?x=1");
        let creds = s.credentials.expect("moved");
        assert_eq!(
            (creds.username.as_str(), creds.password.expose()),
            ("ad@min", "p:ss")
        );
    }

    #[test]
    fn explicit_fields_win_over_uri_userinfo() {
        let mut cfg = CameraSourceConfig::new("c", "rtsp://old:old@h/");
        cfg.username = Some("new".into());
        cfg.password = Some(Secret::new("newpw"));
        let s = cfg.validate().expect("valid");
        assert_eq!(s.uri, "rtsp://h/");
        assert_eq!(s.credentials.expect("creds").username, "new");
    }

    #[test]
    fn out_of_range_values_are_rejected_with_the_field_name() {
        let mut cfg = CameraSourceConfig::new("c", "file:///a.avi");
        cfg.analysis_fps = Some(0.0);
        assert!(
            cfg.validate()
                .expect_err("fps 0")
                .to_string()
                .contains("analysis_fps")
        );
        cfg.analysis_fps = Some(f64::NAN);
        assert!(cfg.validate().is_err());
        cfg.analysis_fps = None;
        cfg.queue_capacity = 0;
        assert!(
            cfg.validate()
                .expect_err("cap 0")
                .to_string()
                .contains("queue_capacity")
        );
        cfg.queue_capacity = 1;
        cfg.max_height = Some(8);
        assert!(
            cfg.validate()
                .expect_err("tiny")
                .to_string()
                .contains("max_height")
        );
        cfg.max_height = None;
        cfg.decoder = Some("avdec_h264 ! fakesink".into());
        assert!(
            cfg.validate()
                .expect_err("launch syntax")
                .to_string()
                .contains("decoder")
        );
        cfg.decoder = None;
        cfg.password = Some(Secret::new("x"));
        assert!(matches!(
            cfg.validate(),
            Err(ConfigError::PasswordWithoutUser { .. })
        ));
    }

    #[test]
    fn file_sources_are_paced_and_debug_never_shows_the_password() {
        let mut cfg = CameraSourceConfig::new("c", "file:///a.avi");
        cfg.username = Some("u".into());
        cfg.password = Some(Secret::new("topsecret"));
        let s = cfg.validate().expect("valid");
        assert!(s.sync_to_clock);
        assert_eq!(s.kind, SourceKind::Uri);
        assert!(!format!("{cfg:?} {s:?}").contains("topsecret"));
    }

    #[test]
    fn percent_decoding_keeps_malformed_escapes() {
        assert_eq!(percent_decode("a%2Fb%zz%4"), "a/b%zz%4");
    }
}
