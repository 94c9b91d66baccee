"""schemathesis hooks for tests/api_schemathesis.sh.

openapi.json states every rule JSON Schema can express. A few documented rules relate two fields or depend on
the loaded model, and JSON Schema cannot state them:

- `normalize` must apply to the method (likelihood: mean/sum/lift; classifier: none/sigmoid; judge: none),
  where a missing method means the server's default;
- the method must be one the loaded model supports (the default model has no classifier head);
- /get_reward's `prompts` must have as many entries as `query`, and with the likelihood method a query needs its
  prompt part: `prompts[i]` as a prefix, or an assistant header (the hook starts each query with Gemma's);
- `step_rewards` needs the classifier of a model with a step separator (the default model has neither);
- `timeout_ms` is the client's own deadline: a schema-valid 1 ms deadline rightly ends in 504.
- the framework routes: `/classify` inputs need an assistant header with the likelihood method (as `/get_reward`
  queries do); vLLM's activation fields (`use_activation`, `activation`, `softmax`) must agree; `/score` pairs
  `text_1` with `text_2` 1:1, 1:N or N:N; `/rerank` takes exactly one of `documents` and `texts`, and each list's own
  flags only; `/v1/chat/completions` generates at most 4 tokens here (the default is the server's judge default,
  hundreds, and the cap is its configuration) and `top_logprobs` needs `logprobs`.
- the judge fields (`judge_template`, `judge_mode`, `max_new_tokens`, `return_text`) apply to method judge only;
  the templates a server offers and its `max_new_tokens` cap are its configuration, and a template must fit the
  endpoint (pair: 2 responses; /v1/score: critique).

For schema-valid (positive) cases only, this hook repairs those fields so that "valid data is accepted" tests
what it claims. It also keeps positive cases small (at most 4 items, responses, messages or queries, texts of at most 24
characters), so a run stays within minutes on 2 cores: a valid 4096-query /get_reward is legal but takes minutes
to score, and long inputs are the Swift tests' job (window, truncation). Clipping keeps every case valid: no
array goes below its minItems, no non-empty text becomes empty. Negative cases are left untouched. Tests/ServerTests/APIErrorTests.swift covers each of these errors.
"""
import json
import os
import urllib.request

import schemathesis
from schemathesis.generation.modes import GenerationMode

NORMALIZATIONS = {"likelihood": {"mean", "sum", "lift"}, "classifier": {"none", "sigmoid"}, "judge": {"none"}}
SCORING_PATHS = {"/v1/pairwise", "/v1/best-of-n", "/v1/score", "/v1/contexts"}
MOST_CANDIDATES = 4
LONGEST_TEXT = 24
TEXT_FIELDS = ("context", "prompt", "response")
JUDGE_FIELDS = ("judge_template", "judge_mode", "max_new_tokens", "return_text")
ASSISTANT_HEADER = "<start_of_turn>model\n"  # one of the headers /get_reward recognises (README, openapi.json)

_model = None


def _loaded_model():
    """Methods and default method of the server under test (GET /v1/models), fetched once."""
    global _model
    if _model is None:
        with urllib.request.urlopen(os.environ["LONGRM_TEST_BASE"] + "/v1/models", timeout=30) as response:
            entry = json.load(response)["data"][0]
        _model = (set(entry["methods"]), entry["default_method"])
    return _model


def _repair_options(body):
    methods, default = _loaded_model()
    method = body.get("method")
    if method is not None and method not in methods:
        body["method"] = method = default
    effective = method or default
    normalize = body.get("normalize")
    if normalize is not None and normalize not in NORMALIZATIONS.get(effective, set()):
        body["normalize"] = None
    if effective != "judge":
        for name in JUDGE_FIELDS:
            if name in body:
                body[name] = None
    else:
        body["judge_template"] = None  # the endpoint's default always fits
        if body.get("max_new_tokens") is not None:
            body["max_new_tokens"] = 4  # the cap is configuration; generation stays short
        if body.get("judge_mode") == "generate" and body.get("max_new_tokens") is None:
            body["max_new_tokens"] = 4
    if body.get("step_rewards"):
        body["step_rewards"] = None  # needs a classifier with a step separator: the model under test has neither
    timeout = body.get("timeout_ms")
    if isinstance(timeout, (int, float)) and not isinstance(timeout, bool):
        body["timeout_ms"] = 600000


def _clip(value):
    return value[:LONGEST_TEXT] if isinstance(value, str) else value


def _clip_prompt(fields):
    for name in TEXT_FIELDS:
        if name in fields:
            fields[name] = _clip(fields[name])
    if isinstance(fields.get("messages"), list):
        fields["messages"] = [
            {**m, "content": _clip(m.get("content"))} if isinstance(m, dict) else m for m in fields["messages"][:MOST_CANDIDATES]
        ]


