#!/usr/bin/env bash
# scripts/gpu-check.sh without a GPU: its arguments and the commands a dry run would run, so the script a GPU host
# runs (docs/OPERATIONS.md §8) stays runnable between GPU sessions; and scripts/gpu-pack.sh's guard on its output
# folder. The real run is on a GPU host only.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gpu_check.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
PASSED=0 FAILED=0
check() {  # check DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@"; then PASSED=$((PASSED + 1)); echo "  ok: $what"; else FAILED=$((FAILED + 1)); echo "  FAIL: $what"; fi
}

scripts/gpu-check.sh --bogus >"$WORK/out" 2>&1
check "an unknown argument exits 2" test $? -eq 2
scripts/gpu-check.sh --prebuilt "$WORK/missing" >"$WORK/out" 2>&1
status=$?
check "--prebuilt without the packed binaries exits 2" test "$status" -eq 2
check "... and names scripts/gpu-pack.sh" grep -q "gpu-pack.sh" "$WORK/out"

mkdir -p "$WORK/notapack" && touch "$WORK/notapack/keep"
scripts/gpu-pack.sh "$WORK/notapack" >"$WORK/out" 2>&1
status=$?
check "gpu-pack.sh refuses to replace a folder that is not an earlier pack (exit 2)" test "$status" -eq 2
check "... and leaves it as it was" test -e "$WORK/notapack/keep"

mkdir -p "$WORK/pack/release"
touch "$WORK/pack/longrmPackageTests.xctest" "$WORK/pack/release/longrm"
chmod +x "$WORK/pack/longrmPackageTests.xctest" "$WORK/pack/release/longrm"
PATH="/usr/bin:/bin" scripts/gpu-check.sh --dry-run --prebuilt "$WORK/pack" >"$WORK/out" 2>&1
status=$?
check "a dry run on a host without a GPU exits 0" test "$status" -eq 0
check "... and says what the host lacks" grep -q "needs an NVIDIA GPU" "$WORK/out"
check "... builds llama.cpp with CUDA through set-up" grep -q "LONGRM_LLAMA_CMAKE_ARGS=-DGGML_CUDA=ON" "$WORK/out"
check "... runs the packed scoring tests with every layer offloaded" \
  grep -q "LONGRM_TEST_GPU_LAYERS=-1 $WORK/pack/longrmPackageTests.xctest --testing-library swift-testing --filter ScoringTests" "$WORK/out"
check "... runs the bench row on the packed server" grep -q "BENCH_SCRATCH=$WORK/pack .*--gpu-layers -1" "$WORK/out"
check "... and builds nothing" bash -c "! grep -q '^+ swift' '$WORK/out'"

echo "gpu_check: $PASSED passed, $FAILED failed"
((FAILED == 0))
