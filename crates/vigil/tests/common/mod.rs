//! Helpers shared by the end-to-end tests of the `vigil` binary.
#![allow(dead_code)]

pub mod jetstream;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// The repository root (where `vigil run` finds `models/`).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A child process killed and reaped when dropped.
pub struct Kill(pub Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A TCP port free right now on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Starts `vigil camsim` serving `media` at `mount` (port 0 = any) and returns it with the
/// stream URL it prints.
pub fn camsim(mount: &str, media: &Path, port: u16) -> (Kill, String) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["camsim", "--port", &port.to_string(), "--fps", "10"])
        .arg(format!("{mount}={}", media.display()))
        .stdout(Stdio::piped())
        .spawn()
        .expect("start vigil camsim");
    let out = c.stdout.take().expect("stdout");
    let guard = Kill(c);
    let mut line = String::new();
    BufReader::new(out)
        .read_line(&mut line)
        .expect("camsim prints its URL");
    let url = line
        .trim()
        .strip_prefix("serving ")
        .unwrap_or_else(|| panic!("unexpected camsim output: {line}"))
        .to_string();
    (guard, url)
}

/// `vigil run --seconds SECONDS FILE` from the repository root (where it finds `models/`); the
/// caller adds the environment and where the output goes.
pub fn vigil_run(file: &Path, seconds: u64) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vigil"));
    cmd.current_dir(root())
        .args(["run", "--seconds", &seconds.to_string()])
        .arg(file);
    cmd
}

/// Starts `cmd` (a [`vigil_run`]) with stdout discarded and stderr written to `log`.
pub fn spawn_logged(cmd: &mut Command, log: &Path) -> Kill {
    Kill(
        cmd.stdout(Stdio::null())
            .stderr(std::fs::File::create(log).expect("log file"))
            .spawn()
            .expect("start vigil run"),
    )
}

/// `vigil ARGS FILE` from the repository root, run to the end.
pub fn vigil(args: &[&str], file: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigil"))
        .current_dir(root())
        .args(args)
        .arg(file)
        .output()
        .expect("vigil")
}

/// Sends `sig` (`-TERM`, `-HUP`) to process `pid` with kill(1); whether kill succeeded.
pub fn signal(pid: u32, sig: &str) -> bool {
    Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .expect("kill")
        .success()
}

/// Waits up to `limit` for `p` to exit; `None` when it is still running then.
pub fn wait_exit(p: &mut Kill, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Ok(Some(s)) = p.0.try_wait() {
            return Some(s);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Sends SIGTERM (a graceful stop) and waits up to `limit` for the exit; then SIGKILL.
pub fn terminate(p: &mut Kill, limit: Duration) -> Option<ExitStatus> {
    let _ = Command::new("kill")
        .args(["-TERM", &p.0.id().to_string()])
        .status();
    let status = wait_exit(p, limit);
    if status.is_none() {
        let _ = p.0.kill();
        let _ = p.0.wait();
    }
    status
}

/// The last `lines` lines of a log file (empty when it cannot be read).
pub fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The events of a JSON Lines sink file, each line parsed (none when there is no file).
pub fn read_jsonl(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("each JSONL line is JSON"))
        .collect()
}

/// Camera `campus` on `url` at 5 fps with a zone over the whole view and the rule `anyone`:
/// every person who appears raises an alert (about one every 3 s on vtest.avi). Pipeline text
/// from its `[[camera]]` table on.
pub fn campus_anyone(url: &str) -> String {
    format!(
        r#"
[[camera]]
id = "campus"
uri = "{url}"
analysis_fps = 5

[[camera.rules.zone]]
id = "all"
points = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]

[[camera.rules.rule]]
id = "anyone"
kind = "zone_intrusion"
zone = "all"
classes = ["person"]
min_inside_s = 0.2
"#
    )
}

/// The labelled `high` plate of `file` in the scenes' labels.csv.
pub fn label_of(scenes: &Path, file: &str) -> String {
    let text = std::fs::read_to_string(scenes.join("labels.csv")).expect("labels.csv");
    text.lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .find(|c| c.len() >= 8 && c[0] == file && c[7] == "high")
        .map(|c| c[1].to_string())
        .expect("the scene has a high-confidence label")
}

/// Polls `f` every 300 ms until it gives a value; panics naming `what` after `secs`.
pub fn wait_for<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {secs} s waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// An HTTP response, read whole. Status 0 = no answer (not listening yet, or gone).
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

/// `method url` with an optional bearer token and JSON body, the whole exchange bounded by
/// `timeout`; any status is a [`Reply`], no answer is status 0.
pub fn request(
    method: &str,
    url: &str,
    token: Option<&str>,
    json: Option<&serde_json::Value>,
    timeout: Duration,
) -> Reply {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .build()
        .into();
    let mut b = ureq::http::Request::builder().method(method).uri(url);
    if let Some(t) = token {
        b = b.header("Authorization", format!("Bearer {t}"));
    }
    let sent = match json {
        Some(v) => agent.run(
            b.header("Content-Type", "application/json")
                .body(v.to_string())
                .expect("request"),
        ),
        None => agent.run(b.body(()).expect("request")),
    };
    let Ok(resp) = sent else {
        return Reply {
            status: 0,
            body: Vec::new(),
        };
    };
    let status = resp.status().as_u16();
    let mut body = Vec::new();
    resp.into_body()
        .into_reader()
        .read_to_end(&mut body)
        .expect("body");
    Reply { status, body }
}

/// Writes `value` as a secret file (mode 0600, as the daemon wants token files) and returns its
/// path.
pub fn secret_file(dir: &Path, name: &str, value: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join(name);
    std::fs::write(&p, format!("{value}\n")).expect("secret");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    p
}
