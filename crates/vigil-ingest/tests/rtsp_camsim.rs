//! End-to-end ingest over real RTSP on 127.0.0.1, served by camsim.

mod common;

use common::{init_tracing, serial, testdata, wait_until};
use std::collections::HashSet;
use std::time::{Duration, Instant};
use vigil_core::{Frame, PixelFormat};
use vigil_ingest::{
    BackoffPolicy, CameraSource, CameraSourceConfig, CameraState, Camsim, CamsimConfig, CamsimSource,
    MountSpec, OutputFormat, Secret, SourceErrorKind, SupervisorPolicy,
};

fn fast_policy() -> SupervisorPolicy {
    SupervisorPolicy {
        backoff: BackoffPolicy {
            initial: Duration::from_millis(200),
            max: Duration::from_secs(2),
            ..BackoffPolicy::default()
        },
        stall_timeout: Duration::from_secs(4),
        ..SupervisorPolicy::default()
    }
}

fn start(cfg: CameraSourceConfig) -> CameraSource {
    CameraSource::start(cfg.validate().expect("valid test config"), fast_policy()).expect("source starts")
}

/// Collects frames for `window`.
fn collect(source: &CameraSource, window: Duration) -> Vec<Frame> {
    let rx = source.frames();
    let end = Instant::now() + window;
    let mut frames = Vec::new();
    while let Some(left) = end.checked_duration_since(Instant::now()) {
        if let Ok(f) = rx.recv_timeout(left) {
            frames.push(f);
        }
    }
    frames
}

fn mean_byte(f: &Frame) -> f64 {
    f.data.iter().map(|&b| f64::from(b)).sum::<f64>() / f.data.len() as f64
}

#[test]
fn serves_file_and_still_and_reads_them_at_analysis_fps() {
    let _serial = serial();
    init_tracing();
    let mut still = MountSpec::new(
        "/still",
        CamsimSource::Still(testdata("scenes/opencv_black_car.jpg")),
        10,
    );
    (still.width, still.height) = (Some(640), Some(360));
    let camsim = Camsim::start(CamsimConfig {
        mounts: vec![
            MountSpec::new("/vtest", CamsimSource::File(testdata("vtest.avi")), 10),
            still,
        ],
        ..CamsimConfig::default()
    })
    .expect("camsim starts");
    assert_ne!(camsim.port(), 0, "port 0 must be replaced by the bound port");

    let mut cfg = CameraSourceConfig::new("vtest", camsim.url("/vtest"));
    cfg.analysis_fps = Some(5.0);
    cfg.pixel_format = OutputFormat::Rgb;
    cfg.queue_capacity = 16;
    let vtest = start(cfg);
    let mut cfg = CameraSourceConfig::new("still", camsim.url("/still"));
    cfg.analysis_fps = Some(5.0);
    let still = start(cfg);

    assert!(
        wait_until(Duration::from_secs(20), || vtest.status().state()
            == CameraState::Streaming
            && still.status().state() == CameraState::Streaming),
        "not streaming: {:?} / {:?}",
        vtest.status().snapshot(),
        still.status().snapshot()
    );
    // Discard the start-up burst (jitter buffer, first GOP), then measure.
    let _ = collect(&vtest, Duration::from_millis(500));
    let _ = still.frames().try_iter().count();
    let window = Duration::from_secs(4);
    let frames = collect(&vtest, window);
    let fps = frames.len() as f64 / window.as_secs_f64();
    assert!(
        (3.5..=6.5).contains(&fps),
        "expected ~5 fps, got {fps:.2} ({} frames)",
        frames.len()
    );

    for f in &frames {
        assert_eq!((f.width, f.height, f.format), (768, 576, PixelFormat::Rgb8));
        assert!(
            f.stride >= 768 * 3 && f.data.len() >= f.stride * 575 + 768 * 3,
            "stride {}",
            f.stride
        );
        assert_eq!(f.camera.as_str(), "vtest");
    }
    for pair in frames.windows(2) {
        assert!(
            pair[1].pts_ns > pair[0].pts_ns,
            "pts not monotonic: {} then {}",
            pair[0].pts_ns,
            pair[1].pts_ns
        );
        assert!(pair[1].seq > pair[0].seq);
    }
    let span_s = (frames[frames.len() - 1].pts_ns - frames[0].pts_ns) as f64 / 1e9;
    let mean_gap_ms = span_s * 1e3 / (frames.len() - 1) as f64;
    assert!(
        (150.0..=260.0).contains(&mean_gap_ms),
        "mean pts gap {mean_gap_ms:.0} ms, want ~200"
    );
    // Real picture content: not black, not white, and the scene changes (people walk).
    let first = &frames[0];
    let last = &frames[frames.len() - 1];
    assert!(
        (30.0..225.0).contains(&mean_byte(first)),
        "mean pixel {}",
        mean_byte(first)
    );
    assert_ne!(first.data, last.data, "frames 4 s apart must differ");

    // The still mount is a moving video of the requested size.
    let stills = collect(&still, Duration::from_secs(2));
    assert!(
        stills.len() >= 5,
        "still mount delivered {} frames in 2 s",
        stills.len()
    );
    assert!(
        stills
            .iter()
            .all(|f| (f.width, f.height, f.format) == (640, 360, PixelFormat::Bgr8))
    );
    let distinct: HashSet<&[u8]> = stills.iter().map(|f| &f.data[..]).collect();
    assert!(
        distinct.len() * 2 > stills.len(),
        "the still should pan: {} distinct of {}",
        distinct.len(),
        stills.len()
    );

    let snap = vtest.status().snapshot();
    assert_eq!(snap.reconnects, 0, "{snap:?}");
    assert!(snap.last_error.is_none(), "{snap:?}");
    assert!(snap.last_frame_at.is_some());
}

