#!/usr/bin/env python3
"""Golden rewards from transformers, the reference implementation, for the tiny reward models.

Usage (in the venv of scripts/rm/venv.sh):
  python scripts/rm/reference_scores.py MODELS_DIR --out scripts/rm/goldens.json
  python scripts/rm/reference_scores.py MODELS_DIR --compare scripts/rm/goldens.json   (`make parity`)
MODELS_DIR is what make_tiny_rms.py wrote. Every model runs in fp32 with attn_implementation="eager".

Case kinds, per model:
  get_reward   a chat rendered with the model's template, messages + the assistant response:
               query = apply_chat_template(..., tokenize=False), prompt = the render of the messages with
               the generation prompt (the query up to and including the assistant header). 3 short, 2 long
               (>= 4096 tokens). Golden: the model's own forward, .logits (pooled at the last non-pad token).
  pairwise     one shared context (messages), 2 responses; golden per response as above.
  best_of_n    one shared context, 4 responses.
  step_rewards (models with a step separator) responses with the separator after each step; golden:
               model.score(model.model(ids).last_hidden_state) at every separator position, and the
               response's reward as above.
Rewards are K-vectors (all labels); the scalar reward is label 0. Token ids of every input are recorded.
"""
from __future__ import annotations

import argparse
import datetime
import json
import re
import sys
from pathlib import Path

import torch
import transformers

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus  # noqa: E402
import goldens  # noqa: E402

LONG_TOKENS = 4200  # long cases: at least 4096 tokens

QUESTIONS = [
    "What is the capital of France?",
    "Summarise the text above in one sentence.",
    "Which answer is better, and why?",
]
RESPONSES = [
    "The capital of France is Paris.",
    "Paris.",
    "I think it is London, but I am not sure.",
    "The answer is Berlin, a city in France.",
]


def chat_template_ids(tok, messages, **kw) -> list[int]:
    out = tok.apply_chat_template(messages, tokenize=True, **kw)
    if isinstance(out, dict) or hasattr(out, "keys"):
        out = out["input_ids"]
    return [int(x) for x in out]


def render(tok, messages, **kw) -> str:
    return tok.apply_chat_template(messages, tokenize=False, **kw)


def system_allowed(family: str) -> bool:
    return family not in ("gemma2", "mistral")


def long_context(tok, seed: int, target: int) -> str:
    paragraphs = 8
    while True:
        text = corpus.text(seed, paragraphs)
        if len(tok.encode(text, add_special_tokens=False)) >= target:
            return text
        paragraphs += 8


def conversations(family: str, tok) -> list[dict]:
    """(kind, messages, responses) for every case of one model."""
    sys_msg = [{"role": "system", "content": "You are a helpful assistant."}] if system_allowed(family) else []
    short = [
        sys_msg + [{"role": "user", "content": QUESTIONS[0]}],
        [{"role": "user", "content": corpus.text(11, 1)}, {"role": "assistant", "content": corpus.text(12, 1, 2)},
         {"role": "user", "content": QUESTIONS[1]}],
        sys_msg + [{"role": "user", "content": corpus.text(13, 2) + "\n\n" + QUESTIONS[2]}],
    ]
    long_msgs = [
        [{"role": "user", "content": long_context(tok, 21, LONG_TOKENS) + "\n\n" + QUESTIONS[1]}],
        sys_msg + [{"role": "user", "content": long_context(tok, 22, LONG_TOKENS) + "\n\n" + QUESTIONS[0]}],
    ]
    cases = []
    for i, m in enumerate(short):
        cases.append(dict(kind="get_reward", name=f"short-{i}", messages=m, responses=[RESPONSES[i]]))
    for i, m in enumerate(long_msgs):
        cases.append(dict(kind="get_reward", name=f"long-{i}", messages=m, responses=[RESPONSES[(i + 1) % 4]]))
    cases.append(dict(kind="pairwise", name="short", messages=short[0], responses=RESPONSES[:2]))
    cases.append(dict(kind="pairwise", name="long", messages=long_msgs[0], responses=RESPONSES[1:3]))
    cases.append(dict(kind="best_of_n", name="short", messages=short[2], responses=RESPONSES))
    cases.append(dict(kind="best_of_n", name="long", messages=long_msgs[1], responses=RESPONSES))
    return cases


def step_cases(sep: str, tok) -> list[dict]:
    question = "Natalia sold 48 clips in April and half as many in May. How many clips did she sell in all?"
    steps_a = ["Step 1: In May she sold 48 / 2 = 24 clips.", "Step 2: In all she sold 48 + 24 = 72 clips.",
               "The answer is 72."]
    steps_b = ["Step 1: In May she sold 48 * 2 = 96 clips.", "Step 2: In all she sold 96 + 48 = 144 clips.",
               "The answer is 144."]
    as_response = lambda steps: "".join(s + sep for s in steps)  # noqa: E731
    msgs = [{"role": "system", "content": "Please reason step by step."}, {"role": "user", "content": question}]
    long_msgs = [{"role": "user", "content": long_context(tok, 31, LONG_TOKENS) + "\n\n" + question}]
    return [dict(kind="step_rewards", name="short", messages=msgs,
                 responses=[as_response(steps_a), as_response(steps_b)]),
            dict(kind="step_rewards", name="long", messages=long_msgs, responses=[as_response(steps_a)])]


@torch.no_grad()
def score(model, ids: list[int]) -> list[float]:
    logits = model(input_ids=torch.tensor([ids])).logits[0]
    return [float(x) for x in logits]


