#!/usr/bin/env bash
# The demo: what the pipeline can do today, on the sample media, with real models.
set -euo pipefail
cd "$(dirname "$0")/.."
VIGIL="${CARGO_TARGET_DIR:-target}/debug/vigil"
exec "$VIGIL" demo --seconds "${DEMO_SECONDS:-60}"
