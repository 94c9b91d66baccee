#!/usr/bin/env bash
# Reward-model parity with transformers: tiny seeded checkpoints of the five supported architectures
# (scripts/rm/make_tiny_rms.py), converted by scripts/convert-rm.sh to f32/f16/q8_0/q4_k_m, scored by
# `longrm serve` over HTTP (prefix sharing on) and held to the committed transformers goldens
# (scripts/rm/goldens.json) by scripts/rm/parity_check.py.
# First run: creates the pinned venv (scripts/rm/requirements.txt, ~5.6 GB with PyPI's torch) and converts
# the models into $LONGRM_CACHE/rm-models/<hash of the generator and converter>; later runs reuse them.
# RM_PARITY_TYPES=f32,q4_k_m limits the output types; RM_PARITY_REFERENCE=1 (make parity) also re-runs the
# transformers side and compares it with the committed goldens.
# Bounds (docs/REWARD_MODELS.md): relative 1e-3, or |diff| <= 2e-3 for f32 (llama.cpp's f16 KV cache rounds
# keys and values: ~5e-4 on these models), 1e-2 for f16, 0.1 for q8_0, 1.0 for q4_k_m (rewards are O(1);
# k-quants on a hidden size of 256 with random weights are coarse: the measured figures are in the docs).
# shellcheck source=tests/ops_common.bash
source "$(dirname "$0")/ops_common.bash"
require_binary

GOLDENS=scripts/rm/goldens.json
TYPES=${RM_PARITY_TYPES:-f32,f16,q8_0,q4_k_m}
if [[ ! -f "$GOLDENS" ]]; then bad "$GOLDENS exists (python scripts/rm/reference_scores.py)"; finish; fi
if ! PY=$(scripts/rm/venv.sh); then bad "the reward-model venv (scripts/rm/venv.sh)"; finish; fi

hash=$(cat scripts/rm/requirements.txt scripts/rm/corpus.py scripts/rm/make_tiny_rms.py scripts/rm/convert_rm.py \
  scripts/convert-rm.sh | sha256sum | cut -c1-12)
DIR="$LONGRM_CACHE/rm-models/$hash"

family_args() {  # converter options per tiny model (their tokenizers are trained here: no known hash)
  case $1 in
    llama) echo "--pre-tokenizer llama-bpe" ;;
    qwen2) echo "--pre-tokenizer qwen2 --step-separator <extra_0>" ;;
    qwen3) echo "--pre-tokenizer qwen2" ;;
    *) echo "" ;;
  esac
}

if [[ ! -f "$DIR/hf/manifest.json" ]]; then
  rm -rf "$DIR/hf.partial"
  if "$PY" scripts/rm/make_tiny_rms.py "$DIR/hf.partial" 2>"$WORK/make.log"; then
    mv "$DIR/hf.partial" "$DIR/hf"
  else
    bad "make_tiny_rms.py (log: $(tail -n 3 "$WORK/make.log"))"; finish
  fi
fi
# The goldens hold to these exact checkpoints: the same generator and pins give the same bytes.
check "tiny checkpoints match the goldens' sha256s" "$PY" - "$DIR/hf/manifest.json" "$GOLDENS" <<'PY'
import json, sys
made = json.load(open(sys.argv[1]))["models"]
gold = json.load(open(sys.argv[2]))["models"]
bad = [f for f in gold if made.get(f, {}).get("files") != gold[f]["files"]]
if bad:
    print(f"    checkpoints differ from the goldens' for: {', '.join(bad)}")
sys.exit(1 if bad else 0)
PY

FAMILIES=$("$PY" -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))["models"]))' "$GOLDENS")
IFS=, read -r -a types <<< "$TYPES"
mkdir -p "$DIR/gguf"
for family in $FAMILIES; do
  for t in "${types[@]}"; do
    out="$DIR/gguf/$family-$t.gguf"
    [[ -f "$out" ]] && continue
    # shellcheck disable=SC2046
    if ! scripts/convert-rm.sh "$DIR/hf/$family" "$out" --outtype "$t" $(family_args "$family") 2>"$WORK/convert.log"; then
      bad "convert $family to $t: $(tail -n 2 "$WORK/convert.log")"
    fi
  done
done

if [[ -n "${RM_PARITY_REFERENCE:-}" ]]; then
  check "transformers re-run matches the committed goldens" \
    "$PY" scripts/rm/reference_scores.py "$DIR/hf" --compare "$GOLDENS"
fi

bounds() {  # relative and absolute bound per output type
  case $1 in
    f32) echo "1e-3 2e-3" ;;
    f16) echo "1e-3 1e-2" ;;
    q8_0) echo "1e-3 0.1" ;;
    q4_k_m) echo "1e-3 1.0" ;;
  esac
}

TABLE="$WORK/table.md"
echo "| arch | outtype | case kind | values | max abs diff | max rel diff |" > "$TABLE"
echo "|---|---|---|---|---|---|" >> "$TABLE"
for family in $FAMILIES; do
  for t in "${types[@]}"; do
    gguf="$DIR/gguf/$family-$t.gguf"
    [[ -f "$gguf" ]] || continue
    if ! MODEL="$gguf" start_server "rm_$family" --ctx-size 8192; then
      bad "longrm serve loads $family-$t"; continue
    fi
    read -r rel abs <<< "$(bounds "$t")"
    if "$PY" scripts/rm/parity_check.py --url "http://127.0.0.1:$SERVER_PORT" --goldens "$GOLDENS" \
        --model "$family" --outtype "$t" --bound "$rel" --abs-bound "$abs" >> "$TABLE"; then
      ok "$family $t within rel $rel or |diff| $abs"
    else
      bad "$family $t within rel $rel or |diff| $abs"
    fi
    kill -TERM "$SERVER_PID" 2>/dev/null
    wait_exit "$SERVER_PID" 30
  done
done
cat "$TABLE"
finish
