# Package lists shared by scripts/setup.sh and the Dockerfile (a test checks they agree).
# Build- and test-time Debian packages (chromium + chromium-driver: the operator console's
# browser tests, crates/vigil-http/tests/console.rs and crates/vigil/tests/console_e2e.rs, drive
# headless Chromium over WebDriver; fonts-wqy-microhei: a small CJK font, so Chinese plate text
# renders in their screenshots. The daemon draws no text, so the run-time image needs no font:
# operators' browsers bring their own).
BUILD_PACKAGES="build-essential pkg-config curl ca-certificates unzip python3 python3-pip python3-venv \
libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstrtspserver-1.0-dev chromium chromium-driver \
fonts-wqy-microhei"
# Run-time Debian packages (GStreamer plugins the pipelines use, RTSP server for camsim).
RUNTIME_PACKAGES="gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad \
gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-tools gstreamer1.0-rtsp libgstrtspserver-1.0-0"
# ONNX Runtime, from the PyPI wheel (pinned file and digests).
ORT_VERSION="1.32.0"
ORT_WHEEL="onnxruntime-1.32.0-cp311-cp311-manylinux_2_28_x86_64.whl"
ORT_WHEEL_SHA256="5a34fc4dfeb5a7b4a74c95dcba1e773d722abda720b474edf1b0c419dc6d163d"
ORT_LIB_SHA256="6c1585d1bbf45b0712ea4a21b705c5fcb4ba04ff2e30f1fbf81a49faf658638f"
