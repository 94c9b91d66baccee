#!/usr/bin/env bash
# Issue 5 measurements on our server alone: batching, shared-context Best-of-N, overload, prefix sharing.
# Usage: bench/batching.sh [PARTS]   (PARTS: any of a b c d, default abcd; see bench/lrbench/batching.py)
# Output: a table on stdout and bench/results/batching-<UTC date>.json.
#   BATCHING_SCALE=0.25  all context sizes × 0.25 (harness debugging only)
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"
exec python3 -m bench.lrbench.batching --binary "$BIN" --model "$MODEL" \
  --work "$WORK" --parts "${1:-abcd}" --scale "${BATCHING_SCALE:-1}"
