#!/usr/bin/env bash
# Idempotent set-up of everything Vigil needs on Debian 12: system packages, ONNX Runtime,
# models and test media. Safe to re-run; prints what it does and skips what is already done.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh

say() { printf '[setup] %s\n' "$*"; }
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# 1. Debian packages -------------------------------------------------------------------------
missing=()
for p in $BUILD_PACKAGES $RUNTIME_PACKAGES ${EXTRA_PACKAGES:-}; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  say "Debian packages: all present"
fi

# 2. Rust toolchain ---------------------------------------------------------------------------
if ! command -v cargo >/dev/null 2>&1; then
  say "cargo not found: install Rust ≥ 1.92 with rustup (https://rustup.rs), then re-run"; exit 1
fi
if ! cargo nextest --version >/dev/null 2>&1; then
  say "installing cargo-nextest (cargo install)"
  cargo install --locked cargo-nextest
fi
# cargo-deny checks licences, duplicate versions and sources in `make lint` (deny.toml).
if ! cargo deny --version >/dev/null 2>&1; then
  say "installing cargo-deny (cargo install)"
  cargo install --locked cargo-deny
else
  say "cargo-deny: $(cargo deny --version)"
fi

# 3. ONNX Runtime shared library from the PyPI wheel --------------------------------------------
ORT_DIR=.cache/onnxruntime
ORT_LIB="$ORT_DIR/libonnxruntime.so.$ORT_VERSION"
sha_ok() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]; }
if sha_ok "$ORT_LIB" "$ORT_LIB_SHA256"; then
  say "ONNX Runtime $ORT_VERSION: ok ($ORT_LIB)"
else
  mkdir -p "$ORT_DIR/wheel"
  if ! sha_ok "$ORT_DIR/wheel/$ORT_WHEEL" "$ORT_WHEEL_SHA256"; then
    say "downloading ONNX Runtime $ORT_VERSION wheel with pip"
    rm -f "$ORT_DIR/wheel/$ORT_WHEEL"
    python3 -m pip download --disable-pip-version-check --no-deps --only-binary=:all: \
      --python-version 3.11 --implementation cp --abi cp311 --platform manylinux_2_28_x86_64 \
      -d "$ORT_DIR/wheel" "onnxruntime==$ORT_VERSION"
    sha_ok "$ORT_DIR/wheel/$ORT_WHEEL" "$ORT_WHEEL_SHA256" || {
      say "ERROR: $ORT_WHEEL has the wrong sha256 (corrupt download or changed index); delete $ORT_DIR and retry"; exit 1; }
  fi
  say "unpacking libonnxruntime.so from the wheel"
  unzip -o -q -j "$ORT_DIR/wheel/$ORT_WHEEL" "onnxruntime/capi/libonnxruntime.so.$ORT_VERSION" -d "$ORT_DIR"
  sha_ok "$ORT_LIB" "$ORT_LIB_SHA256" || { say "ERROR: unpacked library has the wrong sha256"; exit 1; }
  ln -sf "libonnxruntime.so.$ORT_VERSION" "$ORT_DIR/libonnxruntime.so"
  say "ONNX Runtime $ORT_VERSION: installed ($ORT_LIB)"
fi

# 4. Models and test media (the project's own fetcher: mirrors first, then public sources) -------
say "building the vigil binary (for models/media fetch)"
cargo build -q -p vigil
export VIGIL_MODEL_MIRROR="${VIGIL_MODEL_MIRROR:-../shared/models}"
export VIGIL_MEDIA_MIRROR="${VIGIL_MEDIA_MIRROR:-../shared/testdata}"
"${CARGO_TARGET_DIR:-target}/debug/vigil" models fetch
"${CARGO_TARGET_DIR:-target}/debug/vigil" media fetch
say "done"
