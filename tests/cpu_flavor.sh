#!/usr/bin/env bash
# scripts/cpu-flavor.sh on the /proc/cpuinfo flags of the hosts these builds meet (AMD EPYC with and without
# AVX-512, Intel Xeons with AMX enabled or only listed), and on this host: the tag must be the variant ggml
# would score highest, and AMX only when the kernel grants it.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cpu_flavor.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
PASSED=0 FAILED=0
expect() {  # expect WANT DESCRIPTION FLAGS [VAR=VALUE...]
  local want=$1 what=$2 flags=$3 got; shift 3
  printf 'processor\t: 0\nflags\t\t: %s\n' "$flags" >"$WORK/cpuinfo"
  got=$(env "$@" LONGRM_CPUINFO="$WORK/cpuinfo" scripts/cpu-flavor.sh 2>&1)
  if [[ "$got" == "$want" ]]; then PASSED=$((PASSED + 1)); echo "  ok: $what -> $got"
  else FAILED=$((FAILED + 1)); echo "  FAIL: $what: wanted $want, got $got"; fi
}
BASE="fpu sse sse2 ssse3 cx16 popcnt"
V2="$BASE sse4_1 sse4_2"
V3="$V2 avx f16c fma avx2 bmi1 bmi2 movbe"
AVX512="avx512f avx512cd avx512vl avx512dq avx512bw"
expect x64 "plain x86-64 (no SSE4.2)" "$BASE"
expect sse42 "x86-64-v2" "$V2"
expect sandybridge "AVX without F16C" "$V2 avx"
expect piledriver "AVX, F16C, FMA, no AVX2" "$V2 avx f16c fma"
expect haswell "x86-64-v3 (this session's EPYC: AVX2, no AVX-512)" "$V3 sha_ni vaes vpclmulqdq"
expect piledriver "AVX2 without BMI2 is not haswell" "$V2 avx f16c fma avx2"
expect skylakex "AVX-512 F/CD/VL/DQ/BW" "$V3 $AVX512"
expect haswell "AVX-512F alone is not skylakex" "$V3 avx512f"
expect cascadelake "AVX-512 VNNI" "$V3 $AVX512 avx512_vnni"
expect icelake "AVX-512 VBMI + VNNI" "$V3 $AVX512 avx512vbmi avx512_vnni"
expect zen4 "AMD EPYC Genoa (AVX-512 VBMI, VNNI, BF16)" "$V3 $AVX512 avx512vbmi avx512_vnni avx512_bf16 avx512_vbmi2"
expect alderlake "AVX-VNNI without AVX-512" "$V3 avx_vnni"
SPR="$V3 $AVX512 avx512vbmi avx512_vnni avx512_bf16 avx_vnni amx_tile amx_int8 amx_bf16"
expect sapphirerapids "Sapphire Rapids, kernel grants AMX" "$SPR" LONGRM_AMX_USABLE=1
expect zen4 "Sapphire Rapids VM listing AMX the kernel does not grant" "$SPR" LONGRM_AMX_USABLE=0
# The real check on this host: a probe that runs a tile instruction (no AMX here: refused).
if scripts/cpu-flavor.sh --amx; then
  expect sapphirerapids "AMX listed, and a tile instruction runs here" "$SPR"
else
  expect zen4 "AMX listed, but no tile instruction runs here" "$SPR"
fi
# This host, read from the real /proc/cpuinfo: the same answer as from a copy of its flags line.
host=$(scripts/cpu-flavor.sh)
expect "$host" "this host ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))" "$(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2)"
if scripts/cpu-flavor.sh --flags nosuchcpu >/dev/null 2>"$WORK/err"; then FAILED=$((FAILED + 1)); echo "  FAIL: unknown tag accepted"
elif grep -q "unknown CPU variant 'nosuchcpu'" "$WORK/err"; then PASSED=$((PASSED + 1)); echo "  ok: unknown tag refused with a message"
else FAILED=$((FAILED + 1)); echo "  FAIL: unknown tag: $(cat "$WORK/err")"; fi
flags=$(scripts/cpu-flavor.sh --flags zen4)
if [[ "$flags" == *"-DGGML_AVX512_BF16=ON"* && "$flags" == *"-DGGML_AMX_INT8=OFF"* && "$flags" == *"-DGGML_NATIVE=OFF"* ]]; then
  PASSED=$((PASSED + 1)); echo "  ok: zen4's CMake flags: AVX-512 BF16 on, AMX off, not native"
else FAILED=$((FAILED + 1)); echo "  FAIL: zen4 flags: $flags"; fi
echo "cpu_flavor: $PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
