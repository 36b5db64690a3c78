#!/usr/bin/env bash
# One 4K camera with alerts: RSS of `vigil run` every 5 s, then the SIGTERM-to-exit time
# (BENCHMARKS.md, "A 4K camera with alerts"). Needs `make setup` done; uses the debug binary
# unless VIGIL is set. Everything runs on 127.0.0.1 in a temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."
VIGIL="${VIGIL:-${CARGO_TARGET_DIR:-target}/debug/vigil}"
SECONDS_RUN="${SECONDS_RUN:-90}"
PORT="${PORT:-18554}"
export ORT_DYLIB_PATH="${ORT_DYLIB_PATH:-$PWD/.cache/onnxruntime/libonnxruntime.so.1.32.0}"
export VIGIL_MODEL_DIR="${VIGIL_MODEL_DIR:-$PWD/models}"
dir=$(mktemp -d)
trap 'kill "${CS:-}" "${VP:-}" 2>/dev/null || true; rm -rf "$dir"' EXIT
cat > "$dir/p.toml" <<TOML
[node]
id = "k4"
data_dir = "$dir/data"
[detector]
intra_threads = 1
[[camera]]
id = "k4"
uri = "rtsp://127.0.0.1:$PORT/k4"
analysis_fps = 5
[[camera.rules.zone]]
id = "all"
points = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]
[[camera.rules.rule]]
id = "anyone"
kind = "zone_intrusion"
zone = "all"
[[sink]]
name = "jsonl"
[sink.sink.file]
path = "$dir/alerts.jsonl"
TOML
"$VIGIL" camsim --port "$PORT" --fps 5 --width 3840 --height 2160 /k4=.cache/testdata/vtest.avi > "$dir/camsim.log" 2>&1 &
CS=$!
sleep 5
"$VIGIL" run "$dir/p.toml" > "$dir/run.out" 2> "$dir/run.err" &
VP=$!
for ((t = 5; t <= SECONDS_RUN; t += 5)); do
  sleep 5
  echo "t=${t}s rss_mb=$(( $(awk '/VmRSS/{print $2}' "/proc/$VP/status") / 1024 )) alerts=$(cat "$dir/alerts.jsonl" 2>/dev/null | wc -l)"
done
t0=$(date +%s%N); kill -TERM "$VP"; wait "$VP" || true; t1=$(date +%s%N)
echo "stop_ms=$(( (t1 - t0) / 1000000 ))"
VP=""
grep -E '^\[status\]|^\[vigil\] frames analysed' "$dir/run.err" | tail -2