#[test]
fn mount_outage_reconnects_while_other_camera_keeps_streaming() {
    let _serial = serial();
    init_tracing();
    let vtest = testdata("vtest.avi");
    let camsim = Camsim::start(CamsimConfig {
        mounts: vec![
            MountSpec::new("/a", CamsimSource::File(vtest.clone()), 10),
            MountSpec::new("/b", CamsimSource::File(vtest), 10),
        ],
        ..CamsimConfig::default()
    })
    .expect("camsim starts");
    let mk = |id: &str, path: &str| {
        let mut cfg = CameraSourceConfig::new(id, camsim.url(path));
        cfg.analysis_fps = Some(5.0);
        start(cfg)
    };
    let (a, b) = (mk("a", "/a"), mk("b", "/b"));
    let (sa, sb) = (a.status(), b.status());
    assert!(
        wait_until(Duration::from_secs(20), || sa.state() == CameraState::Streaming
            && sb.state() == CameraState::Streaming),
        "not streaming: {:?} / {:?}",
        sa.snapshot(),
        sb.snapshot()
    );
    // Consumers keep both queues flowing.
    let (a_rx, b_rx) = (a.frames(), b.frames());
    let drain = std::thread::spawn(move || {
        let end = Instant::now() + Duration::from_secs(40);
        while Instant::now() < end {
            let _ = a_rx.recv_timeout(Duration::from_millis(10));
            let _ = b_rx.recv_timeout(Duration::from_millis(10));
        }
    });

    camsim.stop_mount("/a").expect("stop mount");
    let outage_start = Instant::now();
    let b_before = sb.frames_in();
    let mut states_seen = HashSet::new();
    while outage_start.elapsed() < Duration::from_secs(10) {
        states_seen.insert(sa.state());
        std::thread::sleep(Duration::from_millis(20));
    }
    let a_during = sa.frames_in();
    let b_outage_frames = sb.frames_in() - b_before;
    assert!(
        states_seen.contains(&CameraState::Backoff),
        "A never backed off: {states_seen:?}"
    );
    // Connecting lasts only milliseconds against a 404, too short to sample; count the attempts.
    let retries = sa.snapshot().reconnects;
    assert!(
        retries >= 2,
        "A must keep retrying during the outage: {retries} reconnects"
    );
    assert!(
        b_outage_frames >= 35,
        "B must keep streaming during A's outage: {b_outage_frames} frames in 10 s"
    );
    let err = sa.last_error().expect("A records the outage");
    assert_ne!(err.kind, SourceErrorKind::MissingElement, "{err}");

    camsim.restore_mount("/a").expect("restore mount");
    let back = Instant::now();
    assert!(
        wait_until(Duration::from_secs(5), || sa.frames_in() > a_during + 2),
        "A did not resume within 5 s of the mount coming back: {:?}",
        sa.snapshot()
    );
    println!(
        "A resumed {:?} after restore; states seen {states_seen:?}; last error: {err}",
        back.elapsed()
    );
    assert_eq!(sa.state(), CameraState::Streaming);
    assert!(sa.snapshot().reconnects >= 1);
    drop(drain);
}

