#!/usr/bin/env bash
# GET /health side by side: our server versus llama-server (same machine, one run), with
#   wrk -t2 -c64 -d10s --latency   (requests/s and p99)
# and our resident memory (VmRSS) after 1k and after 100k requests (curl, 16 parallel keep-alive connections).
#
# Usage: scripts/health-server-bench.sh
#   OURS_CMD  command that starts our server; {PORT} is replaced by the port. Default: the release `longrm serve`
#             with the default model, access lines off (llama-server does not log /health either). Any
#             binary that serves our Server module's /health will do.
#   ROUNDS    wrk rounds per server, alternating (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
export LONGRM_CACHE=${LONGRM_CACHE:-$HOME/.cache/longrm}
source "$LONGRM_CACHE/env.sh"
OURS_CMD=${OURS_CMD:-".build/release/longrm serve --model $LONGRM_DEFAULT_MODEL --host 127.0.0.1 --port {PORT} --log-level warning"}
ROUNDS=${ROUNDS:-2}
OURS_PORT=${OURS_PORT:-18181}
PEER_PORT=${PEER_PORT:-18182}

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

wait_healthy() {  # port
  for _ in $(seq 1 600); do
    [[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/health")" == 200 ]] && return 0
    sleep 0.1
  done
  echo "server on port $1 did not become healthy" >&2; exit 1
}

rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

${OURS_CMD//\{PORT\}/$OURS_PORT} >/tmp/health-bench-ours.log 2>&1 &
ours=$!; pids+=("$ours")
"$LLAMA_TOOLS/llama-server" -m "$LONGRM_DEFAULT_MODEL" --host 127.0.0.1 --port "$PEER_PORT" \
  >/tmp/health-bench-llama-server.log 2>&1 &
peer=$!; pids+=("$peer")
wait_healthy "$OURS_PORT"; wait_healthy "$PEER_PORT"

echo "== resident memory of ours (pid $ours)"
echo "after start:          $(rss_kb "$ours") kB"
hit() {  # count: GET /health that many times over 16 keep-alive connections (curl's parallel mode slows down
         # with very long URL ranges, so in batches of 10k)
  local left=$1 n
  while (( left > 0 )); do
    n=$(( left > 10000 ? 10000 : left ))
    curl -s -Z --parallel-max 16 "http://127.0.0.1:$OURS_PORT/health?[1-$n]" >/dev/null 2>&1
    left=$(( left - n ))
  done
}
hit 1000
echo "after 1k requests:    $(rss_kb "$ours") kB"
hit 99000
echo "after 100k requests:  $(rss_kb "$ours") kB"

run_wrk() {  # name port
  local out; out=$(wrk -t2 -c64 -d10s --latency "http://127.0.0.1:$2/health")
  local rps p99
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  printf '%-13s requests/s %10s   p99 %8s\n' "$1" "$rps" "$p99"
}

echo "== wrk -t2 -c64 -d10s --latency /health (alternating, $ROUNDS rounds)"
for _ in $(seq 1 "$ROUNDS"); do
  run_wrk ours "$OURS_PORT"
  run_wrk llama-server "$PEER_PORT"
done
echo "after the wrk rounds: $(rss_kb "$ours") kB (ours)"
