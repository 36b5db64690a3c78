//! The operator console against the real daemon, in headless Chromium (issue 10): `vigil
//! camsim` serves vtest.avi, `vigil run` analyses it with the HTTP API on and a token, and the
//! test drives the console like an operator: refused without the token, signs in, sees the
//! camera streaming with its frame and the detector's boxes, draws a zone over the walkway in
//! the zone editor with an intrusion rule and saves it (the overlay file appears next to the
//! pipeline file), sees an intrusion alert arrive live on the alerts page, and uploads a
//! watchlist CSV with one bad row and sees the row named. A screenshot of each page goes to
//! `test-output/console-e2e/` (with the daemon's log), and Chinese plate text must render
//! with real glyphs (a CJK font from scripts/deps.sh), not as empty boxes.
//!
//! Needs the Debian packages `chromium`, `chromium-driver` and a CJK font (`make setup`).

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use vigil_testkit::webdriver::Browser;

mod common;
use common::{camsim, free_port, request, spawn_logged, vigil, vigil_run, wait_for};

const TOKEN: &str = "console-e2e-token-0123456789abcdef";

/// Waits that depend on the real pipeline (first frame, first boxes, a live alert): generous,
/// because the detector shares two cores with whatever else runs.
const PIPELINE_WAIT: Duration = Duration::from_secs(45);

/// The zone the test draws, in fractions of the frame: the lower part of the plaza, where
/// people walk in vtest.avi.
const WALKWAY: [[f64; 2]; 4] = [[0.08, 0.4], [0.92, 0.4], [0.92, 0.95], [0.08, 0.95]];

fn pipeline_text(data: &Path, url: &str, port: u16) -> String {
    format!(
        r#"
[node]
id = "console-e2e"
data_dir = "{data}"

[detector]
intra_threads = 1

[api]
bind = "127.0.0.1:{port}"
[[api.tokens]]
name = "operator"
secret_env = "VIGIL_TEST_CONSOLE_TOKEN"

[[camera]]
id = "plaza"
name = "Plaza"
uri = "{url}"
analysis_fps = 5

[[sink]]
name = "jsonl"
[sink.sink.file]
path = "{data}/alerts.jsonl"
"#,
        data = data.display()
    )
}

/// Status of a plain GET (0 when nothing answers).
fn status(url: &str, token: Option<&str>) -> u16 {
    request("GET", url, token, None, Duration::from_secs(10)).status
}

fn get_json(url: &str) -> Value {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    let mut r = agent
        .get(url)
        .header("Authorization", format!("Bearer {TOKEN}"))
        .call()
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let text = r.body_mut().read_to_string().expect("body");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("GET {url}: not JSON ({e}): {text}"))
}

