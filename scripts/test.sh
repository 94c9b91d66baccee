#!/usr/bin/env bash
# Every test: Swift tests (parser corpus, real llama.cpp + default model, real sockets and curl), then the
# tool-based checks (schemathesis, deploy validators) where they exist.
set -euo pipefail
cd "$(dirname "$0")/.."
export LONGRM_CACHE=${LONGRM_CACHE:-$HOME/.cache/longrm}
source "$LONGRM_CACHE/env.sh"
export LONGRM_DEFAULT_MODEL LLAMA_TOOLS LLAMA_PREFIX LONGRM_TEST_MODELS LLAMA_CPU_FLAVOR
# Style: .swift-format (4-space indent, 120 columns), checked like a test. Toolchains before 6.0 lack it.
if swift format --version >/dev/null 2>&1; then
  swift format lint --strict -r Sources Tests Package.swift || { echo "swift format lint failed: run 'swift format -i -r Sources Tests Package.swift'"; exit 1; }
else
  echo "swift format not in this toolchain: style not checked"
fi
swift build --build-tests
swift test --skip-build --parallel --num-workers 2 2>&1 | tee /tmp/longrm-swift-test.log | tail -n 60
status=${PIPESTATUS[0]}
[[ $status -eq 0 ]] || { echo "swift tests failed"; exit $status; }
for extra in tests/*.sh; do
  [[ -e "$extra" ]] || continue
  echo "==> $extra"
  bash "$extra"
done
