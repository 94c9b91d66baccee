#!/usr/bin/env bash
# LongRM Serve vs llama-server on this machine, same model, threads and window, one run, one table.
#
# Usage: bench/run.sh [--full]            (--full adds 16K and 32K contexts; default run ~10 min on 2 idle cores)
#   BENCH_REBUILD=1   run `swift build -c release` even when the binary exists
#   BENCH_ONLY=a,b    only workloads whose names start with these (harness debugging; nothing appended)
#   BENCH_SIZES=s,l   the two context sizes instead of 2048,8192 (harness debugging; nothing appended)
#   BENCH_OURS_ARGS / BENCH_PEER_ARGS   extra arguments for longrm serve / llama-server (scripts/gpu-check.sh)
# The floor is llama-bench of set-up's build (the CPU variant chosen for this host), or of a native build
# when bench/cpu-variants.sh has built one and it is faster: the best build for the host.
# Output: the table on stdout, bench/results/<UTC date>.json (committed), a dated section in docs/PERFORMANCE.md.
# Needs scripts/setup.sh --with-tools to have run (~/.cache/longrm/env.sh: LLAMA_TOOLS, LONGRM_DEFAULT_MODEL), wrk.
set -euo pipefail
full=()
for arg in "$@"; do
  case "$arg" in
    --full) full=(--full) ;;
    *) echo "usage: bench/run.sh [--full]" >&2; exit 2 ;;
  esac
done
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"
[[ -x "${LLAMA_TOOLS:-}/llama-server" ]] || { echo "bench: no llama-server (run scripts/setup.sh --with-tools)" >&2; exit 1; }
if [[ -z "${BENCH_ONLY:-}" || "$BENCH_ONLY" == *health* ]]; then
  command -v wrk >/dev/null || { echo "bench: wrk is needed (apt-get install wrk)" >&2; exit 1; }
fi
mkdir -p "$WORK"
CLS="$WORK/gemma-cls.gguf"
# Only when the classifier workload runs (it needs the gguf package).
if [[ ! -s "$CLS" && ( -z "${BENCH_ONLY:-}" || "$BENCH_ONLY" == *classifier* ) ]]; then
  python3 scripts/make_classifier_model.py --from "$MODEL" "$CLS.tmp" && mv "$CLS.tmp" "$CLS"
fi
natives=("$LONGRM_CACHE"/bench/llama-bench-native-*/bin/llama-bench)
NATIVE=""
[[ -x "${natives[0]}" ]] && NATIVE=${natives[0]}
exec python3 -m bench.lrbench.main "${full[@]}" --binary "$BIN" --tools "$LLAMA_TOOLS" \
  --model "$MODEL" --classifier-model "$CLS" --work "$WORK" --only "${BENCH_ONLY:-}" \
  --sizes "${BENCH_SIZES:-2048,8192}" --native-bench "$NATIVE" --cpu-flavor "${LLAMA_CPU_FLAVOR:-?}" \
  --ours-extra="${BENCH_OURS_ARGS:-}" --peer-extra="${BENCH_PEER_ARGS:-}"
