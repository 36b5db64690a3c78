//! Privacy and secrets end to end, judged on output bytes (issue 11, Privacy 2, Hardening 4).
//!
//! Real parts only: `vigil camsim` serves the labelled street scene (and vtest.avi), `vigil run`
//! reads it with YOLOX + PP-OCR, alerts go to a JSONL file and the alert history, the HTTP API
//! serves cameras, alerts and metrics, and a real RabbitMQ refuses a wrong password. The tests
//! then look through every output — stdout, stderr (JSON and text logs), API bodies, /metrics,
//! the sink file and every file of the data directory — for strings that must not be there:
//!
//! * with read logging off, the text of a plate that hit no list;
//! * with read logging on, the text again, while the read log holds its HMAC (recomputed here
//!   with the hmac crate) and `vigil reads lookup` finds it;
//! * camera and sink passwords (from `password_env`, a URI's userinfo and a `password_file`)
//!   and the API token, while cameras fail, a sink is refused and reloads succeed and fail.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

mod common;
use common::{Kill, Reply, camsim, free_port, label_of, request, terminate, vigil, vigil_run, wait_for};

/// The scene whose plate is read (as in plates_e2e.rs).
const SCENE: &str = "hyperlpr_pip_test_db.jpg";
const TOKEN: &str = "privacy-test-token-Yw3r8Qp1";
const CAM_PW: &str = "cam-pw-Zq81xVj4";
const INLINE_PW: &str = "inline-pw-Kt27wBn6";
const SINK_PW: &str = "sink-pw-Hm59rCd2";
const READ_LOG_KEY: &str = "read-log-key-4f9Tz0QeLmA7cV2sN8bK1xR6yH3uJ5wP";

/// The forms a leaked plate could take: as is, its ASCII tail (in case the province
/// character was escaped or re-encoded) and JSON's `\u` escape of the first character.
fn plate_forms(plate: &str) -> Vec<String> {
    let mut forms = vec![plate.to_string()];
    let mut chars = plate.chars();
    if let Some(first) = chars.next()
        && !first.is_ascii()
    {
        let tail: String = chars.collect();
        forms.push(format!("\\u{:04x}{tail}", first as u32));
        forms.push(tail);
    }
    forms
}

/// Which of `needles` occur in `hay`.
fn found_in(hay: &[u8], needles: &[String]) -> Vec<String> {
    needles
        .iter()
        .filter(|n| hay.windows(n.len()).any(|w| w == n.as_bytes()))
        .cloned()
        .collect()
}

/// Every regular file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else if p.is_file() {
            out.push(p);
        }
    }
    out
}

/// Outputs collected under a name, searched at the end.
#[derive(Default)]
struct Outputs(Vec<(String, Vec<u8>)>);

impl Outputs {
    fn add(&mut self, what: impl Into<String>, bytes: impl Into<Vec<u8>>) {
        self.0.push((what.into(), bytes.into()));
    }

    fn add_files(&mut self, dir: &Path) {
        for f in files_under(dir) {
            let bytes = std::fs::read(&f).unwrap_or_default();
            self.add(f.display().to_string(), bytes);
        }
    }

    /// Panics naming every output that contains any of `needles`.
    fn assert_free_of(&self, needles: &[String]) {
        let leaks: Vec<String> = self
            .0
            .iter()
            .filter_map(|(what, bytes)| {
                let hit = found_in(bytes, needles);
                (!hit.is_empty()).then(|| format!("{what}: {hit:?}"))
            })
            .collect();
        assert!(leaks.is_empty(), "leaked into: {leaks:#?}");
    }
}

fn http(method: &str, url: &str, token: Option<&str>) -> Reply {
    request(method, url, token, None, Duration::from_secs(10))
}

/// The value of one sample line of a metrics scrape (`name{labels} value`).
fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|v| v.strip_prefix(' ')))
        .and_then(|v| v.trim().parse().ok())
}

/// `vigil run FILE` in the background, stdout and stderr to files in `dir`.
struct Daemon {
    proc: Kill,
    stdout: PathBuf,
    stderr: PathBuf,
}

