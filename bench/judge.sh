#!/usr/bin/env bash
# Issue 14 measurements: judge generation throughput vs llama-server /completion (1 and 8 clients), and
# probability mode vs generation mode on the same pairs. See bench/lrbench/judge.py.
# Usage: bench/judge.sh [--context 2048] [--pairs 8] [--contexts 0 (one per pair)] [--new-tokens 64] [--no-peer]
# Output: a table on stdout and bench/results/judge-<UTC date>.json.
set -euo pipefail
cd "$(dirname "$0")/.."
export LONGRM_CACHE=${LONGRM_CACHE:-$HOME/.cache/longrm}
# shellcheck source=/dev/null
[[ -f "$LONGRM_CACHE/env.sh" ]] && source "$LONGRM_CACHE/env.sh"
MODEL=${LONGRM_DEFAULT_MODEL:-$LONGRM_CACHE/models/gemma-3-270m-q4_k_m.gguf}
SCRATCH=${BENCH_SCRATCH:-.build-bench-perf}
BIN="$SCRATCH/release/longrm"
if [[ ! -x "$BIN" || "${BENCH_REBUILD:-0}" == 1 ]]; then
  swift build -c release --product longrm --scratch-path "$SCRATCH"
fi
exec python3 -m bench.lrbench.judge --binary "$BIN" --model "$MODEL" --tools "${LLAMA_TOOLS:-none}" \
  --work "${BENCH_WORK:-$LONGRM_CACHE/bench}" "$@"