#[test]
fn wrong_credentials_and_unreachable_host_retry_with_redacted_errors() {
    let _serial = serial();
    init_tracing();
    let mut secure = MountSpec::new("/secure", CamsimSource::File(testdata("vtest.avi")), 10);
    secure.auth = Some(("viewer".into(), Secret::new("right-Pa55")));
    let camsim = Camsim::start(CamsimConfig {
        mounts: vec![secure],
        ..CamsimConfig::default()
    })
    .expect("camsim");

    // Positive control: the right password streams, so the failure below is about credentials.
    let mut good = CameraSourceConfig::new("good", camsim.url("/secure"));
    good.username = Some("viewer".into());
    good.password = Some(Secret::new("right-Pa55"));
    let good = start(good);

    let mut bad = CameraSourceConfig::new("bad", camsim.url("/secure"));
    bad.username = Some("viewer".into());
    bad.password = Some(Secret::new("wrong-Pa55word"));
    let bad = start(bad);

    let port = common::closed_port();
    let down = start(CameraSourceConfig::new(
        "down",
        format!("rtsp://admin:Sup3rSecret@127.0.0.1:{port}/x"),
    ));

    let (sg, sbad, sdown) = (good.status(), bad.status(), down.status());
    assert!(
        wait_until(Duration::from_secs(20), || sg.state() == CameraState::Streaming),
        "{:?}",
        sg.snapshot()
    );
    assert!(
        wait_until(Duration::from_secs(15), || sbad.snapshot().reconnects >= 2
            && sdown.snapshot().reconnects >= 2),
        "both must keep retrying: {:?} / {:?}",
        sbad.snapshot(),
        sdown.snapshot()
    );
    let bad_err = sbad.last_error().expect("bad credentials error");
    let msg = bad_err.to_string();
    assert_eq!(bad_err.kind, SourceErrorKind::Unauthorized, "{msg}");
    assert!(msg.contains("bad") && msg.contains("/secure"), "{msg}");
    assert!(
        !msg.contains("wrong-Pa55word") && !msg.contains("right-Pa55"),
        "password leaked: {msg}"
    );
    assert_ne!(sbad.state(), CameraState::Failed);
    assert_eq!(sbad.frames_in(), 0);

    let down_err = sdown.last_error().expect("unreachable error");
    let msg = down_err.to_string();
    assert_eq!(down_err.kind, SourceErrorKind::Unreachable, "{msg}");
    assert!(msg.contains(&port.to_string()), "{msg}");
    assert!(
        !msg.contains("Sup3rSecret") && !msg.contains("admin:"),
        "password leaked: {msg}"
    );
    assert!(!format!("{:?}", sdown.snapshot()).contains("Sup3rSecret"));
    assert_ne!(sdown.state(), CameraState::Failed);
    println!("wrong credentials: {bad_err}\nunreachable: {down_err}");

    // Stop is bounded even while cameras are connecting or backing off.
    let t = Instant::now();
    let errs = vigil_ingest::stop_all(&mut [bad, down], Duration::from_secs(3));
    assert!(errs.is_empty(), "{errs:?}");
    assert!(t.elapsed() < Duration::from_secs(3));
    assert_eq!(sbad.state(), CameraState::Stopped);
    assert_eq!(sdown.state(), CameraState::Stopped);
    assert_eq!(
        sg.state(),
        CameraState::Streaming,
        "stopping other cameras must not touch this one"
    );
}