fn start(file: &Path, dir: &Path, env: &[(&str, &str)]) -> Daemon {
    let stdout = dir.join("run.stdout");
    let stderr = dir.join("run.stderr");
    let mut cmd = vigil_run(file, 50);
    cmd.stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout).expect("stdout file"))
        .stderr(std::fs::File::create(&stderr).expect("stderr file"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    Daemon {
        proc: Kill(cmd.spawn().expect("start vigil run")),
        stdout,
        stderr,
    }
}

impl Daemon {
    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Panics with the log when the daemon has already ended.
    fn assert_running(&mut self) {
        if let Some(s) = self.proc.0.try_wait().expect("wait") {
            panic!("vigil run ended early ({s}):\n{}", self.stderr());
        }
    }

    /// SIGTERM, then waits (bounded) for a clean exit; returns (stdout, stderr).
    fn stop(mut self) -> (Vec<u8>, Vec<u8>) {
        let status = terminate(&mut self.proc, Duration::from_secs(25));
        let out = std::fs::read(&self.stdout).unwrap_or_default();
        let err = std::fs::read(&self.stderr).unwrap_or_default();
        let s =
            status.unwrap_or_else(|| panic!("vigil run did not stop:\n{}", String::from_utf8_lossy(&err)));
        assert!(
            s.success(),
            "vigil run failed:\n{}",
            String::from_utf8_lossy(&err)
        );
        (out, err)
    }
}

fn write_private(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).expect("write");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
}

/// The street camera reading plates in the whole frame (the vehicle fills the view).
fn street_camera(url: &str, fps: u32) -> String {
    format!(
        r#"
[[camera]]
id = "street"
uri = "{url}"
analysis_fps = {fps}
plates = true
plate_source = "frame"
"#
    )
}

fn api_table(port: u16) -> String {
    format!(
        r#"
[api]
bind = "127.0.0.1:{port}"
[[api.tokens]]
name = "ops"
secret_env = "VIGIL_TEST_API_TOKEN"
"#
    )
}

#[test]
fn with_read_logging_off_a_non_hit_read_appears_in_no_output() {
    let testdata = vigil_testkit::testdata();
    let scenes = testdata.join("scenes");
    let plate = label_of(&scenes, SCENE);
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    let data = d.join("data");
    // A hotlist without the plate: the read is a non-hit.
    std::fs::write(
        d.join("unrelated.csv"),
        "plate,list,kind,priority\n鲁Q7K3M9,unrelated,hotlist,high\n",
    )
    .expect("list");
    let (_street, street_url) = camsim("/street", &scenes.join(SCENE), 0);
    let (_campus, campus_url) = camsim("/campus", &testdata.join("vtest.avi"), 0);
    let port = free_port();
    let jsonl = d.join("alerts.jsonl");
    let text = format!(
        r#"
[node]
id = "privacy"
data_dir = "{data}"

[detector]
intra_threads = 1

[plates]
intra_threads = 1

[watchlists]
[[watchlists.list]]
name = "unrelated"
kind = "hotlist"
file = "{d}/unrelated.csv"
{api}
{street}
[[camera.rules.rule]]
id = "hit-unrelated"
kind = "plate_hotlist"
lists = ["unrelated"]

# People on the campus raise alerts, so the sink file, the history and the API list carry
# alerts while the street's plate is read.
[[camera]]
id = "campus"
uri = "{campus_url}"
analysis_fps = 3

[[camera.rules.zone]]
id = "all"
points = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]

[[camera.rules.rule]]
id = "walkers"
kind = "zone_intrusion"
zone = "all"
classes = ["person"]
min_inside_s = 0.5

[[sink]]
name = "jsonl"
[sink.sink.file]
path = "{jsonl}"
"#,
        data = data.display(),
        d = d.display(),
        api = api_table(port),
        street = street_camera(&street_url, 2),
        jsonl = jsonl.display(),
    );
    let file = d.join("street.toml");
    std::fs::write(&file, text).expect("pipeline");

    // Debug logs of every Vigil crate: what an operator chasing a problem would turn on.
    let mut daemon = start(
        &file,
        d,
        &[("VIGIL_TEST_API_TOKEN", TOKEN), ("RUST_LOG", "info,vigil=trace")],
    );
    let base = format!("http://127.0.0.1:{port}");
    let mut outputs = Outputs::default();
    let scrape = wait_for("a voted plate and an alert", 55, || {
        let m = http("GET", &format!("{base}/metrics"), None);
        let text = String::from_utf8_lossy(&m.body).into_owned();
        let voted = metric(&text, "vigil_plates_voted_total{camera=\"street\"}").unwrap_or(0.0);
        let alerts = metric(
            &text,
            "vigil_rule_alerts_total{camera=\"campus\",kind=\"zone.intrusion\",rule=\"walkers\"}",
        )
        .unwrap_or(0.0);
        daemon.assert_running();
        (voted >= 1.0 && alerts >= 1.0).then_some(text)
    });
    outputs.add("/metrics", scrape);
    let list = http("GET", &format!("{base}/api/v1/alerts?limit=500"), Some(TOKEN));
    assert_eq!(list.status, 200);
    let alerts: serde_json::Value = serde_json::from_slice(&list.body).expect("alert list");
    assert!(
        alerts.as_array().is_some_and(|a| !a.is_empty()),
        "the API lists the campus alerts: {alerts}"
    );
    outputs.add("GET /api/v1/alerts", list.body);
    for path in [
        "/api/v1/cameras",
        "/api/v1/cameras/street",
        "/api/v1/rules",
        "/api/v1/watchlists",
    ] {
        let r = http("GET", &format!("{base}{path}"), Some(TOKEN));
        assert_eq!(r.status, 200, "{path}");
        outputs.add(format!("GET {path}"), r.body);
    }
    let (stdout, stderr) = daemon.stop();
    assert!(
        String::from_utf8_lossy(&stderr).contains("plate voted"),
        "the trace log covers the voted read (without its text)"
    );
    outputs.add("stdout", stdout);
    outputs.add("stderr (JSON log)", stderr);
    let sink = std::fs::read(&jsonl).expect("the JSONL sink file exists");
    assert!(!sink.is_empty(), "alerts reached the sink file");
    outputs.add("JSONL sink", sink);
    let history = std::fs::read(data.join("history.redb")).expect("history file");
    assert!(!history.is_empty());
    outputs.add_files(&data);
    assert!(
        !read_log_dir(&data).exists(),
        "no read log is created while read logging is off"
    );
    outputs.assert_free_of(&plate_forms(&plate));
}

