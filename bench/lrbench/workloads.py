"""The workloads of bench/run.sh. Each returns a row dict: ours/peer wall seconds, computed tokens, notes."""
import math
import subprocess

from . import inputs
from .common import run_clients
from .servers import metric


def _ours_computed(port, fn):
    before = metric(port, "longrm_tokens_computed_total")
    out = fn()
    return out, metric(port, "longrm_tokens_computed_total") - before


def _verdict_probs(completion, tok):
    """P(" A"), P(" B") from /completion's n_probs list (pre-sampling softmax over the whole vocabulary)."""
    entry = completion["completion_probabilities"][0]
    tops = entry.get("top_logprobs") or entry.get("top_probs") or entry.get("probs") or []
    found = {}
    for t in tops:
        p = math.exp(t["logprob"]) if "logprob" in t else t.get("prob", 0.0)
        found[t["id"]] = p
    return found.get(tok.verdict["A"]), found.get(tok.verdict["B"])


def peer_judge(client, tok, ctx, question, good, bad, n_probs=20):
    """Both orders, as our /v1/pairwise does. Returns (P(first better) swap-averaged or None, prompt tokens)."""
    ps, computed = [], 0
    for first, second in ((good, bad), (bad, good)):
        body = {"prompt": tok.judge_tokens(ctx.text, question, first, second), "n_predict": 1, "n_probs": n_probs,
                "cache_prompt": True, "temperature": 0}
        out, _ = client.post("/completion", body)
        computed += out.get("timings", {}).get("prompt_n", 0)
        pa, pb = _verdict_probs(out, tok)
        ps.append(None if pa is None or pb is None else (pa / (pa + pb), pb / (pa + pb)))
    if None in ps:
        return None, computed
    # ps[0][0]: P(A) with good as A; ps[1][1]: P(B) with good as B. Our rule for the pair: orders preferring
    # different responses are a tie (0.5), else the mean; without it a position-biased model's tie would be
    # compared with a swap average.
    if (ps[0][0] > 0.5) != (ps[1][1] > 0.5):
        return 0.5, computed
    return (ps[0][0] + ps[1][1]) / 2, computed


def judge(env, size, clients, order):
    """Pairwise judge with position swap on one fresh context: `clients` == 1: four pairs one after another;
    otherwise `clients` clients at once, each a different pair."""
    ctx = inputs.make_context(env.tok, size, f"judge-{clients}")
    pairs = [inputs.pair(ctx, k) for k in range(4 if clients == 1 else clients)]

    def ours():
        jobs = [lambda c, p=p: c.post("/v1/pairwise", {"context": ctx.text, "prompt": p[0], "responses": [p[1], p[2]],
                                                        "method": "judge"})[0] for p in pairs]
        return run_clients(env.ours_port, jobs, clients)

    def peer():
        jobs = [lambda c, p=p: peer_judge(c, env.tok, ctx, *p) for p in pairs]
        return run_clients(env.peer_port, jobs, clients)

    row = {"context_tokens": ctx.tokens, "clients": clients, "pairs": len(pairs)}
    for side in order:
        if side == "ours":
            (res, wall), computed = _ours_computed(env.ours_port, ours)
            row.update(ours_s=wall, ours_computed=computed, ours_probability=[r["probability"] for r in res],
                       ours_usage_computed=sum(r["usage"]["computed_tokens"] for r in res))
        else:
            (res, wall) = peer()
            row.update(peer_s=wall, peer_computed=sum(r[1] for r in res), peer_probability=[r[0] for r in res])
    diffs = [abs(a - b) for a, b in zip(row["ours_probability"], row["peer_probability"]) if b is not None]
    row["agreement_max_abs_diff"] = max(diffs) if diffs else None
    row["agreement_pairs"] = len(diffs)
    return row


def likelihood_bon(env, size, n=8):
    ctx = inputs.make_context(env.tok, size, "likelihood")
    question, responses = inputs.candidates(ctx, 0, n)
    body = {"context": ctx.text, "prompt": question, "responses": responses, "method": "likelihood"}
    ((res, wall), computed) = _ours_computed(env.ours_port, lambda: run_clients(env.ours_port, [lambda c: c.post("/v1/best-of-n", body)[0]], 1))
    return {"context_tokens": ctx.tokens, "n": n, "ours_s": wall, "ours_computed": computed,
            "ours_best_is_correct": res[0]["best"] == 0}


