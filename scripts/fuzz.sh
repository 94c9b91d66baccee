#!/usr/bin/env bash
# Fuzzes the HTTP request parser (Sources/HTTPParserFuzz) with libFuzzer and AddressSanitizer for a bounded
# time, seeded with the request corpora beside the repository. Usage: scripts/fuzz.sh [seconds] (default 60).
# Findings (crash-*, timeout-*, oom-*, leak-*) land in .build-fuzz/findings; replay one with a plain build:
#   swift build --product HTTPParserFuzz && .build/debug/HTTPParserFuzz .build-fuzz/findings/crash-...
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
scratch=.build-fuzz
corpora=${LONGRM_CORPORA:-../shared/corpora/http}
flags=(-c release --scratch-path "$scratch" --sanitize fuzzer --sanitize address
       -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld -Xswiftc -DFUZZING)

swift build "${flags[@]}" --product HTTPParserFuzz
bin="$(swift build "${flags[@]}" --show-bin-path)/HTTPParserFuzz"

# The working corpus persists between runs; seeds are (re)written each time, which is idempotent.
corpus="$scratch/corpus"
findings="$scratch/findings"
mkdir -p "$corpus" "$findings"
python3 - "$corpora" "$corpus" <<'PY'
import base64, hashlib, json, pathlib, sys
src, dst = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
def seed(raw):
    (dst / ("seed-" + hashlib.sha1(raw).hexdigest())).write_bytes(raw)
n = 0
for line in (src / "llhttp-request-cases.jsonl").read_text().splitlines():
    seed(base64.b64decode(json.loads(line)["raw_b64"])); n += 1
for line in (src / "http-parser-requests.jsonl").read_text().splitlines():
    seed(json.loads(line)["raw"].encode("utf-8")); n += 1
print(f"seeded {n} inputs from {src}")
PY

# Tokens that steer mutations toward the grammar's interesting corners.
dict="$scratch/http.dict"
cat > "$dict" <<'DICT'
"\x0d\x0a"
"\x0d\x0a\x0d\x0a"
" HTTP/1.1\x0d\x0a"
" HTTP/1.0\x0d\x0a"
"GET / HTTP/1.1\x0d\x0a"
"POST / HTTP/1.1\x0d\x0a"
"CONNECT a:1 HTTP/1.1\x0d\x0a"
"Host: a\x0d\x0a"
"Content-Length: "
"Transfer-Encoding: chunked\x0d\x0a"
"Transfer-Encoding: "
"Connection: close\x0d\x0a"
"Connection: keep-alive\x0d\x0a"
"Expect: 100-continue\x0d\x0a"
"chunked"
"0\x0d\x0a\x0d\x0a"
";ext=\"v\""
"\x0d\x0a "
DICT

log="$scratch/fuzz.log"
set +e
SWIFT_BACKTRACE=enable=no "$bin" "$corpus" -dict="$dict" -max_total_time="$seconds" -max_len=4096 -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$findings/" 2>&1 | tee "$log" | grep -E '^#[0-9]+.*(pulse|DONE)|^stat::|ERROR|Test unit written'
status=${PIPESTATUS[0]}
set -e
execs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
found=$(find "$findings" -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | wc -l)
echo "fuzz: ${execs:-?} executions in ${seconds}s, corpus $(ls "$corpus" | wc -l) inputs, findings in $findings: $found (libFuzzer exit $status)"
[[ $found -eq 0 && $status -eq 0 ]]