def _prepare_pin(case):
    """Pins hold KV memory until they expire; past the test server's budget (`--cache-slots 16`: 14 pins) a valid
    pin is rightly refused with 507. Every pin case (any mode) therefore pins for one second, and a valid client
    deadline becomes a long one (a 1 ms `timeout_ms` rightly ends in 504). Invalid values stay invalid."""
    if not isinstance(case.body, dict):
        return
    body = dict(case.body)
    ttl = body.get("ttl_seconds", 1)
    if ttl is None or (isinstance(ttl, int) and not isinstance(ttl, bool) and 1 <= ttl <= 86_400):
        body["ttl_seconds"] = 1
    timeout = body.get("timeout_ms")
    if isinstance(timeout, int) and not isinstance(timeout, bool) and 1 <= timeout <= 86_400_000:
        body["timeout_ms"] = 600000
    case.body = body


@schemathesis.hook
def map_case(context, case):
    meta = case.meta
    if case.operation.path == "/v1/chat/completions" and isinstance(case.body, dict):
        # Every case, invalid ones and the documented example too: generation is seconds per token on a loaded
        # 2-core machine, so each case generates at most 4. A valid length stays valid, an invalid one invalid.
        body = dict(case.body)
        for name in ("max_tokens", "max_completion_tokens"):
            value = body.get(name)
            # Integral floats too (1e20 is a schema-valid integer): the server caps generation by configuration.
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 4 and value == int(value):
                body[name] = 4
        if body.get("max_tokens") is None and body.get("max_completion_tokens") is None:
            body["max_tokens"] = 4
        case.body = body
    if case.operation.path == "/v1/contexts" and case.operation.method.upper() == "POST":
        _prepare_pin(case)
    if meta is None or meta.generation.mode != GenerationMode.POSITIVE or not isinstance(case.body, dict):
        return case
    body = dict(case.body)
    path = case.operation.path
    if path in SCORING_PATHS:
        _repair_options(body)
        _clip_prompt(body)
        if isinstance(body.get("responses"), list):
            body["responses"] = [_clip(r) for r in body["responses"][:MOST_CANDIDATES]]
        if isinstance(body.get("items"), list):
            body["items"] = [dict(item) for item in body["items"][:MOST_CANDIDATES] if isinstance(item, dict)]
            for item in body["items"]:
                _clip_prompt(item)
    elif path == "/get_reward":
        query, prompts = body.get("query"), body.get("prompts")
        if isinstance(query, list):
            body["query"] = query = [_clip(q) for q in query[:MOST_CANDIDATES]]
            if _loaded_model()[1] == "likelihood":
                body["query"] = query = [ASSISTANT_HEADER + q for q in query]
            if isinstance(prompts, list):
                body["prompts"] = [_clip(p) for p in (prompts + [""] * len(query))[: len(query)]]
    elif path in ("/classify", "/v1/classify"):
        _agree_activation(body)
        header = ASSISTANT_HEADER if _loaded_model()[1] == "likelihood" else ""
        texts = body.get("input")
        if isinstance(texts, str):
            body["input"] = header + _clip(texts)
        elif isinstance(texts, list):
            body["input"] = [header + _clip(t) for t in texts[:MOST_CANDIDATES]]
    elif path == "/score":
        _agree_activation(body)
        first, second = _clip_texts(body.get("text_1")), _clip_texts(body.get("text_2"))
        count = len(second) if isinstance(second, list) else 1
        if isinstance(first, list) and len(first) > 1 and len(first) != count:
            first = first[0]
        body["text_1"], body["text_2"] = first, second
    elif path in ("/rerank", "/v1/rerank"):
        if isinstance(body.get("query"), str):
            body["query"] = _clip(body["query"])
        if body.get("documents") is not None and body.get("texts") is not None:
            body["texts"] = None
        if body.get("documents") is None and body.get("texts") is None:
            body["documents"] = ["a document"]
        if body.get("documents") is not None:
            body["documents"] = _clip_texts(body["documents"])
            body["return_text"] = body["raw_scores"] = None
            _agree_activation(body)
        else:
            body["texts"] = _clip_texts(body["texts"])
            body["return_documents"] = body["use_activation"] = body["activation"] = body["softmax"] = None
    elif path == "/v1/chat/completions":
        if isinstance(body.get("messages"), list):
            body["messages"] = [
                {**m, "content": _clip(m.get("content"))} if isinstance(m, dict) else m for m in body["messages"][:MOST_CANDIDATES]
            ]
        for name in ("max_tokens", "max_completion_tokens"):
            if isinstance(body.get(name), int) and not isinstance(body.get(name), bool):
                body[name] = min(body[name], 4)
        if body.get("max_tokens") is None and body.get("max_completion_tokens") is None:
            body["max_tokens"] = 4
        if body.get("top_logprobs") is not None:
            body["logprobs"] = True
    case.body = body
    return case


def _clip_texts(value):
    return [_clip(t) for t in value[:MOST_CANDIDATES]] if isinstance(value, list) else _clip(value)


def _agree_activation(body):
    """vLLM's three names of one switch: the first one sent decides the others."""
    names = ("use_activation", "activation", "softmax")
    chosen = next((body[n] for n in names if isinstance(body.get(n), bool)), None)
    for name in names:
        if body.get(name) is not None:
            body[name] = chosen
