#!/usr/bin/env bash
# Packs what `scripts/gpu-check.sh --prebuilt DIR` needs on a GPU host that has no Swift toolchain (a CUDA
# container): the test binary, a release longrm, the Swift runtime they load, and the libraries that runtime
# needs beyond glibc (libcurl's closure, for FoundationNetworking) as a fallback the host's own copies win over.
# Built here against set-up's llama.cpp, the same sdist the GPU host builds with CUDA: the C API matches, and
# LD_LIBRARY_PATH puts the CUDA build first (the binaries' RUNPATH yields to it).
# Usage: scripts/gpu-pack.sh DIR      (then copy DIR, this checkout and the cache's model to the GPU host)
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $# -eq 1 ]] || { echo "usage: scripts/gpu-pack.sh DIR" >&2; exit 2; }
out=$1
# Replaced whole, so only an empty folder or an earlier pack: never a checkout or a home directory.
if [[ -e "$out" && -n "$(ls -A "$out")" && ! -e "$out/longrmPackageTests.xctest" ]]; then
  echo "gpu-pack: $out exists and is not an earlier pack: give a new or empty folder" >&2; exit 2
fi
export LONGRM_CACHE=${LONGRM_CACHE:-$HOME/.cache/longrm}
# shellcheck source=/dev/null
source "$LONGRM_CACHE/env.sh"
export LLAMA_PREFIX

swift build --build-tests
swift build -c release --product longrm --scratch-path .build-bench-perf
tests=.build/debug/longrmPackageTests.xctest
server=.build-bench-perf/release/longrm

rm -rf "$out"
mkdir -p "$out/release" "$out/lib" "$out/compat"
# Debug info only: swift-testing finds tests through metadata sections, which stay.
strip --strip-debug -o "$out/longrmPackageTests.xctest" "$tests"
strip --strip-debug -o "$out/release/longrm" "$server"

swift_lib=$(dirname "$(readlink -f "$(command -v swift)")")/../lib/swift/linux
# Every library the two binaries load, except glibc's own and llama.cpp's (the GPU host builds those).
ldd "$tests" "$server" | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}' | sort -u | while read -r name path; do
  case "$name" in
    libc.so.*|libm.so.*|libpthread.so.*|libdl.so.*|librt.so.*|ld-linux*|libllama*|libggml*) continue ;;
  esac
  if [[ "$(readlink -f "$path")" == "$(readlink -f "$swift_lib")"/* ]]; then
    cp -L "$path" "$out/lib/$name"
  else
    cp -L "$path" "$out/compat/$name"
  fi
done
echo "gpu-pack: $(du -sh "$out" | cut -f1) in $out ($(ls "$out/lib" | wc -l) Swift runtime libraries, $(ls "$out/compat" | wc -l) fallbacks)"
