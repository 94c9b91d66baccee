"""Issue 14 measurements: judge generation throughput against llama-server /completion, and probability
mode against generation mode, on the same pairs. One run, both servers on loopback, the same GGUF.

(a) Generation: each pair is judged with the `pair` template in both orders, greedy, at most N new tokens.
    Ours: POST /v1/pairwise {"method":"judge","judge_mode":"generate"} (both orders in one request; the
    context is computed once; concurrent requests share decode steps). Peer: the same two prompt token
    sequences (our layout rebuilt token by token via llama-server's /tokenize) as two /completion calls,
    temperature 0, the same n_predict. Generated tokens / wall seconds, at 1 and 8 clients, fresh contexts
    for every row (no cross-row cache hits), plus how many generated texts are identical between the two.
(b) Probability vs generation: the same pairs through ours in probability mode and generation mode: time,
    and whether they prefer the same response.
"""
import argparse
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
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--tools", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--context", type=int, default=2048)
    ap.add_argument("--pairs", type=int, default=8)
    ap.add_argument("--new-tokens", type=int, default=64)
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
    mine = ours(args.binary, args.model, our_port, window, os.path.join(args.work, "judge-ours.log"), threads=args.threads,
                extra=("--judge-max-new-tokens", str(max(2048, args.new_tokens))))
    other = None if args.no_peer else peer(args.tools, args.model, peer_port, window, os.path.join(args.work, "judge-peer.log"),
                                           threads=args.threads)
    rows, agreement = [], {}
    try:
        mine.start()
        if other is not None:
            other.start()
        t = Tokenizer(peer_port) if other is not None else (lambda text: [0] * int(len(text.split()) * 1.3))

        def pairs_for(seed):
            out = []
            for k in range(args.pairs):
                ctx = make_context(t, args.context, seed * 1000 + k)
                q, good, bad = pair(ctx, k)
                out.append((ctx.text, q, good, bad))
            return out

        def ours_job(p, mode):
            body = {"context": p[0], "prompt": p[1], "responses": [p[2], p[3]], "method": "judge",
                    "judge_template": "pair", "judge_mode": mode}
            if mode == "generate":
                body.update({"max_new_tokens": args.new_tokens, "return_text": True})
            return lambda c: c.post("/v1/pairwise", body)[0]

        def peer_job(p):
            prompts = [judge_tokens(t, system, p[0], p[1], p[2], p[3]), judge_tokens(t, system, p[0], p[1], p[3], p[2])]

            def run(c):
                out = []
                for prompt in prompts:
                    r, _ = c.post("/completion", {"prompt": prompt, "n_predict": args.new_tokens, "temperature": 0,
                                                  "top_k": 1, "cache_prompt": True})
                    out.append((r["content"], r["tokens_predicted"]))
                return out
            return run

        seed = 1
        for clients in (1, 8):
            for name in ("longrm",) if other is None else ("longrm", "llama-server"):
                seed += 1
                pairs = pairs_for(seed)
                jobs = [ours_job(p, "generate") for p in pairs] if name == "longrm" else [peer_job(p) for p in pairs]
                load = load_note()
                results, wall = run_clients(our_port if name == "longrm" else peer_port, jobs, clients)
                if name == "longrm":
                    generated = sum(v.get("generated_tokens", 0) for r in results for v in r["judge"]["verdicts"])
                    texts = [v.get("text", "") for r in results for v in r["judge"]["verdicts"]]
                else:
                    generated = sum(n for r in results for _, n in r)
                    texts = [text for r in results for text, _ in r]
                rows.append({"workload": f"generate {args.pairs} pairs x 2 orders, {args.context}-token contexts, n_predict {args.new_tokens}",
                             "server": name, "clients": clients, "wall_s": round(wall, 2), "generated_tokens": generated,
                             "generated_tok_s": round(generated / wall, 1), "requests_per_s": round(len(pairs) / wall, 3),
                             "load": load, "texts": texts, "seed": seed})
        if other is not None:
            # Same prompts on both servers: rerun the 1-client peer seed on ours to compare texts one to one.
            same = pairs_for(rows[1]["seed"])
            ours_again, _ = run_clients(our_port, [ours_job(p, "generate") for p in same], 1)
            ours_texts = [v.get("text", "") for r in ours_again for v in r["judge"]["verdicts"]]
            agreement["identical_texts"] = sum(a == b for a, b in zip(ours_texts, rows[1]["texts"]))
            agreement["texts"] = len(ours_texts)

        # (b) probability vs generation on the same (fresh) pairs, 1 client.
        seed += 1
        fresh = pairs_for(seed)
        prob, prob_wall = run_clients(our_port, [ours_job(p, "probability") for p in fresh], 1)
        seed += 1
        fresh2 = pairs_for(seed)  # new contexts: no cache hit from the probability run
        gen, gen_wall = run_clients(our_port, [ours_job(p, "generate") for p in fresh2], 1)
        # Agreement needs the same pairs: run generation on `fresh` too (now cached, so not timed).
        gen_same, _ = run_clients(our_port, [ours_job(p, "generate") for p in fresh], 1)
        agree = sum(a["preferred"] == b["preferred"] and (a["consistent"] and b["consistent"]) for a, b in zip(prob, gen_same))
        both_consistent = sum(bool(a["consistent"]) and bool(b["consistent"]) for a, b in zip(prob, gen_same))
        readable = sum(v["verdict"] is not None for r in gen_same for v in r["judge"]["verdicts"])
        correct = {"probability": sum(r["preferred"] == 0 and r["consistent"] for r in prob),
                   "generate": sum(r["preferred"] == 0 and r["consistent"] for r in gen_same)}
        agreement.update({"pairs": len(fresh), "probability_wall_s": round(prob_wall, 2), "generate_wall_s": round(gen_wall, 2),
                          "both_consistent": both_consistent, "agree_when_both_consistent": agree,
                          "readable_generated_verdicts": readable, "correct": correct})
    finally:
        mine.stop()
        if other is not None:
            other.stop()
    for r in rows:
        r.pop("texts", None)
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    report = {"cpu": cpu, "threads": args.threads, "load_at_end": load_note(), "model": os.path.basename(args.model), "rows": rows, "agreement": agreement}
    stamp = time.strftime("%Y-%m-%dT%H%M%SZ", time.gmtime())
    out = os.path.join(repo, "bench/results", f"judge-{stamp}.json")
    with open(out, "w") as f:
        json.dump(report, f, indent=1)
    print(f"CPU: {cpu}; {args.threads} threads per server; model {report['model']}")
    print("| workload | server | clients | wall s | generated tokens | generated tok/s | load |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['workload']} | {r['server']} | {r['clients']} | {r['wall_s']} | {r['generated_tokens']} | {r['generated_tok_s']} | {r['load']} |")
    a = agreement
    if "texts" in a:
        print(f"\nidentical generated texts, ours vs llama-server (same prompts): {a['identical_texts']}/{a['texts']}")
    print(f"probability mode {a['probability_wall_s']} s vs generation {a['generate_wall_s']} s for {a['pairs']} pairs; "
          f"both consistent {a['both_consistent']}, agree {a['agree_when_both_consistent']}; "
          f"readable generated verdicts {a['readable_generated_verdicts']}/{2 * a['pairs']}; correct {a['correct']}")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