/// camsim codes every frame as 4 slices (as many IP cameras do). A decoder fed access units
/// with a slice missing shows garbage (green blocks) in that band; a flat-colour picture must
/// come back flat, top to bottom, in every frame.
#[test]
fn multi_slice_h264_over_rtsp_decodes_whole_frames() {
    let _serial = serial();
    init_tracing();
    let dir = tempfile::tempdir().expect("tempdir");
    let png = dir.path().join("flat.png");
    // ARGB 0xffc83c3c = RGB (200, 60, 60).
    let made = std::process::Command::new("gst-launch-1.0")
        .arg("-q")
        .args(
            format!(
                "videotestsrc num-buffers=1 pattern=solid-color foreground-color=0xffc83c3c ! \
                 video/x-raw,width=640,height=360 ! videoconvert ! pngenc ! filesink location={}",
                png.display()
            )
            .split_whitespace(),
        )
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(made, "gst-launch-1.0 could not write the test picture");
    let mut spec = MountSpec::new("/flat", CamsimSource::Still(png), 10);
    (spec.width, spec.height) = (Some(640), Some(352));
    let camsim = Camsim::start(CamsimConfig {
        mounts: vec![spec],
        ..CamsimConfig::default()
    })
    .expect("camsim starts");
    let mut cfg = CameraSourceConfig::new("flat", camsim.url("/flat"));
    cfg.pixel_format = OutputFormat::Rgb;
    cfg.queue_capacity = 64;
    let source = start(cfg);
    assert!(
        wait_until(Duration::from_secs(20), || source.status().state()
            == CameraState::Streaming),
        "not streaming: {:?}",
        source.status().snapshot()
    );
    let frames = collect(&source, Duration::from_secs(3));
    assert!(frames.len() >= 10, "{} frames in 3 s", frames.len());
    for f in &frames {
        let rows = f.height as usize;
        // Per quarter of the frame (one slice each), the share of pixels off the colour.
        let mut off = [0usize; 4];
        for y in 0..rows {
            let row = &f.data[y * f.stride..y * f.stride + f.width as usize * 3];
            let bad = row
                .chunks_exact(3)
                .filter(|p| p[0].abs_diff(200) > 20 || p[1].abs_diff(60) > 20 || p[2].abs_diff(60) > 20)
                .count();
            off[y * 4 / rows] += bad;
        }
        let per_band = f.width as usize * rows / 4;
        assert!(
            off.iter().all(|&n| n * 20 <= per_band),
            "frame {}: pixels off the flat colour per quarter (top first): {off:?} of {per_band}",
            f.seq
        );
    }
}

/// Starts camsim with `mounts` on `port`, retrying briefly while the port is still held by a
/// server that is shutting down.
fn camsim_on(port: u16, mounts: Vec<MountSpec>) -> Camsim {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let cfg = CamsimConfig {
            port,
            mounts: mounts.clone(),
            ..CamsimConfig::default()
        };
        match Camsim::start(cfg) {
            Ok(c) => return c,
            Err(e) if Instant::now() < deadline => {
                println!("camsim restart on port {port}: {e}; retrying");
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => panic!("camsim cannot start again on port {port}: {e}"),
        }
    }
}

