#!/usr/bin/env bash
# Structured logs of a real `longrm serve`: in json mode every stderr line is a JSON object; one access line
# per request with method, path, status, bytes, durations, request id and peer; request bodies, query strings
# and the API key never appear. In logfmt mode the same, as key=value lines.
source "$(dirname "$0")/ops_common.bash"
require_binary
KEY=log-key-must-not-appear
MARKER=body-marker-must-not-appear

run_requests() {
  local base="http://127.0.0.1:$SERVER_PORT" auth=(-H "Authorization: Bearer $KEY")
  python3 - "$MARKER" >"$WORK/body.json" <<'PY'
import json, sys
print(json.dumps({"context": "A short story. " + sys.argv[1], "prompt": "Rate it.", "responses": ["Good.", "Bad."]}))
PY
  curl -s -o /dev/null "${auth[@]}" -H 'X-Request-Id: req-pair' -d @"$WORK/body.json" "$base/v1/pairwise?secret=query-must-not-appear"
  curl -s -o /dev/null -H 'X-Request-Id: req-unauth' -d @"$WORK/body.json" "$base/v1/pairwise"
  curl -s -o /dev/null -H 'X-Request-Id: req-health' "$base/health"
  curl -s -o /dev/null "${auth[@]}" -H 'X-Request-Id: req-404' "$base/missing"
  curl -s -o /dev/null "${auth[@]}" "$base/v1/models"   # no id: the server makes one
  curl -s -o /dev/null -I -H 'X-Request-Id: req-head' "$base/health"
}

# json runs at debug level (successful probes are logged at debug), logfmt at the default info level.
for format in json logfmt; do
  echo "== $format"
  level=info; [[ $format == json ]] && level=debug
  start_server "log_$format" --api-key "$KEY" --log-format "$format" --log-level "$level" || { bad "server starts"; continue; }
  log="$WORK/log_$format.log"
  run_requests
  kill -TERM "$SERVER_PID"; wait_exit "$SERVER_PID" 30
  check "exit 0" test "$EXIT_STATUS" = 0
  check "no API key in the log" bash -c "! grep -q '$KEY' '$log'"
  check "no request body in the log" bash -c "! grep -q '$MARKER' '$log'"
  check "no query string in the log" bash -c "! grep -q 'query-must-not-appear' '$log'"
  python3 - "$log" "$format" "$level" >"$WORK/check.out" 2>&1 <<'PY'
import json, re, sys
path, fmt, level = sys.argv[1], sys.argv[2], sys.argv[3]
lines = [l.rstrip("\n") for l in open(path) if l.strip()]
failures = []
def need(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        failures.append(what)

def parse_logfmt(line):
    out = {}
    for m in re.finditer(r'([A-Za-z0-9_.-]+)=("((?:[^"\\]|\\.)*)"|\S*)', line):
        out[m.group(1)] = json.loads('"' + m.group(3) + '"') if m.group(3) is not None else m.group(2)
    return out

records = []
for line in lines:
    if fmt == "json":
        try:
            records.append(json.loads(line))
        except ValueError:
            need(False, f"valid JSON: {line[:120]}")
    else:
        need(line.startswith("ts="), f"logfmt line starts with ts=: {line[:80]}")
        records.append(parse_logfmt(line))
need(all({"ts", "level", "logger", "msg"} <= r.keys() for r in records), f"{len(records)} lines all have ts, level, logger, msg")
access = [r for r in records if r.get("logger") == "longrm.access"]
by_id = {r.get("request_id"): r for r in access}
expected = [("req-pair", 200), ("req-unauth", 401), ("req-404", 404)]
if level == "debug":
    need(len(access) == 6, f"one access line per request at debug level: {len(access)} for 6")
    expected += [("req-health", 200), ("req-head", 200)]
    need(all(by_id.get(i, {}).get("level") == "debug" for i in ("req-health", "req-head")), "successful probes at debug level")
    need(by_id.get("req-pair", {}).get("level") == "info", "scoring requests at info level")
else:
    need(len(access) == 4, f"one access line per request, successful probes left out at info level: {len(access)} for 4")
    need("req-health" not in by_id and "req-head" not in by_id, "no access line for a successful /health at info level")
for rid, status in expected:
    r = by_id.get(rid, {})
    need(str(r.get("status")) == str(status), f"{rid}: status {r.get('status')} == {status}")
pair = by_id.get("req-pair", {})
need(pair.get("method") == "POST" and pair.get("path") == "/v1/pairwise", "method and path (without query)")
need(int(pair.get("bytes", 0)) > 0 and int(pair.get("req_bytes", 0)) > 0, "response and request body sizes")
need(float(pair.get("duration_ms", -1)) > 0 and float(pair.get("compute_ms", -1)) > 0 and "queue_ms" in pair,
     "durations: total, queue, compute")
need(str(pair.get("remote", "")).startswith("127.0.0.1:"), "remote address")
need(len(str(pair.get("context_key", ""))) > 0, "context key")
if level == "debug":
    need(str(by_id.get("req-head", {}).get("bytes")) == "0", "HEAD sends no body bytes")
generated = [r for r in access if r.get("path") == "/v1/models"]
need(len(generated) == 1 and len(str(generated[0].get("request_id", ""))) > 8, "a generated request id")
need(any(r.get("msg") == "configuration" for r in records), "the configuration line")
print(f"{len(failures)} failures")
sys.exit(1 if failures else 0)
PY
  status=$?
  sed 's/^/    /' "$WORK/check.out"
  check "$format: every line parses; access lines complete" test "$status" -eq 0
done
finish
