# Sourced by the bench scripts after `set -euo pipefail`: the repository root as the working directory, the
# cache's paths (env.sh), the default model, and our release binary, built when missing or BENCH_REBUILD=1.
# Sets MODEL, BIN and WORK.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export LONGRM_CACHE=${LONGRM_CACHE:-$HOME/.cache/longrm}
# shellcheck source=/dev/null
[[ -f "$LONGRM_CACHE/env.sh" ]] && source "$LONGRM_CACHE/env.sh"
MODEL=${LONGRM_DEFAULT_MODEL:-$LONGRM_CACHE/models/gemma-3-270m-q4_k_m.gguf}
SCRATCH=${BENCH_SCRATCH:-.build-bench-perf}
BIN="$SCRATCH/release/longrm"
if [[ ! -x "$BIN" || "${BENCH_REBUILD:-0}" == 1 ]]; then
  export LLAMA_PREFIX  # Package.swift: the environment, unlike env.sh, is part of SwiftPM's manifest cache key
  swift build -c release --product longrm --scratch-path "$SCRATCH"
fi
WORK=${BENCH_WORK:-$LONGRM_CACHE/bench}
