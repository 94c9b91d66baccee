"""bench/kv.sh (issue 13): what the KV layout costs and holds, per model.

For each model: the KV accounting the server reports (/v1/models), peak RSS (VmHWM), the time of a cold
Best-of-N N=8 (likelihood) at each context size, the /health latency while that prefill runs, and the
largest reward difference from the separate computation (--no-prefix-sharing: every candidate decoded with
its own copy of the context) at the smallest size. The server holds 2 contexts (--kv-budget = 2 windows).
Context sizes are in tokens of the model's own tokenizer, calibrated from a first request's usage.
"""
import argparse
import signal
import sys
import datetime
import json
import os
import platform
import subprocess
import threading
import time

from . import inputs, servers
from .http import Client
from .common import load_note

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


def vm_hwm_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


class HealthProbe(threading.Thread):
    """GET /health every 100 ms while a request runs; keeps each latency."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.client, self.stop, self.latencies = Client(port), threading.Event(), []

    def run(self):
        while not self.stop.is_set():
            started = time.perf_counter()
            self.client.get("/health")
            self.latencies.append(time.perf_counter() - started)
            self.stop.wait(0.1)


class CharTokenizer:
    """Approximate token counts from characters, with the ratio measured on the server (usage.prompt_tokens)."""

    def __init__(self, port):
        text = inputs.make_context(lambda t: [0] * max(1, len(t) // 4), 512, "kv-calibrate").text
        body, _ = Client(port).post("/v1/score", {"items": [{"context": text, "prompt": "?", "response": "x"}]})
        self.chars_per_token = len(text) / max(1, body["usage"]["prompt_tokens"])

    def __call__(self, text):
        return [0] * int(len(text) / self.chars_per_token)


def best_of_n(port, ctx, n, tag, timeout=None, pid=None):
    """One cold Best-of-N with /health probed during it. A request still running after `timeout` seconds is
    recorded as unfinished (with the /health latencies and peak RSS so far) instead of failing the run."""
    question, responses = inputs.candidates(ctx, 0, n)
    probe = HealthProbe(port)
    probe.start()
    started = time.perf_counter()
    row = {"tag": tag}
    try:
        body, seconds = Client(port, timeout=timeout or 3600).post(
            "/v1/best-of-n", {"context": ctx.text, "prompt": question, "responses": responses})
        row.update({"seconds": seconds, "prompt_tokens": body["usage"]["prompt_tokens"], "rewards": body["rewards"]})
    except (TimeoutError, OSError, RuntimeError) as e:  # socket.timeout is a TimeoutError; RuntimeError: not 200
        row.update({"unfinished_after_s": time.perf_counter() - started, "error": str(e)})
    probe.stop.set()
    probe.join()
    lat = sorted(probe.latencies) or [0.0]
    row.update({"health_p50_ms": 1000 * lat[len(lat) // 2], "health_max_ms": 1000 * lat[-1], "health_samples": len(lat)})
    if pid:
        row["peak_rss_mib_so_far"] = vm_hwm_kib(pid) / 1024
    return row


def run_model(binary, model, sizes, n, threads, work, port, diff_size, server_args, timeout=None):
    window = max(sizes) + 1024
    # No judge-generation streams: they are paid from the budget first (a full window each) and would leave
    # no room for the 2 contexts this measures.
    # --timeout-ms: the server's own deadline (default 600 s) must not end a long prefill before --request-timeout.
    base = ["--threads", str(threads), "--kv-budget", str(2 * window), "--judge-sequences", "0",
            "--timeout-ms", str(int(1000 * (timeout or 3600)) + 60_000), *server_args]
    row = {"model": os.path.basename(model), "window": window, "server_args": " ".join(server_args), "sizes": {}}
    server = servers.ours(binary, model, port, window, os.path.join(work, f"kv-{os.path.basename(model)}.log"), threads, base)
    server.start(timeout=1800)
    try:
        status, models = Client(port).get("/v1/models")
        row["kv"] = models["data"][0]["kv"]
        row["rss_after_start_mib"] = server.rss_kb() / 1024
        tok = CharTokenizer(port)
        for size in sizes:
            ctx = inputs.make_context(tok, size, f"kv-{size}")
            ctx_load = load_note()
            row["sizes"][size] = best_of_n(port, ctx, n, f"shared-{size}", timeout, server.proc.pid)
            row["sizes"][size]["load"] = f"{ctx_load} → {load_note()}"
            r = row["sizes"][size]
            print(f"  {row['model']} {size}: " + (f"{r['seconds']:.1f} s" if "seconds" in r else
                  f"unfinished after {r['unfinished_after_s']:.0f} s") +
                  f", health max {r['health_max_ms']:.0f} ms, load {r['load']}", flush=True)
            # An unfinished request's client has gone: the server cancels it at its next check, so the next
            # size only waits for that.
        if diff_size and all("seconds" in v for v in row["sizes"].values()):
            ctx = inputs.make_context(tok, diff_size, f"kv-diff-{diff_size}")
            shared = best_of_n(port, ctx, n, "shared-diff")
        else:
            diff_size = 0
        row["peak_rss_mib"] = vm_hwm_kib(server.proc.pid) / 1024
    finally:
        server.stop()
    if diff_size:
        sep = servers.ours(binary, model, port, window, os.path.join(work, f"kv-sep-{os.path.basename(model)}.log"),
                           threads, base + ["--no-prefix-sharing"])
        sep.start(timeout=1800)
        try:
            separate = best_of_n(port, ctx, n, "separate-diff")
        finally:
            sep.stop()
        row["diff"] = {"tokens": shared["prompt_tokens"], "shared_s": shared["seconds"], "separate_s": separate["seconds"],
                       "max_abs": max(abs(a - b) for a, b in zip(shared["rewards"], separate["rewards"]))}
    return row


def table(rows, n):
    out = ["| model | server flags | KV bytes/token | KV per context (window) | contexts held | peak RSS | "
           + " | ".join(f"BoN N={n} at {s}" for s in rows[0]["sizes"]) + " | /health max during prefill | max \\|shared − separate\\| |",
           "|---|---|---|---|---|---|" + "---|" * len(rows[0]["sizes"]) + "---|---|"]
    for r in rows:
        kv = r["kv"]
        cells = [f"{v['seconds']:.1f} s ({v['prompt_tokens']} tok, load {v.get('load', '?')})" if "seconds" in v
                 else f"unfinished after {v['unfinished_after_s']:.0f} s (load {v.get('load', '?')})" for v in r["sizes"].values()]
        cells += ["not run"] * (len(rows[0]["sizes"]) - len(cells))
        health = max(v["health_max_ms"] for v in r["sizes"].values())
        diff = r.get("diff")
        out.append(f"| {r['model']} | {r.get('server_args') or '(defaults)'} | {kv['bytes_per_token']} | {kv['bytes_per_context'] / 2**20:.0f} MiB ({kv['largest_context']}) | "
                   f"{kv['contexts_per_worker']} | {r['peak_rss_mib']:.0f} MiB | " + " | ".join(cells)
                   + f" | {health:.0f} ms | " + (f"{diff['max_abs']:.3g} at {diff['tokens']} tok" if diff else "not run") + " |")
    return "\n".join(out)


def main():
    # `timeout` and kill send SIGTERM: turn it into SystemExit so the `finally` blocks stop the servers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--models", nargs="+", required=True)
    ap.add_argument("--sizes", default="8192,32768")
    ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--diff-size", type=int, default=2048, help="context tokens of the shared-vs-separate check (0: skip)")
    ap.add_argument("--work", required=True)
    ap.add_argument("--port", type=int, default=18990)
    ap.add_argument("--request-timeout", type=float, default=None,
                    help="seconds a Best-of-N may take before it is recorded as unfinished")
    ap.add_argument("--server-args", default="", help="extra serve flags, e.g. '--kv-type q8_0 --flash-attn'")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    sizes = [int(s) for s in args.sizes.split(",")]
    meta = {"started": datetime.datetime.now(datetime.timezone.utc).isoformat(), "cpu": cpu_model(),
            "cores": os.cpu_count(), "load_at_start": load_note(), "threads": args.threads,
            "commit": subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True,
                                     text=True).stdout.strip()}
    print(f"# bench/kv.sh on {meta['cpu']} ({meta['cores']} cores, load {meta['load_at_start']}), {args.threads} threads", flush=True)
    rows = []
    for spec in args.models:
        path, _, model_sizes = spec.partition(":")
        rows.append(run_model(args.binary, path, [int(s) for s in model_sizes.split(",")] if model_sizes else sizes,
                              args.n, args.threads, args.work, args.port, args.diff_size, args.server_args.split(),
                              args.request_timeout))
        print(table(rows[-1:], args.n), flush=True)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H%M%SZ")
    path = os.path.join(REPO, "bench", "results", f"kv-{stamp}.json")
    meta["load_at_end"] = load_note()
    with open(path, "w") as f:
        json.dump({"meta": meta, "rows": rows}, f, indent=1)
    for r in rows:
        print(table([r], args.n))
    print(f"(load at end {meta['load_at_end']}; results: {path})")


if __name__ == "__main__":
    main()
