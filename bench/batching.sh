#!/usr/bin/env bash
# Issue 5 measurements on our server alone: batching, shared-context Best-of-N, overload, prefix sharing.
# Usage: bench/batching.sh [PARTS]   (PARTS: any of a b c d, default abcd; see bench/lrbench/batching.py)
# Output: a table on stdout and bench/results/batching-<UTC date>.json.
#   BATCHING_SCALE=0.25  all context sizes × 0.25 (harness debugging only)
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
WORK=${BENCH_WORK:-$LONGRM_CACHE/bench}
exec python3 -m bench.lrbench.batching --binary "$BIN" --model "$MODEL" \
  --work "$WORK" --parts "${1:-abcd}" --scale "${BATCHING_SCALE:-1}"
