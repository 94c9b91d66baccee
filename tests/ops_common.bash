# Shared helpers for tests/ops_*.sh (sourced; not a test itself, so it does not end in .sh).
# Every server these helpers start listens on 127.0.0.1 with an ephemeral port and is stopped on exit.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export LONGRM_CACHE=${LONGRM_CACHE:-$HOME/.cache/longrm}
# shellcheck disable=SC1091
[[ -f "$LONGRM_CACHE/env.sh" ]] && source "$LONGRM_CACHE/env.sh"
BIN=${LONGRM_BIN:-.build/debug/longrm}
MODEL=${LONGRM_DEFAULT_MODEL:-$LONGRM_CACHE/models/gemma-3-270m-q4_k_m.gguf}
# Settings from the caller's environment must not leak into the tests' servers.
while IFS= read -r name; do
  case "$name" in LONGRM_CACHE|LONGRM_DEFAULT_MODEL|LONGRM_BIN|LONGRM_OPENAPI|LONGRM_LLAMA_LOG) ;; *) unset "$name" ;; esac
done < <(compgen -e | grep '^LONGRM_' || true)

TEST_NAME=${TEST_NAME:-$(basename "$0" .sh)}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/$TEST_NAME.XXXXXX")
PASSED=0
FAILED=0
STARTED_PIDS=()

cleanup() {
  local pid
  for pid in "${STARTED_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  # OPS_KEEP=1 keeps the logs for a look after a failure.
  if [[ -n "${OPS_KEEP:-}" ]]; then echo "logs kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

ok() { PASSED=$((PASSED + 1)); echo "  ok: $1"; }
bad() { FAILED=$((FAILED + 1)); echo "  FAIL: $1"; }
# check "description" command...: passes when the command succeeds.
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }

finish() {
  echo "$TEST_NAME: $PASSED passed, $FAILED failed"
  [[ $FAILED -eq 0 && $PASSED -gt 0 ]]
  exit $?
}

require_binary() {
  if [[ ! -x "$BIN" ]]; then bad "binary $BIN exists (build first: swift build)"; finish; fi
  if [[ ! -f "$MODEL" ]]; then bad "model $MODEL exists (scripts/setup.sh)"; finish; fi
}

# start_server NAME [serve args...]: starts `longrm serve` on an ephemeral port with a small context; sets
# SERVER_PID and SERVER_PORT (NAME-based variables too: NAME_PID, NAME_PORT); stderr goes to $WORK/NAME.log.
start_server() {
  local name=$1; shift
  local log="$WORK/$name.log"
  "$BIN" serve --host 127.0.0.1 --port 0 --model "$MODEL" --ctx-size 2048 --threads 2 "$@" 2>"$log" &
  SERVER_PID=$!
  STARTED_PIDS+=("$SERVER_PID")
  SERVER_PORT=""
  local i
  for ((i = 0; i < 600; i++)); do
    SERVER_PORT=$(grep -m1 -o '"\?msg"\?[=:]"\?listening.*' "$log" 2>/dev/null | grep -o 'port"\?[=:]"\?[0-9]*' | grep -o '[0-9]*$' || true)
    [[ -n "$SERVER_PORT" ]] && break
    is_running "$SERVER_PID" || break
    sleep 0.1
  done
  printf -v "${name}_PID" '%s' "$SERVER_PID"
  printf -v "${name}_PORT" '%s' "$SERVER_PORT"
  if [[ -z "$SERVER_PORT" ]]; then
    echo "server $name did not start; its log:"; tail -n 20 "$log"
    return 1
  fi
}

# is_running PID: alive and not a zombie (kill -0 succeeds on an exited child until it is waited for).
is_running() { [[ -e /proc/$1 ]] && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat" 2>/dev/null; }

# wait_exit PID SECONDS: waits for a child to end; sets EXIT_STATUS to its status, or "timeout".
# (Not a $(...) function: a subshell cannot wait for this shell's children.)
wait_exit() {
  local pid=$1 limit=$2 i
  EXIT_STATUS=timeout
  for ((i = 0; i < limit * 20; i++)); do
    if ! is_running "$pid"; then wait "$pid"; EXIT_STATUS=$?; return; fi
    sleep 0.05
  done
}

# A scoring request of about N context tokens (distinct per SEED, so nothing is reused across seeds).
scoring_body() {
  local words=$1 seed=$2
  python3 - "$words" "$seed" <<'EOF'
import json, random, sys
words, seed = int(sys.argv[1]), sys.argv[2]
rng = random.Random(seed)
vocab = "river stone lamp quiet orange window paper seven garden cloud music bridge".split()
context = " ".join(rng.choice(vocab) for _ in range(words))
print(json.dumps({"context": f"[{seed}] " + context, "prompt": "Which answer is better?",
                  "responses": ["The first answer.", "The second answer."], "method": "likelihood"}))
EOF
}

# A /v1/score body of ITEMS items with distinct contexts of about WORDS words each: ITEMS separate engine
# jobs, so its duration grows with ITEMS (a "slow request" without a test-only hook in the server).
slow_score_body() {
  local words=$1 items=$2 seed=$3
  python3 - "$words" "$items" "$seed" <<'PY'
import json, random, sys
words, items, seed = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rng = random.Random(seed)
vocab = "river stone lamp quiet orange window paper seven garden cloud music bridge".split()
out = []
for i in range(items):
    context = " ".join(rng.choice(vocab) for _ in range(words))
    out.append({"context": f"[{seed}-{i}] {context}", "prompt": "Is this fine?", "response": "Yes."})
print(json.dumps({"items": out, "method": "likelihood"}))
PY
}

# metric_value PORT SERIES: one sample's value from /metrics (empty when absent).
metric_value() {
  curl -s --max-time 5 "http://127.0.0.1:$1/metrics" | awk -v s="$2" '$1 == s { print $2; exit }'
}