#[test]
fn operator_console_on_the_real_daemon() {
    let started = Instant::now();
    let shots = vigil_testkit::test_output("console-e2e");
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let video = vigil_testkit::testdata().join("vtest.avi");
    let (_camsim, url) = camsim("/plaza", &video, 0);

    let port = free_port();
    let file = dir.path().join("site.toml");
    std::fs::write(&file, pipeline_text(&data, &url, port)).expect("write pipeline");
    let log_path = shots.join("vigil.log");
    let _daemon = spawn_logged(
        vigil_run(&file, 170).env("VIGIL_TEST_CONSOLE_TOKEN", TOKEN),
        &log_path,
    );
    let api = format!("http://127.0.0.1:{port}");
    wait_for("the daemon's /healthz", 30, || {
        (status(&format!("{api}/healthz"), None) == 200).then_some(())
    });

    let b = Browser::start();
    let shot = |name: &str| b.screenshot(&shots.join(format!("{name}.png")));

    // 1. Without the token: the login form, and every data request is refused.
    b.goto(&format!("{api}/"));
    b.wait_js(
        "the login form",
        "return !document.getElementById('login').hidden",
    );
    let refused = b.js_async(
        "const done = arguments[arguments.length - 1];
         Promise.all(['/api/v1/cameras', '/api/v1/cameras/plaza/snapshot.jpg', '/api/v1/cameras/plaza/detections',
                      '/api/v1/alerts', '/api/v1/alerts/stream', '/api/v1/alerts/stream?access_token=wrong',
                      '/api/v1/watchlists']
           .map((p) => fetch(p).then((r) => r.status))).then(done);",
    );
    assert_eq!(refused, json!([401, 401, 401, 401, 401, 401, 401]));
    assert_eq!(
        status(&format!("{api}/api/v1/cameras"), Some("wrong-token-0123456789")),
        401
    );
    shot("01-login");

    // 2. Sign in; the camera streams, its frame is shown, the detector's boxes are drawn.
    b.type_into("#token", TOKEN);
    b.click("#login-form button[type=submit]");
    let tile = ".tile[data-camera=\"plaza\"]";
    // One check, so a refresh between two of them cannot change the picture: streaming, the
    // frame decoded at the stream's size, boxes drawn, in the person colour.
    b.wait_js_up_to(
        "the plaza tile streaming with its frame and person boxes",
        PIPELINE_WAIT,
        &format!(
            "const t = document.querySelector('{tile}'); if (!t) return false;
             const i = t.querySelector('img'), c = t.querySelector('canvas');
             if (!(t.innerText.includes('streaming') && i.naturalWidth === 768 && i.naturalHeight === 576
                   && Number(c.dataset.boxes || 0) > 0)) return false;
             const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
             for (let k = 0; k < d.length; k += 4) if (d[k] < 90 && d[k + 1] > 200 && d[k + 2] < 140 && d[k + 3] > 200) n++;
             return n > 50"
        ),
    );
    shot("02-cameras");
    // The boxes come from the API: people, normalised, no plate text (no watchlist hit).
    let dets = wait_for("people in the latest frame's tracks", 30, || {
        let d = get_json(&format!("{api}/api/v1/cameras/plaza/detections"));
        let people = d["tracks"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t["label"] == "person"));
        people.then_some(d)
    });
    assert_eq!(
        (&dets["frame_width_px"], &dets["frame_height_px"]),
        (&json!(768), &json!(576))
    );
    for t in dets["tracks"].as_array().expect("tracks") {
        let bx = &t["box_norm"];
        let (x1, y1, x2, y2) = (
            bx["x1"].as_f64().expect("x1"),
            bx["y1"].as_f64().expect("y1"),
            bx["x2"].as_f64().expect("x2"),
            bx["y2"].as_f64().expect("y2"),
        );
        assert!(
            (0.0..=1.0).contains(&x1)
                && x1 < x2
                && x2 <= 1.0
                && (0.0..=1.0).contains(&y1)
                && y1 < y2
                && y2 <= 1.0,
            "{t}"
        );
        assert!(t["track_id"].is_u64(), "{t}");
        assert!(
            t.get("plate").is_none(),
            "no plate text without a watchlist hit: {t}"
        );
    }

    // 3. The camera's page, then the zone editor.
    b.click(tile);
    b.wait_js_up_to(
        "the camera page with its frame",
        PIPELINE_WAIT,
        "const i = document.querySelector('.frame img');
         return location.pathname === '/ui/cameras/plaza' && document.body.innerText.includes('frames analysed')
                && !!i && i.naturalWidth > 0",
    );
    shot("03-camera");
    b.click("a[href=\"/ui/editor/plaza\"]");
    b.wait_js_up_to(
        "the editor's frame",
        PIPELINE_WAIT,
        "const i = document.querySelector('.editor .frame img'); return !!i && i.naturalWidth > 0",
    );
    b.type_into("input[name=name]", "walkway");
    let rect = b.js(
        "const c = document.querySelector('.editor canvas'); c.scrollIntoView({block: 'center'});
         const r = c.getBoundingClientRect(); return [r.width, r.height]",
        json!([]),
    );
    let (cw, ch) = (
        rect[0].as_f64().expect("width"),
        rect[1].as_f64().expect("height"),
    );
    for [fx, fy] in WALKWAY {
        b.click_at(
            ".editor canvas",
            ((fx - 0.5) * cw).round() as i64,
            ((fy - 0.5) * ch).round() as i64,
        );
    }
    b.wait_js(
        "four points and an intrusion rule",
        "return document.querySelector('.editor .dim').textContent.startsWith('4 points')
                && document.querySelector('select[name=\"rule-kind\"]').value === 'zone_intrusion'",
    );
    b.click("#save");
    b.wait_js_up_to(
        "the save",
        Duration::from_secs(20),
        "return !!document.getElementById('saved') || !!document.getElementById('save-error')",
    );
    let saved = b.js(
        "const e = document.getElementById('save-error'); return e ? e.innerText : null",
        json!([]),
    );
    assert_eq!(saved, Value::Null, "the daemon refused the zone");
    shot("04-zone-editor");
    // Validated, applied and written next to the pipeline file.
    let overlay = dir.path().join("site.rules-overlay.toml");
    let text = std::fs::read_to_string(&overlay).expect("the overlay file next to the pipeline file");
    assert!(
        text.contains("walkway") && text.contains("zone_intrusion"),
        "{text}"
    );
    let live = get_json(&format!("{api}/api/v1/rules"));
    let cam = &live["cameras"]["plaza"];
    let zone = cam["zone"]
        .as_array()
        .and_then(|z| z.iter().find(|z| z["id"] == "walkway"))
        .unwrap_or_else(|| panic!("the zone is live: {live}"));
    for (p, [fx, fy]) in zone["points"].as_array().expect("points").iter().zip(WALKWAY) {
        let (x, y) = (p[0].as_f64().expect("x"), p[1].as_f64().expect("y"));
        assert!(
            (x - fx).abs() < 0.02 && (y - fy).abs() < 0.02,
            "clicked {fx},{fy}, saved {p}"
        );
    }
    let check = vigil(&["check"], &file);
    assert!(
        check.status.success(),
        "the saved overlay passes vigil check: {}",
        String::from_utf8_lossy(&check.stderr)
    );

    // 4. Alerts: an intrusion in the new zone arrives live over the stream, with its snapshot.
    b.click("#nav a[data-page=alerts]");
    b.wait_js("the live stream", "return !!document.querySelector('.live.on')");
    b.wait_js_up_to(
        "a live intrusion alert of the walkway rule",
        PIPELINE_WAIT,
        "return [...document.querySelectorAll('tr.new[data-alert]')].some((r) => r.innerText.includes('walkway-zone-intrusion')
                  && r.innerText.includes('Plaza') && (r.querySelector('img') || {}).naturalWidth > 0)",
    );
    shot("05-alerts");

    // 5. Watchlists: a good upload (Chinese plates shown), then one bad row, named.
    let good = dir.path().join("stolen.csv");
    std::fs::write(
        &good,
        "plate,list,kind\n京A12345,stolen,hotlist\n沪B00001,stolen,hotlist\n",
    )
    .expect("csv");
    let bad = dir.path().join("stolen-bad.csv");
    std::fs::write(
        &bad,
        "plate,list,kind\n沪B00001,stolen,hotlist\n粤C0000!,stolen,hotlist\n",
    )
    .expect("csv");
    b.click("#nav a[data-page=watchlists]");
    b.type_into("#upload input[name=list]", "stolen");
    b.type_into("#upload input[type=file]", &good.display().to_string());
    b.click("#upload button[type=submit]");
    b.wait_js(
        "the upload",
        "return document.body.innerText.includes('Uploaded stolen') && document.body.innerText.includes('京A12345')",
    );
    b.type_into("#upload input[type=file]", &bad.display().to_string());
    b.click("#upload button[type=submit]");
    b.wait_js(
        "the row-level error",
        "const e = document.getElementById('upload-error');
         return !!e && e.innerText.includes('row 3') && e.innerText.includes('column plate')",
    );
    b.wait_js(
        "the audit log",
        "return document.body.innerText.includes('replace_list')",
    );
    assert!(
        b.draws_distinct_glyphs(".plate", '京', '沪'),
        "Chinese plate text must render as glyphs, not boxes: install a CJK font \
         (fonts-wqy-microhei, scripts/deps.sh BUILD_PACKAGES; `make setup`)"
    );
    shot("06-watchlists");
    let list = get_json(&format!("{api}/api/v1/watchlists/stolen"));
    assert_eq!(
        list["entries"].as_array().map(Vec::len),
        Some(2),
        "the bad upload changed nothing: {list}"
    );

    // Signing out forgets the token; the API refuses the page again.
    b.click("#logout");
    b.wait_js(
        "the login form again",
        "return !document.getElementById('login').hidden",
    );
    let after = b.js_async(
        "const done = arguments[arguments.length - 1];
         fetch('/api/v1/cameras').then((r) => done([r.status, sessionStorage.getItem('vigil.token')]));",
    );
    assert_eq!(after, json!([401, null]));

    for name in [
        "01-login",
        "02-cameras",
        "03-camera",
        "04-zone-editor",
        "05-alerts",
        "06-watchlists",
    ] {
        let p = shots.join(format!("{name}.png"));
        assert!(
            std::fs::metadata(&p).is_ok_and(|m| m.len() > 1000),
            "{}",
            p.display()
        );
    }
    eprintln!(
        "console on the real daemon: {:.1} s; screenshots in {}",
        started.elapsed().as_secs_f64(),
        shots.display()
    );
}
