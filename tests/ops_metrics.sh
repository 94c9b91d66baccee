#!/usr/bin/env bash
# GET /metrics of a real `longrm serve`, parsed by the reference parser (prometheus_client's
# text_string_to_metric_families): every family present with the right type, request counters by route and
# status, latency histograms, token counters and the cache hit ratio after a repeated context.
source "$(dirname "$0")/ops_common.bash"
require_binary

VENV="$LONGRM_CACHE/venv-tests"
if ! "$VENV/bin/python" -c 'import prometheus_client' 2>/dev/null; then
  [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q prometheus-client >"$WORK/pip.log" 2>&1 || { cat "$WORK/pip.log"; bad "install prometheus-client"; finish; }
fi
check "prometheus-client importable" "$VENV/bin/python" -c 'import prometheus_client.parser'

start_server metrics --api-key metrics-key || { bad "server starts"; finish; }
base="http://127.0.0.1:$SERVER_PORT"
scoring_body 300 repeat >"$WORK/pair.json"
for i in 1 2; do
  code=$(curl -s -o "$WORK/pair$i.out" -w '%{http_code}' -H 'Authorization: Bearer metrics-key' -d @"$WORK/pair.json" "$base/v1/pairwise")
  check "pairwise $i answers 200" test "$code" = 200
done
check "unauthorised scoring gets 401" test "$(curl -s -o /dev/null -w '%{http_code}' -d @"$WORK/pair.json" "$base/v1/pairwise")" = 401
check "unknown path gets 404" test "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer metrics-key' "$base/v2/nope")" = 404
check "/health 200" test "$(curl -s -o /dev/null -w '%{http_code}' "$base/health")" = 200
curl -s -D "$WORK/headers" -o "$WORK/scrape.txt" "$base/metrics"
check "/metrics needs no API key and is Prometheus text 0.0.4" grep -qi '^content-type: text/plain; version=0.0.4' "$WORK/headers"

"$VENV/bin/python" - "$WORK/scrape.txt" >"$WORK/check.out" 2>&1 <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families

text = open(sys.argv[1]).read()
families = {f.name: f for f in text_string_to_metric_families(text)}
failures = []

def need(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        failures.append(what)

expected = {
    "longrm_http_requests": "counter", "longrm_http_request_duration_seconds": "histogram",
    "longrm_queue_wait_seconds": "histogram", "longrm_compute_seconds": "histogram",
    "longrm_tokens_computed": "counter", "longrm_tokens_reused": "counter",
    "longrm_prefix_cache_hit_ratio": "gauge", "longrm_engine_batches": "counter",
    "longrm_engine_batched_jobs": "counter", "longrm_queue_requests": "gauge", "longrm_queue_tokens": "gauge",
    "longrm_running_jobs": "gauge", "longrm_open_connections": "gauge", "longrm_model_load_seconds": "gauge",
    "longrm_http_request_body_bytes": "counter", "longrm_http_response_body_bytes": "counter",
    "longrm_queue_saturated": "gauge", "longrm_draining": "gauge", "longrm_model_info": "gauge",
    "longrm_engine_workers": "gauge", "longrm_build_info": "gauge",
}
for name, kind in expected.items():
    need(name in families and families[name].type == kind, f"{name} is a {kind}")

def value(family, sample_name, **labels):
    for s in families[family].samples:
        if s.name == sample_name and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    return None

need(value("longrm_http_requests", "longrm_http_requests_total", route="/v1/pairwise", method="POST", status="200") == 2,
     "2 pairwise 200s counted")
need(value("longrm_http_requests", "longrm_http_requests_total", route="/v1/pairwise", status="401") == 1, "the 401 counted")
need(value("longrm_http_requests", "longrm_http_requests_total", route="other", status="404") == 1,
     "the unknown path counted as route=other")
need(value("longrm_http_requests", "longrm_http_requests_total", route="/health", status="200") == 1, "/health counted")
need(value("longrm_compute_seconds", "longrm_compute_seconds_count", route="/v1/pairwise") == 2, "compute histogram has 2")
need((value("longrm_compute_seconds", "longrm_compute_seconds_sum", route="/v1/pairwise") or 0) > 0, "compute time > 0")
need(value("longrm_http_request_duration_seconds", "longrm_http_request_duration_seconds_bucket", route="/v1/pairwise", le="+Inf") == 3,
     "duration histogram: 3 pairwise requests (2 scored, 1 refused)")
computed = value("longrm_tokens_computed", "longrm_tokens_computed_total") or 0
reused = value("longrm_tokens_reused", "longrm_tokens_reused_total") or 0
need(computed > 300, f"tokens computed {computed} > 300")
need(reused > 0, f"tokens reused {reused} > 0 (second request hit the cache)")
ratio = value("longrm_prefix_cache_hit_ratio", "longrm_prefix_cache_hit_ratio")
need(ratio is not None and abs(ratio - reused / (reused + computed)) < 1e-9, f"hit ratio {ratio} = reused / (reused + computed)")
need((value("longrm_engine_batches", "longrm_engine_batches_total") or 0) >= 2, "at least 2 batches")
need((value("longrm_engine_batched_jobs", "longrm_engine_batched_jobs_total") or 0) >= 2, "at least 2 batched jobs")
need(value("longrm_queue_requests", "longrm_queue_requests") == 0, "queue empty")
need(value("longrm_running_jobs", "longrm_running_jobs") == 0, "nothing running")
build = [s for s in families["longrm_build_info"].samples if s.value == 1 and s.labels.get("cpu_variant")]
need(len(build) == 1, f"longrm_build_info names the CPU variant: {[s.labels for s in build]}")
need((value("longrm_open_connections", "longrm_open_connections") or 0) >= 1, "the scrape's connection is open")
need((value("longrm_model_load_seconds", "longrm_model_load_seconds") or 0) > 0, "model load time > 0")
print(f"{len(failures)} failures")
sys.exit(1 if failures else 0)
PY
status=$?
sed 's/^/    /' "$WORK/check.out"
check "the reference parser reads the scrape and every check holds" test "$status" -eq 0
kill -TERM "$SERVER_PID"; wait_exit "$SERVER_PID" 30
check "server exits 0" test "$EXIT_STATUS" = 0
finish
