#!/usr/bin/env bash
# The best llama.cpp CPU variant for this x86-64 host: one of upstream's GGML_CPU_ALL_VARIANTS tags, chosen the
# way ggml scores them (ggml-cpu/arch/x86/cpu-feats.cpp), from the flags the kernel reports in /proc/cpuinfo.
#
# Usage: scripts/cpu-flavor.sh            the tag, e.g. "haswell"
#        scripts/cpu-flavor.sh --flags T  the -DGGML_*=ON/OFF CMake arguments of tag T (every x86 feature named)
#        scripts/cpu-flavor.sh --tags     every tag, baseline first
#        scripts/cpu-flavor.sh --amx      exit status 0 when AMX instructions really run here
# LONGRM_CPUINFO=FILE reads another cpuinfo (tests); LONGRM_AMX_USABLE=0/1 replaces the kernel check (tests).
#
# AMX (sapphirerapids) is chosen only when a probe really runs a tile instruction: some virtual machines
# list amx_tile/amx_int8 without enabling them.
set -euo pipefail

# tag: the features upstream compiles it with (ggml/src/CMakeLists.txt, x86 list, this order).
TAGS=(x64 sse42 sandybridge ivybridge piledriver haswell skylakex cannonlake cascadelake icelake cooperlake zen4
      alderlake sapphirerapids)
declare -A FEATURES=(
  [x64]="" [sse42]="SSE42" [sandybridge]="SSE42 AVX" [ivybridge]="SSE42 AVX F16C"
  [piledriver]="SSE42 AVX F16C FMA" [haswell]="SSE42 AVX F16C FMA AVX2 BMI2"
  [skylakex]="SSE42 AVX F16C FMA AVX2 BMI2 AVX512"
  [cannonlake]="SSE42 AVX F16C FMA AVX2 BMI2 AVX512 AVX512_VBMI"
  [cascadelake]="SSE42 AVX F16C FMA AVX2 BMI2 AVX512 AVX512_VNNI"
  [icelake]="SSE42 AVX F16C FMA AVX2 BMI2 AVX512 AVX512_VBMI AVX512_VNNI"
  [cooperlake]="SSE42 AVX F16C FMA AVX2 BMI2 AVX512 AVX512_VNNI AVX512_BF16"
  [zen4]="SSE42 AVX F16C FMA AVX2 BMI2 AVX512 AVX512_VBMI AVX512_VNNI AVX512_BF16"
  [alderlake]="SSE42 AVX F16C FMA AVX2 BMI2 AVX_VNNI"
  [sapphirerapids]="SSE42 AVX F16C FMA AVX2 BMI2 AVX512 AVX512_VBMI AVX512_VNNI AVX512_BF16 AMX_TILE AMX_INT8"
)
# feature: the /proc/cpuinfo flags it needs, and its weight in ggml's score.
declare -A CPUINFO_FLAGS=(
  [SSE42]="sse4_2" [AVX]="avx" [F16C]="f16c" [FMA]="fma" [AVX2]="avx2" [BMI2]="bmi2" [AVX_VNNI]="avx_vnni"
  [AVX512]="avx512f avx512cd avx512vl avx512dq avx512bw" [AVX512_VBMI]="avx512vbmi"
  [AVX512_VNNI]="avx512_vnni" [AVX512_BF16]="avx512_bf16" [AMX_TILE]="amx_tile" [AMX_INT8]="amx_int8"
)
declare -A WEIGHT=(
  [FMA]=1 [F16C]=2 [SSE42]=4 [BMI2]=8 [AVX]=16 [AVX2]=32 [AVX_VNNI]=64 [AVX512]=128 [AVX512_VBMI]=256
  [AVX512_BF16]=512 [AVX512_VNNI]=1024 [AMX_INT8]=2048 [AMX_TILE]=0
)
ALL_FEATURES=(SSE42 AVX F16C FMA AVX2 BMI2 AVX_VNNI AVX512 AVX512_VBMI AVX512_VNNI AVX512_BF16 AMX_TILE AMX_INT8
              AMX_BF16)

known_tag() { [[ -v "FEATURES[$1]" ]]; }

cmake_flags() {
  local tag=$1 feature on
  known_tag "$tag" || { echo "cpu-flavor: unknown CPU variant '$tag' (known: ${TAGS[*]})" >&2; exit 2; }
  local args=(-DGGML_NATIVE=OFF)
  for feature in "${ALL_FEATURES[@]}"; do
    on=OFF
    [[ " ${FEATURES[$tag]} " == *" $feature "* ]] && on=ON
    args+=("-DGGML_$feature=$on")
  done
  echo "${args[*]}"
}

amx_usable() {
  [[ -n "${LONGRM_AMX_USABLE:-}" ]] && { [[ "$LONGRM_AMX_USABLE" == 1 ]]; return; }
  # The kernel must grant the tile state (arch_prctl ARCH_REQ_XCOMP_PERM) and a tile instruction must run:
  # a probe compiled here; without a compiler, no AMX. The engine repeats the check at start.
  local dir status
  command -v cc >/dev/null || return 1
  dir=$(mktemp -d)
  cat >"$dir/probe.c" <<'C'
#include <immintrin.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(void) {
    unsigned char config[64] __attribute__((aligned(64)));
    if (syscall(SYS_arch_prctl, 0x1023, 18) != 0) return 1;  /* ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA */
    memset(config, 0, sizeof config);
    config[0] = 1; config[16] = 64; config[48] = 16;          /* palette 1; tile 0: 16 rows of 64 bytes */
    _tile_loadconfig(config); _tile_zero(0); _tile_release();
    return 0;
}
C
  status=1
  if cc -O1 -mamx-tile -o "$dir/probe" "$dir/probe.c" 2>/dev/null; then
    (ulimit -c 0; "$dir/probe") 2>/dev/null && status=0
  fi
  rm -rf "$dir"
  return $status
}

detect() {
  local cpuinfo=${LONGRM_CPUINFO:-/proc/cpuinfo} line flags tag feature flag ok score best=x64 best_score=0
  [[ "$(uname -m)" == x86_64 || -n "${LONGRM_CPUINFO:-}" ]] || { echo "cpu-flavor: not an x86-64 host" >&2; exit 2; }
  line=$(grep -m1 '^flags' "$cpuinfo" || true)
  [[ -n "$line" ]] || { echo "cpu-flavor: no 'flags' line in $cpuinfo" >&2; exit 2; }
  flags=" ${line#*:} "
  local amx=unknown
  for tag in "${TAGS[@]}"; do
    ok=1; score=1
    for feature in ${FEATURES[$tag]}; do
      for flag in ${CPUINFO_FLAGS[$feature]}; do
        [[ "$flags" == *" $flag "* ]] || ok=0
      done
      score=$((score + WEIGHT[$feature]))
    done
    if ((ok)) && [[ " ${FEATURES[$tag]} " == *" AMX_INT8 "* ]]; then
      [[ $amx == unknown ]] && { if amx_usable; then amx=yes; else amx=no; fi; }
      [[ $amx == yes ]] || ok=0
    fi
    if ((ok && score > best_score)); then best=$tag; best_score=$score; fi
  done
  echo "$best"
}

case "${1:-}" in
  "") detect ;;
  --flags) [[ $# -eq 2 ]] || { echo "usage: $0 --flags TAG" >&2; exit 2; }; cmake_flags "$2" ;;
  --tags) echo "${TAGS[*]}" ;;
  --amx) amx_usable ;;
  *) echo "usage: $0 [--flags TAG | --tags | --amx]" >&2; exit 2 ;;
esac
