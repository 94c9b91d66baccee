#!/usr/bin/env bash
# Issue 14 measurements: judge generation throughput vs llama-server /completion (1 and 8 clients), and
# probability mode vs generation mode on the same pairs. See bench/lrbench/judge.py.
# Usage: bench/judge.sh [--context 2048] [--pairs 8] [--contexts 0 (one per pair)] [--new-tokens 64] [--no-peer]
# Output: a table on stdout and bench/results/judge-<UTC date>.json.
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"
exec python3 -m bench.lrbench.judge --binary "$BIN" --model "$MODEL" --tools "${LLAMA_TOOLS:-none}" \
  --work "$WORK" "$@"