fn read_log_dir(data: &Path) -> PathBuf {
    data.join("plate-reads")
}

/// HMAC-SHA256 with the hmac crate, independently of the daemon's code.
fn hmac_hex(key: &[u8], text: &str) -> String {
    use hmac::{Hmac, KeyInit, Mac};
    let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key).expect("any key length");
    mac.update(text.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[test]
fn with_read_logging_on_only_the_keyed_hash_is_kept_and_lookup_finds_it() {
    let testdata = vigil_testkit::testdata();
    let scenes = testdata.join("scenes");
    let plate = label_of(&scenes, SCENE);
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    let data = d.join("data");
    let key_file = d.join("read-log.key");
    let (_street, url) = camsim("/street", &scenes.join(SCENE), 0);
    let port = free_port();
    let text = format!(
        r#"
[node]
id = "privacy"
data_dir = "{data}"

[detector]
intra_threads = 1

[plates]
intra_threads = 1

[plates.read_log]
enabled = true
key_file = "{key}"
retention_days = 7
{api}
{street}
"#,
        data = data.display(),
        key = key_file.display(),
        api = api_table(port),
        street = street_camera(&url, 5),
    );
    let file = d.join("street.toml");
    std::fs::write(&file, text).expect("pipeline");

    // `vigil check` refuses the file while the key file is missing, and says how to make one.
    let check = vigil(&["check"], &file);
    let err = String::from_utf8_lossy(&check.stderr);
    assert!(!check.status.success(), "check passed without a key file");
    assert!(
        err.contains("[plates.read_log] key_file") && err.contains("does not exist") && err.contains("fix:"),
        "{err}"
    );
    write_private(&key_file, &format!("{READ_LOG_KEY}\n"));
    let check = vigil(&["check"], &file);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );

    let mut daemon = start(
        &file,
        d,
        &[("VIGIL_TEST_API_TOKEN", TOKEN), ("RUST_LOG", "info,vigil=trace")],
    );
    let base = format!("http://127.0.0.1:{port}");
    let scrape = wait_for("a logged read", 50, || {
        let m = http("GET", &format!("{base}/metrics"), None);
        let text = String::from_utf8_lossy(&m.body).into_owned();
        daemon.assert_running();
        metric(&text, "vigil_plate_read_log_entries")
            .is_some_and(|n| n >= 1.0)
            .then_some(text)
    });
    let mut outputs = Outputs::default();
    outputs.add("/metrics", scrape);
    let (stdout, stderr) = daemon.stop();
    outputs.add("stdout", stdout);
    outputs.add("stderr", stderr);

    // The store: the HMAC of the label under the key, with camera and time; not the text.
    let expected = hmac_hex(READ_LOG_KEY.as_bytes(), &plate);
    let store = files_under(&read_log_dir(&data));
    assert!(!store.is_empty(), "the read log has files");
    let lines: Vec<serde_json::Value> = store
        .iter()
        .flat_map(|f| {
            std::fs::read_to_string(f)
                .expect("segment")
                .lines()
                .map(|l| serde_json::from_str(l).expect("JSON line"))
                .collect::<Vec<_>>()
        })
        .collect();
    let ours: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["hmac_sha256"] == expected.as_str())
        .collect();
    assert!(!ours.is_empty(), "no entry carries HMAC(key, {plate}): {lines:?}");
    assert_eq!(ours[0]["camera"], "street");
    let at: jiff::Timestamp = ours[0]["at"]
        .as_str()
        .expect("at")
        .parse()
        .expect("RFC 3339 time");
    assert!(jiff::Timestamp::now().duration_since(at).as_secs() < 120, "{at}");
    for l in &lines {
        let keys: Vec<&String> = l.as_object().expect("object").keys().collect();
        assert!(
            keys.iter()
                .all(|k| ["at", "camera", "hmac_sha256", "confidence", "colour"].contains(&k.as_str())),
            "unexpected field in {l}"
        );
    }

    // An investigator who knows the plate finds where and when; another plate finds nothing.
    // Spelled another way (lower case, a separator): normalised like the pipeline's reads.
    let mut chars = plate.chars();
    let head: String = chars.by_ref().take(2).collect::<String>().to_lowercase();
    let spelled = format!("{head}·{}", chars.collect::<String>());
    let found = vigil(
        &[
            "reads",
            "lookup",
            "--json",
            "--who",
            "inspector-7",
            "--plate",
            &spelled,
        ],
        &file,
    );
    assert!(
        found.status.success(),
        "{}",
        String::from_utf8_lossy(&found.stderr)
    );
    let hits: Vec<serde_json::Value> = String::from_utf8_lossy(&found.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(hits.len(), ours.len(), "lookup lists every logged pass");
    assert_eq!(hits[0]["camera"], "street");
    outputs.add("lookup stdout", found.stdout);
    outputs.add("lookup stderr", found.stderr);
    let none = vigil(&["reads", "lookup", "--plate", "鲁Q7K3M9"], &file);
    assert!(none.status.success());
    assert!(
        none.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&none.stdout)
    );
    assert!(String::from_utf8_lossy(&none.stderr).contains("0 read(s) found"));

    // Both lookups are audited with the hash, never the plate, and the chain verifies.
    let audit_path = data.join("read-lookup-audit.jsonl");
    let audit = std::fs::read_to_string(&audit_path).expect("lookup audit");
    assert_eq!(audit.lines().count(), 2, "{audit}");
    assert!(
        audit.contains(&expected) && audit.contains("inspector-7"),
        "{audit}"
    );
    let verify = vigil(&["audit-verify"], &audit_path);
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );

    outputs.add_files(&data);
    let mut secrets = plate_forms(&plate);
    secrets.push(READ_LOG_KEY.to_string());
    outputs.assert_free_of(&secrets);
}

