#!/usr/bin/env bash
# GPU readiness check, for a host with an NVIDIA GPU, its driver and the CUDA toolkit (nvcc, cuBLAS):
#   1. builds llama.cpp's CUDA flavour (LONGRM_LLAMA_CMAKE_ARGS, default -DGGML_CUDA=ON) with set-up, in a
#      cache directory of its own, writing its paths to <cache>/env-gpu.sh (the CPU build stays the default);
#   2. builds the Swift package against it (scratch path .build-gpu) and runs the scoring tests with every
#      layer offloaded (LONGRM_TEST_GPU_LAYERS=-1);
#   3. runs one bench row, judge pair seq 2K, both servers offloading every layer (--gpu-layers -1 / -ngl all).
# Not yet run on a GPU host: until it has passed there, the GPU path is untested (docs/OPERATIONS.md §8).
#
# Usage: scripts/gpu-check.sh [--dry-run] [--no-bench]
#   --dry-run   check the host and print the commands without running them
#   --no-bench  stop after the scoring tests
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; }
dry=0 bench=1
for arg in "$@"; do
  case "$arg" in
    --dry-run) dry=1 ;;
    --no-bench) bench=0 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "gpu-check: unknown argument '$arg'" >&2; usage >&2; exit 2 ;;
  esac
done

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
# LLAMA_PREFIX wins over env.sh in Package.swift; no manifest cache, so the CPU build's flags are not reused.
run swift build --build-tests --scratch-path "$SCRATCH" --manifest-cache none
run env LONGRM_TEST_GPU_LAYERS=-1 swift test --skip-build --scratch-path "$SCRATCH" --filter ScoringTests

if ((bench)); then
  step "3/3 bench row: judge pair seq 2K, --gpu-layers -1 against llama-server -ngl all"
  run env BENCH_SCRATCH=.build-gpu-bench BENCH_REBUILD=1 BENCH_ONLY="judge pair seq 2K" \
    BENCH_OURS_ARGS="--gpu-layers -1" BENCH_PEER_ARGS="-ngl all" bench/run.sh
fi
if ((dry)); then step "dry run done: nothing was built or run"; else step "passed"; fi
