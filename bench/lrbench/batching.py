"""bench/batching.sh (issue 5): what batching, prefix sharing and admission control buy, on our server alone.

(a) 32 concurrent pairwise requests, distinct ~1K-token contexts, vs the same kind of requests one at a time.
(b) 16 Best-of-N (N=4) on one shared 4K context, concurrent, vs 16 × one cold request.
(c) overload: --max-queue-requests 4, 40 concurrent requests with timeout_ms: every one answered exactly once,
    with 200, 429 or 504, within its deadline; VmRSS back to baseline afterwards.
(d) shared prefix vs --no-prefix-sharing: Best-of-N N=8 at 2K and 8K.
Tokens are counted by our own tokenizer (a second server with a 32-token window: see OursTokenCounter).
"""
import argparse
import datetime
import json
import os
import socket
import statistics
import sys
import time

SCALE = [1.0]  # context sizes × this (bench/batching.sh: BATCHING_SCALE, for harness debugging only)


def sized(n):
    return max(256, int(n * SCALE[0]))

from . import inputs, servers
from .common import OursTokenCounter, load_note, run_clients
from .servers import metric

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def pct(values, q):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def pairwise_body(ctx, k):
    question, good, bad = inputs.pair(ctx, k)
    return {"context": ctx.text, "prompt": question, "responses": [good, bad]}


def part_a(port, tok):
    seq_ctx = [inputs.make_context(tok, sized(1024), f"batch-a-seq-{i}") for i in range(32)]
    con_ctx = [inputs.make_context(tok, sized(1024), f"batch-a-con-{i}") for i in range(32)]
    seq_jobs = [lambda c, x=x: c.post("/v1/pairwise", pairwise_body(x, 0))[1] for x in seq_ctx]
    con_jobs = [lambda c, x=x: c.post("/v1/pairwise", pairwise_body(x, 0))[1] for x in con_ctx]
    b0 = metric(port, "longrm_engine_batches_total")
    seq_lat, seq_wall = run_clients(port, seq_jobs, 1)
    b1 = metric(port, "longrm_engine_batches_total")
    con_lat, con_wall = run_clients(port, con_jobs, 32)
    b2 = metric(port, "longrm_engine_batches_total")
    return {"requests": 32, "context_tokens": statistics.mean(x.tokens for x in con_ctx),
            "one_at_a_time_s": seq_wall, "concurrent_s": con_wall, "ratio": seq_wall / con_wall,
            "seq_p50_s": pct(seq_lat, 0.5), "seq_p99_s": pct(seq_lat, 0.99),
            "con_p50_s": pct(con_lat, 0.5), "con_p99_s": pct(con_lat, 0.99),
            "engine_batches_seq": b1 - b0, "engine_batches_con": b2 - b1}


def part_b(port, tok):
    cold_ctx = inputs.make_context(tok, sized(4096), "batch-b-cold")
    shared = inputs.make_context(tok, sized(4096), "batch-b-shared")

    def bon(ctx, k):
        question, responses = inputs.candidates(ctx, k, 4)
        return {"context": ctx.text, "prompt": question, "responses": responses}

    _, cold = run_clients(port, [lambda c: c.post("/v1/best-of-n", bon(cold_ctx, 0))], 1)
    before = metric(port, "longrm_tokens_computed_total")
    lat, wall = run_clients(port, [lambda c, k=k: c.post("/v1/best-of-n", bon(shared, k))[1] for k in range(16)], 16)
    computed = metric(port, "longrm_tokens_computed_total") - before
    return {"requests": 16, "n": 4, "context_tokens": shared.tokens, "one_cold_s": cold, "sixteen_cold_s": 16 * cold,
            "concurrent_s": wall, "ratio": 16 * cold / wall, "p50_s": pct(lat, 0.5), "p99_s": pct(lat, 0.99),
            "computed_tokens": computed}


def raw_request(port, body, timeout_s):
    """One request on its own connection (Connection: close), reading to EOF: counts status lines received,
    so a request answered twice (or not at all) shows."""
    data = json.dumps(body).encode()
    head = (f"POST /v1/best-of-n HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n").encode()
    started = time.perf_counter()
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout_s)
    s.sendall(head + data)
    buf = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    except socket.timeout:
        pass
    s.close()
    elapsed = time.perf_counter() - started
    statuses = [int(line.split()[1]) for line in buf.split(b"\r\n") if line.startswith(b"HTTP/1.1 ")]
    return statuses, elapsed


