//! A minimal W3C WebDriver client over HTTP JSON, enough to drive headless Chromium through
//! `chromedriver`: sessions, navigation, elements, clicks at offsets, typing (including file
//! paths into file inputs), scripts and screenshots.
//!
//! Shared by the console's browser tests against a test backend (`vigil-http`) and against the
//! real daemon (`vigil`). Every wait polls with a deadline and, on timeout, panics with the
//! page's text, so a failure under load says what the page showed instead of hanging.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How long [`Browser::wait`] and [`Browser::find`] wait before failing.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(10);

/// The key W3C WebDriver uses for element references.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// The Chromium flags of the issue: headless, no sandbox (containers run as root), no GPU and
/// nothing that talks to the network by itself.
const CHROMIUM_ARGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,1000",
];

/// The first of `candidates` that exists as a file, else the first found on `PATH`.
fn find_program(env: &str, candidates: &[&str]) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env).map(PathBuf::from).filter(|p| p.is_file()) {
        return Some(p);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    candidates.iter().find_map(|c| {
        let c = Path::new(c);
        if c.is_absolute() {
            return c.is_file().then(|| c.to_path_buf());
        }
        std::env::split_paths(&path)
            .map(|d| d.join(c))
            .find(|p| p.is_file())
    })
}

/// A browser session; dropping it ends the session and stops chromedriver.
pub struct Browser {
    base: String,
    session: String,
    driver: Child,
    agent: ureq::Agent,
    _profile: tempfile::TempDir,
    log: PathBuf,
}

