#!/usr/bin/env bash
# Issue 13 measurements: KV bytes, peak RSS, Best-of-N N=8 time per context size, /health latency during the
# prefill, and the largest difference from the separate computation, per model.
# Usage: bench/kv.sh [MODEL[:SIZE,SIZE] ...]   (default: the default model and the 8B-KV-geometry test model)
#   KV_SIZES=8192,32768  context sizes (tokens) when a model names none;  KV_THREADS=2;  KV_DIFF_SIZE=2048 (0: skip)
#   KV_SERVER_ARGS="--kv-type q8_0 --flash-attn"  extra serve flags (the layout to measure)
#   KV_REQUEST_TIMEOUT=1500  seconds one Best-of-N may take; then it is recorded as unfinished (/health and RSS kept)
# Output: a Markdown table on stdout and bench/results/kv-<UTC date>.json.
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"
GEOMETRY=${LONGRM_TEST_MODELS:-$LONGRM_CACHE/test-models}/kv-geometry-8b.gguf
(( $# )) || set -- "$MODEL" "$GEOMETRY"
exec python3 -m bench.lrbench.kv --binary "$BIN" --models "$@" --sizes "${KV_SIZES:-8192,32768}" \
  --threads "${KV_THREADS:-2}" --diff-size "${KV_DIFF_SIZE:-2048}" \
  --server-args "${KV_SERVER_ARGS:-}" ${KV_REQUEST_TIMEOUT:+--request-timeout "$KV_REQUEST_TIMEOUT"} --work "$WORK"