/// The secrets of the redaction tests.
fn passwords() -> Vec<String> {
    [CAM_PW, INLINE_PW, SINK_PW, TOKEN]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// A pipeline whose cameras carry passwords three ways and whose sink is refused: `live`
/// (camsim, password from `password_env`), `down` (nothing listening, same password) and
/// `inline` (nothing listening, password in the URI), plus an AMQP sink whose password file
/// RabbitMQ rejects.
fn secret_pipeline(data: &Path, d: &Path, live_url: &str, closed: u16, api: &str, log: &str) -> String {
    format!(
        r#"
[node]
id = "privacy"
data_dir = "{data}"

[detector]
intra_threads = 1
{log}
{api}
[[camera]]
id = "live"
uri = "{live_url}"
analysis_fps = 5
username = "viewer"
password_env = "VIGIL_TEST_CAM_PW"

[[camera.rules.zone]]
id = "all"
points = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]

[[camera.rules.rule]]
id = "walkers"
kind = "zone_intrusion"
zone = "all"
classes = ["person"]
min_inside_s = 0.5

[[camera]]
id = "down"
uri = "rtsp://127.0.0.1:{closed}/down"
analysis_fps = 5
username = "viewer"
password_env = "VIGIL_TEST_CAM_PW"

[[camera]]
id = "inline"
uri = "rtsp://admin:{INLINE_PW}@127.0.0.1:{closed}/inline"
analysis_fps = 5

[[sink]]
name = "bus"
[sink.retry]
initial_backoff_ms = 200
max_backoff_ms = 1000
[sink.sink.amqp]
url = "amqp://127.0.0.1:5672/%2f"
username = "guest"
password_file = "{d}/sink.pw"
"#,
        data = data.display(),
        d = d.display(),
    )
}

