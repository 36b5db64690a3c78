//! The Dockerfile must install what `make setup` installs: both read scripts/deps.sh.

use std::path::PathBuf;

fn read(p: &str) -> String {
    std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(p)).expect(p)
}

#[test]
fn dockerfile_and_setup_share_the_package_lists() {
    let docker = read("Dockerfile");
    let setup = read("scripts/setup.sh");
    let deps = read("scripts/deps.sh");
    for var in [
        "BUILD_PACKAGES",
        "RUNTIME_PACKAGES",
        "ORT_WHEEL_SHA256",
        "ORT_LIB_SHA256",
    ] {
        assert!(deps.contains(&format!("{var}=")), "deps.sh defines {var}");
        assert!(docker.contains(var), "Dockerfile uses {var}");
    }
    assert!(setup.contains(". scripts/deps.sh") && docker.contains("scripts/deps.sh"));
    assert!(setup.contains("$BUILD_PACKAGES $RUNTIME_PACKAGES"));
    // The runtime stage installs the runtime list; every GStreamer plugin set is in it.
    for pkg in [
        "gstreamer1.0-plugins-good",
        "gstreamer1.0-plugins-bad",
        "gstreamer1.0-plugins-ugly",
        "gstreamer1.0-libav",
    ] {
        assert!(deps.contains(pkg), "{pkg} in the runtime list");
    }
}
