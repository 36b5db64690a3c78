#!/usr/bin/env bash
# make schemathesis: property-based conformance run of the API's OpenAPI document
# (crates/vigil-http/src/openapi.json) against the real router, served on loopback by the
# `api_test_server` example over the test backend. Not part of `make test` (minutes long).
#
# Installs schemathesis into .cache/schemathesis-venv with pip on first use. Bounded:
# SCHEMATHESIS_EXAMPLES cases per operation and phase (default 100), SCHEMATHESIS_SECONDS for
# the whole run (default 300). Exit status: schemathesis's (non-zero on any failed check).
# The report (JUnit XML and the NDJSON event log) goes to .cache/schemathesis-report/.
# Every check runs (schemathesis's default); scripts/schemathesis.toml lists the few rules the
# schema cannot express, each with its reason (a `--checks` option would override it).
set -euo pipefail
cd "$(dirname "$0")/.."

EXAMPLES="${SCHEMATHESIS_EXAMPLES:-100}"
SECONDS_MAX="${SCHEMATHESIS_SECONDS:-300}"
VENV=.cache/schemathesis-venv
REPORT=.cache/schemathesis-report
CARGO="${CARGO:-cargo}"
TARGET_DIR="${CARGO_TARGET_DIR:-target}"

if [ ! -x "$VENV/bin/schemathesis" ]; then
  echo "[schemathesis] installing into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet 'schemathesis==4.*'
fi

"$CARGO" build --quiet -p vigil-http --example api_test_server
server_log=$(mktemp)
"$TARGET_DIR/debug/examples/api_test_server" >"$server_log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -f "$server_log"' EXIT

base=""
for _ in $(seq 100); do
  base=$(sed -n 's/^listening on //p' "$server_log")
  [ -n "$base" ] && break
  kill -0 "$server" 2>/dev/null || { cat "$server_log"; echo "[schemathesis] test server died"; exit 1; }
  sleep 0.1
done
[ -n "$base" ] || { cat "$server_log"; echo "[schemathesis] test server did not start"; exit 1; }
token=$(sed -n 's/^token //p' "$server_log")

mkdir -p "$REPORT"
# Hypothesis's example database beside the rest, not in the repository root.
export HYPOTHESIS_STORAGE_DIRECTORY=.cache/hypothesis
echo "[schemathesis] $base, up to $EXAMPLES cases per operation, at most ${SECONDS_MAX}s"
# The document is read from the source file: the served copy is the same (a test checks it).
timeout --signal=INT "$((SECONDS_MAX + 30))" "$VENV/bin/schemathesis" \
  --config-file scripts/schemathesis.toml run \
  crates/vigil-http/src/openapi.json \
  --url "$base" \
  --header "Authorization: Bearer $token" \
  --max-examples "$EXAMPLES" \
  --max-time "$SECONDS_MAX" \
  --workers 2 \
  --seed "${SCHEMATHESIS_SEED:-16}" \
  --report junit,ndjson --report-dir "$REPORT" \
  "$@"
