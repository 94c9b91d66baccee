#!/usr/bin/env bash
# Issue 13 measurements: KV bytes, peak RSS, Best-of-N N=8 time per context size, /health latency during the
# prefill, and the largest difference from the separate computation, per model.
# Usage: bench/kv.sh [MODEL[:SIZE,SIZE] ...]   (default: the default model and the 8B-KV-geometry test model)
#   KV_SIZES=8192,32768  context sizes (tokens) when a model names none;  KV_THREADS=2;  KV_DIFF_SIZE=2048 (0: skip)
#   KV_SERVER_ARGS="--kv-type q8_0 --flash-attn"  extra serve flags (the layout to measure)
#   KV_REQUEST_TIMEOUT=1500  seconds one Best-of-N may take; then it is recorded as unfinished (/health and RSS kept)
# Output: a Markdown table on stdout and bench/results/kv-<UTC date>.json.
set -euo pipefail
cd "$(dirname "$0")/.."
export LONGRM_CACHE=${LONGRM_CACHE:-$HOME/.cache/longrm}
# shellcheck source=/dev/null
[[ -f "$LONGRM_CACHE/env.sh" ]] && source "$LONGRM_CACHE/env.sh"
MODEL=${LONGRM_DEFAULT_MODEL:-$LONGRM_CACHE/models/gemma-3-270m-q4_k_m.gguf}
GEOMETRY=${LONGRM_TEST_MODELS:-$LONGRM_CACHE/test-models}/kv-geometry-8b.gguf
SCRATCH=${BENCH_SCRATCH:-.build-bench-perf}
BIN="$SCRATCH/release/longrm"
if [[ ! -x "$BIN" || "${BENCH_REBUILD:-0}" == 1 ]]; then
  swift build -c release --product longrm --scratch-path "$SCRATCH"
fi
(( $# )) || set -- "$MODEL" "$GEOMETRY"
exec python3 -m bench.lrbench.kv --binary "$BIN" --models "$@" --sizes "${KV_SIZES:-8192,32768}" \
  --threads "${KV_THREADS:-2}" --diff-size "${KV_DIFF_SIZE:-2048}" \
  --server-args "${KV_SERVER_ARGS:-}" ${KV_REQUEST_TIMEOUT:+--request-timeout "$KV_REQUEST_TIMEOUT"} --work "${BENCH_WORK:-$LONGRM_CACHE/bench}"
