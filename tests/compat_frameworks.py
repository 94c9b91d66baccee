"""Framework clients for tests/compat_frameworks.sh: each sends what its framework's source sends and asserts
real values against our own routes. Usage: compat_frameworks.py SECTION BASE_URL [HEAD_BASE_URL].

The clients are written from the frameworks' source (cited per client), not copied from it:
- OpenRLHF: openrlhf/utils/remote_rm_utils.py, request_api_wrapper / remote_rm_fn.
- verl: verl/experimental/reward_loop/reward_loop.py, RewardLoopWorker._post_request and compute_score_disrm.
- TRL: trl/trainer/grpo_trainer.py, GRPOTrainer._calculate_rewards (how a reward_funcs callable is called).
The verl custom reward function and the TRL reward function are the snippets of docs/INTEGRATIONS.md, run as
they are written there.
"""
import os
import pathlib
import re
import sys
import time

import requests

ROOT = pathlib.Path(__file__).resolve().parent.parent


def gemma(messages, answer=None):
    """The default model's chat template as transformers renders it (no BOS, as verl strips it)."""
    role = {"user": "user", "assistant": "model", "system": "user"}
    text = "".join(f"<start_of_turn>{role[m['role']]}\n{m['content']}<end_of_turn>\n" for m in messages)
    if answer is not None:
        text += f"<start_of_turn>model\n{answer}<end_of_turn>\n"
    return text


def post(base, path, body):
    reply = requests.post(base + path, json=body, timeout=600)
    assert reply.status_code == 200, f"{path}: {reply.status_code} {reply.text}"
    return reply.json()


def expect(condition, what):
    if not condition:
        raise AssertionError(what)
    print(f"    checked: {what.splitlines()[0][:150]}")


def snippet(name, base):
    """The python block of docs/INTEGRATIONS.md whose first line names `name`, as a module namespace, with
    LONGRM_URL (what the snippets read) set to `base`."""
    os.environ["LONGRM_URL"] = base
    doc = (ROOT / "docs" / "INTEGRATIONS.md").read_text()
    for block in re.findall(r"```python\n(.*?)```", doc, re.S):
        if block.startswith(f"# {name}"):
            namespace = {"__name__": name}
            exec(compile(block, f"docs/INTEGRATIONS.md:{name}", "exec"), namespace)
            return namespace
    raise AssertionError(f"docs/INTEGRATIONS.md has no python block starting with '# {name}'")


QUESTIONS = ["What is the capital of France?", "How many legs does a spider have?"]
ANSWERS = [["Paris.", "It is Lyon."], ["Eight.", "Six legs."]]


# --- OpenRLHF ---------------------------------------------------------------------------------------------


class OpenRLHFClient:
    """OpenRLHF's remote reward model client: POST {"query": [...]} with requests, Content-Type JSON, a 180 s
    timeout; any failure (connection, non-2xx, a body without the score key) is logged and retried, 5 tries
    1 s apart, then an exception. Records every attempt's status."""

    def __init__(self, url, score_key="rewards", tries=5, timeout=180, pause=1.0):
        self.url, self.score_key, self.tries, self.timeout, self.pause = url, score_key, tries, timeout, pause
        self.attempts = []

    def rewards(self, queries):
        for _ in range(self.tries):
            try:
                reply = requests.post(
                    self.url, json={"query": queries}, headers={"Content-Type": "application/json"},
                    timeout=self.timeout)
                self.attempts.append((time.monotonic(), reply.status_code))
                reply.raise_for_status()
                body = reply.json()
                assert self.score_key in body, f"{self.score_key} not in {body}"
                return body[self.score_key]
            except Exception as error:  # OpenRLHF logs and retries every kind of failure
                print(f"    (openrlhf client: {error})")
            time.sleep(self.pause)
        raise RuntimeError(f"no answer after {self.tries} tries")


