#!/usr/bin/env bash
# Lifecycle of a real `longrm serve`: model load failures exit non-zero with a clear message and no crash;
# SIGTERM turns /ready to 503 at once, lets requests in flight finish and exits 0; the drain timeout cuts
# requests that take longer; a second SIGTERM or a SIGHUP stops at once (exit 0, documented in serve's help).
source "$(dirname "$0")/ops_common.bash"
require_binary
# About 3 s of engine work on an idle 2-core machine (2 jobs of ~800 tokens), ten times that on a loaded one:
# long enough to be in flight when the signal comes, short enough to finish inside the drain timeout.
slow_score_body 600 2 slow >"$WORK/slow.json"

echo "== model load failures"
expect_load_failure() {
  local what=$1 model=$2 pattern=$3 status
  "$BIN" serve --port 0 --ctx-size 2048 --model "$model" 2>"$WORK/fail.log"
  status=$?
  if [[ $status -ne 0 && $status -lt 128 ]] && grep -q -- "$pattern" "$WORK/fail.log"; then
    ok "$what: exit $status, '$pattern'"
  else
    bad "$what: exit $status (want 1..127), log: $(tail -n 3 "$WORK/fail.log")"
  fi
}
expect_load_failure "missing file" "$WORK/missing.gguf" "model file not found"
echo "this is not a model" >"$WORK/text.gguf"
expect_load_failure "not GGUF" "$WORK/text.gguf" "not a GGUF file"
head -c 1048576 "$MODEL" >"$WORK/truncated.gguf"
expect_load_failure "GGUF truncated to 1 MB" "$WORK/truncated.gguf" "could not load"
: >"$WORK/empty.gguf"
expect_load_failure "empty file" "$WORK/empty.gguf" "not a GGUF file"

# start_slow: starts the slow request against $SERVER_PORT in the background and waits until the engine
# runs it; sets SLOW_PID, and the response code lands in $WORK/slow.code.
start_slow() {
  curl -s -o "$WORK/slow.out" -w '%{http_code}' --max-time 170 -H 'X-Request-Id: slow-1' \
    -d @"$WORK/slow.json" "http://127.0.0.1:$SERVER_PORT/v1/score" >"$WORK/slow.code" 2>/dev/null &
  SLOW_PID=$!
  local i running
  for ((i = 0; i < 100; i++)); do
    running=$(metric_value "$SERVER_PORT" longrm_running_jobs)
    [[ -n "$running" && "$running" != 0 ]] && return 0
    sleep 0.1
  done
  return 1
}

echo "== SIGTERM: /ready 503 at once, the request in flight finishes, exit 0"
start_server drain --drain-timeout-ms 150000 || { bad "server starts"; finish; }
check "/ready is 200 before" test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SERVER_PORT/ready")" = 200
check "slow request is running" start_slow
# A connection that has sent half a request head before the signal is still served during the drain.
python3 - "$SERVER_PORT" "$SERVER_PID" >"$WORK/ready.out" <<'PY'
import os, signal, socket, sys, time
port, pid = int(sys.argv[1]), int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.sendall(b"GET /ready HTTP/1.1\r\nHost: x\r\n")
time.sleep(0.2)
sent = time.monotonic()
os.kill(pid, signal.SIGTERM)
time.sleep(0.3)
s.sendall(b"\r\n")
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
print(data.decode(errors="replace").replace("\r", ""))
print(f"elapsed_ms={int((time.monotonic() - sent) * 1000)}")
PY
check "/ready answers 503 during the drain" grep -q '^HTTP/1.1 503' "$WORK/ready.out"
check "/ready says draining" grep -q '"status":"draining"' "$WORK/ready.out"
elapsed=$(grep -o 'elapsed_ms=[0-9]*' "$WORK/ready.out" | cut -d= -f2)
check "/ready answered at once (${elapsed:-?} ms after the signal, not after the slow request)" test "${elapsed:-99999}" -lt 2000
check "new connections are refused while draining" bash -c "! curl -s --max-time 2 http://127.0.0.1:$SERVER_PORT/health"
wait "$SLOW_PID"
check "the request in flight finished with 200" test "$(cat "$WORK/slow.code")" = 200
wait_exit "$SERVER_PID" 180; status=$EXIT_STATUS
check "exit status 0 after the drain (got $status)" test "$status" = 0
check "the log records the drain" grep -q 'msg=draining' "$WORK/drain.log"
check "the access log has the slow request" grep -q 'request_id=slow-1' "$WORK/drain.log"

echo "== SIGTERM with a short drain timeout"
start_server short --drain-timeout-ms 500 || { bad "server starts"; finish; }
check "slow request is running" start_slow
begin=$(date +%s%N)
kill -TERM "$SERVER_PID"
wait_exit "$SERVER_PID" 30; status=$EXIT_STATUS
took=$((($(date +%s%N) - begin) / 1000000))
wait "$SLOW_PID"
check "exit status 0 (got $status)" test "$status" = 0
check "stopped soon after the drain timeout (${took} ms)" test "$took" -lt 4000
check "the cut request got no 200 ($(cat "$WORK/slow.code"))" test "$(cat "$WORK/slow.code")" != 200
check "the log says the drain ended with connections open" grep -q 'drain ended with connections open' "$WORK/short.log"

echo "== second SIGTERM stops at once"
start_server twice --drain-timeout-ms 60000 || { bad "server starts"; finish; }
check "slow request is running" start_slow
begin=$(date +%s%N)
kill -TERM "$SERVER_PID"; sleep 0.3; kill -TERM "$SERVER_PID"
wait_exit "$SERVER_PID" 30; status=$EXIT_STATUS
took=$((($(date +%s%N) - begin) / 1000000))
wait "$SLOW_PID"
check "exit status 0 (got $status)" test "$status" = 0
check "stopped at once (${took} ms)" test "$took" -lt 4000
check "the cut request got no 200" test "$(cat "$WORK/slow.code")" != 200

echo "== SIGHUP stops at once"
start_server hup --drain-timeout-ms 60000 || { bad "server starts"; finish; }
check "slow request is running" start_slow
begin=$(date +%s%N)
kill -HUP "$SERVER_PID"
wait_exit "$SERVER_PID" 30; status=$EXIT_STATUS
took=$((($(date +%s%N) - begin) / 1000000))
wait "$SLOW_PID"
check "exit status 0 (got $status)" test "$status" = 0
check "stopped at once (${took} ms)" test "$took" -lt 4000
check "the log names SIGHUP" grep -q 'SIGHUP' "$WORK/hup.log"
check "the cut request got no 200" test "$(cat "$WORK/slow.code")" != 200
finish