impl Browser {
    /// Starts chromedriver on a free port and a headless Chromium session with an empty
    /// profile. Panics with what to install when Chromium or chromedriver is missing.
    pub fn start() -> Self {
        let chromium = find_program(
            "CHROME_BIN",
            &[
                "/usr/bin/chromium",
                "chromium",
                "chromium-browser",
                "google-chrome",
            ],
        );
        let driver = find_program("CHROMEDRIVER", &["/usr/bin/chromedriver", "chromedriver"]);
        let (Some(chromium), Some(driver)) = (chromium, driver) else {
            panic!(
                "the console's end-to-end test needs Chromium and chromedriver: install the Debian \
                 packages `chromium` and `chromium-driver` (`make setup` does), or point CHROME_BIN \
                 and CHROMEDRIVER at them"
            );
        };
        let profile = tempfile::tempdir().expect("profile dir");
        let log = profile.path().join("chromedriver.log");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let child = Command::new(&driver)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", driver.display()));
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let base = format!("http://127.0.0.1:{port}");
        let mut b = Self {
            base,
            session: String::new(),
            driver: child,
            agent,
            log,
            _profile: profile,
        };
        let started = Instant::now();
        loop {
            let ready = b
                .agent
                .get(format!("{}/status", b.base))
                .call()
                .ok()
                .and_then(|mut r| r.body_mut().read_to_string().ok())
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                .is_some_and(|v| v["value"]["ready"] == true);
            if ready {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not become ready in 20 s; see {}",
                b.log.display()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|a| (*a).to_owned()).collect();
        args.push(format!(
            "--user-data-dir={}",
            b._profile.path().join("profile").display()
        ));
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": args},
        }}});
        let v = b
            .call("POST", "/session", Some(caps))
            .unwrap_or_else(|e| panic!("new session: {e}"));
        b.session = v["sessionId"].as_str().expect("session id").to_owned();
        b
    }

    /// One WebDriver command; the `value` of the answer, or the error it reported.
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let url = format!("{}{path}", self.base);
        let req = ureq::http::Request::builder().method(method).uri(&url);
        let resp = match body {
            Some(b) => self.agent.run(
                req.header("Content-Type", "application/json")
                    .body(b.to_string().into_bytes())
                    .map_err(|e| e.to_string())?,
            ),
            None => self.agent.run(req.body(()).map_err(|e| e.to_string())?),
        }
        .map_err(|e| format!("{method} {path}: {e}"))?;
        let status = resp.status().as_u16();
        let text = resp
            .into_body()
            .read_to_string()
            .map_err(|e| format!("{method} {path}: unreadable answer: {e}"))?;
        let v: Value =
            serde_json::from_str(&text).map_err(|e| format!("{method} {path}: not JSON ({e}): {text}"))?;
        if status == 200 {
            Ok(v["value"].clone())
        } else {
            Err(format!(
                "{method} {path}: {status} {}: {}",
                v["value"]["error"], v["value"]["message"]
            ))
        }
    }

    /// A command in this session; panics on error.
    fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let path = format!("/session/{}{path}", self.session);
        self.call(method, &path, body).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Opens `url`.
    pub fn goto(&self, url: &str) {
        self.cmd("POST", "/url", Some(json!({ "url": url })));
    }

    /// The element matching CSS `selector`, if any.
    pub fn try_find(&self, selector: &str) -> Option<String> {
        let path = format!("/session/{}/element", self.session);
        let v = self
            .call(
                "POST",
                &path,
                Some(json!({"using": "css selector", "value": selector})),
            )
            .ok()?;
        v[ELEMENT].as_str().map(str::to_owned)
    }

    /// The element matching `selector`, waiting up to [`DEFAULT_WAIT`] for it to appear.
    pub fn find(&self, selector: &str) -> String {
        self.wait(&format!("element {selector}"), || self.try_find(selector))
    }

    /// Clicks the element matching `selector` (waiting for it to appear).
    pub fn click(&self, selector: &str) {
        let el = self.find(selector);
        self.cmd("POST", &format!("/element/{el}/click"), Some(json!({})));
    }

    /// Empties an input.
    pub fn clear(&self, selector: &str) {
        let el = self.find(selector);
        self.cmd("POST", &format!("/element/{el}/clear"), Some(json!({})));
    }

    /// Types `text` into the element (for a file input: a file path).
    pub fn type_into(&self, selector: &str, text: &str) {
        let el = self.find(selector);
        self.cmd(
            "POST",
            &format!("/element/{el}/value"),
            Some(json!({ "text": text })),
        );
    }

    /// A real mouse click at (`dx`, `dy`) pixels from the element's centre.
    pub fn click_at(&self, selector: &str, dx: i64, dy: i64) {
        let el = self.find(selector);
        let actions = json!({"actions": [{
            "type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"},
            "actions": [
                {"type": "pointerMove", "duration": 0, "origin": {ELEMENT: el}, "x": dx, "y": dy},
                {"type": "pointerDown", "button": 0},
                {"type": "pointerUp", "button": 0},
            ],
        }]});
        self.cmd("POST", "/actions", Some(actions));
        self.cmd("DELETE", "/actions", None);
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns its result.
    pub fn js(&self, script: &str, args: Value) -> Value {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
    }

    /// Runs an asynchronous script: it calls `arguments[arguments.length - 1](result)`.
    pub fn js_async(&self, script: &str) -> Value {
        self.cmd(
            "POST",
            "/execute/async",
            Some(json!({ "script": script, "args": [] })),
        )
    }

    /// Polls `f` every 100 ms until it gives a value; panics after [`DEFAULT_WAIT`] with
    /// `what` and the page's text.
    pub fn wait<T>(&self, what: &str, f: impl FnMut() -> Option<T>) -> T {
        self.wait_up_to(what, DEFAULT_WAIT, f)
    }

    /// [`Browser::wait`] with its own deadline, for what depends on a real pipeline (a first
    /// detection, a live alert) and so takes longer on a loaded machine.
    pub fn wait_up_to<T>(&self, what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
        let started = Instant::now();
        loop {
            if let Some(v) = f() {
                return v;
            }
            if started.elapsed() > timeout {
                panic!(
                    "timed out after {:.0} s waiting for {what}; the page shows:\n{}",
                    timeout.as_secs_f64(),
                    self.page_text()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The page's address and visible text (for failure messages); `?` when unavailable.
    pub fn page_text(&self) -> String {
        self.call(
            "POST",
            &format!("/session/{}/execute/sync", self.session),
            Some(json!({"script": "return location.href + '\\n' + document.body.innerText", "args": []})),
        )
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "?".to_owned())
    }

    /// Waits until `script` (a function body) returns `true`.
    pub fn wait_js(&self, what: &str, script: &str) {
        self.wait_js_up_to(what, DEFAULT_WAIT, script);
    }

    /// [`Browser::wait_js`] with its own deadline.
    pub fn wait_js_up_to(&self, what: &str, timeout: Duration, script: &str) {
        self.wait_up_to(what, timeout, || {
            (self.js(script, json!([])) == Value::Bool(true)).then_some(())
        });
    }

    /// Whether `a` and `b` are drawn as different glyphs in the font of the first element
    /// matching `selector` (the body when none does). Two characters no installed font has are
    /// both drawn as the same empty box, so `false` for two different CJK characters means the
    /// machine lacks a CJK font and screenshots would show boxes instead of plate text.
    pub fn draws_distinct_glyphs(&self, selector: &str, a: char, b: char) -> bool {
        let script = "const probe = document.querySelector(arguments[0]) || document.body;
            const c = document.createElement('canvas'); c.width = 48; c.height = 48;
            const x = c.getContext('2d');
            x.font = '32px ' + getComputedStyle(probe).fontFamily;
            const draw = (t) => { x.clearRect(0, 0, 48, 48); x.fillStyle = '#000'; x.fillText(t, 4, 38);
                                  return Array.from(x.getImageData(0, 0, 48, 48).data).join(','); };
            const [a, b, blank] = [draw(arguments[1]), draw(arguments[2]), draw(' ')];
            return a !== b && a !== blank && b !== blank;";
        self.js(script, json!([selector, a.to_string(), b.to_string()])) == Value::Bool(true)
    }

    /// Saves a PNG screenshot of the window to `path`.
    pub fn screenshot(&self, path: &Path) {
        let b64 = self.cmd("GET", "/screenshot", None);
        let png = base64_decode(b64.as_str().expect("base64 screenshot"));
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "screenshot is a PNG");
        std::fs::write(path, png).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self.call("DELETE", &format!("/session/{}", self.session), None);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Standard base64 (with padding), as WebDriver sends screenshots.
fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {c}"),
        }
    };
    let clean: Vec<u8> = s.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    let mut out = Vec::with_capacity(clean.len() / 4 * 3);
    for chunk in clean.chunks(4) {
        let data: Vec<u8> = chunk.iter().copied().take_while(|&c| c != b'=').collect();
        let mut n = 0u32;
        for (i, &c) in data.iter().enumerate() {
            n |= val(c) << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..data.len().max(1)]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::base64_decode;

    #[test]
    fn base64_decodes_padding() {
        assert_eq!(base64_decode("TWFu"), b"Man");
        assert_eq!(base64_decode("TWE="), b"Ma");
        assert_eq!(base64_decode("TQ=="), b"M");
    }
}