#[test]
fn passwords_appear_in_no_json_log_metric_or_api_response() {
    let testdata = vigil_testkit::testdata();
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    let data = d.join("data");
    write_private(&d.join("sink.pw"), &format!("{SINK_PW}\n"));
    let (_live, live_url) = camsim("/live", &testdata.join("vtest.avi"), 0);
    let closed = free_port();
    let port = free_port();
    let file = d.join("secrets.toml");
    let text = secret_pipeline(&data, d, &live_url, closed, &api_table(port), "");
    std::fs::write(&file, &text).expect("pipeline");

    let mut daemon = start(
        &file,
        d,
        &[
            ("VIGIL_TEST_API_TOKEN", TOKEN),
            ("VIGIL_TEST_CAM_PW", CAM_PW),
            ("RUST_LOG", "info,vigil=debug"),
        ],
    );
    let base = format!("http://127.0.0.1:{port}");
    let get = |path: &str| http("GET", &format!("{base}{path}"), Some(TOKEN));
    let mut outputs = Outputs::default();

    // Wait until every failure path has run: both dead cameras have an error, the live one
    // streams and raised an alert, and RabbitMQ refused the sink at least once.
    let scrape = wait_for("failing cameras, an alert and a refused sink", 50, || {
        daemon.assert_running();
        let cams: serde_json::Value = serde_json::from_slice(&get("/api/v1/cameras").body).ok()?;
        let cams = cams.as_array()?.clone();
        let errored = |id: &str| {
            cams.iter()
                .any(|c| c["id"] == id && c["last_error"].as_str().is_some_and(|e| !e.is_empty()))
        };
        let m = String::from_utf8_lossy(&http("GET", &format!("{base}/metrics"), None).body).into_owned();
        let failed = metric(&m, "vigil_sink_failed_total{sink=\"bus\"}").unwrap_or(0.0);
        let streaming = metric(&m, "vigil_camera_up{camera=\"live\"}").unwrap_or(0.0);
        (errored("down") && errored("inline") && failed >= 1.0 && streaming >= 1.0).then_some(m)
    });
    outputs.add("/metrics", scrape);
    for path in [
        "/api/v1/cameras",
        "/api/v1/cameras/live",
        "/api/v1/cameras/down",
        "/api/v1/cameras/inline",
        "/api/v1/rules",
        "/api/v1/alerts",
    ] {
        let r = get(path);
        assert_eq!(r.status, 200, "{path}: {}", String::from_utf8_lossy(&r.body));
        outputs.add(format!("GET {path}"), r.body);
    }
    let down = String::from_utf8_lossy(&get("/api/v1/cameras/down").body).into_owned();
    assert!(down.contains("last_error"), "{down}");
    for (path, token, status) in [
        ("/api/v1/cameras/nope", Some(TOKEN), 404),
        ("/api/v1/cameras", None, 401),
        ("/api/v1/cameras", Some("wrong-token-000000000000"), 401),
    ] {
        let r = http("GET", &format!("{base}{path}"), token);
        assert_eq!(r.status, status, "{path}");
        outputs.add(format!("GET {path} ({status})"), r.body);
    }
    for path in ["/readyz", "/healthz"] {
        outputs.add(
            format!("GET {path}"),
            http("GET", &format!("{base}{path}"), None).body,
        );
    }

    // A reload that restarts a camera, then one refused for a broken URI that carries the
    // inline password: neither report may repeat it.
    let reload = |edited: String| {
        std::fs::write(&file, edited).expect("edit");
        http("POST", &format!("{base}/api/v1/reload"), Some(TOKEN))
    };
    let ok = reload(text.replace("/down\"\nanalysis_fps = 5", "/down\"\nanalysis_fps = 4"));
    let ok_text = String::from_utf8_lossy(&ok.body).into_owned();
    assert_eq!(ok.status, 200, "{ok_text}");
    assert!(
        ok_text.contains("down"),
        "the report names the restarted camera: {ok_text}"
    );
    outputs.add("POST /api/v1/reload (applied)", ok.body);
    let refused = reload(text.replace("uri = \"rtsp://admin:", "uri = \"gopher://admin:"));
    let refused_text = String::from_utf8_lossy(&refused.body).into_owned();
    assert_eq!(refused.status, 422, "{refused_text}");
    assert!(
        refused_text.contains("inline"),
        "the error names the camera: {refused_text}"
    );
    outputs.add("POST /api/v1/reload (refused)", refused.body);

    let (stdout, stderr) = daemon.stop();
    let log = String::from_utf8_lossy(&stderr).into_owned();
    assert!(
        log.lines().any(|l| l.starts_with('{') && l.contains("\"level\"")),
        "stderr carries JSON log lines:\n{log}"
    );
    // The redacted forms are there: the test looks where a password would have been.
    assert!(log.contains(&format!("127.0.0.1:{closed}")), "{log}");
    assert!(log.contains("bus"), "the sink's failures are logged:\n{log}");
    outputs.add("stdout", stdout);
    outputs.add("stderr (JSON log)", stderr);
    outputs.add_files(&data);
    outputs.assert_free_of(&passwords());
}

