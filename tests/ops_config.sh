#!/usr/bin/env bash
# `longrm serve` configuration, end to end through the binary: --help documents every flag's default and
# variable; flags, variables and the config file reach the resolver; invalid values exit 2; the API key is
# redacted from the effective configuration (--check-config and the start-up log). The resolver's rules
# themselves are tested in Swift (ConfigResolverTests).
source "$(dirname "$0")/ops_common.bash"
[[ -x "$BIN" ]] || { bad "binary $BIN exists"; finish; }

effective() { "$BIN" serve --check-config "$@" 2>"$WORK/err"; }
value_of() { grep "^$1 = " | head -n1 | sed -e "s/^$1 = //" -e 's/  # .*//'; }
origin_of() { grep "^$1 = " | head -n1 | sed -e 's/.*  # //'; }

echo "== help"
"$BIN" serve --help >"$WORK/help" 2>&1
check "--help names LONGRM_MAX_QUEUE_REQUESTS with its default" grep -q "default: 256; env: LONGRM_MAX_QUEUE_REQUESTS" <(tr -s ' \n' ' ' <"$WORK/help")
check "--help names LONGRM_FLASH_ATTN" grep -q "env: LONGRM_FLASH_ATTN" <(tr -s ' \n' ' ' <"$WORK/help")
flags=$(grep -o -- '--[a-z][a-z-]*' "$WORK/help" | sort -u | grep -v -e '--help' -e '--check-config' -e '--version')
missing=""
for f in $flags; do
  env=LONGRM_$(echo "${f#--}" | tr 'a-z-' 'A-Z_')
  tr -s ' \n' ' ' <"$WORK/help" | grep -q "env: $env" || missing+=" $f"
done
check "every flag in --help names its variable (missing:${missing:- none})" test -z "$missing"
check "--help lists at least 25 flags" test "$(echo "$flags" | wc -l)" -ge 25

echo "== the binary wires the resolver"
# The precedence rules, file formats and messages are Swift tests (Tests/ServerTests/ConfigResolverTests.swift);
# here only that the command line, the environment and --config reach them, and that a bad value exits 2.
printf 'port = 1111\nmax_queue_requests = 7\n' >"$WORK/kv.conf"
out=$(LONGRM_PORT=2222 effective --config "$WORK/kv.conf" --max-connections 9)
check "flag, env and file each reach --check-config" test "$(value_of max-connections <<<"$out")/$(origin_of max-connections <<<"$out") $(value_of port <<<"$out")/$(origin_of port <<<"$out") $(value_of max-queue-requests <<<"$out")/$(origin_of max-queue-requests <<<"$out")" = "9/flag 2222/env 7/file"
out=$(effective --gpu-layers -1)
check "--gpu-layers -1 (all layers) is a value, not a flag" test "$(value_of gpu-layers <<<"$out")" = "-1"
out=$(effective --api-key cli-secret)
check "API key redacted in --check-config" test "$(value_of api-key <<<"$out")" = "<redacted>"

echo "== invalid values exit 2"
expect_invalid() {
  local what=$1 pattern=$2; shift 2
  local status
  "$@" >"$WORK/out" 2>"$WORK/err"
  status=$?
  if [[ $status -eq 2 ]] && grep -q -- "$pattern" "$WORK/err"; then ok "$what"; else
    bad "$what (status $status, stderr: $(head -c 300 "$WORK/err"))"; fi
}
expect_invalid "--port 70000" "invalid value '70000' for --port: expected an integer in 0…65535" "$BIN" serve --check-config --port 70000
expect_invalid "LONGRM_WORKERS=abc names the variable" "for --workers (from LONGRM_WORKERS)" env LONGRM_WORKERS=abc "$BIN" serve --check-config
expect_invalid "missing config file" "cannot read the config file" "$BIN" serve --check-config --config "$WORK/nope.conf"
printf '{"name": "mine", "kind": "pair", "user": "{context} {question} {response_a}"}' >"$WORK/judge.json"
expect_invalid "a judge template without a placeholder names it" 'lacks the placeholder {response_b}' "$BIN" serve --check-config --judge-template "$WORK/judge.json"
expect_invalid "--kv-type q8_0 without --flash-attn" "kv-type q8_0 needs --flash-attn" "$BIN" serve --check-config --kv-type q8_0
expect_invalid "--judge-new-tokens above --judge-max-new-tokens" "judge-new-tokens" "$BIN" serve --check-config --judge-max-new-tokens 64 --judge-new-tokens 65

echo "== start-up log"
# A model that does not exist: the configuration is logged first, then start fails (exit 2).
LONGRM_API_KEY=env-secret-123 "$BIN" serve --port 0 --model "$WORK/none.gguf" --log-format json 2>"$WORK/start.log"
status=$?
check "missing model exits 2" test "$status" -eq 2
check "the effective configuration is logged" grep -q '"msg":"configuration"' "$WORK/start.log"
check "the logged configuration shows the variable's origin" grep -q '"max_queue_requests":"256"' "$WORK/start.log"
check "the API key is redacted in the log" grep -q '"api_key":"<redacted> (env)"' "$WORK/start.log"
check "the API key value never appears" bash -c "! grep -q env-secret-123 '$WORK/start.log'"
finish
