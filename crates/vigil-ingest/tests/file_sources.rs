//! File sources: EOS policies, broken media, scaling and the drop-oldest queue.

mod common;

use common::{init_tracing, serial, testdata, wait_until};
use std::time::{Duration, Instant};
use vigil_ingest::bench::make_test_clip;
use vigil_ingest::{
    CameraSource, CameraSourceConfig, CameraState, EosPolicy, MediaErrorPolicy, SourceErrorKind,
    SupervisorPolicy,
};

fn file_uri(path: &std::path::Path) -> String {
    format!("file://{}", path.display())
}

fn start(cfg: CameraSourceConfig) -> CameraSource {
    let policy = SupervisorPolicy {
        backoff: vigil_ingest::BackoffPolicy {
            initial: Duration::from_millis(100),
            ..Default::default()
        },
        ..SupervisorPolicy::default()
    };
    CameraSource::start(cfg.validate().expect("valid config"), policy).expect("source starts")
}

#[test]
fn truncated_file_fails_or_retries_per_policy_with_a_clear_error() {
    let _serial = serial();
    init_tracing();
    let dir = tempfile::tempdir().expect("tempdir");
    let truncated = dir.path().join("vtest-truncated.avi");
    let bytes = std::fs::read(testdata("vtest.avi")).expect("read vtest.avi");
    std::fs::write(&truncated, &bytes[..100 * 1024]).expect("write truncated copy");

    let fail = start(CameraSourceConfig::new("trunc-fail", file_uri(&truncated)));
    let mut retry_cfg = CameraSourceConfig::new("trunc-retry", file_uri(&truncated));
    retry_cfg.on_media_error = MediaErrorPolicy::Retry;
    let retry = start(retry_cfg);

    let sf = fail.status();
    assert!(
        wait_until(Duration::from_secs(20), || sf.state() == CameraState::Failed),
        "{:?}",
        sf.snapshot()
    );
    let err = sf.last_error().expect("error recorded");
    assert_eq!(err.kind, SourceErrorKind::BadMedia, "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("trunc-fail") && msg.contains("vtest-truncated.avi"),
        "{msg}"
    );
    println!("truncated file error: {msg}");

    let sr = retry.status();
    assert!(
        wait_until(Duration::from_secs(20), || sr.snapshot().reconnects >= 2),
        "{:?}",
        sr.snapshot()
    );
    assert_ne!(sr.state(), CameraState::Failed);
    assert_eq!(sr.last_error().map(|e| e.kind), Some(SourceErrorKind::BadMedia));

    let missing = start(CameraSourceConfig::new(
        "missing",
        "file:///nonexistent/vigil/no-such.avi",
    ));
    let sm = missing.status();
    assert!(
        wait_until(Duration::from_secs(10), || sm.state() == CameraState::Failed),
        "{:?}",
        sm.snapshot()
    );
    assert_eq!(
        sm.last_error().map(|e| e.kind),
        Some(SourceErrorKind::NotFound),
        "{:?}",
        sm.last_error()
    );
}

#[test]
fn short_clip_loops_or_stops_and_is_scaled_down() {
    let _serial = serial();
    init_tracing();
    let dir = tempfile::tempdir().expect("tempdir");
    let clip = dir.path().join("clip.mkv");
    make_test_clip(&clip, 320, 240, 10, 10).expect("encode clip"); // 1 s of H.264

    let mut stop_cfg = CameraSourceConfig::new("once", file_uri(&clip));
    stop_cfg.on_eos = EosPolicy::Stop;
    stop_cfg.queue_capacity = 64;
    let once = start(stop_cfg);
    let mut loop_cfg = CameraSourceConfig::new("loop", file_uri(&clip));
    loop_cfg.max_width = Some(160);
    loop_cfg.queue_capacity = 64;
    let looping = start(loop_cfg);

    let so = once.status();
    assert!(
        wait_until(Duration::from_secs(15), || so.state() == CameraState::Stopped),
        "{:?}",
        so.snapshot()
    );
    let frames: Vec<_> = once.frames().try_iter().collect();
    assert_eq!(frames.len(), 10, "a 10-frame clip played once gives 10 frames");
    assert!(frames.iter().all(|f| (f.width, f.height) == (320, 240)));
    assert!(so.last_error().is_none(), "{:?}", so.last_error());

    let sl = looping.status();
    assert!(
        wait_until(Duration::from_secs(15), || sl.frames_in() >= 25),
        "looping: {:?}",
        sl.snapshot()
    );
    assert_ne!(sl.state(), CameraState::Failed);
    let f = looping
        .frames()
        .recv_timeout(Duration::from_secs(2))
        .expect("frame");
    assert_eq!((f.width, f.height), (160, 120), "scaled down keeping 4:3");
    assert_eq!(sl.snapshot().reconnects, 0, "file loops are not reconnects");
}