#[test]
fn passwords_appear_in_no_text_log_or_check_output() {
    let testdata = vigil_testkit::testdata();
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    let data = d.join("data");
    write_private(&d.join("sink.pw"), &format!("{SINK_PW}\n"));
    let (_live, live_url) = camsim("/live", &testdata.join("vtest.avi"), 0);
    let closed = free_port();
    let mut outputs = Outputs::default();

    // `vigil check` on broken files: a password written where it does not belong, a broken
    // URI carrying one, and a TOML error on the line of one.
    let good = secret_pipeline(&data, d, &live_url, closed, "", "");
    for (name, broken, expect) in [
        (
            "inline-key",
            good.replace(
                "password_env = \"VIGIL_TEST_CAM_PW\"",
                &format!("password = \"{CAM_PW}\""),
            ),
            "unknown field `password`",
        ),
        (
            "bad-scheme",
            good.replace("uri = \"rtsp://admin:", "uri = \"gopher://admin:"),
            "inline",
        ),
        (
            "toml-syntax",
            good.replace(
                "password_env = \"VIGIL_TEST_CAM_PW\"",
                &format!("password_env = {CAM_PW}"),
            ),
            "broken-toml-syntax.toml:",
        ),
        (
            "sink-inline",
            good.replace(
                "password_file = ",
                &format!("password = \"{SINK_PW}\"\npassword_file = "),
            ),
            "unknown field `password`",
        ),
    ] {
        let f = d.join(format!("broken-{name}.toml"));
        std::fs::write(&f, broken).expect("write");
        let out = vigil(&["check"], &f);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!out.status.success(), "{name}: check passed");
        assert!(
            err.contains(&f.display().to_string()),
            "{name}: the error names the file: {err}"
        );
        assert!(err.contains(expect), "{name}: expected {expect:?} in {err}");
        outputs.add(format!("vigil check {name} (stderr)"), out.stderr);
        outputs.add(format!("vigil check {name} (stdout)"), out.stdout);
    }

    // The daemon with text logs: the same failing cameras and refused sink.
    let file = d.join("secrets.toml");
    let text = secret_pipeline(&data, d, &live_url, closed, "", "\n[log]\nformat = \"text\"\n");
    std::fs::write(&file, &text).expect("pipeline");
    let mut daemon = start(
        &file,
        d,
        &[("VIGIL_TEST_CAM_PW", CAM_PW), ("RUST_LOG", "info,vigil=debug")],
    );
    wait_for("both dead cameras and the sink to fail in the log", 50, || {
        daemon.assert_running();
        let log = daemon.stderr();
        let retrying = |id: &str| {
            log.lines()
                .any(|l| l.contains("retrying") && l.contains(&format!("camera={id}")))
        };
        (retrying("down") && retrying("inline") && log.contains("publish failed")).then_some(())
    });
    let (stdout, stderr) = daemon.stop();
    let log = String::from_utf8_lossy(&stderr).into_owned();
    assert!(
        !log.lines().any(|l| l.starts_with('{')),
        "text format, not JSON:\n{log}"
    );
    assert!(log.contains(&format!("127.0.0.1:{closed}")), "{log}");
    outputs.add("stdout", stdout);
    outputs.add("stderr (text log)", stderr);
    outputs.add_files(&data);
    outputs.assert_free_of(&passwords());
}