def part_c(binary, model, port, tok, work, ctx_size):
    srv = servers.ours(binary, model, port, ctx_size, f"{work}/batching-overload.log",
                       extra=("--max-queue-requests", "4")).start()
    try:
        warm = {"context": "Warm-up.", "prompt": "Ready?", "responses": ["Yes.", "No."]}
        raw_request(port, warm, 120)
        time.sleep(1)
        baseline = srv.rss_kb()
        timeout_ms = 6000
        rounds = []
        for rnd in range(2):
            contexts = [inputs.make_context(tok, sized(512), f"batch-c-{rnd}-{i}") for i in range(40)]
            jobs = []
            for x in contexts:
                question, responses = inputs.candidates(x, 0, 4)
                body = {"context": x.text, "prompt": question, "responses": responses, "timeout_ms": timeout_ms}
                jobs.append(lambda c, b=body: raw_request(port, b, timeout_ms / 1000 + 30))
            results, wall = run_clients(port, jobs, 40)
            peak = srv.rss_kb()
            time.sleep(3)
            counts = {}
            for st, _ in results:
                key = str(st[0]) if len(st) == 1 else f"{len(st)} answers"
                counts[key] = counts.get(key, 0) + 1
            late = sum(1 for _, el in results if el > timeout_ms / 1000 + 2)
            rounds.append({"sent": len(jobs), "statuses": counts, "answered_once": sum(1 for st, _ in results if len(st) == 1),
                           "unexpected": sum(1 for st, _ in results if len(st) != 1 or st[0] not in (200, 429, 504)),
                           "later_than_deadline_plus_2s": late, "max_latency_s": max(el for _, el in results),
                           "wall_s": wall, "rss_end_of_burst_kb": peak, "rss_after_kb": srv.rss_kb()})
        return {"max_queue_requests": 4, "timeout_ms": timeout_ms, "rss_baseline_kb": baseline, "rounds": rounds}
    finally:
        srv.stop()


def part_d(binary, model, port, tok, work, ctx_size, sizes):
    out = {}
    shared = servers.ours(binary, model, port, ctx_size, f"{work}/batching-shared.log").start()
    unshared = servers.ours(binary, model, port + 1, ctx_size, f"{work}/batching-unshared.log",
                            extra=("--no-prefix-sharing",)).start()
    try:
        for p in (port, port + 1):
            run_clients(p, [lambda c: c.post("/v1/best-of-n", {"context": "Warm-up.", "prompt": "Ready?", "responses": ["Yes.", "No."]})], 1)
        for size in sizes:
            ctx = inputs.make_context(tok, sized(size), "batch-d")
            question, responses = inputs.candidates(ctx, 0, 8)
            body = {"context": ctx.text, "prompt": question, "responses": responses}
            row = {"context_tokens": ctx.tokens}
            for name, p in (("shared", port), ("unshared", port + 1)) if size == sizes[0] else (("unshared", port + 1), ("shared", port)):
                before = metric(p, "longrm_tokens_computed_total")
                res, wall = run_clients(p, [lambda c: c.post("/v1/best-of-n", body)[0]], 1)
                row[f"{name}_s"] = wall
                row[f"{name}_computed"] = metric(p, "longrm_tokens_computed_total") - before
                row[f"{name}_rewards"] = res[0]["rewards"]
            row["ratio"] = row["unshared_s"] / row["shared_s"]
            row["max_abs_reward_diff"] = max(abs(a - b) for a, b in zip(row["shared_rewards"], row["unshared_rewards"]))
            out[f"{size // 1024}K"] = row
    finally:
        shared.stop()
        unshared.stop()
    return out


