#!/usr/bin/env bash
# Prints a folder holding llama-cpp-python's ctypes bindings (llama_cpp/llama_cpp.py) of the same sdist as
# the llama.cpp we build, for llama_check.py to call $LLAMA_PREFIX/lib/libllama.so. Downloaded once into the
# cache (third-party code is never committed); only the three modules the bindings need are kept.
set -euo pipefail
export LONGRM_CACHE=${LONGRM_CACHE:-$HOME/.cache/longrm}
version=0.3.36
sha=832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e
out="$LONGRM_CACHE/llama-cpp-python-bindings-$version"
if [[ ! -f "$out/.stamp" ]]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download --quiet --no-deps --no-binary :all: -d "$tmp" "llama-cpp-python==$version" >&2
  tarball=$(ls "$tmp"/llama_cpp_python-*.tar.gz)
  [[ "$(sha256sum "$tarball" | cut -d' ' -f1)" == "$sha" ]] || { echo "sha256 of $tarball is not $sha" >&2; exit 1; }
  tar -xzf "$tarball" -C "$tmp" "llama_cpp_python-$version/llama_cpp/llama_cpp.py" \
    "llama_cpp_python-$version/llama_cpp/_ctypes_extensions.py"
  rm -rf "$out"; mkdir -p "$out/llama_cpp"
  cp "$tmp/llama_cpp_python-$version/llama_cpp/"{llama_cpp.py,_ctypes_extensions.py} "$out/llama_cpp/"
  : > "$out/llama_cpp/__init__.py"  # the package's own __init__ imports the high-level API we do not need
  touch "$out/.stamp"
fi
echo "$out"
