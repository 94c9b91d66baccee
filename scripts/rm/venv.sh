#!/usr/bin/env bash
# Prints the python of the reward-model venv, creating it on first use:
# $LONGRM_CACHE/venv-rm-<first 12 hex of sha256(requirements.txt)>, so a change of pins makes a new venv.
# Set PIP_FIND_LINKS (e.g. a folder of downloaded wheels) to install without the network.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${LONGRM_CACHE:-$HOME/.cache/longrm}
req="$here/requirements.txt"
hash=$(sha256sum "$req" | cut -c1-12)
venv="$cache/venv-rm-$hash"
if [[ ! -f "$venv/.stamp" ]]; then
  echo "==> creating $venv (torch with its CUDA libraries and transformers: about 5.6 GB, a few minutes)" >&2
  rm -rf "$venv.partial"
  mkdir -p "$cache"
  python3 -m venv "$venv.partial" >&2 || { echo "python3 -m venv failed: install python3-venv" >&2; exit 1; }
  "$venv.partial/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" >&2 \
    || { echo "pip install -r $req failed: is PyPI reachable?" >&2; rm -rf "$venv.partial"; exit 1; }
  # A venv's scripts hold its path; only `python -m ...` is used from it, which survives the rename.
  rm -rf "$venv"
  mv "$venv.partial" "$venv"
  touch "$venv/.stamp"
fi
echo "$venv/bin/python"
