#!/usr/bin/env bash
# Every test: Swift tests (parser corpus, real llama.cpp + default model, real sockets and curl), then the
# tool-based checks (schemathesis, deploy validators) where they exist.
set -euo pipefail
cd "$(dirname "$0")/.."
export LONGRM_CACHE=${LONGRM_CACHE:-$HOME/.cache/longrm}
source "$LONGRM_CACHE/env.sh"
export LONGRM_DEFAULT_MODEL LLAMA_TOOLS LLAMA_PREFIX LONGRM_TEST_MODELS LLAMA_CPU_FLAVOR
swift build --build-tests
swift test --skip-build --parallel --num-workers 2 2>&1 | tee /tmp/longrm-swift-test.log | tail -n 60
status=${PIPESTATUS[0]}
[[ $status -eq 0 ]] || { echo "swift tests failed"; exit $status; }
for extra in tests/*.sh; do
  [[ -e "$extra" ]] || continue
  echo "==> $extra"
  bash "$extra"
done