@torch.no_grad()
def step_scores(model, ids: list[int], sep_id: int) -> tuple[list[int], list[list[float]]]:
    hidden = model.model(input_ids=torch.tensor([ids])).last_hidden_state[0]
    rows = [i for i, t in enumerate(ids) if t == sep_id]
    return rows, [[float(x) for x in model.score(hidden[i])] for i in rows]


def model_goldens(model_dir: Path, manifest_entry: dict) -> dict:
    family = model_dir.name
    tok = transformers.AutoTokenizer.from_pretrained(str(model_dir))
    model = transformers.AutoModelForSequenceClassification.from_pretrained(
        str(model_dir), dtype=torch.float32, attn_implementation="eager").eval()
    sep = manifest_entry.get("step_separator")
    cases = conversations(family, tok) + (step_cases(sep, tok) if sep else [])
    sep_id = tok.convert_tokens_to_ids(sep) if sep else None
    out_cases = []
    for case in cases:
        msgs = case["messages"]
        prompt = render(tok, msgs, add_generation_prompt=True)
        context_ids = chat_template_ids(tok, msgs, add_generation_prompt=True)
        entries = []
        for r in case["responses"]:
            full = msgs + [{"role": "assistant", "content": r}]
            query = render(tok, full)
            ids = chat_template_ids(tok, full)
            if tok(query, add_special_tokens=False)["input_ids"] != ids:
                raise SystemExit(f"{family}/{case['name']}: tokenizing the rendered text differs from "
                                 "apply_chat_template(tokenize=True)")
            if not query.startswith(prompt):
                raise SystemExit(f"{family}/{case['name']}: the full render does not extend the prompt render")
            # Stored as suffixes of the prompt (text and ids) to keep long contexts once per case;
            # goldens.py rebuilds the full query and token ids.
            entry = dict(response=r, query_suffix=query[len(prompt):], reward=score(model, ids))
            if ids[:len(context_ids)] == context_ids:
                entry["token_ids_suffix"] = ids[len(context_ids):]
            else:
                entry["token_ids"] = ids
            if case["kind"] == "step_rewards":
                entry["step_positions"], entry["step_rewards"] = step_scores(model, ids, sep_id)
            entry["n_tokens"] = len(ids)
            entries.append(entry)
        out_cases.append(dict(kind=case["kind"], name=case["name"], messages=msgs, prompt=prompt,
                              prompt_token_ids=context_ids, n_tokens=max(e["n_tokens"] for e in entries),
                              responses=entries))
        print(f"  {family:8s} {case['kind']:12s} {case['name']:8s} {out_cases[-1]['n_tokens']:5d} tokens",
              file=sys.stderr)
    return dict(architecture=manifest_entry["architecture"], labels=manifest_entry["labels"],
                step_separator=sep, step_separator_id=sep_id, pad_token_id=model.config.pad_token_id,
                files=manifest_entry["files"],
                cases=out_cases)


def dumps(obj) -> str:
    """Indented JSON with every list of numbers on one line (token ids would otherwise be one per line)."""
    text = json.dumps(obj, indent=1, ensure_ascii=False)
    return re.sub(r"\[\s*\n\s*(-?[0-9][0-9eE.+,\s-]*?)\s*\n\s*\]",
                  lambda m: "[" + ", ".join(x.strip() for x in m.group(1).split(",")) + "]", text)


def compare(new: dict, old: dict, rel_bound: float) -> int:
    bad = 0
    worst = 0.0
    for family, m in new["models"].items():
        if family not in old["models"]:
            print(f"{family}: missing from the committed goldens"); bad += 1; continue
        if m["files"] != old["models"][family]["files"]:
            print(f"{family}: the tiny checkpoint's files differ from the committed manifest (sha256)"); bad += 1
        for c_new, c_old in zip(m["cases"], old["models"][family]["cases"]):
            for r_new, r_old in zip(c_new["responses"], c_old["responses"]):
                if goldens.token_ids(c_new, r_new) != goldens.token_ids(c_old, r_old):
                    print(f"{family} {c_new['kind']} {c_new['name']}: token ids differ"); bad += 1
                pairs = list(zip(r_new["reward"], r_old["reward"]))
                for s_new, s_old in zip(r_new.get("step_rewards", []), r_old.get("step_rewards", [])):
                    pairs += list(zip(s_new, s_old))
                for a, b in pairs:
                    rel = abs(a - b) / max(1e-3, abs(b))
                    worst = max(worst, rel)
                    if rel > rel_bound:
                        print(f"{family} {c_new['kind']} {c_new['name']}: {a} vs committed {b}"); bad += 1
    print(f"reference vs committed goldens: max relative diff {worst:.3g} (bound {rel_bound:g}); "
          f"{'OK' if bad == 0 else f'{bad} mismatches'}")
    return 0 if bad == 0 else 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", type=Path)
    group = ap.add_mutually_exclusive_group(required=True)
    group.add_argument("--out", type=Path)
    group.add_argument("--compare", type=Path)
    ap.add_argument("--bound", type=float, default=1e-5, help="relative bound for --compare")
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    manifest = json.loads((args.models / "manifest.json").read_text())
    result = dict(
        command="python scripts/rm/make_tiny_rms.py DIR && python scripts/rm/reference_scores.py DIR "
                "--out scripts/rm/goldens.json",
        torch=torch.__version__, transformers=transformers.__version__,
        date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        dtype="float32", attn_implementation="eager", seed=manifest["seed"], models={})
    for family, entry in manifest["models"].items():
        result["models"][family] = model_goldens(args.models / family, entry)
    if args.compare:
        return compare(result, json.loads(args.compare.read_text()), args.bound)
    args.out.write_text(dumps(result) + "\n", encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
