#!/usr/bin/env bash
# RLHF frameworks against a live server (docs/INTEGRATIONS.md): OpenRLHF's remote reward model client, verl's
# reward-loop /classify call and its custom reward function, a TRL reward_funcs callable, each written from the
# framework's source (tests/compat_frameworks.py cites the files) and asserting real values against our own
# routes, and an OpenAI-style judge client on /v1/chat/completions. Servers: the default model (no head:
# likelihood), and the tiny 3-label classifier from $LONGRM_TEST_MODELS where verl reads a head.
# Needs `swift build` first. Prints `compat_frameworks: N passed, M failed`.
source "$(dirname "$0")/ops_common.bash"

# The clients use python `requests`, as OpenRLHF and verl's users do: the test venv has it, else the system's.
PYTHON=python3
[[ -x "$LONGRM_CACHE/venv-tests/bin/python" ]] && PYTHON="$LONGRM_CACHE/venv-tests/bin/python"
if ! "$PYTHON" -c 'import requests' 2>/dev/null; then
  bad "python requests importable ($PYTHON; tests/api_schemathesis.sh installs it in $LONGRM_CACHE/venv-tests)"
  finish
fi
require_binary

HEAD_MODEL=${LONGRM_TEST_MODELS:-$LONGRM_CACHE/test-models}/tiny-head-cls.gguf

start_server default || { bad "default-model server starts"; finish; }
BASE=http://127.0.0.1:$default_PORT
HEAD_BASE=""
if [[ -f "$HEAD_MODEL" ]]; then
  MODEL="$HEAD_MODEL" start_server head --parallel 2 || bad "classifier-head server starts"
  [[ -n "${head_PORT:-}" ]] && HEAD_BASE=http://127.0.0.1:$head_PORT
else
  bad "test model $HEAD_MODEL exists (scripts/setup.sh)"
fi
for port in "$default_PORT" ${head_PORT:-}; do
  for _ in $(seq 600); do curl -fs --max-time 2 "http://127.0.0.1:$port/ready" > /dev/null && break; sleep 0.2; done
done

run_client() { timeout 600 "$PYTHON" tests/compat_frameworks.py "$@"; }
check "OpenRLHF: /get_reward as remote_rm_utils sends it (180 s timeout, 5 tries 1 s apart)" run_client openrlhf "$BASE"
check "verl: reward loop's /classify call (probs[-1]), no retry on 4xx, custom reward function" \
  run_client verl "$BASE" $HEAD_BASE
check "TRL: reward_funcs callable from docs/INTEGRATIONS.md, standard and conversational" run_client trl "$BASE"
check "OpenAI-style judge client: /v1/chat/completions, greedy, logprobs, sampling refused" run_client openai "$BASE"
check "the servers are still up" is_running "$default_PID"
finish
