#!/usr/bin/env bash
# Issue 13, item 1: the KV layouts side by side on libllama alone (bench/kvlayouts.c): per-context stream (today),
# llama.cpp's unified KV with candidates as extra sequence ids, q8_0 K and V, against each candidate computed alone.
# Usage: bench/kvlayouts.sh [MODEL ...]   (default: the default model and the 8B-KV-geometry test model)
#   KVL_CONTEXT=2048 context tokens;  KVL_N=8 candidates;  KVL_LEN=64 tokens each;  KVL_ROUNDS=3;  KVL_THREADS=2
#   KVL_REFERENCE_N=0 candidates the reference computes alone (0: all N; each costs a whole prefill)
# Output: a Markdown table on stdout and bench/results/kvlayouts-<UTC date>.json.
set -euo pipefail
cd "$(dirname "$0")/.."
export LONGRM_CACHE=${LONGRM_CACHE:-$HOME/.cache/longrm}
# shellcheck source=/dev/null
[[ -f "$LONGRM_CACHE/env.sh" ]] && source "$LONGRM_CACHE/env.sh"
: "${LLAMA_PREFIX:?run scripts/setup.sh first (LLAMA_PREFIX names the libllama install)}"
MODEL=${LONGRM_DEFAULT_MODEL:-$LONGRM_CACHE/models/gemma-3-270m-q4_k_m.gguf}
GEOMETRY=${LONGRM_TEST_MODELS:-$LONGRM_CACHE/test-models}/kv-geometry-8b.gguf
WORK=${BENCH_WORK:-$LONGRM_CACHE/bench}
mkdir -p "$WORK"
BIN="$WORK/kvlayouts"
if [[ ! -x "$BIN" || bench/kvlayouts.c -nt "$BIN" ]]; then
  cc -O2 -Wall -o "$BIN" bench/kvlayouts.c -I"$LLAMA_PREFIX/include" -L"$LLAMA_PREFIX/lib" -lllama -lggml -lggml-base -lm \
    -Wl,-rpath,"$LLAMA_PREFIX/lib"
fi
export LLAMA_MODULES="$LLAMA_PREFIX/lib"
(( $# )) || set -- "$MODEL" "$GEOMETRY"
exec python3 -m bench.lrbench.kvlayouts --binary "$BIN" --models "$@" --context "${KVL_CONTEXT:-2048}" --n "${KVL_N:-8}" \
  --len "${KVL_LEN:-64}" --rounds "${KVL_ROUNDS:-3}" --threads "${KVL_THREADS:-2}" \
  --reference-n "${KVL_REFERENCE_N:-0}"