def openrlhf(base, _head=None):
    client = OpenRLHFClient(base + "/get_reward")
    queries = [gemma([{"role": "user", "content": q}], a) for q, answers in zip(QUESTIONS, ANSWERS) for a in answers]
    rewards = client.rewards(queries)
    expect(len(rewards) == 4 and all(isinstance(r, float) for r in rewards), f"4 float rewards: {rewards}")
    expect(len(client.attempts) == 1 and client.attempts[0][1] == 200, "answered on the first try")
    prompts = [gemma([{"role": "user", "content": q}]) + "<start_of_turn>model\n" for q in QUESTIONS for _ in range(2)]
    split = post(base, "/get_reward", {"query": queries, "prompts": prompts})["rewards"]
    expect(rewards == split, f"split after the header = split by prompts: {rewards} vs {split}")
    classify = post(base, "/classify", {"input": queries, "activation": False})["data"]
    expect([d["probs"][-1] for d in classify] == rewards, "the same texts through vLLM's /classify agree")
    empty = OpenRLHFClient(base + "/get_reward")
    expect(empty.rewards([]) == [] and empty.attempts[0][1] == 200, "an empty batch is a 200, not a retry")
    bad = OpenRLHFClient(base + "/get_reward")
    started = time.monotonic()
    try:
        bad.rewards([queries[0], ""])
        raise AssertionError("an empty query must be refused")
    except RuntimeError:
        pass
    statuses = [status for _, status in bad.attempts]
    expect(statuses == [400] * 5, f"a bad query is a 400 each of the 5 tries, never a hang: {statuses}")
    expect(time.monotonic() - started < 60, "the 5 tries end in seconds, far below the 180 s timeout")


# --- verl ---------------------------------------------------------------------------------------------------


class VerlDisRMClient:
    """verl's reward loop calling a discriminative RM served by vLLM: POST {router}/classify with
    {"model": <rm path>, "input": <chat rendered by the RM's template, BOS stripped>, "activation": False};
    the reward is data[-1].probs[-1]. No retry on 4xx (raised at once); 5xx and connection errors are retried
    up to 16 times with backoff min(2**attempt, 30) s."""

    def __init__(self, base, model="/models/Skywork-Reward-Llama-3.1-8B", tries=16):
        self.base, self.model, self.tries = base, model, tries
        self.attempts = 0

    def _post(self, payload, endpoint):
        last = None
        for attempt in range(self.tries):
            self.attempts += 1
            try:
                reply = requests.post(f"{self.base}/{endpoint}", json=payload)  # aiohttp with total=None: no timeout
                reply.raise_for_status()
                return reply.json()
            except requests.HTTPError as error:
                if 400 <= error.response.status_code < 500:
                    raise
                last = error
            except requests.RequestException as error:
                last = error
            if attempt < self.tries - 1:
                time.sleep(min(2**attempt, 30))
        raise last

    def score(self, chat, rollout):
        text = gemma(chat, rollout)
        output = self._post({"model": self.model, "input": text, "activation": False}, "classify")
        return output["data"][-1]["probs"][-1]


def verl(base, head_base=None):
    client = VerlDisRMClient(base)
    chats = [[{"role": "user", "content": q}] for q in QUESTIONS]
    scores = [client.score(chat, a) for chat, answers in zip(chats, ANSWERS) for a in answers]
    texts = [gemma(chat, a) for chat, answers in zip(chats, ANSWERS) for a in answers]
    expected = post(base, "/get_reward", {"query": texts})["rewards"]
    expect(scores == expected, f"data[-1].probs[-1] is /get_reward's reward: {scores} vs {expected}")
    expect(client.attempts == 4, "one request per rollout, no retry")
    refused = VerlDisRMClient(base)
    try:
        refused._post({"model": "m", "input": "text without an assistant header", "activation": False}, "classify")
        raise AssertionError("a text without a header must be refused with the likelihood method")
    except requests.HTTPError as error:
        body = error.response.json()
        expect(error.response.status_code == 400 and refused.attempts == 1, "a 4xx is raised at once, not retried")
        expect(body["object"] == "error" and body["param"] == "input" + "[0]" and body["code"] == 400,
               f"the body has vLLM's error fields: {body}")
    custom = snippet("longrm_verl.py", base)["compute_score"]
    mine = [custom("gsm8k", a, "x", extra_info={"messages": chats[0]}) for a in ANSWERS[0]]
    best = post(base, "/v1/best-of-n", {"messages": chats[0], "responses": ANSWERS[0]})["rewards"]
    expect(mine == best, f"the custom reward function gives /v1/best-of-n's rewards: {mine} vs {best}")
    if head_base is None:
        return
    head = VerlDisRMClient(head_base)
    labelled = ["the east wing holds the maritime collection", "the west wing holds the paintings"]
    last = [head._post({"model": "rm", "input": t, "activation": False}, "classify")["data"][-1]["probs"] for t in labelled]
    batch = post(head_base, "/v1/classify", {"input": labelled, "activation": False})["data"]
    expect([d["probs"] for d in batch] == last and all(d["num_classes"] == 3 for d in batch),
           "a 3-label head: every label raw, one text or a list alike")
    rewards = post(head_base, "/get_reward", {"query": labelled})["rewards"]
    expect([p[0] for p in last] == rewards, "the reward label (first) is /get_reward's reward; verl reads the last")
    soft = post(head_base, "/classify", {"input": labelled})["data"]
    expect(all(abs(sum(d["probs"]) - 1) < 1e-9 for d in soft), "without activation: false, the labels are softmaxed")


