//! `vigil bench soak` on real parts, kept short: a camsim child process serves vtest.avi on two
//! RTSP mounts, the pipeline analyses both (YOLOX on ONNX Runtime, tracker, zone rule, outbox,
//! JSONL sink) for 5 s of warm-up and 20 s measured, and the Markdown report must show both
//! cameras analysed, the resource figures, and a latency figure whenever alerts were stored.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The cells of the report row whose first cell is `key`.
fn row<'a>(report: &'a str, key: &str) -> Option<Vec<&'a str>> {
    report
        .lines()
        .map(|l| {
            l.trim()
                .trim_matches('|')
                .split('|')
                .map(str::trim)
                .collect::<Vec<_>>()
        })
        .find(|cells| cells.first().is_some_and(|c| c.starts_with(key)))
}

#[test]
fn soak_reports_fps_resources_and_latency_for_every_camera() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .current_dir(root())
        .args([
            "bench",
            "soak",
            "--cameras",
            "2",
            "--seconds",
            "20",
            "--warmup",
            "5",
            "--sample",
            "5",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start vigil bench soak");
    // Bounded: 25 s of run plus start-up and shutdown. On a hang, SIGTERM first so the bench
    // kills its camsim child, then SIGKILL.
    let deadline = Instant::now() + Duration::from_secs(90);
    while child.try_wait().expect("poll").is_none() {
        if Instant::now() > deadline {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            std::thread::sleep(Duration::from_secs(10));
            let _ = child.kill();
            let out = child.wait_with_output().expect("collect output");
            panic!(
                "vigil bench soak did not finish within 90 s:\n{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let out = child.wait_with_output().expect("collect output");
    let report = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "bench soak failed:\n{report}\n{stderr}");
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("[soak]") && l.contains("fps")),
        "progress lines on stderr:\n{stderr}"
    );

    for cam in ["cam0", "cam1"] {
        let cells = row(&report, cam).unwrap_or_else(|| panic!("no row for {cam}:\n{report}"));
        let fps: f64 = cells[1]
            .parse()
            .unwrap_or_else(|_| panic!("fps cell of {cam}: {cells:?}"));
        assert!(
            fps > 0.0,
            "{cam} analysed no frame after the warm-up:\n{report}\n{stderr}"
        );
        assert!(
            fps <= 5.0 * 1.2,
            "{cam} analysed more than requested (5 fps): {fps}\n{report}"
        );
        let ingest: f64 = cells[3].parse().expect("ingest fps");
        assert!(ingest > 0.0, "{cam} received no frame:\n{report}");
    }
    assert!(row(&report, "cam2").is_none(), "only two cameras:\n{report}");

    let cpu = row(&report, "vigil CPU").expect("CPU row");
    let cpu: f64 = cpu[1].trim_end_matches(" %").parse().expect("CPU %");
    assert!(cpu > 0.0, "the pipeline used CPU:\n{report}");
    let rss = row(&report, "RSS after warm-up").expect("RSS row");
    assert!(rss[1].contains("MiB →"), "RSS at both ends: {rss:?}");
    let slope = row(&report, "RSS slope").expect("slope row");
    assert!(
        slope[1].ends_with("MiB/h"),
        "RSS slope over ≥ 2 samples: {slope:?}"
    );
    assert!(row(&report, "load average").is_some(), "load average:\n{report}");

    let alerts: usize = row(&report, "alerts stored").expect("alerts row")[1]
        .parse()
        .expect("alert count");
    let latency = row(&report, "frame → alert latency").expect("latency row");
    if alerts > 0 {
        // "p50 ms / p99 ms / max ms", each a non-negative number within the run's length.
        let ms: Vec<f64> = latency[1]
            .split(" / ")
            .map(|v| v.trim_end_matches(" ms").parse().expect("latency in ms"))
            .collect();
        assert_eq!(ms.len(), 3, "{latency:?}");
        assert!(ms[0] >= 0.0 && ms[0] <= ms[1] && ms[1] <= ms[2], "{latency:?}");
        assert!(ms[2] < 30_000.0, "an alert took longer than the run: {latency:?}");
    } else {
        assert_eq!(latency[1], "n/a / n/a / n/a");
    }
}
