#!/usr/bin/env bash
# `longrm serve` configuration: --help documents every flag's default and variable; precedence flag > env >
# config file (JSON or key = value) > default; invalid values exit 2 with a clear message; the API key is
# redacted from the effective configuration (--check-config and the start-up log).
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

echo "== precedence"
cat >"$WORK/kv.conf" <<'EOF'
# comment line
port = 1111
LONGRM_MAX_QUEUE_REQUESTS=7
max_connections = "9"
flash-attn = yes
EOF
out=$(effective --config "$WORK/kv.conf")
check "file value used (port 1111 from file)" test "$(value_of port <<<"$out")/$(origin_of port <<<"$out")" = "1111/file"
check "file keys in env spelling and snake case" test "$(value_of max-queue-requests <<<"$out")$(value_of max-connections <<<"$out")" = "79"
check "file boolean flag" test "$(value_of flash-attn <<<"$out")" = "true"
out=$(LONGRM_PORT=2222 effective --config "$WORK/kv.conf")
check "env beats file (2222)" test "$(value_of port <<<"$out")/$(origin_of port <<<"$out")" = "2222/env"
out=$(LONGRM_PORT=2222 LONGRM_CONFIG="$WORK/kv.conf" effective --port 3333)
check "flag beats env and file (3333); LONGRM_CONFIG names the file" test "$(value_of port <<<"$out")/$(origin_of port <<<"$out")/$(value_of max-queue-requests <<<"$out")" = "3333/flag/7"
out=$(effective)
check "default when nothing set (8080, 256)" test "$(value_of port <<<"$out")/$(origin_of port <<<"$out")/$(value_of max-queue-requests <<<"$out")" = "8080/default/256"
out=$(LONGRM_FLASH_ATTN=1 effective)
check "LONGRM_FLASH_ATTN=1 switches flash attention on" test "$(value_of flash-attn <<<"$out")" = "true"
out=$(LONGRM_FLASH_ATTN=false effective --flash-attn)
check "--flash-attn beats LONGRM_FLASH_ATTN=false" test "$(value_of flash-attn <<<"$out")" = "true"
out=$(LONGRM_PORT= effective)
check "an empty variable counts as unset" test "$(value_of port <<<"$out")" = "8080"
cat >"$WORK/c.json" <<'EOF'
{"port": 4444, "repack": true, "default_method": "likelihood", "log-format": "json", "api-key": "json-secret"}
EOF
out=$(effective --config "$WORK/c.json")
check "JSON file: numbers, booleans, strings" test "$(value_of port <<<"$out")/$(value_of repack <<<"$out")/$(value_of default-method <<<"$out")/$(value_of log-format <<<"$out")" = "4444/true/likelihood/json"
check "API key redacted in --check-config" test "$(value_of api-key <<<"$out")" = "<redacted>"
check "API key absent from --check-config output" bash -c '! grep -q json-secret <<<"$1"' _ "$out"

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
expect_invalid "LONGRM_FLASH_ATTN=maybe" "LONGRM_FLASH_ATTN" env LONGRM_FLASH_ATTN=maybe "$BIN" serve --check-config
expect_invalid "--log-format xml" "expected one of logfmt, json" "$BIN" serve --check-config --log-format xml
expect_invalid "--default-method bogus" "expected one of likelihood, classifier, judge" "$BIN" serve --check-config --default-method bogus
expect_invalid "ubatch > batch" "must not exceed --batch-size" "$BIN" serve --check-config --batch-size 64 --ubatch-size 128
printf 'port = 1\nbogus-setting = 3\n' >"$WORK/bad.conf"
expect_invalid "unknown key in a file" "unknown setting 'bogus-setting'" "$BIN" serve --check-config --config "$WORK/bad.conf"
printf 'max-body-bytes = 12\n' >"$WORK/small.conf"
expect_invalid "bad value in a file names the file" "from $WORK/small.conf" "$BIN" serve --check-config --config "$WORK/small.conf"
expect_invalid "missing config file" "cannot read the config file" "$BIN" serve --check-config --config "$WORK/nope.conf"
printf '{"port": [1]}' >"$WORK/bad.json"
expect_invalid "JSON with a non-scalar value" "must be a JSON object" "$BIN" serve --check-config --config "$WORK/bad.json"
expect_invalid "a secret's bad value is not echoed" "invalid value <redacted> for --api-key" "$BIN" serve --check-config --api-key ""
check "the empty secret is not echoed" bash -c "! grep -q \"''\" '$WORK/err'"
printf '{"name": "mine", "kind": "pair", "user": "{context} {question} {response_a}"}' >"$WORK/judge.json"
expect_invalid "a judge template without a placeholder names it" 'lacks the placeholder {response_b}' "$BIN" serve --check-config --judge-template "$WORK/judge.json"
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
