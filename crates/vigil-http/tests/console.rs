//! The operator console end to end, in headless Chromium driven over WebDriver: refused
//! without a token, sign-in, a camera tile with its decoded frame, drawing and saving a zone
//! (and seeing a rejection), an alert arriving live and being acknowledged, and a watchlist
//! upload with one bad row. A screenshot of each page goes to `$OUT` when set, else
//! `target/console-screenshots/`.
//!
//! Needs the Debian packages `chromium` and `chromium-driver` (`make setup` installs them); the
//! test fails saying so when they are missing.

mod common;

use std::path::PathBuf;
use std::time::Instant;

use common::*;
use serde_json::{Value, json};
use vigil_testkit::webdriver::Browser;

fn screenshot_dir() -> PathBuf {
    let dir = std::env::var_os("OUT").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/console-screenshots"),
        PathBuf::from,
    );
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

/// Points (as fractions of the frame) the test clicks to draw its zone.
const ZONE: [[f64; 2]; 3] = [[0.2, 0.2], [0.6, 0.25], [0.4, 0.7]];

#[test]
fn operator_console_end_to_end() {
    let started = Instant::now();
    let backend = TestBackend::new();
    let server = Server::start(settings(), backend.clone());
    let shots = screenshot_dir();
    let b = Browser::start();
    let shot = |name: &str| b.screenshot(&shots.join(format!("{name}.png")));

    // 1. Unauthenticated: the login form, and the API refuses the page's requests.
    b.goto(&server.url("/"));
    b.wait_js(
        "the login form",
        "return !document.getElementById('login').hidden",
    );
    let status = b.js_async(
        "const done = arguments[arguments.length - 1];
         Promise.all(['/api/v1/cameras', '/api/v1/alerts', '/api/v1/cameras/gate-1/snapshot.jpg']
           .map((p) => fetch(p).then((r) => r.status))).then(done);",
    );
    assert_eq!(status, json!([401, 401, 401]));
    assert_eq!(
        b.js("return document.getElementById('nav').hidden", json!([])),
        true
    );
    shot("01-login");

    // A wrong token is refused with a message, and no page is shown.
    b.type_into("#token", "not-a-token");
    b.click("#login-form button[type=submit]");
    b.wait_js(
        "the refusal",
        "const e = document.getElementById('login-error'); return !e.hidden && e.textContent.includes('not accepted')",
    );

    // 2. Sign in; the camera grid shows gate-1's frame decoded, its state and counters.
    b.clear("#token");
    b.type_into("#token", CONSOLE_SECRET);
    b.click("#login-form button[type=submit]");
    b.wait_js(
        "gate-1's frame",
        "const i = document.querySelector('.tile[data-camera=\"gate-1\"] img'); return !!i && i.naturalWidth > 0",
    );
    let tile = b.js(
        "const i = document.querySelector('.tile[data-camera=\"gate-1\"] img');
         return [i.naturalWidth, i.naturalHeight, i.closest('.tile').innerText, document.querySelectorAll('.tile').length,
                 sessionStorage.getItem('vigil.token') !== null]",
        json!([]),
    );
    let (w, h) = FRAME_SIZE;
    assert_eq!(
        (tile[0].as_u64(), tile[1].as_u64()),
        (Some(u64::from(w)), Some(u64::from(h))),
        "{tile}"
    );
    let text = tile[2].as_str().expect("tile text");
    assert!(
        text.contains("streaming") && text.contains("5.0 fps") && text.contains("3 drops"),
        "{text}"
    );
    assert_eq!(tile[3], 2, "both cameras have a tile");
    assert_eq!(tile[4], true, "token kept in sessionStorage");
    // The overlay drew the camera's zone (pixels of the zone's colour on the canvas).
    b.wait_js(
        "the zone overlay",
        "const c = document.querySelector('.tile[data-camera=\"gate-1\"] canvas');
         const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
         for (let i = 3; i < d.length; i += 4) if (d[i] > 0) return true; return false",
    );
    // And the latest frame's tracks as labelled boxes: the person and the listed car, whose
    // box is drawn in the vehicle colour where the API put it.
    b.wait_js(
        "the track boxes",
        "const c = document.querySelector('.tile[data-camera=\"gate-1\"] canvas'); return !!c && c.dataset.boxes === '2'",
    );
    let edge = b.js(
        "const c = document.querySelector('.tile[data-camera=\"gate-1\"] canvas');
         const x = Math.round(c.width * 170 / 320), y = Math.round(c.height * 130 / 180);
         return [...c.getContext('2d').getImageData(x, y - 1, 1, 3).data]",
        json!([]),
    );
    let px: Vec<u64> = edge
        .as_array()
        .expect("pixels")
        .iter()
        .filter_map(Value::as_u64)
        .collect();
    assert!(
        px.chunks(4).any(|p| p[0] > 200 && p[1] < 150 && p[3] > 200),
        "the car's bottom edge is drawn in the vehicle colour: {px:?}"
    );
    shot("02-cameras");

    // 3. Camera detail, then the zone editor.
    b.click(".tile[data-camera=\"gate-1\"]");
    b.wait_js("the detail page", "return location.pathname === '/ui/cameras/gate-1' && document.body.innerText.includes('frames dropped')");
    b.wait_js(
        "the detail frame",
        "const i = document.querySelector('.frame img'); return !!i && i.naturalWidth > 0",
    );
    shot("03-camera-detail");
    b.click("a[href=\"/ui/editor/gate-1\"]");
    b.wait_js(
        "the editor frame",
        "const i = document.querySelector('.editor .frame img'); return !!i && i.naturalWidth > 0",
    );
    b.wait_js(
        "the existing shapes",
        "return document.querySelector('.shapes').innerText.includes('zone lane')",
    );
    b.type_into("input[name=name]", "door");
    let rect = b.js(
        "const r = document.querySelector('.editor canvas').getBoundingClientRect(); return [r.width, r.height]",
        json!([]),
    );
    let (cw, ch) = (
        rect[0].as_f64().expect("width"),
        rect[1].as_f64().expect("height"),
    );
    for [fx, fy] in ZONE {
        // Offsets are from the element's centre, in whole CSS pixels.
        b.click_at(
            ".editor canvas",
            ((fx - 0.5) * cw).round() as i64,
            ((fy - 0.5) * ch).round() as i64,
        );
    }
    b.wait_js(
        "three points",
        "return document.querySelector('.editor .dim').textContent.startsWith('3 points')",
    );

    // The daemon's rejection is shown, and nothing is lost.
    *backend.reject_rules.lock().expect("lock") = Some("zone door overlaps the privacy mask".into());
    b.click("#save");
    b.wait_js(
        "the rejection",
        "const e = document.getElementById('save-error'); return !!e && e.innerText.includes('overlaps the privacy mask')",
    );
    shot("04-editor-rejected");
    assert!(backend.rule_changes.lock().expect("lock").is_empty());

    *backend.reject_rules.lock().expect("lock") = None;
    b.click("#save");
    b.wait_js("the save", "return !!document.getElementById('saved')");
    let changes = backend.rule_changes.lock().expect("lock").clone();
    assert_eq!(changes.len(), 1, "{changes:?}");
    let (camera, doc, who) = &changes[0];
    assert_eq!((camera.as_str(), who.as_str()), ("gate-1", "console"));
    let zones = doc["zone"].as_array().expect("zones");
    let door = zones.iter().find(|z| z["id"] == "door").expect("the new zone");
    assert_eq!(door["coords"], "normalized");
    let pts = door["points"].as_array().expect("points");
    assert_eq!(pts.len(), 3, "{door}");
    for (p, [fx, fy]) in pts.iter().zip(ZONE) {
        let (x, y) = (p[0].as_f64().expect("x"), p[1].as_f64().expect("y"));
        assert!(
            (x - fx).abs() < 0.02 && (y - fy).abs() < 0.02,
            "clicked {fx},{fy}, saved {p}"
        );
    }
    // Untouched shapes and rules are kept as they were (pixel line included).
    let before = initial_rules();
    let old = &before["cameras"]["gate-1"];
    assert!(zones.contains(&old["zone"][0]), "{doc}");
    assert_eq!(doc["line"], old["line"]);
    let rules = doc["rule"].as_array().expect("rules");
    for r in old["rule"].as_array().expect("old rules") {
        assert!(rules.contains(r), "{r} kept");
    }
    let rule = rules
        .iter()
        .find(|r| r["zone"] == "door")
        .expect("a rule on the new zone");
    assert_eq!(
        (rule["kind"].as_str(), rule["id"].as_str(), &rule["classes"]),
        (
            Some("zone_intrusion"),
            Some("door-zone-intrusion"),
            &json!(["person"])
        )
    );
    b.wait_js(
        "the new zone listed",
        "return document.querySelector('.shapes').innerText.includes('zone door')",
    );
    shot("05-editor-saved");

    // 4. Alerts: history, then a new alert arrives live over SSE and is acknowledged.
    b.click("#nav a[data-page=alerts]");
    b.wait_js("the live stream", "return !!document.querySelector('.live.on')");
    b.wait_js(
        "the history",
        "return document.querySelectorAll('tr[data-alert]').length === 3",
    );
    let mut live = alert("live-1", "2026-01-01T12:00:00Z", "gate-1", "door-zone-intrusion");
    live["plate"] = json!({"text": "京A12345", "confidence": 0.93});
    assert!(backend.publish(live) >= 1, "the page subscribed");
    b.wait_js(
        "the live alert with its snapshot",
        "const r = document.querySelector('tr[data-alert=\"live-1\"]'); const i = r && r.querySelector('img');
         return !!r && r.innerText.includes('京A12345') && r.innerText.includes('door-zone-intrusion') && !!i && i.naturalWidth > 0",
    );
    assert_eq!(
        b.js(
            "return document.querySelector('tbody tr').dataset.alert",
            json!([])
        ),
        "live-1",
        "newest first"
    );
    b.type_into("tr[data-alert=\"live-1\"] input", "checked on camera");
    b.click("tr[data-alert=\"live-1\"] button.ack");
    b.wait_js(
        "the acknowledgement",
        "const c = document.querySelector('tr[data-alert=\"live-1\"] td.acked'); return !!c && c.innerText.includes('console')",
    );
    let ack = backend
        .acks
        .lock()
        .expect("lock")
        .get("live-1")
        .cloned()
        .expect("ack recorded");
    assert_eq!(
        (ack["by"].as_str(), ack["note"].as_str()),
        (Some("console"), Some("checked on camera"))
    );
    shot("06-alerts");

    // Filtering by camera asks the API and lists only that camera's alerts.
    b.js(
        "const s = document.querySelector('select[name=camera]'); s.value = 'yard';",
        json!([]),
    );
    b.click("form.panel button[type=submit]");
    b.wait_js(
        "the filtered history",
        "const r = [...document.querySelectorAll('tr[data-alert]')].map((t) => t.dataset.alert); return r.join() === 'a2'",
    );
    assert!(
        backend
            .queries()
            .iter()
            .any(|q| q.2 == "GET /api/v1/alerts?camera=yard"),
        "{:?}",
        backend.queries()
    );

    // 5. Watchlists: a good upload, then one with a bad row, whose error names the row.
    let dir = tempfile::tempdir().expect("tempdir");
    let good = dir.path().join("good.csv");
    std::fs::write(
        &good,
        "plate,list,kind\n京A12345,stolen,hotlist\n沪B00001,stolen,hotlist\n",
    )
    .expect("csv");
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "plate,list,kind\n沪B00001,stolen,hotlist\n粤C0000!,stolen,hotlist\n",
    )
    .expect("csv");
    b.click("#nav a[data-page=watchlists]");
    b.find("#upload input[name=list]");
    b.type_into("#upload input[name=list]", "stolen");
    b.type_into("#upload input[type=file]", &good.display().to_string());
    b.click("#upload button[type=submit]");
    b.wait_js(
        "the upload",
        "return document.body.innerText.includes('Uploaded stolen') && document.body.innerText.includes('沪B00001')",
    );
    b.type_into("#upload input[type=file]", &bad.display().to_string());
    b.click("#upload button[type=submit]");
    b.wait_js(
        "the row-level error",
        "const e = document.getElementById('upload-error'); return !!e && e.innerText.includes('row 3') && e.innerText.includes('column plate')",
    );
    let listed = b.js("return document.body.innerText", json!([]));
    assert!(
        listed.as_str().is_some_and(|t| t.contains("京A12345")),
        "the list is unchanged"
    );
    assert_eq!(
        backend
            .live
            .index()
            .lists()
            .iter()
            .find(|l| l.name.as_str() == "stolen")
            .map(|l| l.entries),
        Some(2)
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
    shot("07-watchlists");

    // The header tells the operator when the daemon is not ready (from /readyz), within its
    // 10 s refresh.
    backend.ready.store(false, std::sync::atomic::Ordering::SeqCst);
    b.wait_js_up_to(
        "the not-ready notice in the header",
        std::time::Duration::from_secs(25),
        "const h = document.getElementById('health'); return h.className === 'bad' && h.textContent.includes('Not ready') && h.textContent.includes('outbox')",
    );
    backend.ready.store(true, std::sync::atomic::Ordering::SeqCst);

    // Signing out forgets the token.
    b.click("#logout");
    b.wait_js(
        "the login form again",
        "return !document.getElementById('login').hidden",
    );
    assert_eq!(
        b.js("return sessionStorage.getItem('vigil.token')", json!([])),
        Value::Null
    );

    for name in [
        "01-login",
        "02-cameras",
        "03-camera-detail",
        "05-editor-saved",
        "06-alerts",
        "07-watchlists",
    ] {
        let p = shots.join(format!("{name}.png"));
        assert!(
            std::fs::metadata(&p).is_ok_and(|m| m.len() > 1000),
            "{}",
            p.display()
        );
    }
    eprintln!(
        "console end-to-end: {:.1} s; screenshots in {}",
        started.elapsed().as_secs_f64(),
        shots.display()
    );
}
