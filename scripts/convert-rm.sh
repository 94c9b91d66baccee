#!/usr/bin/env bash
# Convert a Hugging Face *ForSequenceClassification reward model (Llama, Qwen2, Qwen3, Gemma2, Mistral) to
# one GGUF file that `longrm serve --model OUT.gguf` scores with its head (docs/REWARD_MODELS.md).
# Usage: scripts/convert-rm.sh SRC_DIR OUT.gguf [--outtype f32|f16|q8_0|q4_k_m] [--pre-tokenizer NAME]
#                              [--step-separator TEXT]
# First use: creates the pinned Python venv in $LONGRM_CACHE (scripts/rm/requirements.txt, ~5.6 GB with
# PyPI's torch). q4_k_m goes through llama_model_quantize of the libllama the server links (nothing to build).
# Exit status 2: input that cannot be converted (the message names what is missing).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export LONGRM_CACHE=${LONGRM_CACHE:-$HOME/.cache/longrm}
if [[ ! -f "$LONGRM_CACHE/env.sh" ]]; then
  echo "convert-rm: $LONGRM_CACHE/env.sh is missing: run scripts/setup.sh first (it fetches llama.cpp)" >&2
  exit 1
fi
# shellcheck disable=SC1091
source "$LONGRM_CACHE/env.sh"
llama_src="$(dirname "$LLAMA_PREFIX")/src"
python=$("$root/scripts/rm/venv.sh")
exec "$python" "$root/scripts/rm/convert_rm.py" --llama-src "$llama_src" --llama-lib "$LLAMA_PREFIX/lib" "$@"
