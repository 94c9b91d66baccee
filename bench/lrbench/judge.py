"""Issue 14 measurements: judge generation throughput against llama-server /completion, and probability
mode against generation mode, on the same pairs. One run, both servers on loopback, the same GGUF.

(a) Generation: each pair is judged with the `pair` template in both orders, greedy, at most N new tokens.
    Ours: POST /v1/pairwise {"method":"judge","judge_mode":"generate"} (both orders in one request; the
    context is computed once; concurrent requests share decode steps). Peer: the same two prompt token
    sequences (our layout rebuilt token by token via llama-server's /tokenize) as two /completion calls,
    temperature 0, the same n_predict. One set of pairs, one context each: a cold pass (1 client; every
    context computed once, so prefill-bound), then warm passes at 1 and 8 clients (contexts cached on both
    servers: ours caches 2 x pairs + 1 streams and has 8 generation sequences, the peer 8 slots and
    --swa-full; before the 8-client pass every peer slot gets its pair's prompt and pair k is pinned to slot k,
    since llama-server would otherwise hand a busy slot's pair to another slot), which measure generation. --contexts C lets the pairs share C contexts (the RLHF case: many
    pairs on one long document), which keeps the cold pass affordable at 8K. Generated tokens / wall seconds, plus how many generated texts are identical between the two.
(b) Probability vs generation: the same pairs through ours in probability mode and generation mode, both
    warm: time, and whether they prefer the same response.
"""
import argparse
import signal
import sys
import json
import os
import platform
import re
import time

from .common import Tokenizer, load_note, run_clients
from .http import Client
from .inputs import make_context, pair
from .servers import ours, peer

# The built-in `pair` template (Sources/Scoring/JudgeTemplate.swift), checked against the source at start-up.
SYSTEM_START = "You are an impartial judge. You are given a context, a question about it and two answers"


def check_template(repo):
    src = open(os.path.join(repo, "Sources/Scoring/JudgeTemplate.swift")).read()
    if SYSTEM_START not in src.replace('"\n            + "', ""):
        raise SystemExit("bench: the pair template changed; update bench/lrbench/judge.py")


def system_text(repo):
    """The pair template's system text, read from the Swift source (concatenated string literals)."""
    src = open(os.path.join(repo, "Sources/Scoring/JudgeTemplate.swift")).read()
    start = src.index('name: "pair", kind: .pair,')
    body = src[src.index("system:", start):src.index("user:", start)]
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"', body)
    return "".join(parts).replace('\\"', '"').replace("\\\\", "\\")


def judge_tokens(t, system, context, question, first, second):
    """Our rendering for a model without a chat template (JudgeLayout.render's fallback), segment by segment."""
    segments = [
        "System: ", system, "\n\n", "User: ", "[Context]\n", context, "\n\n[Question]\n", question,
        "\n\n[The Start of Assistant A's Answer]\n", first,
        "\n[The End of Assistant A's Answer]\n\n[The Start of Assistant B's Answer]\n", second,
        "\n[The End of Assistant B's Answer]", "\n\n", "Assistant: ",
    ]
    tokens = list(t.start)
    for s in segments:
        tokens += t(s)
    return tokens


