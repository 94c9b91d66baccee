"""bench/run.sh: our server vs llama-server, same model/threads/window, one run, one table."""
import argparse
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
import time

from . import servers, workloads
from .common import Tokenizer, check_layout, floor, load_note
from .report import append_markdown, table

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


class Env:
    pass


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    return {"nproc": os.cpu_count(), "cpu": cpu, "kernel": platform.release(),
            "loadavg_start": open("/proc/loadavg").read().split()[:3]}


def start_pair(a, ctx, model, tag, ours_extra=(), peer_extra=()):
    work = a.work
    ours_extra = (*ours_extra, *shlex.split(a.ours_extra))
    peer_extra = (*peer_extra, *shlex.split(a.peer_extra))
    ours = servers.ours(a.binary, model, a.ours_port, ctx, f"{work}/{tag}-ours.log", extra=ours_extra)
    peer = servers.peer(a.tools, model, a.peer_port, ctx, f"{work}/{tag}-peer.log", extra=peer_extra)
    ours.start()
    try:
        peer.start()
    except Exception:
        ours.stop()
        raise
    return ours, peer


def cpu_variant(port):
    """The llama.cpp CPU variant our server runs on (/v1/models)."""
    from .http import Client
    c = Client(port)
    _, body, _, _ = c.request("GET", "/v1/models", None)
    c.close()
    return body["data"][0].get("cpu_variant", "?") if isinstance(body, dict) else "?"


