#!/usr/bin/env bash
# The llama.cpp CPU variant of a real `longrm serve`: the one set-up built for this host by default, the x64
# baseline when LONGRM_CPU_VARIANT forces it (it must start, report itself and score), and a library
# directory holding only a module built for another CPU: refused with a clear message, or the baseline
# stands in with a warning. Never SIGILL: the foreign module's init executes ud2, so calling it would show.
# shellcheck source=tests/ops_common.bash
source "$(dirname "$0")/ops_common.bash"
require_binary
LIB="${LLAMA_PREFIX:-}/lib"
if ! compgen -G "$LIB/libggml-cpu-*.so" >/dev/null; then bad "set-up built CPU variant modules in $LIB"; finish; fi
if [[ -z "${LLAMA_CPU_FLAVOR:-}" || "$LLAMA_CPU_FLAVOR" == all ]]; then want=$(scripts/cpu-flavor.sh); else want=$LLAMA_CPU_FLAVOR; fi

# served_variant NAME: checks the variant in the start-up log, /v1/models and /metrics; then scores a pair.
served_variant() {
  local name=$1 expected=$2 base="http://127.0.0.1:$SERVER_PORT"
  check "$name: start-up log names cpu_variant=$expected" grep -q "model loaded.*cpu_variant[=\":]*$expected\b" "$WORK/$name.log"
  check "$name: /v1/models reports $expected" test "$(curl -s "$base/v1/models" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["cpu_variant"])')" = "$expected"
  check "$name: /metrics has longrm_build_info{cpu_variant=\"$expected\"} 1" \
    test "$(metric_value "$SERVER_PORT" "longrm_build_info{cpu_variant=\"$expected\"}")" = 1
  code=$(curl -s -o "$WORK/$name.pair" -w '%{http_code}' -d @"$WORK/pair.json" "$base/v1/pairwise")
  check "$name: scores a pair (200, a probability)" python3 -c '
import json, sys
b = json.load(open(sys.argv[2]))
sys.exit(not (sys.argv[1] == "200" and 0 <= b["probability"] <= 1 and len(b["rewards"]) == 2))' "$code" "$WORK/$name.pair"
}
scoring_body 60 cpu-variant >"$WORK/pair.json"

start_server native || { bad "server starts on the host's variant"; finish; }
served_variant native "$want"
kill -TERM "$SERVER_PID"; wait_exit "$SERVER_PID" 30

LONGRM_CPU_VARIANT=x64 start_server baseline || { bad "server starts on the forced x64 baseline"; finish; }
served_variant baseline x64
check "baseline: the log says the variant was forced" grep -q "forced by LONGRM_CPU_VARIANT" "$WORK/baseline.log"
check "baseline and native prefer the same response, probabilities within 0.05" python3 -c '
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
sys.exit(not (a["preferred"] == b["preferred"] and abs(a["probability"] - b["probability"]) < 0.05))' \
  "$WORK/native.pair" "$WORK/baseline.pair"
kill -TERM "$SERVER_PID"; wait_exit "$SERVER_PID" 30

# A library directory as a cache built for another CPU would leave it: the engine libraries, a CPU module
# whose score says this CPU cannot run it, and (second case) the x64 baseline. LD_LIBRARY_PATH wins over
# the binary's RUNPATH, so the server loads these copies.
if ! command -v cc >/dev/null; then bad "a C compiler to build the foreign module"; finish; fi
mkdir -p "$WORK/lib"
cp -a "$LIB"/libllama.so* "$LIB"/libggml.so* "$LIB"/libggml-base.so* "$WORK/lib/"
cat >"$WORK/foreign.c" <<'C'
int ggml_backend_score(void) { return 0; }      /* ggml's verdict: this CPU lacks the module's instructions */
void *ggml_backend_init(void) { __builtin_trap(); return 0; }   /* ud2: SIGILL if the engine ever calls it */
C
cc -shared -fPIC -o "$WORK/lib/libggml-cpu-foreign.so" "$WORK/foreign.c"

# run_refused NAME PATTERN: `longrm serve` exits 2 within 60 s with PATTERN on stderr (not 132 = SIGILL).
run_refused() {
  local name=$1 pattern=$2
  LD_LIBRARY_PATH="$WORK/lib" "$BIN" serve --port 0 --model "$MODEL" --ctx-size 2048 2>"$WORK/$name.log" &
  local pid=$!
  STARTED_PIDS+=("$pid")
  wait_exit "$pid" 60
  check "$name: exits 2, no SIGILL (status $EXIT_STATUS)" test "$EXIT_STATUS" = 2
  check "$name: says why" grep -q "$pattern" "$WORK/$name.log"
}
run_refused foreign-only "no llama.cpp CPU variant in $WORK/lib runs on this CPU (built: foreign).*run scripts/setup.sh"
cp "$LIB/libggml-cpu-x64.so" "$WORK/lib/"
LONGRM_CPU_VARIANT=foreign run_refused forced-foreign "LONGRM_CPU_VARIANT=foreign: this CPU lacks instructions"
LD_LIBRARY_PATH="$WORK/lib" start_server fallback || { bad "the baseline stands in for a foreign build"; finish; }
served_variant fallback x64
check "fallback: the log warns that the baseline stands in" grep -q "baseline stands in.*foreign cannot run" "$WORK/fallback.log"
finish