def table(r):
    lines = ["part | measure | value"]
    a = r.get("a")
    if a:
        lines += [f"(a) 32 pairwise, distinct ~{a['context_tokens']:.0f}-tok contexts | one at a time / concurrent (s) | "
                  f"{a['one_at_a_time_s']:.1f} / {a['concurrent_s']:.1f} = ratio {a['ratio']:.2f}",
                  f"(a) | latency p50 / p99 one at a time (s) | {a['seq_p50_s']:.2f} / {a['seq_p99_s']:.2f}",
                  f"(a) | latency p50 / p99 concurrent (s) | {a['con_p50_s']:.2f} / {a['con_p99_s']:.2f}",
                  f"(a) | llama_decode batches one at a time / concurrent | {a['engine_batches_seq']:.0f} / {a['engine_batches_con']:.0f}"]
    b = r.get("b")
    if b:
        lines += [f"(b) 16 BoN N=4, one {b['context_tokens']}-tok context | 16 × cold / concurrent (s) | "
                  f"{b['sixteen_cold_s']:.1f} / {b['concurrent_s']:.1f} = ratio {b['ratio']:.2f}",
                  f"(b) | one cold request (s); p50 / p99 concurrent (s) | {b['one_cold_s']:.2f}; {b['p50_s']:.2f} / {b['p99_s']:.2f}",
                  f"(b) | tokens computed for the 16 | {b['computed_tokens']:.0f}"]
    c = r.get("c")
    if c:
        for i, rd in enumerate(c["rounds"]):
            lines += [f"(c) overload round {i + 1}: {rd['sent']} at once, queue 4, timeout {c['timeout_ms']} ms | statuses | "
                      f"{rd['statuses']}; answered once {rd['answered_once']}/{rd['sent']}; unexpected {rd['unexpected']}; "
                      f"past deadline+2s {rd['later_than_deadline_plus_2s']}; max latency {rd['max_latency_s']:.2f} s",
                      f"(c) | VmRSS baseline / end of burst / 3 s after (MiB) | {c['rss_baseline_kb'] / 1024:.0f} / "
                      f"{rd['rss_end_of_burst_kb'] / 1024:.0f} / {rd['rss_after_kb'] / 1024:.0f}"]
    for size, d in (r.get("d") or {}).items():
        lines += [f"(d) BoN N=8 at {size} ({d['context_tokens']} tok) | unshared / shared (s) | "
                  f"{d['unshared_s']:.1f} / {d['shared_s']:.1f} = ratio {d['ratio']:.2f}",
                  f"(d) | tokens computed unshared / shared; max |Δreward| | {d['unshared_computed']:.0f} / "
                  f"{d['shared_computed']:.0f}; {d['max_abs_reward_diff']:.3g}"]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--port", type=int, default=18401)
    ap.add_argument("--parts", default="abcd")
    ap.add_argument("--scale", type=float, default=1.0)
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    SCALE[0] = a.scale
    ctx_size = 8192 + 1024
    tok_server = servers.ours(a.binary, a.model, a.port + 9, 32, f"{a.work}/batching-tokenizer.log").start()
    result = {"date": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"), "scale": a.scale,
              "loadavg_start": open("/proc/loadavg").read().split()[:3]}
    try:
        tok = OursTokenCounter(a.port + 9)
        if "a" in a.parts or "b" in a.parts:
            srv = servers.ours(a.binary, a.model, a.port, ctx_size, f"{a.work}/batching-main.log").start()
            try:
                run_clients(a.port, [lambda c: c.post("/v1/pairwise", {"context": "Warm-up.", "prompt": "Ready?", "responses": ["Yes.", "No."]})], 1)
                if "a" in a.parts:
                    print(f"[batching] (a) (load {load_note()})", flush=True)
                    result["a"] = part_a(a.port, tok)
                if "b" in a.parts:
                    print(f"[batching] (b) (load {load_note()})", flush=True)
                    result["b"] = part_b(a.port, tok)
            finally:
                srv.stop()
        if "c" in a.parts:
            print(f"[batching] (c) (load {load_note()})", flush=True)
            result["c"] = part_c(a.binary, a.model, a.port, tok, a.work, ctx_size)
        if "d" in a.parts:
            print(f"[batching] (d) (load {load_note()})", flush=True)
            result["d"] = part_d(a.binary, a.model, a.port, tok, a.work, ctx_size, [2048, 8192])
    finally:
        tok_server.stop()
    result["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    text = table(result)
    print(text)
    path = os.path.join(REPO, "bench/results", "batching-" + result["date"].replace(":", "") + ".json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(result, f, indent=1)
    print(f"[batching] wrote {os.path.relpath(path, REPO)}")


if __name__ == "__main__":
    sys.exit(main())