def warm(env, judge=True):
    """One small request each, so one-time set-up (weight repacking, first allocations) is not timed."""
    from .http import Client
    c = Client(env.ours_port)
    c.post("/v1/best-of-n", {"context": "Warm-up.", "prompt": "Ready?", "responses": ["Yes.", "No."]})
    c.close()
    p = Client(env.peer_port)
    if judge:
        p.post("/completion", {"prompt": "Warm-up.", "n_predict": 1, "cache_prompt": False})
    else:
        p.post("/rerank", {"query": "Warm-up.", "documents": ["Yes.", "No."]})
    p.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--full", action="store_true")
    ap.add_argument("--binary", required=True)
    ap.add_argument("--tools", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--classifier-model", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--ours-port", type=int, default=18301)
    ap.add_argument("--peer-port", type=int, default=18302)
    ap.add_argument("--only", default="", help="comma-separated workload prefixes (for debugging the harness)")
    ap.add_argument("--sizes", default="2048,8192", help="the two context sizes of the default run (debugging: smaller)")
    ap.add_argument("--native-bench", default="", help="a native build's llama-bench: the floor is the faster of the two")
    ap.add_argument("--cpu-flavor", default="?", help="the CPU variant set-up built (env.sh LLAMA_CPU_FLAVOR)")
    ap.add_argument("--ours-extra", default="", help="extra arguments for longrm serve")
    ap.add_argument("--peer-extra", default="", help="extra arguments for llama-server")
    a = ap.parse_args()
    check_layout(REPO)
    os.makedirs(a.work, exist_ok=True)
    only = [s for s in a.only.split(",") if s]
    want = lambda name: not only or any(name.startswith(o) for o in only)
    started = time.time()
    info = machine()
    rows = []  # (name, row dict, floor size)

    small, large = (int(x) for x in a.sizes.split(","))
    sizes = [small, large] + ([16384, 32768] if a.full else [])
    # The 32K workload must fit gemma-3's 32768-token training window with its prompt: its context is 31.5K.
    fit = {2048: 2048, 8192: 8192, 16384: 16384, 32768: 32768 - 1024}

    def record(name, fn, floor_size):
        if not want(name):
            return
        print(f"[bench] {name} (load {load_note()})", flush=True)
        t = time.time()
        try:
            row = fn()
        except Exception as e:  # one failed workload must not lose the others' figures
            row = {"error": str(e)[:500]}
            print(f"[bench]   FAILED: {e}", flush=True)
        row["load_before"] = load_note()
        row["elapsed_s"] = round(time.time() - t, 1)
        rows.append((name, row, floor_size))
        # Kept after every workload, so a run that dies later still leaves what it measured.
        with open(os.path.join(a.work, "partial.json"), "w") as f:
            json.dump([dict(name=n, floor_size=fs, **r) for n, r, fs in rows], f, indent=1)

    env = Env()
    env.ours_port, env.peer_port = a.ours_port, a.peer_port
    ctx = large + 1024
    label = lambda size: f"{size // 1024}K" if size % 1024 == 0 else str(size)
    ours, peer = start_pair(a, ctx, a.model, "main")
    try:
        env.tok = Tokenizer(a.peer_port)
        info["ours_cpu_variant"] = cpu_variant(a.ours_port)
        warm(env)
        for size, order in ((small, ("ours", "peer")), (large, ("peer", "ours"))):
            record(f"judge pair seq {label(size)}", lambda: workloads.judge(env, size, 1, order), size)
        for size, order in ((small, ("peer", "ours")), (large, ("ours", "peer"))):
            record(f"judge pair 8 clients {label(size)}", lambda: workloads.judge(env, size, 8, order), size)
        for size in (small, large):
            record(f"likelihood BoN N=8 {label(size)}", lambda: workloads.likelihood_bon(env, size), size)
        record("RLHF get_reward 64 calls", lambda: workloads.rlhf(env, prompt_tokens=small // 2), small)
        record("health x1000 (wrk c64)", lambda: workloads.health(env), None)
        info["ours_rss_kb_main"] = ours.rss_kb()
        info["peer_rss_kb_main"] = peer.rss_kb()
    finally:
        ours.stop()
        peer.stop()

    if a.full and any(want(n) for n in ("judge pair seq 16K", "judge pair seq 32K", "likelihood BoN N=8 16K", "likelihood BoN N=8 32K")):
        ours, peer = start_pair(a, 32768, a.model, "long")
        try:
            env.tok = Tokenizer(a.peer_port)
            warm(env)
            for size in (16384, 32768):
                record(f"judge pair seq {size // 1024}K", lambda: workloads.judge(env, fit[size], 1, ("ours", "peer")), size)
                record(f"likelihood BoN N=8 {size // 1024}K", lambda: workloads.likelihood_bon(env, fit[size]), size)
        finally:
            ours.stop()
            peer.stop()

    if want("classifier"):
        # An encoder sees a whole sequence in one micro-batch: both sides get a 4096-token batch.
        ours, peer = start_pair(a, 4096, a.classifier_model, "cls", ours_extra=("--batch-size", "4096"),
                                peer_extra=("--rerank", "-b", "4096", "-ub", "4096"))
        try:
            env.tok = Tokenizer(a.peer_port)
            # No separate warm-up here: a failing first request must become a failed row, not end the run.
            record(f"classifier BoN N=8 {label(small)}", lambda: workloads.classifier_bon(env, small), small)
        finally:
            ours.stop()
            peer.stop()

    # The floor runs last, on the same (noisy) machine, with both servers stopped.
    print(f"[bench] floor: llama-bench at {sizes} (load {load_note()})", flush=True)
    # The best build for the host: set-up's (its CPU variant) or a native one, whichever is faster at each size,
    # with weights laid out as our server lays them (repacked only with --repack). The repacked floor (llama-bench's
    # default) is measured beside it and reported, not used for the ratios.
    ours_repack = "--repack" in shlex.split(a.ours_extra)
    floor_builds = {f"setup-{a.cpu_flavor}": os.path.join(a.tools, "llama-bench")}
    if a.native_bench:
        floor_builds["native"] = a.native_bench
    floor_runs, other_runs, floor_cmd = {}, {}, ""
    for build, path in floor_builds.items():
        for repack in (ours_repack, not ours_repack):
            try:
                run, cmd = floor(os.path.dirname(path), a.model, sizes, repack=repack)
            except Exception as e:  # a missing llama-bench leaves the floor columns empty, not the whole run lost
                print(f"[bench]   floor {build} repack {int(repack)} FAILED: {e}", flush=True)
                continue
            if repack == ours_repack:
                floor_runs[build], floor_cmd = run, cmd
            else:
                other_runs[f"{build}, repack {int(repack)}"] = run
    floors = {size: max(run[size] for run in floor_runs.values() if size in run)
              for size in sizes if any(size in run for run in floor_runs.values())}
    info["floor_repack"] = ours_repack
    info["floor_other_repack"] = {build: {str(k): round(v, 1) for k, v in run.items()} for build, run in other_runs.items()}
    info["floor_builds"] = {build: {str(k): round(v, 1) for k, v in run.items()} for build, run in floor_runs.items()}
    info["floor_source"] = {str(size): max((b for b in floor_runs if size in floor_runs[b]), key=lambda b: floor_runs[b][size])
                            for size in floors}
    info["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    info["wall_s"] = round(time.time() - started, 1)
    result = {"date": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"), "machine": info,
              "commit": subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True,
                                       text=True).stdout.strip(),
              "full": a.full, "floor_tok_s": floors, "floor_command": "llama-bench " + (floor_cmd or "(failed)"),
              "servers": {"ours": "longrm serve --threads 2 --workers 1 --parallel 8 --cache-slots 4 --ctx-size C",
                          "peer": "llama-server -t 2 -tb 2 -np 8 -c 8*C --no-kv-unified -fa off"},
              "rows": [dict(name=n, floor_size=f, **r) for n, r, f in rows]}
    text = table(result)
    print(text)
    os.makedirs(os.path.join(REPO, "bench/results"), exist_ok=True)
    path = os.path.join(REPO, "bench/results", result["date"].replace(":", "") + ".json")
    with open(path, "w") as f:
        json.dump(result, f, indent=1)
    print(f"[bench] wrote {os.path.relpath(path, REPO)}")
    if not only and a.sizes == "2048,8192":
        append_markdown(os.path.join(REPO, "docs/PERFORMANCE.md"), result, text)
        print("[bench] appended to docs/PERFORMANCE.md")


if __name__ == "__main__":
    sys.exit(main())
