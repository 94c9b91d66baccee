#!/usr/bin/env python3
"""Make a random-weight GGUF with the KV geometry of an 8B model, for LongRM Serve's KV memory tests.

Pinned dependencies (PyPI only):  pip install gguf==0.19.0 numpy==2.4.6

Usage:
  python3 scripts/make_kv_geometry_model.py OUT.gguf [--seed N] [--ctx 131072]

The KV cache of a decoder is sized by layers x KV heads x head dim, not by its hidden size: this model
has Llama-3.1-8B's (llama architecture, 32 layers, 8 KV heads of 128 dims: 128 KiB of f16 K+V per
token) with a 128-wide hidden state, a 256-wide feed-forward and the tiny SentencePiece-style vocabulary
of make_classifier_model.py. Memory behaves like the 8B model's; the weights cost ~40 MB and the
per-token matmuls almost nothing, so only attention (which grows with the context, as the 8B model's
does) takes time. Its outputs carry no meaning.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_classifier_model import DEFAULT_SEED, gguf, np, spm_vocab, write  # noqa: E402

N_LAYER = 32
N_HEAD = 8          # query heads (as many as KV heads: the KV cache is what matters)
N_HEAD_KV = 8
HEAD_DIM = 128
N_EMBD = 128
N_FF = 256
ROPE_BASE = 500000.0
NORM_EPS = 1e-5


def make(out: Path, seed: int, n_ctx: int) -> None:
    rng = np.random.default_rng(seed)
    tokens, scores, types = spm_vocab()
    n_vocab, d = len(tokens), N_EMBD
    q_dim = N_HEAD * HEAD_DIM
    kv_dim = N_HEAD_KV * HEAD_DIM

    def normal(*shape: int, std: float) -> np.ndarray:
        return (rng.standard_normal(shape) * std).astype(np.float16)

    w = gguf.GGUFWriter(str(out), arch="llama")
    w.add_name("longrm-kv-geometry-8b")
    w.add_description(f"random weights, seed {seed}; Llama-3.1-8B KV geometry (32 x 8 x 128) for LongRM Serve's KV tests")
    w.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    w.add_context_length(n_ctx)
    w.add_embedding_length(d)
    w.add_feed_forward_length(N_FF)
    w.add_block_count(N_LAYER)
    w.add_head_count(N_HEAD)
    w.add_head_count_kv(N_HEAD_KV)
    w.add_key_length(HEAD_DIM)
    w.add_value_length(HEAD_DIM)
    w.add_rope_dimension_count(HEAD_DIM)
    w.add_rope_freq_base(ROPE_BASE)
    w.add_layer_norm_rms_eps(NORM_EPS)
    w.add_vocab_size(n_vocab)

    w.add_tokenizer_model("llama")
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)

    w.add_tensor("token_embd.weight", normal(n_vocab, d, std=1.0))
    w.add_tensor("output_norm.weight", np.ones(d, np.float32))
    w.add_tensor("output.weight", normal(n_vocab, d, std=1.0 / np.sqrt(d)))
    for i in range(N_LAYER):
        p = f"blk.{i}."
        w.add_tensor(p + "attn_norm.weight", np.ones(d, np.float32))
        w.add_tensor(p + "attn_q.weight", normal(q_dim, d, std=1.0 / np.sqrt(d)))
        w.add_tensor(p + "attn_k.weight", normal(kv_dim, d, std=1.0 / np.sqrt(d)))
        w.add_tensor(p + "attn_v.weight", normal(kv_dim, d, std=1.0 / np.sqrt(d)))
        w.add_tensor(p + "attn_output.weight", normal(d, q_dim, std=1.0 / np.sqrt(q_dim)))
        w.add_tensor(p + "ffn_norm.weight", np.ones(d, np.float32))
        w.add_tensor(p + "ffn_gate.weight", normal(N_FF, d, std=1.0 / np.sqrt(d)))
        w.add_tensor(p + "ffn_up.weight", normal(N_FF, d, std=1.0 / np.sqrt(d)))
        w.add_tensor(p + "ffn_down.weight", normal(d, N_FF, std=1.0 / np.sqrt(N_FF)))
    write(w)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--ctx", type=int, default=131072, help="trained context written to the metadata")
    args = ap.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    make(args.out, args.seed, args.ctx)
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
