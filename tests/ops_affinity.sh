#!/usr/bin/env bash
# Context affinity across replicas: two real `longrm serve` replicas behind nginx (deploy/nginx/
# longrm-test.conf.template, loopback only). A request sent again with the X-Context-Key its first answer
# returned lands on the replica that already holds the context (usage.reused_prompt_tokens > 0), and
# distinct keys spread over both replicas (each replica's /metrics request counters).
source "$(dirname "$0")/ops_common.bash"
require_binary

if ! command -v nginx >/dev/null; then
  # Debian's package would start a server on port 80 unless a policy denies it for the install.
  policy=/usr/sbin/policy-rc.d made=0
  [[ -e $policy ]] || { printf '#!/bin/sh\nexit 101\n' >$policy && chmod 755 $policy && made=1; }
  apt-get update -qq >/dev/null 2>&1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx >/dev/null 2>&1
  ((made)) && rm -f $policy
fi
command -v nginx >/dev/null || { bad "nginx installed"; finish; }

start_server replica_a || { bad "replica A starts"; finish; }
start_server replica_b || { bad "replica B starts"; finish; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
NGINX_PORT=$(free_port)
ndir="$WORK/nginx"
mkdir -p "$ndir"; chmod 755 "$WORK" "$ndir"   # nginx's workers run as nobody when started by root
sed -e "s|@PREFIX@|$ndir|g" -e "s|@LISTEN_PORT@|$NGINX_PORT|g" -e "s|@REPLICA_A_PORT@|$replica_a_PORT|g" \
    -e "s|@REPLICA_B_PORT@|$replica_b_PORT|g" deploy/nginx/longrm-test.conf.template >"$ndir/nginx.conf"
check "template fully substituted" bash -c "! grep -q '@[A-Z_]*@' '$ndir/nginx.conf'"
nginx -p "$ndir" -e "$ndir/error.log" -c "$ndir/nginx.conf" &
NGINX_PID=$!
STARTED_PIDS+=("$NGINX_PID")
for ((i = 0; i < 100; i++)); do
  [[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$NGINX_PORT/health")" == 200 ]] && break
  sleep 0.1
done
check "nginx proxies /health" test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$NGINX_PORT/health")" = 200
base="http://127.0.0.1:$NGINX_PORT"

# post FILE [KEY]: POST /v1/pairwise through nginx; prints "upstream context-key reused-tokens status".
post() {
  local file=$1 key=${2:-} args=()
  [[ -n "$key" ]] && args=(-H "X-Context-Key: $key")
  curl -s -D "$WORK/h" -o "$WORK/b" -w '%{http_code}' "${args[@]}" -d @"$file" "$base/v1/pairwise" >"$WORK/code"
  python3 - "$WORK/h" "$WORK/b" "$(cat "$WORK/code")" <<'PY'
import json, sys
headers = {}
for line in open(sys.argv[1]):
    if ":" in line:
        k, v = line.split(":", 1)
        headers[k.strip().lower()] = v.strip()
try:
    reused = json.load(open(sys.argv[2]))["usage"]["reused_prompt_tokens"]
except Exception:
    reused = -1
print(headers.get("x-upstream", "-"), headers.get("x-context-key", "-"), reused, sys.argv[3])
PY
}

echo "== the same context key goes back to the warm replica"
scoring_body 400 affinity >"$WORK/long.json"
read -r up1 key1 reused1 code1 < <(post "$WORK/long.json")
check "first request answered 200 with X-Context-Key (upstream $up1)" test "$code1" = 200 -a "$key1" != "-"
read -r up2 key2 reused2 code2 < <(post "$WORK/long.json" "$key1")
read -r up3 key3 reused3 code3 < <(post "$WORK/long.json" "$key1")
echo "    no key: $up1 reused=$reused1; key: $up2 reused=$reused2; key again: $up3 reused=$reused3"
check "same key, same replica ($up2 = $up3)" test "$up2" = "$up3" -a "$code2$code3" = 200200
check "the keyed repeat reuses the cached context (reused_prompt_tokens $reused3 > 0)" test "$reused3" -gt 0
check "the server returns the same key for the same context" test "$key2" = "$key1" -a "$key3" = "$key1"
if [[ "$up1" == "$up2" ]]; then
  check "first keyed request landed where the context was computed: warm ($reused2 > 0)" test "$reused2" -gt 0
fi

echo "== distinct keys spread over both replicas"
count_pairwise() {
  curl -s "http://127.0.0.1:$1/metrics" | awk '$1 ~ /^longrm_http_requests_total\{route="\/v1\/pairwise"/ { n += $2 } END { print n + 0 }'
}
before_a=$(count_pairwise "$replica_a_PORT"); before_b=$(count_pairwise "$replica_b_PORT")
scoring_body 20 spread >"$WORK/short.json"
declare -A by_upstream=()
for i in $(seq 1 16); do
  read -r up _ _ code < <(post "$WORK/short.json" "key-$i")
  [[ "$code" == 200 ]] && by_upstream[$up]=$((${by_upstream[$up]:-0} + 1))
done
after_a=$(count_pairwise "$replica_a_PORT"); after_b=$(count_pairwise "$replica_b_PORT")
da=$((after_a - before_a)); db=$((after_b - before_b))
echo "    replica A served $da, replica B $db; by X-Upstream: $(for k in "${!by_upstream[@]}"; do printf '%s=%s ' "$k" "${by_upstream[$k]}"; done)"
check "all 16 keyed requests counted by the replicas' /metrics" test $((da + db)) -eq 16
check "both replicas got some (A $da, B $db)" test "$da" -gt 0 -a "$db" -gt 0
check "X-Upstream agrees with the replicas' counters" test "${by_upstream[127.0.0.1:$replica_a_PORT]:-0}/${by_upstream[127.0.0.1:$replica_b_PORT]:-0}" = "$da/$db"
read -r upa _ _ _ < <(post "$WORK/short.json" "key-1")
read -r upb _ _ _ < <(post "$WORK/short.json" "key-1")
check "a key maps to one replica every time" test "$upa" = "$upb"

kill -TERM "$NGINX_PID"; wait_exit "$NGINX_PID" 10
for pid in "$replica_a_PID" "$replica_b_PID"; do kill -TERM "$pid"; wait_exit "$pid" 30; check "replica exits 0" test "$EXIT_STATUS" = 0; done
finish
