#!/usr/bin/env bash
# Prompt-processing speed of llama.cpp builds on this host, interleaved in one run: a native build
# (GGML_NATIVE=ON, built here on first use into the cache), set-up's build (the CPU variant it chose, loaded
# as a module, as our server runs it), and any other llama-bench given. The table (tok/s, ratio to native)
# goes to stdout and bench/results/cpu-variants-<UTC date>.json.
#
# Usage: bench/cpu-variants.sh [NAME=LLAMA_BENCH ...]   e.g.  avx2=~/.cache/longrm/llama.cpp-…-avx2/tools/llama-bench
#   CPU_BENCH_ROUNDS=3   rounds (each runs every build once, in turn)
#   CPU_BENCH_SIZES=512,2048
#   CPU_BENCH_VARIANTS=x64,haswell   also set-up's build forced to these modules (GGML_BACKEND_PATH + a copy)
set -euo pipefail
cd "$(dirname "$0")/.."
export LONGRM_CACHE=${LONGRM_CACHE:-$HOME/.cache/longrm}
# shellcheck source=/dev/null
source "$LONGRM_CACHE/env.sh"
ROUNDS=${CPU_BENCH_ROUNDS:-3}
SIZES=${CPU_BENCH_SIZES:-512,2048}
sources=("$LONGRM_CACHE"/llama.cpp-*-src)
SRC=${sources[0]}
[[ -f "$SRC/.stamp" ]] || { echo "cpu-variants: no llama.cpp source in $LONGRM_CACHE (run scripts/setup.sh)" >&2; exit 1; }
NATIVE_DIR="$LONGRM_CACHE/bench/llama-bench-native-$(basename "$SRC" -src | sed 's/^llama.cpp-//')"

if [[ ! -x "$NATIVE_DIR/bin/llama-bench" ]]; then
  echo "==> building a native llama-bench into $NATIVE_DIR (static, GGML_NATIVE=ON; several minutes)" >&2
  started=$SECONDS
  cmake -S "$SRC" -B "$NATIVE_DIR" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DGGML_NATIVE=ON \
    -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF \
    -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_APP=OFF >/dev/null
  cmake --build "$NATIVE_DIR" --target llama-bench -j "$(nproc)" >/dev/null
  echo "==> native llama-bench built in $((SECONDS - started)) s" >&2
fi

builds=("native=$NATIVE_DIR/bin/llama-bench" "setup-$LLAMA_CPU_FLAVOR=$LLAMA_TOOLS/llama-bench")
# A module forced: llama-bench loads the CPU modules beside itself, so each forced variant gets a directory
# holding the tools' libraries and that one module.
IFS=, read -r -a forced <<< "${CPU_BENCH_VARIANTS:-}"
for variant in "${forced[@]}"; do
  dir="$LONGRM_CACHE/bench/forced-$variant"
  rm -rf "$dir"; mkdir -p "$dir"
  cp -a "$LLAMA_TOOLS"/llama-bench "$LLAMA_TOOLS"/lib*.so* "$dir/"
  rm -f "$dir"/libggml-cpu*.so
  cp "$LLAMA_PREFIX/lib/libggml-cpu-$variant.so" "$dir/"
  builds+=("module-$variant=$dir/llama-bench")
done
builds+=("$@")

python3 - "$ROUNDS" "$SIZES" "$LONGRM_DEFAULT_MODEL" "${builds[@]}" <<'PY'
import datetime, json, os, statistics, subprocess, sys
rounds, sizes, model, builds = int(sys.argv[1]), sys.argv[2], sys.argv[3], [b.split("=", 1) for b in sys.argv[4:]]
cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
load = lambda: open("/proc/loadavg").read().split()[0]
runs = {name: {} for name, _ in builds}
loads = [load()]
for r in range(rounds):
    order = builds if r % 2 == 0 else builds[::-1]  # alternate who goes first
    for name, path in order:
        argv = [os.path.expanduser(path), "-m", model, "-t", "2", "-p", sizes, "-n", "0", "-r", "1", "-fa", "0", "-o", "json"]
        out = subprocess.run(argv, capture_output=True, text=True)
        if out.returncode != 0:
            print(f"{name}: llama-bench failed ({out.returncode}): {out.stderr[-300:]}", file=sys.stderr)
            continue
        for row in json.loads(out.stdout):
            runs[name].setdefault(int(row["n_prompt"]), []).append(float(row["avg_ts"]))
    loads.append(load())
sizes_i = [int(s) for s in sizes.split(",")]
native = runs.get("native", {})
print(f"CPU: {cpu}, {os.cpu_count()} CPUs; llama-bench -t 2 -n 0 -r 1 -fa 0, {rounds} interleaved rounds; "
      f"load average {' -> '.join(loads)}")
head = ["build"] + [f"pp{s} tok/s (median; min-max)" for s in sizes_i] + [f"pp{s} / native" for s in sizes_i]
print(" | ".join(head))
table = []
for name, _ in builds:
    cells = [name]
    for s in sizes_i:
        v = runs[name].get(s, [])
        cells.append(f"{statistics.median(v):.0f} ({min(v):.0f}-{max(v):.0f})" if v else "failed")
    for s in sizes_i:
        v, n = runs[name].get(s, []), native.get(s, [])
        cells.append(f"{statistics.median(v) / statistics.median(n):.2f}" if v and n else "—")
    table.append(cells)
    print(" | ".join(cells))
date = datetime.datetime.utcnow().strftime("%Y-%m-%dT%H%M%SZ")
os.makedirs("bench/results", exist_ok=True)
with open(f"bench/results/cpu-variants-{date}.json", "w") as f:
    json.dump({"date": date, "cpu": cpu, "nproc": os.cpu_count(), "rounds": rounds, "loadavg": loads,
               "builds": dict(builds), "tok_s": runs, "table": [head] + table}, f, indent=1)
print(f"wrote bench/results/cpu-variants-{date}.json")
PY
