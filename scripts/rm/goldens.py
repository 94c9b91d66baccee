"""Reading scripts/rm/goldens.json (standard library only): responses are stored as suffixes of their
case's prompt, so a long context is kept once per case."""
from __future__ import annotations


def query(case: dict, response: dict) -> str:
    """The full rendered text: messages + the assistant response, through the model's chat template."""
    return case["prompt"] + response["query_suffix"]


def token_ids(case: dict, response: dict) -> list[int]:
    """transformers' token ids of `query` (what its forward scored)."""
    if "token_ids" in response:
        return response["token_ids"]
    return case["prompt_token_ids"] + response["token_ids_suffix"]


def label0(values: list[float]) -> float:
    return values[0]