/// Accepts TCP connections on `port` and never answers, like a camera whose network is up but
/// whose RTSP service is still booting. Runs until `stop` is set; the accepted connections are
/// returned still open, so a client waiting on one gets no reset and must time out by itself.
fn silent_listener(
    port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<Vec<std::net::TcpStream>> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).expect("bind the camera's port");
    listener.set_nonblocking(true).expect("nonblocking");
    std::thread::spawn(move || {
        let mut held = Vec::new();
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            match listener.accept() {
                Ok((conn, _)) => held.push(conn),
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
        held
    })
}

/// A camera's RTSP server goes away for 10 s and comes back on the same port, as in a camera
/// reboot: 5 s with the port closed (connections refused), then 5 s where TCP connects but the
/// RTSP service does not answer yet. With the production supervision policy (what `vigil run`
/// uses) a camera that was streaming must deliver frames again within 5 s of the server's
/// return, while a camera that never streamed keeps backing off ever longer.
#[test]
fn server_restart_on_same_port_resumes_within_5_s_with_default_policy() {
    let _serial = serial();
    init_tracing();
    let mounts = vec![MountSpec::new(
        "/cam",
        CamsimSource::File(testdata("vtest.avi")),
        10,
    )];
    let camsim = camsim_on(0, mounts.clone());
    let port = camsim.port();
    let mut cfg = CameraSourceConfig::new("cam", camsim.url("/cam"));
    cfg.analysis_fps = Some(5.0);
    let policy = SupervisorPolicy::default();
    let cam = CameraSource::start(cfg.validate().expect("valid"), policy).expect("starts");
    // Never streamed: nothing listens there.
    let never = CameraSource::start(
        CameraSourceConfig::new("never", format!("rtsp://127.0.0.1:{}/x", common::closed_port()))
            .validate()
            .expect("valid"),
        policy,
    )
    .expect("starts");
    let never_started = Instant::now();
    let (sc, sn) = (cam.status(), never.status());
    let rx = cam.frames();
    let drain = std::thread::spawn(move || while rx.recv_timeout(Duration::from_secs(60)).is_ok() {});
    assert!(
        wait_until(Duration::from_secs(20), || sc.state() == CameraState::Streaming),
        "not streaming: {:?}",
        sc.snapshot()
    );
    // Healthy streaming for a while before the outage.
    std::thread::sleep(Duration::from_secs(3));

    drop(camsim);
    let down = Instant::now();
    std::thread::sleep(Duration::from_secs(5));
    let stop_silent = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let silent = silent_listener(port, stop_silent.clone());
    std::thread::sleep(Duration::from_secs(5));
    stop_silent.store(true, std::sync::atomic::Ordering::Relaxed);
    let held = silent.join().expect("silent listener");
    let during = sc.frames_in();
    let cam_retries = sc.snapshot().reconnects;
    let camsim = camsim_on(port, mounts);
    let back = Instant::now();
    let resumed = wait_until(Duration::from_secs(40), || sc.frames_in() > during + 2);
    let took = back.elapsed();
    println!(
        "server down {:?}; camera resumed {took:?} after the server came back ({cam_retries} \
         reconnects during the outage, {} connections left hanging); last error: {:?}",
        back - down,
        held.len(),
        sc.last_error().map(|e| e.to_string())
    );
    assert!(resumed, "camera never resumed: {:?}", sc.snapshot());
    assert!(
        took <= Duration::from_secs(5),
        "camera resumed {took:?} after its server came back; the bar is 5 s"
    );
    assert_eq!(sc.state(), CameraState::Streaming);
    assert!(
        cam_retries >= 4,
        "a camera that was streaming retries quickly during a short outage: {cam_retries} reconnects"
    );

    // The camera that never streamed backs off exponentially: 0.5 + 1 + 2 + 4 + 8 s of waits
    // (at most 20 % shorter by jitter) leave room for only a handful of attempts.
    let never_retries = sn.snapshot().reconnects;
    let over = never_started.elapsed();
    println!("never-streamed camera: {never_retries} reconnects in {over:?}");
    assert!(
        never_retries <= 6,
        "a camera that never streamed must not hammer: {never_retries} reconnects in {over:?}"
    );
    drop((cam, never, camsim, held));
    let _ = drain.join();
}