#[test]
fn consumer_that_never_reads_causes_counted_drops_not_growth() {
    let _serial = serial();
    init_tracing();
    let mut cfg = CameraSourceConfig::new("stuck-consumer", file_uri(&testdata("vtest.avi")));
    cfg.queue_capacity = 2;
    let source = start(cfg);
    let status = source.status();
    let t = Instant::now();
    assert!(
        wait_until(Duration::from_secs(15), || status.frames_in() >= 12),
        "{:?}",
        status.snapshot()
    );
    let mut max_queued = 0;
    while t.elapsed() < Duration::from_secs(4) {
        max_queued = max_queued.max(status.snapshot().queued);
        std::thread::sleep(Duration::from_millis(10));
    }
    let s = status.snapshot();
    assert!(max_queued <= 2, "queue grew to {max_queued}");
    assert!(s.frames_dropped >= 10, "{s:?}");
    assert_eq!(
        s.frames_in,
        s.frames_dropped + s.queued as u64,
        "nothing consumed: in = dropped + queued"
    );
    assert_eq!(s.frames_out, 0);
    // The queue keeps the NEWEST frames.
    let kept: Vec<u64> = source.frames().try_iter().map(|f| f.seq).collect();
    assert_eq!(kept.len(), 2);
    assert!(
        kept[1] == kept[0] + 1 && kept[1] + 3 >= s.frames_in,
        "kept {kept:?} of {}",
        s.frames_in
    );
}

/// H.265 goes through the same source path as H.264: parsebin → an H.265 decoder chosen by
/// availability (hardware first, avdec_h265 here) → frames of the right size and count.
#[test]
fn h265_clip_decodes_to_every_frame() {
    let _serial = serial();
    init_tracing();
    let dir = tempfile::tempdir().expect("tempdir");
    let clip = dir.path().join("clip-h265.mkv");
    let ok = std::process::Command::new("gst-launch-1.0")
        .arg("-q")
        .args(
            format!(
                "videotestsrc num-buffers=12 ! video/x-raw,width=320,height=240,framerate=10/1 ! \
                 x265enc speed-preset=ultrafast key-int-max=10 ! h265parse ! matroskamux ! filesink location={}",
                clip.display()
            )
            .split_whitespace(),
        )
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        ok,
        "x265enc (gstreamer1.0-plugins-bad) must encode the test clip; run `make setup`"
    );

    let mut cfg = CameraSourceConfig::new("hevc", file_uri(&clip));
    cfg.on_eos = EosPolicy::Stop;
    cfg.queue_capacity = 64;
    let src = start(cfg);
    let st = src.status();
    assert!(
        wait_until(Duration::from_secs(15), || st.state() == CameraState::Stopped),
        "{:?}",
        st.snapshot()
    );
    let frames: Vec<_> = src.frames().try_iter().collect();
    assert_eq!(frames.len(), 12, "every H.265 frame decoded once");
    assert!(frames.iter().all(|f| (f.width, f.height) == (320, 240)));
    assert!(
        frames.windows(2).all(|w| w[1].pts_ns > w[0].pts_ns),
        "pts increase"
    );
    assert!(st.last_error().is_none(), "{:?}", st.last_error());
}
