#!/usr/bin/env bash
# Issue 18: /get_reward with `query` alone vs `query` + `prompts` (2 prompts x 8 rollouts, ~1.5K tokens each,
# Gemma-style turn markers), on our server alone. Target: time ratio <= 1.2, max |reward difference| = 0.
# Usage: bench/query_only.sh [--prompt-tokens N] [--response-tokens N] [--rollouts N]
# Output: a table on stdout and bench/results/query-only-<UTC date>.json.
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"
exec python3 -m bench.lrbench.query_only --binary "$BIN" --model "$MODEL" --work "$WORK" "$@"
