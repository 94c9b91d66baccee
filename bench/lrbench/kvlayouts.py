"""bench/kvlayouts.sh (issue 13): KV layouts measured side by side on libllama (bench/kvlayouts.c).

Per model: every layout runs once per round, in an order that rotates each round (so none always runs first
or last under a changing load); `separate` (each candidate computed alone: the reference) runs once. Reported:
KV bytes llama.cpp allocated (its own log) for one context and N candidates, peak RSS of the process,
median prefill and candidate seconds, and the largest reward difference from `separate`.
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess

from .common import load_note
from .kv import cpu_model

LAYOUTS = ["stream", "unified", "q8", "stream-fa"]
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(binary, model, layout, args, n=None):
    argv = [binary, model, layout, str(args.context), str(n or args.n), str(args.len), str(args.threads)]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=args.timeout)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({out.returncode}): {out.stderr[-2000:]}")
    row = json.loads(out.stdout.strip().splitlines()[-1])
    row["load"] = load_note()
    return row


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--models", nargs="+", required=True)
    ap.add_argument("--context", type=int, default=2048)
    ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--len", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reference-n", type=int, default=0, help="candidates the reference computes (0: all)")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds one layout run may take")
    args = ap.parse_args()
    meta = {"started": datetime.datetime.now(datetime.timezone.utc).isoformat(), "cpu": cpu_model(),
            "cores": os.cpu_count(), "load_at_start": load_note(), "threads": args.threads, "context": args.context,
            "n": args.n, "candidate_tokens": args.len, "rounds": args.rounds}
    print(f"# bench/kvlayouts.sh on {meta['cpu']} ({meta['cores']} cores, load {meta['load_at_start']}), "
          f"{args.threads} threads, context {args.context}, N={args.n} x {args.len} tokens", flush=True)
    results = {}
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H%M%SZ")
    path = os.path.join(REPO, "bench", "results", f"kvlayouts-{stamp}.json")
    meta["reference_n"] = args.reference_n or args.n
    for model in args.models:
        name = os.path.basename(model)
        runs = {layout: [] for layout in LAYOUTS}
        # The candidates' tokens follow the context's in one seeded stream, so the first K of N are the same
        # for any N: the reference may compute only the first --reference-n of them (each costs a prefill).
        reference = run(args.binary, model, "separate", args, args.reference_n or args.n)
        print(f"  {name} separate: {reference['prefill_s'] + reference['candidates_s']:.1f} s", flush=True)
        for r in range(args.rounds):
            order = LAYOUTS[r % len(LAYOUTS):] + LAYOUTS[:r % len(LAYOUTS)]
            for layout in order:
                runs[layout].append(run(args.binary, model, layout, args))
                last = runs[layout][-1]
                print(f"  {name} round {r + 1} {layout}: prefill {last['prefill_s']:.2f} s, "
                      f"candidates {last['candidates_s']:.2f} s, load {last['load']}", flush=True)
        rows = []
        for layout in LAYOUTS + ["separate"]:
            rs = runs[layout] if layout != "separate" else [reference]
            diffs = [max(abs(a - b) for a, b in zip(x["rewards"], reference["rewards"])) for x in rs]
            rows.append({"layout": layout, "kv_bytes": rs[0]["kv_bytes"], "cells": rs[0]["cells"],
                         "peak_rss_mib": max(x["vm_hwm_kib"] for x in rs) / 1024,
                         "prefill_s": statistics.median(x["prefill_s"] for x in rs),
                         "candidates_s": statistics.median(x["candidates_s"] for x in rs),
                         "max_abs_diff": max(diffs), "loads": [x["load"] for x in rs], "runs": rs})
        results[name] = rows
        print(table(name, rows, args), flush=True)
        meta["load_at_end"] = load_note()
        with open(path, "w") as f:  # after every model, so a run stopped later keeps what it measured
            json.dump({"meta": meta, "models": results}, f, indent=1)
    for name, rows in results.items():
        print(table(name, rows, args))
    print(f"(load at end {meta['load_at_end']}; results: {path})")


def table(name, rows, args):
    base = next(r for r in rows if r["layout"] == "stream")
    out = [f"\n{name}: context {args.context} tokens, N={args.n} candidates of {args.len} tokens",
           f"| layout | KV bytes (cells) | peak RSS | prefill s | candidates s | candidates vs stream | max \\|Δreward\\| vs separate (first {args.reference_n or args.n}) | loads |",
           "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['layout']} | {r['kv_bytes'] / 2**20:.1f} MiB ({r['cells']}) | {r['peak_rss_mib']:.0f} MiB | "
                   f"{r['prefill_s']:.2f} | {r['candidates_s']:.2f} | {r['candidates_s'] / base['candidates_s']:.2f} | "
                   f"{r['max_abs_diff']:.3g} | {' '.join(r['loads'])} |")
    return "\n".join(out)


if __name__ == "__main__":
    main()