# --- TRL ----------------------------------------------------------------------------------------------------


def trl(base, _head=None):
    reward = snippet("longrm_trl.py", base)["longrm_reward"]
    prompts = [q for q in QUESTIONS for _ in range(2)]
    completions = [a for answers in ANSWERS for a in answers]
    # GRPOTrainer's call: keyword arguments, completion ids, and every other dataset column as a list.
    got = reward(prompts=prompts, completions=completions, completion_ids=[[1, 2]] * 4, answer=["x"] * 4,
                 trainer_state=None)
    expect(isinstance(got, list) and len(got) == 4 and all(isinstance(r, float) for r in got), f"4 floats: {got}")
    pairs = post(base, "/score", {"text_1": prompts, "text_2": completions})["data"]
    expect(got == [d["score"] for d in pairs], f"standard format = vLLM /score of the same pairs: {got}")
    chat_prompts = [[{"role": "user", "content": QUESTIONS[0]}]] * 2
    chat_completions = [[{"role": "assistant", "content": a}] for a in ANSWERS[0]]
    chat = reward(prompts=chat_prompts, completions=chat_completions, completion_ids=[[1]] * 2)
    best = post(base, "/v1/best-of-n", {"messages": chat_prompts[0], "responses": ANSWERS[0]})["rewards"]
    expect(chat == best, f"conversational format = /v1/best-of-n with the messages: {chat} vs {best}")


# --- OpenAI-style judge (verl's generative reward path) -------------------------------------------------------


def openai(base, _head=None):
    """A chat completion as OpenAI clients send it (what verl's GenRM reward functions post through their router):
    model, messages, max_tokens, temperature 0, stream false; the verdict read from choices[0].message.content."""
    payload = {"model": "judge", "messages": [{"role": "user", "content": "Is Paris the capital of France? Answer yes or no."}],
               "max_tokens": 4, "temperature": 0, "stream": False, "logprobs": True, "top_logprobs": 2}
    first, second = post(base, "/v1/chat/completions", payload), post(base, "/v1/chat/completions", payload)
    choice = first["choices"][0]
    expect(first["object"] == "chat.completion" and choice["message"]["role"] == "assistant",
           f"OpenAI's shape: {choice['message']}")
    expect(isinstance(choice["message"]["content"], str) and choice["finish_reason"] in ("stop", "length"),
           f"content and finish_reason: {choice['finish_reason']}")
    tokens = choice["logprobs"]["content"]
    expect(len(tokens) == first["usage"]["completion_tokens"] <= 4, "one logprob entry per generated token, at most max_tokens")
    expect(all(t["logprob"] == t["top_logprobs"][0]["logprob"] for t in tokens), "greedy: each token is the most likely")
    expect(second["choices"][0]["message"]["content"] == choice["message"]["content"], "temperature 0: the same text twice")
    refused = requests.post(base + "/v1/chat/completions", json={**payload, "temperature": 0.7}, timeout=60)
    body = refused.json()
    expect(refused.status_code == 400 and body["error"]["message"] and body["param"] == "temperature",
           "sampling is refused with OpenAI's error.message and vLLM's param")


if __name__ == "__main__":
    section, base = sys.argv[1], sys.argv[2]
    head = sys.argv[3] if len(sys.argv) > 3 else None
    {"openrlhf": openrlhf, "verl": verl, "trl": trl, "openai": openai}[section](base, head)
