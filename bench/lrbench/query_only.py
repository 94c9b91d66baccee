"""bench/query_only.sh (issue 18): /get_reward with `query` alone against `query` + `prompts`, on our server alone.

One call of 16 queries: 2 prompts x 8 rollouts, about 1.5K tokens each (a ~1.3K-token prompt, a ~200-token
response), Gemma-style turn markers. Query-only is split at the last assistant header by the server; with
`prompts` the client says where. Both shapes must score the same texts identically, at the same cost.
Two servers with the same settings, both fresh, so neither shape finds the other's prompts in its cache; two
rounds on different texts. By default both shapes are sent at the same moment, each to its own server
(`--threads 1` each on two cores), so load from anything else on the machine falls on both alike; with
`--sequential` they alternate which goes first (what the first runs did: their ratios were the load's noise).
"""
import argparse
import datetime
import json
import os
import platform
import random
import sys
import threading

from . import inputs, servers
from .common import OursTokenCounter, load_note, run_clients
from .servers import metric

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HEADER = "<start_of_turn>model\n"


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


def response(rng, tok, target):
    """A rollout of at most about `target` tokens of prose, ending the turn; returns (text, tokens)."""
    parts, total = [], 0
    while True:
        p = inputs.paragraph(rng)
        n = len(tok(" " + p))
        if total + n > target and parts:
            return " ".join(parts) + "<end_of_turn>\n", total
        parts.append(p)
        total += n


def batch(tok, seed, prompt_tokens, response_tokens, rollouts):
    prompts, queries, sizes = [], [], []
    for p in range(2):
        ctx = inputs.make_context(tok, prompt_tokens, f"query-only-{seed}-{p}")
        question = ctx.facts[0][1]
        prompt = f"<start_of_turn>user\n{ctx.text}\n\nQuestion: {question}<end_of_turn>\n{HEADER}"
        rng = random.Random(f"query-only-{seed}-{p}")
        for _ in range(rollouts):
            text, n = response(rng, tok, response_tokens)
            prompts.append(prompt)
            queries.append(prompt + text)
            sizes.append(ctx.tokens + n)
    # Prompt-major order is what OpenRLHF sends (n_samples_per_prompt rollouts are adjacent).
    return prompts, queries, sizes


def call(port, body):
    before = metric(port, "longrm_tokens_computed_total")
    res, wall = run_clients(port, [lambda c: c.post("/get_reward", body)[0]], 1)
    return res[0], wall, metric(port, "longrm_tokens_computed_total") - before


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--port", type=int, default=18441)
    ap.add_argument("--prompt-tokens", type=int, default=1300)
    ap.add_argument("--response-tokens", type=int, default=200)
    ap.add_argument("--rollouts", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2, help="1 on an oversubscribed machine (OpenMP threads spin)")
    ap.add_argument("--cache-slots", type=int, default=4,
                    help="2 = one job per engine batch (two jobs in one batch move rewards between identical calls)")
    ap.add_argument("--sequential", action="store_true",
                    help="one shape after the other instead of both at once on their own servers")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    ctx_size = 2048
    result = {"date": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"), "cpu": cpu_model(),
              "cores": os.cpu_count(), "loadavg_start": open("/proc/loadavg").read().split()[:3],
              "prompt_tokens": a.prompt_tokens, "response_tokens": a.response_tokens, "rollouts": a.rollouts,
              "mode": "sequential" if a.sequential else "simultaneous",
              "server": f"longrm serve --threads {a.threads} --ctx-size {ctx_size} --workers 1 --parallel 8 --cache-slots {a.cache_slots}"}
    tok_server = servers.ours(a.binary, a.model, a.port + 9, 32, f"{a.work}/query-only-tokenizer.log").start()
    try:
        tok = OursTokenCounter(a.port + 9)
        rounds = [batch(tok, seed, a.prompt_tokens, a.response_tokens, a.rollouts) for seed in range(1, a.rounds + 1)]
    finally:
        tok_server.stop()
    extra = ("--cache-slots", str(a.cache_slots))
    alone = servers.ours(a.binary, a.model, a.port, ctx_size, f"{a.work}/query-only-alone.log", threads=a.threads, extra=extra).start()
    told = servers.ours(a.binary, a.model, a.port + 1, ctx_size, f"{a.work}/query-only-prompts.log", threads=a.threads, extra=extra).start()
    result["rounds"] = []
    try:
        warm = {"query": [f"<start_of_turn>user\nReady?<end_of_turn>\n{HEADER}Yes."]}
        for p in (a.port, a.port + 1):
            call(p, warm)
        for i, (prompts, queries, sizes) in enumerate(rounds):
            print(f"[query-only] round {i + 1} (load {load_note()})", flush=True)
            row = {"queries": len(queries), "mean_text_tokens": sum(sizes) / len(sizes)}
            shapes = [("query_only", a.port, {"query": queries}), ("with_prompts", a.port + 1, {"query": queries, "prompts": prompts})]
            outcomes = {}

            def run(name, port, body):
                outcomes[name] = call(port, body)

            if a.sequential:
                for shape in (shapes if i % 2 == 0 else shapes[::-1]):
                    run(*shape)
            else:
                threads = [threading.Thread(target=run, args=shape) for shape in shapes]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
            for name, _, _ in shapes:
                parsed, wall, computed = outcomes[name]
                row[f"{name}_s"], row[f"{name}_computed"], row[f"{name}_rewards"] = wall, computed, parsed["rewards"]
                row[f"{name}_boundary"] = sorted(set(parsed["extra_logs"]["boundary"]))
            row["ratio"] = row["query_only_s"] / row["with_prompts_s"]
            row["max_abs_reward_diff"] = max(abs(x - y) for x, y in zip(row["query_only_rewards"], row["with_prompts_rewards"]))
            result["rounds"].append(row)
    finally:
        alone.stop()
        told.stop()
    result["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    q = sum(r["query_only_s"] for r in result["rounds"])
    w = sum(r["with_prompts_s"] for r in result["rounds"])
    result["ratio"] = q / w
    result["max_abs_reward_diff"] = max(r["max_abs_reward_diff"] for r in result["rounds"])
    lines = [f"{2 * a.rollouts} queries = 2 prompts x {a.rollouts} rollouts, ~{result['rounds'][0]['mean_text_tokens']:.0f} text tokens each "
             "(user text; the turn markers add a few)",
             "round | query only (s) | query + prompts (s) | ratio | tokens computed (only / +prompts) | max |Δreward| | boundary codes"]
    for i, r in enumerate(result["rounds"]):
        lines.append(f"{i + 1} | {r['query_only_s']:.2f} | {r['with_prompts_s']:.2f} | {r['ratio']:.3f} | "
                     f"{r['query_only_computed']:.0f} / {r['with_prompts_computed']:.0f} | {r['max_abs_reward_diff']:.3g} | "
                     f"{r['query_only_boundary']} / {r['with_prompts_boundary']}")
    lines.append(f"all | {q:.2f} | {w:.2f} | {result['ratio']:.3f} | | {result['max_abs_reward_diff']:.3g} |")
    lines.append(f"server: {result['server']}; shapes sent {result['mode']}ly")
    lines.append(f"CPU: {result['cpu']} ({result['cores']} cores); load {result['loadavg_start']} -> {result['loadavg_end']}")
    print("\n".join(lines))
    path = os.path.join(REPO, "bench/results", "query-only-" + result["date"].replace(":", "") + ".json")
    with open(path, "w") as f:
        json.dump(result, f, indent=1)
    print(f"[query-only] wrote {os.path.relpath(path, REPO)}")


if __name__ == "__main__":
    sys.exit(main())