def rlhf(env, prompts=8, rollouts=8, clients=8, prompt_tokens=1024):
    """OpenRLHF-style: 64 /get_reward calls (one query each, `prompts` set), prompt-major order, 8 clients."""
    jobs = []
    for i in range(prompts):
        ctx = inputs.make_context(env.tok, prompt_tokens, f"rlhf-{i}")
        question, responses = inputs.candidates(ctx, 0, rollouts)
        prompt = f"Context:\n{ctx.text}\n\nQuestion: {question}\nAnswer:"
        for r in responses:
            jobs.append(lambda c, p=prompt, r=r: c.post("/get_reward", {"query": [p + " " + r], "prompts": [p]})[0])
    (res, wall), computed = _ours_computed(env.ours_port, lambda: run_clients(env.ours_port, jobs, clients))
    return {"calls": len(jobs), "clients": clients, "prompt_tokens": prompt_tokens, "ours_s": wall,
            "ours_computed": computed}


def _wrk(port):
    out = subprocess.run(["wrk", "-t2", "-c64", "-d10s", "--latency", f"http://127.0.0.1:{port}/health"],
                         capture_output=True, text=True, check=True).stdout
    rps = float(next(l.split()[1] for l in out.splitlines() if l.startswith("Requests/sec")))
    p99 = next(l.split()[1] for l in out.splitlines() if l.strip().startswith("99%"))
    non2xx = next((int(l.split()[-1]) for l in out.splitlines() if "Non-2xx" in l), 0)
    scale = {"us": 1e-6, "ms": 1e-3, "s": 1.0}
    unit = "us" if p99.endswith("us") else "ms" if p99.endswith("ms") else "s"
    return rps, float(p99[: -len(unit)]) * scale[unit], non2xx


def health(env):
    ours = _wrk(env.ours_port)
    peer = _wrk(env.peer_port)
    # Seconds per 1000 requests, so the row reads like the others (lower is better).
    return {"ours_s": 1000 / ours[0], "peer_s": 1000 / peer[0], "ours_rps": ours[0], "peer_rps": peer[0],
            "ours_p99_s": ours[1], "peer_p99_s": peer[1], "ours_non2xx": ours[2], "peer_non2xx": peer[2]}


def classifier_bon(env, size, n=8):
    """Ours /v1/best-of-n (classifier) vs llama-server /rerank, same texts; encoder: nothing can be shared."""
    ctx = inputs.make_context(env.tok, size, "classifier")
    question, responses = inputs.candidates(ctx, 0, n)
    body = {"context": ctx.text, "prompt": question, "responses": responses, "method": "classifier"}
    query = f"Context:\n{ctx.text}\n\nQuestion: {question}\nAnswer:"
    rerank = {"query": query, "documents": [" " + r for r in responses]}
    (res, wall), computed = _ours_computed(env.ours_port, lambda: run_clients(env.ours_port, [lambda c: c.post("/v1/best-of-n", body)[0]], 1))
    (pres, pwall) = run_clients(env.peer_port, [lambda c: c.post("/rerank", rerank)[0]], 1)
    peer_scores = [None] * n
    for r in pres[0]["results"]:
        peer_scores[r["index"]] = r["relevance_score"]
    ours_scores = res[0]["rewards"]
    row = {"context_tokens": ctx.tokens, "n": n, "ours_s": wall, "peer_s": pwall, "ours_computed": computed,
           "peer_computed": pres[0].get("usage", {}).get("prompt_tokens"),
           "bon_layout_max_abs_diff": max(abs(a - b) for a, b in zip(ours_scores, peer_scores)),
           "score_scale": max(abs(s) for s in peer_scores)}
    # Identical token sequences: /get_reward's raw layout is <bos> query response for this model, which is
    # what /rerank builds. llama-server is asked one document per call: llama.cpp 0.3.36 scores all but the
    # last gemma-embedding sequence of a micro-batch differently (we decode encoder sequences one per call).
    # What remains is llama-server's repacked weights (ours are not repacked).
    q = query
    got, _ = run_clients(env.ours_port, [lambda c: c.post("/get_reward", {"query": [q + " " + r for r in responses[:2]],
                                                                          "prompts": [q, q]})[0]], 1)
    want = [run_clients(env.peer_port, [lambda c, r=r: c.post("/rerank", {"query": q, "documents": [" " + r]})[0]], 1)[0][0]
            for r in responses[:2]]
    want_scores = [w["results"][0]["relevance_score"] for w in want]
    row["exact_layout_max_abs_diff"] = max(abs(a - b) for a, b in zip(got[0]["rewards"], want_scores))
    return row
