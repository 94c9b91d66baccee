"""Shared pieces: tokenizer over llama-server, our judge layout rebuilt as tokens, concurrent clients, floor."""
import json
import os
import re
import subprocess
import threading
import time

from .http import Client

# Our judge layout (Sources/Scoring/PromptLayout.swift). Checked against the source at start-up so the peer
# always receives exactly the token sequence we decode.
JUDGE_INSTRUCTION = ("You are a careful judge. Read the context, then decide which response "
                     "answers the question correctly and is supported by the context.")


def check_layout(repo):
    src = open(os.path.join(repo, "Sources/Scoring/PromptLayout.swift")).read()
    joined = re.sub(r'"\s*\n\s*\+\s*"', "", src)
    needed = [JUDGE_INSTRUCTION, '"\\n\\nContext:\\n"', '.scaffold("Response A: ")', '.scaffold("\\n\\nResponse B: ")',
              '"\\n\\nWhich response is better, A or B?\\nAnswer:"', '.scaffold("Question: ")']
    missing = [n for n in needed if n not in joined]
    if missing:
        raise SystemExit(f"bench: PromptLayout.swift changed; update bench/lrbench/common.py (missing {missing})")


class Tokenizer:
    """llama_tokenize through llama-server: no added specials, no special-token parsing (as for user text)."""

    def __init__(self, port):
        self.client = Client(port)
        self.lock = threading.Lock()
        self.cache = {}
        with_bos = self._call("a", True)
        plain = self._call("a", False)
        self.start = with_bos[: len(with_bos) - len(plain)]
        spaced = {label: self(" " + label) for label in ("A", "B")}
        self.verdict = {label: (t[0] if len(t) == 1 else self(label)[0]) for label, t in spaced.items()}

    def _call(self, text, add_special):
        body = {"content": text, "add_special": add_special, "parse_special": False}
        with self.lock:
            return self.client.post("/tokenize", body)[0]["tokens"]

    def __call__(self, text):
        if text == "":
            return []
        if text not in self.cache:
            self.cache[text] = self._call(text, False)
        return self.cache[text]

    def judge_tokens(self, context, question, first, second):
        t = self
        prefix = t.start + t(JUDGE_INSTRUCTION + "\n\nContext:\n") + t(context) + t("\n\n")
        suffix = (t("Question: ") + t(question) + t("\n\n") + t("Response A: ") + t(first) + t("\n\nResponse B: ")
                  + t(second) + t("\n\nWhich response is better, A or B?\nAnswer:"))
        return prefix + suffix


def run_clients(port, jobs, clients):
    """Runs fn(client) for each job on `clients` threads with one keep-alive connection each.
    Returns (results in job order, wall seconds)."""
    results = [None] * len(jobs)
    errors = []
    next_job = [0]
    lock = threading.Lock()

    def worker():
        c = Client(port)
        try:
            while True:
                with lock:
                    i = next_job[0]
                    next_job[0] += 1
                if i >= len(jobs):
                    return
                try:
                    results[i] = jobs[i](c)
                except Exception as e:  # reported after the run; the workload is then marked failed
                    errors.append(f"job {i}: {e}")
        finally:
            c.close()

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - started
    if errors:
        raise RuntimeError("; ".join(errors[:3]))
    return results, wall


def floor(tools, model, sizes, threads=2, repack=False):
    """llama-bench prompt processing tok/s at each size (flash attention off, as both servers run). `repack`:
    llama.cpp's repacked weight layouts, llama-bench's default and off in our server unless --repack."""
    argv = [os.path.join(tools, "llama-bench"), "-m", model, "-t", str(threads), "-p", ",".join(map(str, sizes)),
            "-n", "0", "-r", "1", "-fa", "0", "--repack", "1" if repack else "0", "-o", "json"]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    rows = json.loads(out)
    return {int(r["n_prompt"]): float(r["avg_ts"]) for r in rows}, " ".join(argv[1:])


def load_note():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


class OursTokenCounter:
    """Counts tokens with our own tokenizer, at no compute cost: a server with a 32-token window refuses every
    request whose prompt alone is longer ("input needs N tokens"); content segments are tokenised separately,
    so N minus N for an empty context is the context's token count."""

    def __init__(self, port):
        self.client = Client(port)
        self.lock = threading.Lock()
        self.base = self._needed("")

    def _needed(self, text):
        with self.lock:
            status, body, _, _ = self.client.request("POST", "/v1/score", {"items": [{"context": text, "prompt": "? " * 40, "response": "x"}]})
        m = re.search(r"needs (\d+) tokens", json.dumps(body))
        if status != 400 or not m:
            raise RuntimeError(f"token counter: unexpected answer {status} {str(body)[:200]}")
        return int(m.group(1))

    def __call__(self, text):
        return [0] * (self._needed(text) - self.base)
