#!/usr/bin/env bash
# Issue 18: /get_reward with `query` alone vs `query` + `prompts` (2 prompts x 8 rollouts, ~1.5K tokens each,
# Gemma-style turn markers), on our server alone. Target: time ratio <= 1.2, max |reward difference| = 0.
# Usage: bench/query_only.sh [--prompt-tokens N] [--response-tokens N] [--rollouts N]
# Output: a table on stdout and bench/results/query-only-<UTC date>.json.
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
exec python3 -m bench.lrbench.query_only --binary "$BIN" --model "$MODEL" --work "$WORK" "$@"