def main():
    # `timeout` and kill send SIGTERM: turn it into SystemExit so the `finally` blocks stop the servers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--tools", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--context", type=int, default=2048)
    ap.add_argument("--pairs", type=int, default=8)
    ap.add_argument("--new-tokens", type=int, default=64)
    ap.add_argument("--contexts", type=int, default=0, help="distinct contexts the pairs share (0: one per pair)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-peer", action="store_true",
                    help="ours only (no llama-server: contexts sized by a words x 1.3 estimate, no peer rows)")
    args = ap.parse_args()
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    check_template(repo)
    system = system_text(repo)
    os.makedirs(args.work, exist_ok=True)
    window = args.context + 1024
    our_port, peer_port = 18431, 18432
    # Both servers keep every pair's context: ours caches each pair's context and question levels (2 streams a
    # pair) and has 8 generation sequences; the peer has 8 slots and, with --swa-full, can reuse a slot's prompt
    # (Gemma 3's sliding-window cache otherwise makes llama-server recompute every prompt from the start).
    # So the warm passes below measure generation (and the responses' few tokens), not prefill.
    mine = ours(args.binary, args.model, our_port, window, os.path.join(args.work, "judge-ours.log"), threads=args.threads,
                extra=("--judge-max-new-tokens", str(max(2048, args.new_tokens)), "--cache-slots",
                       str(min(64, 2 * args.pairs + 1)), "--judge-sequences", "8"))
    other = None if args.no_peer else peer(args.tools, args.model, peer_port, window, os.path.join(args.work, "judge-peer.log"),
                                           threads=args.threads, extra=("--swa-full",))
    rows, agreement, texts = [], {}, {}
    try:
        mine.start()
        if other is not None:
            other.start()
        t = Tokenizer(peer_port) if other is not None else (lambda text: [0] * int(len(text.split()) * 1.3))
        pairs, contexts = [], [make_context(t, args.context, 1000 + c) for c in range(args.contexts or args.pairs)]
        for k in range(args.pairs):
            ctx = contexts[k % len(contexts)]
            q, good, bad = pair(ctx, k // len(contexts))
            pairs.append((ctx.text, q, good, bad))

        def ours_job(p, mode):
            body = {"context": p[0], "prompt": p[1], "responses": [p[2], p[3]], "method": "judge",
                    "judge_template": "pair", "judge_mode": mode}
            if mode == "generate":
                body.update({"max_new_tokens": args.new_tokens, "return_text": True})
            return lambda c: c.post("/v1/pairwise", body)[0]

        def peer_job(p, slot=None):
            prompts = [judge_tokens(t, system, p[0], p[1], p[2], p[3]), judge_tokens(t, system, p[0], p[1], p[3], p[2])]
            pin = {} if slot is None else {"id_slot": slot}

            def run(c):
                out = []
                for prompt in prompts:
                    r, _ = c.post("/completion", {"prompt": prompt, "n_predict": args.new_tokens, "temperature": 0,
                                                  "top_k": 1, "cache_prompt": True, **pin})
                    tm = r.get("timings", {})
                    out.append((r["content"], r["tokens_predicted"], tm.get("predicted_ms", 0), tm.get("prompt_n", 0)))
                return out
            return run

        def measure(name, phase, clients, pinned=False):
            jobs = ([ours_job(p, "generate") for p in pairs] if name == "longrm"
                    else [peer_job(p, k % PEER_SLOTS if pinned else None) for k, p in enumerate(pairs)])
            load = load_note()
            results, wall = run_clients(our_port if name == "longrm" else peer_port, jobs, clients)
            row = {"workload": f"generate {args.pairs} pairs x 2 orders, {args.contexts or args.pairs} contexts of "
                               f"{args.context} tokens, n_predict {args.new_tokens}",
                   "server": name, "phase": phase, "clients": clients, "wall_s": round(wall, 2), "load": load}
            if name == "longrm":
                verdicts = [v for r in results for v in r["judge"]["verdicts"]]
                row["generated_tokens"] = sum(v.get("generated_tokens", 0) for v in verdicts)
                # usage.computed_tokens counts every token run through the model: each generated token but the
                # last is decoded too, and is not prompt work.
                decoded = sum(max(0, v.get("generated_tokens", 0) - 1) for v in verdicts)
                row["prompt_tokens_computed"] = sum(r["usage"].get("computed_tokens", 0) for r in results) - decoded
                texts[(name, phase, clients)] = [v.get("text", "") for v in verdicts]
                row["verdicts"] = [v.get("verdict") for v in verdicts]
            else:
                outs = [o for r in results for o in r]
                row["generated_tokens"] = sum(o[1] for o in outs)
                row["prompt_tokens_computed"] = sum(o[3] for o in outs)
                # llama-server's own decode time summed over requests (concurrent requests overlap).
                row["peer_decode_ms_sum"] = round(sum(o[2] for o in outs), 1)
                texts[(name, phase, clients)] = [o[0] for o in outs]
            row["generated_tok_s"] = round(row["generated_tokens"] / wall, 2)
            row["pairs_per_s"] = round(len(pairs) / wall, 4)
            rows.append(row)
            print(f"  {name} {phase} {clients} client(s): {wall:.1f} s, {row['generated_tokens']} generated, "
                  f"{row['prompt_tokens_computed']} prompt tokens computed, load {load}", flush=True)

        names = ["longrm"] if other is None else ["longrm", "llama-server"]
        # Cold: every context computed once (prefill-bound). Then the warm passes: 1 client, the probability /
        # generation comparison, and 8 clients last (the peer's slots may not all hold the context yet, so its
        # 8-client pass can be long; everything before it is written even if the run is stopped there).
        for name in names:
            measure(name, "cold", 1)
        for name in names:
            measure(name, "warm", 1)
        if other is not None:
            a, b = texts[("longrm", "warm", 1)], texts[("llama-server", "warm", 1)]
            agreement["identical_texts"] = sum(x == y for x, y in zip(a, b))
            # Ours stops at the verdict ([[A]]), the peer only at n_predict or the end of text.
            agreement["ours_prefix_of_peer"] = sum(bool(x) and y.startswith(x) for x, y in zip(a, b))
            agreement["texts"] = len(a)
        # Probability mode on the same pairs, contexts cached like the warm generation pass.
        prob, prob_wall = run_clients(our_port, [ours_job(p, "probability") for p in pairs], 1)
        gen, gen_wall = run_clients(our_port, [ours_job(p, "generate") for p in pairs], 1)
        agree = sum(a["preferred"] == b["preferred"] and (a["consistent"] and b["consistent"]) for a, b in zip(prob, gen))
        both_consistent = sum(bool(a["consistent"]) and bool(b["consistent"]) for a, b in zip(prob, gen))
        readable = sum(v["verdict"] is not None for r in gen for v in r["judge"]["verdicts"])
        # Prompt by prompt (each order of each pair): the generated verdict against the most probable one.
        prompt_pairs = [(a, b) for pr, gr in zip(prob, gen) for a, b in zip(pr["judge"]["verdicts"], gr["judge"]["verdicts"])]
        same_verdict = sum(b["verdict"] is not None and a["verdict"] == b["verdict"] for a, b in prompt_pairs)
        correct = {"probability": sum(r["preferred"] == 0 and bool(r["consistent"]) for r in prob),
                   "generate": sum(r["preferred"] == 0 and bool(r["consistent"]) for r in gen)}
        agreement.update({"pairs": len(pairs), "probability_wall_s": round(prob_wall, 2), "generate_wall_s": round(gen_wall, 2),
                          "load": load_note(), "both_consistent": both_consistent, "agree_when_both_consistent": agree,
                          "readable_generated_verdicts": readable, "correct": correct,
                          "prompts": len(prompt_pairs), "same_verdict_per_prompt": same_verdict,
                          "same_preference": sum(a["preferred"] == b["preferred"] for a, b in zip(prob, gen))})
        if other is not None:
            # llama-server gives a request an idle slot, the most similar one only if it is free: 8 clients at
            # once land on slots without their context and recompute it. So every slot first gets its pair's
            # prompt (not timed), and the 8-client pass pins pair k to slot k: it measures generation, as ours.
            started = time.time()
            warm_slots(peer_port, [peer_job(p, k % PEER_SLOTS) for k, p in enumerate(pairs[:PEER_SLOTS])])
            agreement["peer_slot_warmup_s"] = round(time.time() - started, 1)
        for name in names:
            measure(name, "warm", 8, pinned=True)
    finally:
        mine.stop()
        if other is not None:
            other.stop()
        write_report(args, repo, rows, texts, agreement)


# llama-server's -np in servers.peer.
PEER_SLOTS = 8


def warm_slots(port, jobs):
    """Runs each slot's job once, one after another, so every slot holds its pair's prompt."""
    client = Client(port)
    try:
        for job in jobs:
            job(client)
    finally:
        client.close()


def write_report(args, repo, rows, texts, agreement):
    for (name, phase, clients), ts in texts.items():
        next(r for r in rows if (r["server"], r["phase"], r["clients"]) == (name, phase, clients))["texts"] = ts[:4]
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    report = {"cpu": cpu, "threads": args.threads, "context": args.context, "pairs": args.pairs, "contexts": args.contexts or args.pairs, "new_tokens": args.new_tokens, "load_at_end": load_note(), "model": os.path.basename(args.model), "rows": rows, "agreement": agreement}
    stamp = time.strftime("%Y-%m-%dT%H%M%SZ", time.gmtime())
    out = os.path.join(repo, "bench/results", f"judge-{stamp}.json")
    with open(out, "w") as f:
        json.dump(report, f, indent=1)
    print(f"CPU: {cpu}; {args.threads} threads per server; model {report['model']}")
    print(f"{args.pairs} pairs x 2 orders on {args.contexts or args.pairs} contexts of {args.context} tokens, "
          f"n_predict {args.new_tokens}")
    print("| server | phase | clients | wall s | generated tokens | generated tok/s | prompt tokens computed | load |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['server']} | {r['phase']} | {r['clients']} | {r['wall_s']} | {r['generated_tokens']} | {r['generated_tok_s']} | "
              f"{r['prompt_tokens_computed']} | {r['load']} |")
    a = agreement
    if "pairs" not in a:
        print(f"(stopped before the probability/generation comparison) wrote {out}")
        return
    if "texts" in a:
        print(f"\nidentical generated texts, ours vs llama-server (same prompts): {a['identical_texts']}/{a['texts']}; "
              f"ours a prefix of the peer's: {a['ours_prefix_of_peer']}/{a['texts']}")
    print(f"probability mode {a['probability_wall_s']} s vs generation {a['generate_wall_s']} s for {a['pairs']} pairs "
          f"(contexts cached, load {a['load']}); same preference {a['same_preference']}/{a['pairs']}; "
          f"both consistent {a['both_consistent']}, agree {a['agree_when_both_consistent']}; "
          f"readable generated verdicts {a['readable_generated_verdicts']}/{2 * a['pairs']}; "
          f"generated verdict = most probable verdict in {a['same_verdict_per_prompt']}/{a['prompts']} prompts; "
          f"correct {a['correct']}")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
