#!/usr/bin/env python3
"""Hold a running `longrm serve --model X.gguf` to the transformers goldens of one tiny reward model.

Usage:
  parity_check.py --url http://127.0.0.1:PORT --goldens scripts/rm/goldens.json --model NAME --outtype T
                  [--bound B] [--abs-bound A] [--json OUT.json]
NAME is a model of the goldens (llama, qwen2, qwen3, gemma2, mistral). Every case goes over HTTP with
`requests`, prefix sharing on as the server runs it:
  get_reward   POST /get_reward {"query": [...], "prompts": [...]}   rewards = the scalar label (label 0)
  pairwise     POST /v1/pairwise  {"messages", "responses", "method": "classifier"}
  best_of_n    POST /v1/best-of-n {"messages", "responses", "method": "classifier"}
  step_rewards POST /v1/best-of-n {..., "step_rewards": true}: `step_rewards`, one array per response
K labels: `labels` (names) and `reward_vectors` (one K-vector per response) are checked too.
Prints a table (arch, outtype, case kind, max |diff|, max relative diff = |diff| / max(1e-3, |golden|)) and
exits 1 when a value exceeds the bound: relative diff > B unless |diff| <= A (A: 0 by default), or when a
response is malformed. Exit 2: the server could not be reached.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
import goldens  # noqa: E402

TIMEOUT_S = 600


class Tally:
    """Worst differences per case kind, and the failures."""

    def __init__(self, bound: float, abs_bound: float):
        self.bound, self.abs_bound = bound, abs_bound
        self.rows: dict[str, list] = {}
        self.failures: list[str] = []

    def add(self, kind: str, where: str, got, golden) -> None:
        row = self.rows.setdefault(kind, [0, 0.0, 0.0])
        if not isinstance(got, (int, float)) or isinstance(got, bool):
            self.failures.append(f"{where}: not a number: {got!r}")
            return
        diff = abs(float(got) - golden)
        rel = diff / max(1e-3, abs(golden))
        row[0] += 1
        row[1] = max(row[1], diff)
        row[2] = max(row[2], rel)
        if rel > self.bound and diff > self.abs_bound:
            self.failures.append(f"{where}: got {got:.6g}, golden {golden:.6g} (|diff| {diff:.3g}, rel {rel:.3g})")

    def vector(self, kind: str, where: str, got, golden: list[float]) -> None:
        if not isinstance(got, list) or len(got) != len(golden):
            self.failures.append(f"{where}: expected {len(golden)} values, got {got!r}")
            return
        for i, (g, gold) in enumerate(zip(got, golden)):
            self.add(kind, f"{where}[{i}]", g, gold)

    def fail(self, message: str) -> None:
        self.failures.append(message)


def post(url: str, path: str, body: dict) -> dict:
    r = requests.post(url + path, json=body, timeout=TIMEOUT_S)
    if r.status_code != 200:
        raise ValueError(f"POST {path}: HTTP {r.status_code}: {r.text[:300]}")
    return r.json()


def check_labelled(t: Tally, kind: str, where: str, reply: dict, case: dict, labels: list[str]) -> None:
    """rewards = label 0 of every response; with K > 1 labels, `labels` and `reward_vectors` too."""
    want = [r["reward"] for r in case["responses"]]
    t.vector(kind, f"{where} rewards", reply.get("rewards"), [w[0] for w in want])
    if len(labels) > 1:
        if reply.get("labels") != labels:
            t.fail(f"{where}: labels {reply.get('labels')!r}, expected {labels!r}")
        vectors = reply.get("reward_vectors")
        if not isinstance(vectors, list) or len(vectors) != len(want):
            t.fail(f"{where}: reward_vectors {vectors!r}")
        else:
            for i, (v, w) in enumerate(zip(vectors, want)):
                t.vector(kind + " (vector)", f"{where} reward_vectors[{i}]", v, w)


def run_case(t: Tally, url: str, model: dict, case: dict) -> None:
    kind, where = case["kind"], f"{case['kind']} {case['name']}"
    labels = model["labels"]
    try:
        if kind == "get_reward":
            queries = [goldens.query(case, r) for r in case["responses"]]
            reply = post(url, "/get_reward", {"query": queries, "prompts": [case["prompt"]] * len(queries)})
            t.vector(kind, f"{where} rewards", reply.get("rewards"), [r["reward"][0] for r in case["responses"]])
        elif kind in ("pairwise", "best_of_n"):
            path = "/v1/pairwise" if kind == "pairwise" else "/v1/best-of-n"
            body = {"messages": case["messages"], "responses": [r["response"] for r in case["responses"]],
                    "method": "classifier"}
            check_labelled(t, kind, where, post(url, path, body), case, labels)
        elif kind == "step_rewards":
            if len(case["responses"]) < 2:
                # best-of-n takes 2 or more responses: the same one twice, held to the same goldens
                case = dict(case, responses=case["responses"] * 2)
            body = {"messages": case["messages"], "responses": [r["response"] for r in case["responses"]],
                    "method": "classifier", "step_rewards": True}
            reply = post(url, "/v1/best-of-n", body)
            check_labelled(t, kind, where, reply, case, labels)
            steps = reply.get("step_rewards")
            if not isinstance(steps, list) or len(steps) != len(case["responses"]):
                t.fail(f"{where}: step_rewards {steps!r}")
            else:
                for i, (got, r) in enumerate(zip(steps, case["responses"])):
                    t.vector(kind + " (steps)", f"{where} step_rewards[{i}]", got, [s[0] for s in r["step_rewards"]])
        else:
            t.fail(f"{where}: unknown case kind")
    except (ValueError, requests.RequestException) as e:
        t.fail(f"{where}: {e}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", required=True)
    ap.add_argument("--goldens", type=Path, required=True)
    ap.add_argument("--model", required=True, help="model name in the goldens (llama, qwen2, ...)")
    ap.add_argument("--outtype", required=True, help="for the table: f32, f16, q8_0 or q4_k_m")
    ap.add_argument("--bound", type=float, default=1e-3, help="largest relative difference allowed")
    ap.add_argument("--abs-bound", type=float, default=0.0, help="differences up to this pass whatever their ratio")
    ap.add_argument("--json", type=Path, default=None, help="also write the table's figures here")
    ap.add_argument("--header", action="store_true", help="print the table header")
    args = ap.parse_args()
    url = args.url.rstrip("/")
    data = json.loads(args.goldens.read_text(encoding="utf-8"))
    if args.model not in data["models"]:
        print(f"parity_check: no model {args.model!r} in {args.goldens}", file=sys.stderr)
        return 2
    model = data["models"][args.model]
    try:
        requests.get(url + "/ready", timeout=10).raise_for_status()
    except requests.RequestException as e:
        print(f"parity_check: {url} is not ready: {e}", file=sys.stderr)
        return 2
    tally = Tally(args.bound, args.abs_bound)
    # The server must hold the converted model: its head's labels, as classifier_labels.
    try:
        served = requests.get(url + "/v1/models", timeout=30).json()["data"][0]
        if served.get("classifier_labels") != model["labels"]:
            tally.fail(f"/v1/models lists labels {served.get('classifier_labels')!r}, expected {model['labels']!r} "
                       f"(is {served.get('id')!r} the converted {args.model}?)")
    except (requests.RequestException, ValueError, KeyError, IndexError) as e:
        tally.fail(f"/v1/models: {e}")
    for case in model["cases"]:
        run_case(tally, url, model, case)
    if args.header:
        print("| arch | outtype | case kind | values | max abs diff | max rel diff |")
        print("|---|---|---|---|---|---|")
    for kind, (n, diff, rel) in tally.rows.items():
        print(f"| {args.model} | {args.outtype} | {kind} | {n} | {diff:.3g} | {rel:.3g} |")
    if args.json:
        args.json.write_text(json.dumps({"model": args.model, "outtype": args.outtype, "bound": args.bound,
                                         "abs_bound": args.abs_bound, "failures": tally.failures,
                                         "kinds": {k: dict(values=v[0], max_abs=v[1], max_rel=v[2])
                                                   for k, v in tally.rows.items()}}, indent=1))
    for f in tally.failures[:20]:
        print(f"  FAIL {args.model} {args.outtype} {f}", file=sys.stderr)
    if len(tally.failures) > 20:
        print(f"  ... {len(tally.failures) - 20} more", file=sys.stderr)
    return 1 if tally.failures else 0


if __name__ == "__main__":
    sys.exit(main())