/// Writes a `w`×`h` 16-bit-per-channel RGBA PNG of one opaque colour.
fn write_rgba16_png(path: &std::path::Path, w: u32, h: u32, rgb: [u16; 3]) {
    let [r, g, b] = rgb;
    image::ImageBuffer::<image::Rgba<u16>, Vec<u16>>::from_pixel(w, h, image::Rgba([r, g, b, u16::MAX]))
        .save_with_format(path, image::ImageFormat::Png)
        .expect("write 16-bit PNG");
}

/// pngdec decodes 16-bit PNGs to ARGB64, which the pan (videocrop) cannot take: camsim must
/// convert such a still and serve it like any other.
#[test]
fn sixteen_bit_rgba_png_still_is_served() {
    let _serial = serial();
    init_tracing();
    let dir = tempfile::tempdir().expect("tempdir");
    let png = dir.path().join("deep.png");
    // 0xC8C8 / 0x3C3C are 200 / 60 in 8 bits.
    write_rgba16_png(&png, 640, 360, [0xC8C8, 0x3C3C, 0x3C3C]);
    let head = std::fs::read(&png).expect("read back");
    assert_eq!((head[24], head[25]), (16, 6), "test picture must be 16-bit RGBA");
    let mut spec = MountSpec::new("/deep", CamsimSource::Still(png), 10);
    (spec.width, spec.height) = (Some(320), Some(176));
    let camsim = Camsim::start(CamsimConfig {
        mounts: vec![spec],
        ..CamsimConfig::default()
    })
    .expect("camsim serves a 16-bit PNG");
    let mut cfg = CameraSourceConfig::new("deep", camsim.url("/deep"));
    cfg.pixel_format = OutputFormat::Rgb;
    cfg.queue_capacity = 16;
    let source = start(cfg);
    assert!(
        wait_until(Duration::from_secs(20), || source.status().frames_in() >= 5),
        "no frames from a 16-bit PNG still: {:?}",
        source.status().snapshot()
    );
    let frames = collect(&source, Duration::from_secs(1));
    let f = frames.last().expect("frames keep coming");
    assert_eq!((f.width, f.height), (320, 176));
    // Centre pixel: the colour survives the 16 → 8 bit conversion (not byte garbage).
    let at = (f.height as usize / 2) * f.stride + (f.width as usize / 2) * 3;
    let px = &f.data[at..at + 3];
    assert!(
        px[0].abs_diff(200) <= 20 && px[1].abs_diff(60) <= 20 && px[2].abs_diff(60) <= 20,
        "centre pixel {px:?}, want ~(200, 60, 60)"
    );
}

/// A still GStreamer cannot decode is refused when camsim starts, naming the mount and file,
/// instead of a server that only logs "Internal data stream error".
#[test]
fn undecodable_still_is_refused_at_start_naming_the_file() {
    let _serial = serial();
    init_tracing();
    let dir = tempfile::tempdir().expect("tempdir");
    let bogus = dir.path().join("notes.png");
    std::fs::write(&bogus, b"this is not a picture, only text with a png name\n").expect("write");
    let err = Camsim::start(CamsimConfig {
        mounts: vec![MountSpec::new("/bogus", CamsimSource::Still(bogus.clone()), 10)],
        ..CamsimConfig::default()
    })
    .expect_err("an undecodable still must be refused");
    let msg = err.to_string();
    println!("{msg}");
    assert!(msg.contains("/bogus"), "{msg}");
    assert!(msg.contains(&bogus.display().to_string()), "{msg}");
}
