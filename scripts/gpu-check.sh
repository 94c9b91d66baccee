#!/usr/bin/env bash
# GPU readiness check, for a host with an NVIDIA GPU, its driver and the CUDA toolkit (nvcc, cuBLAS):
#   1. builds llama.cpp's CUDA flavour (LONGRM_LLAMA_CMAKE_ARGS, default -DGGML_CUDA=ON) with set-up, in a
#      cache directory of its own, writing its paths to <cache>/env-gpu.sh (the CPU build stays the default);
#   2. builds the Swift package against it (scratch path .build-gpu) and runs the scoring tests with every
#      layer offloaded (LONGRM_TEST_GPU_LAYERS=-1);
#   3. runs one bench row, judge pair seq 2K, both servers offloading every layer (--gpu-layers -1 / -ngl all).
#
# Usage: scripts/gpu-check.sh [--dry-run] [--no-bench] [--prebuilt DIR]
#   --dry-run       check the host and print the commands without running them
#   --no-bench      stop after the scoring tests
#   --prebuilt DIR  a host without Swift: run the binaries scripts/gpu-pack.sh DIR built elsewhere
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; }
dry=0 bench=1 prebuilt=""
while (($#)); do
  case "$1" in
    --dry-run) dry=1 ;;
    --no-bench) bench=0 ;;
    --prebuilt) prebuilt=${2:?--prebuilt needs a directory}; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "gpu-check: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
if [[ -n "$prebuilt" ]]; then
  [[ -x "$prebuilt/longrmPackageTests.xctest" && -x "$prebuilt/release/longrm" ]] \
    || { echo "gpu-check: $prebuilt lacks the binaries scripts/gpu-pack.sh writes" >&2; exit 2; }
  prebuilt=$(cd "$prebuilt" && pwd)
fi

export LONGRM_CACHE=${LONGRM_CACHE:-$HOME/.cache/longrm}
CUDA_ARGS=${LONGRM_LLAMA_CMAKE_ARGS:--DGGML_CUDA=ON}
ENV_FILE="$LONGRM_CACHE/env-gpu.sh"
SCRATCH=.build-gpu

step() { echo "==> gpu-check: $*" >&2; }
run() {
  echo "+ $*" >&2
  ((dry)) || "$@"
}

missing=()
command -v nvidia-smi >/dev/null && nvidia-smi -L 2>/dev/null | grep -q '^GPU ' || missing+=("an NVIDIA GPU and driver (nvidia-smi -L lists none)")
command -v swift >/dev/null || [[ -n "$prebuilt" ]] || missing+=("the Swift toolchain, or --prebuilt DIR from scripts/gpu-pack.sh")
command -v nvcc >/dev/null || missing+=("the CUDA toolkit (nvcc not on PATH; e.g. PATH=/usr/local/cuda/bin:\$PATH)")
if ((${#missing[@]})); then
  for m in "${missing[@]}"; do echo "gpu-check: needs $m" >&2; done
  ((dry)) || exit 1
  step "dry run: continuing without them"
else
  step "GPU: $(nvidia-smi -L | head -1); nvcc $(nvcc --version | grep -o 'release [0-9.]*')"
fi

step "1/3 llama.cpp with $CUDA_ARGS (a fresh build compiles the CUDA kernels: expect tens of minutes)"
run env LONGRM_LLAMA_CMAKE_ARGS="$CUDA_ARGS" LONGRM_ENV_FILE="$ENV_FILE" scripts/setup.sh --with-tools
if ((dry)); then
  step "dry run: would read $ENV_FILE, then build and test against its LLAMA_PREFIX"
  LLAMA_PREFIX="<prefix from $ENV_FILE>" LLAMA_TOOLS="<tools from $ENV_FILE>" LONGRM_DEFAULT_MODEL="<model>"
else
  # shellcheck source=/dev/null
  source "$ENV_FILE"
  compgen -G "$LLAMA_PREFIX/lib/libggml-cuda*.so" >/dev/null \
    || { echo "gpu-check: no libggml-cuda module in $LLAMA_PREFIX/lib: was CUDA found by CMake?" >&2; exit 1; }
fi
export LLAMA_PREFIX LLAMA_TOOLS LONGRM_DEFAULT_MODEL

step "2/3 scoring tests, every layer on the GPU"
# Known on a GPU (docs/OPERATIONS.md §8): the tests that hold shared-prefix decoding bit-identical to separate
# decoding fail, since CUDA's kernels depend on the batch size. The bench row still runs; the exit status says.
tests_ok=1
# LLAMA_PREFIX wins over env.sh in Package.swift; no manifest cache, so the CPU build's flags are not reused.
if [[ -n "$prebuilt" ]]; then
  # The CUDA build first; the packed Swift runtime, then the packed fallbacks after the host's own libraries.
  export LD_LIBRARY_PATH="$LLAMA_PREFIX/lib:$prebuilt/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}:$prebuilt/compat"
  run env LONGRM_TEST_GPU_LAYERS=-1 "$prebuilt/longrmPackageTests.xctest" --testing-library swift-testing \
    --filter ScoringTests || tests_ok=0
else
  run swift build --build-tests --scratch-path "$SCRATCH" --manifest-cache none
  run env LONGRM_TEST_GPU_LAYERS=-1 swift test --skip-build --scratch-path "$SCRATCH" --filter ScoringTests \
    || tests_ok=0
fi

if ((bench)); then
  step "3/3 bench row: judge pair seq 2K, --gpu-layers -1 against llama-server -ngl all"
  if [[ -n "$prebuilt" ]]; then bench_build=(BENCH_SCRATCH="$prebuilt"); else bench_build=(BENCH_SCRATCH=.build-gpu-bench BENCH_REBUILD=1); fi
  run env "${bench_build[@]}" BENCH_ONLY="judge pair seq 2K" \
    BENCH_OURS_ARGS="--gpu-layers -1" BENCH_PEER_ARGS="-ngl all" bench/run.sh
fi
if ((dry)); then
  step "dry run done: nothing was built or run"
elif ((tests_ok)); then
  step "passed"
else
  step "scoring tests failed on the GPU (above); the exactness tests named in docs/OPERATIONS.md §8 are expected to"
  exit 1
fi
