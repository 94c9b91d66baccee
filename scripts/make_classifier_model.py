#!/usr/bin/env python3
"""Make GGUF models with a classifier head for LongRM Serve's `classifier` scoring method.

Pinned dependencies (PyPI only):  pip install gguf==0.19.0 numpy==2.4.6
(gguf 0.19.0 is the gguf-py version vendored in llama-cpp-python 0.3.36, the llama.cpp we build.)

Usage:
  python3 scripts/make_classifier_model.py --tiny OUT.gguf [--labels reward] [--seed N]
      A tiny BERT reranker (WordPiece tokenizer, 2 layers, 32 dims, 0.6 MB, random weights from a
      fixed seed). For tests: loads and scores in milliseconds, byte-identical output for a given seed.
  python3 scripts/make_classifier_model.py --tiny-causal OUT.gguf [--labels yes,no] [--seed N]
      A tiny causal reranker (qwen3 architecture, SentencePiece-style tokenizer with byte fallback,
      2 layers, 32 dims, 160 KB). Scores at the LAST token, the KV cache works (prefix sharing); llama.cpp
      applies a softmax over the labels for qwen3, so it needs at least two labels.
  python3 scripts/make_classifier_model.py --tiny-chat chatml|llama3 OUT.gguf [--seed N]
      The same tiny causal model WITHOUT a head (a generative model: the judge method), with a real chat
      template in tokenizer.chat_template and its special tokens in the vocabulary: a Qwen3-style ChatML
      template (with the enable_thinking switch and <think>/</think>) or a Llama-3-style one. For tests of
      judge prompt rendering; the random weights write gibberish, deterministically.
  python3 scripts/make_classifier_model.py --tiny-head OUT.gguf [--labels a,b,c] [--seed N] [--bad-head]
      The same tiny causal body without llama.cpp's rank pooling: a sequence-classification head in
      `longrm.head.*` metadata (K x n_embd weights, a bias, label names, the step separator "<step>"),
      as scripts/convert-rm.sh writes for converted reward models. --bad-head writes a head one column
      too wide, which the server must refuse at load.
  python3 scripts/make_classifier_model.py --from BASE.gguf OUT.gguf [--labels good] [--seed N]
      BASE must be a gemma3 GGUF (e.g. gemma-3-270m-q4_k_m.gguf). llama.cpp's `gemma3` architecture
      cannot carry a classifier head (see docs/CLASSIFIER_MODEL.md), so OUT re-labels the same weights
      as `gemma-embedding` (the EmbeddingGemma architecture: same tensors, bidirectional attention,
      no KV cache) and adds a random linear head as `dense_2` (n_labels x n_embd). For benchmarks only:
      the scores carry no meaning, the cost is that of the real model.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

VENV_PYTHON = Path.home() / ".cache/longrm/venv/bin/python"

try:
    import numpy as np
    import gguf
except ImportError:
    # The project keeps these in a venv next to the llama.cpp cache; use it rather than fail.
    if VENV_PYTHON.is_file() and Path(sys.prefix).resolve() != VENV_PYTHON.parent.parent.resolve():
        os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), *sys.argv])
    sys.exit("make_classifier_model.py needs gguf and numpy: pip install gguf==0.19.0 numpy==2.4.6 "
             f"(or create {VENV_PYTHON.parent.parent} with them)")

DEFAULT_SEED = 20261126

# ---------------------------------------------------------------------------------------------
# Tiny BERT
# ---------------------------------------------------------------------------------------------

TINY_N_EMBD = 32
TINY_N_HEAD = 2
TINY_N_FF = 64
TINY_N_LAYER = 2
TINY_N_CTX = 4096  # position-embedding rows: the longest sequence the model accepts
TINY_NORM_EPS = 1e-12

# Fixed ids, written explicitly into the GGUF so llama.cpp's BERT defaults (101/102/...) do not apply.
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
PAD_ID, UNK_ID, CLS_ID, SEP_ID, MASK_ID = range(5)

# A few whole words so common text is not spelled out letter by letter; everything else falls back to
# single characters (word-initial "▁x" or continuation "x"), so any lower-case ASCII text tokenizes
# without [UNK] and different texts give different token sequences.
TINY_WORDS = [
    "the", "a", "an", "is", "are", "was", "of", "to", "in", "and", "or", "not", "it", "that", "this",
    "what", "which", "who", "how", "why", "yes", "no", "good", "bad", "true", "false", "answer",
    "question", "context", "response", "capital", "city", "paris", "london", "berlin", "france",
    "code", "access", "locker", "number", "blue", "red", "sky", "grass", "green",
]
TINY_SUFFIXES = ["ing", "ed", "er", "es", "ly", "tion"]
PHANTOM_SPACE = "\u2581"  # llama.cpp's WPM tokenizer prefixes every word with U+2581 before matching


def tiny_vocab() -> tuple[list[str], list[int]]:
    """Token texts in llama.cpp's 'phantom space' form, and their token types."""
    tokens = list(SPECIAL_TOKENS)
    types = [gguf.TokenType.CONTROL] * len(SPECIAL_TOKENS)
    alnum = "abcdefghijklmnopqrstuvwxyz0123456789"
    punct = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
    pieces = [PHANTOM_SPACE + c for c in alnum] + list(alnum)      # word start / continuation
    pieces += [PHANTOM_SPACE + c for c in punct]                    # punctuation is always its own word
    pieces += [PHANTOM_SPACE + w for w in TINY_WORDS] + TINY_SUFFIXES
    seen = set(tokens)
    for p in pieces:
        if p not in seen:
            seen.add(p)
            tokens.append(p)
            types.append(gguf.TokenType.NORMAL)
    return tokens, [int(t) for t in types]


def make_tiny(out: Path, labels: list[str], seed: int) -> None:
    rng = np.random.default_rng(seed)
    tokens, types = tiny_vocab()
    n_vocab, d, ff = len(tokens), TINY_N_EMBD, TINY_N_FF

    def normal(*shape: int, std: float) -> np.ndarray:
        return (rng.standard_normal(shape) * std).astype(np.float32)

    # numpy shapes are (rows, cols) = GGUF {ne0 = cols, ne1 = rows}: a weight that maps n_in -> n_out
    # is (n_out, n_in). Std 1/sqrt(n_in) (not BERT's 0.02) so attention is far from uniform and the
    # score depends clearly on the text.
    w = gguf.GGUFWriter(str(out), arch="bert")
    w.add_name("longrm-tiny-bert-classifier")
    w.add_description(f"random weights, seed {seed}; test model for LongRM Serve's classifier method")
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    w.add_context_length(TINY_N_CTX)
    w.add_embedding_length(d)
    w.add_feed_forward_length(ff)
    w.add_block_count(TINY_N_LAYER)
    w.add_head_count(TINY_N_HEAD)
    w.add_layer_norm_eps(TINY_NORM_EPS)
    w.add_causal_attention(False)
    w.add_pooling_type(gguf.PoolingType.RANK)
    w.add_classifier_output_labels(labels)

    w.add_tokenizer_model("bert")
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_type_count(1)
    w.add_bos_token_id(CLS_ID)
    w.add_sep_token_id(SEP_ID)
    w.add_unk_token_id(UNK_ID)
    w.add_pad_token_id(PAD_ID)
    w.add_mask_token_id(MASK_ID)

    inv = 1.0 / np.sqrt(d)
    w.add_tensor("token_embd.weight", normal(n_vocab, d, std=1.0))
    w.add_tensor("position_embd.weight", normal(TINY_N_CTX, d, std=0.5))
    w.add_tensor("token_embd_norm.weight", np.ones(d, np.float32))
    w.add_tensor("token_embd_norm.bias", np.zeros(d, np.float32))
    for i in range(TINY_N_LAYER):
        p = f"blk.{i}."
        w.add_tensor(p + "attn_qkv.weight", normal(3 * d, d, std=2.0 * inv))  # fused Q|K|V rows
        w.add_tensor(p + "attn_qkv.bias", normal(3 * d, std=0.1))
        w.add_tensor(p + "attn_output.weight", normal(d, d, std=inv))
        w.add_tensor(p + "attn_output.bias", normal(d, std=0.1))
        w.add_tensor(p + "attn_output_norm.weight", np.ones(d, np.float32))
        w.add_tensor(p + "attn_output_norm.bias", np.zeros(d, np.float32))
        w.add_tensor(p + "ffn_up.weight", normal(ff, d, std=inv))
        w.add_tensor(p + "ffn_up.bias", normal(ff, std=0.1))
        w.add_tensor(p + "ffn_down.weight", normal(d, ff, std=1.0 / np.sqrt(ff)))
        w.add_tensor(p + "ffn_down.bias", normal(d, std=0.1))
        w.add_tensor(p + "layer_output_norm.weight", np.ones(d, np.float32))
        w.add_tensor(p + "layer_output_norm.bias", np.zeros(d, np.float32))
    # The head: score_j = cls_out.weight[j] . h[CLS] + cls_out.bias[j]; h is LayerNorm'd (unit scale),
    # so std 1/sqrt(d) keeps scores around N(0, 1).
    w.add_tensor("cls.output.weight", normal(len(labels), d, std=inv))
    w.add_tensor("cls.output.bias", normal(len(labels), std=0.1))
    write(w)


# ---------------------------------------------------------------------------------------------
# Tiny causal (qwen3)
# ---------------------------------------------------------------------------------------------

CAUSAL_N_HEAD_KV = 1  # grouped-query attention, as in real decoders
CAUSAL_ROPE_BASE = 10000.0
CAUSAL_NORM_EPS = 1e-6
SPM_SPECIALS = ["<unk>", "<s>", "</s>"]  # ids 0, 1, 2: llama.cpp's SentencePiece defaults


def spm_vocab() -> tuple[list[str], list[float], list[int]]:
    """SentencePiece-style vocab: specials, 256 byte-fallback tokens, printable ASCII characters, and
    every prefix of each "▁word" (SPM merges adjacent pieces only into pieces that exist)."""
    tokens = list(SPM_SPECIALS)
    types = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL]
    tokens += [f"<0x{b:02X}>" for b in range(256)]
    types += [gguf.TokenType.BYTE] * 256
    pieces = [PHANTOM_SPACE] + [chr(c) for c in range(0x21, 0x7F)]
    for word in TINY_WORDS + TINY_SUFFIXES:
        full = PHANTOM_SPACE + word
        pieces += [full[:k] for k in range(2, len(full) + 1)]
    pieces += [PHANTOM_SPACE + chr(c) for c in range(0x21, 0x7F)]
    seen = set(tokens)
    for p in pieces:
        if p not in seen:
            seen.add(p)
            tokens.append(p)
            types.append(gguf.TokenType.NORMAL)
    # merge priority = score of the merged piece: longer pieces first
    scores = [0.0] * len(tokens)
    for i, t in enumerate(tokens):
        if types[i] == gguf.TokenType.NORMAL:
            scores[i] = float(len(t))
    return tokens, scores, [int(t) for t in types]


# Chat templates (as in the models' tokenizer_config.json, shortened to what llama.cpp's template detection
# and our thinking-switch detection read; llama.cpp renders its built-in family, not the Jinja).
QWEN3_CHAT_TEMPLATE = (
    "{%- for message in messages %}{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}"
    "{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}"
    "{%- if enable_thinking is defined and enable_thinking is false %}{{- '<think>\\n\\n</think>\\n\\n' }}{%- endif %}"
    "{%- endif %}"
)
LLAMA3_CHAT_TEMPLATE = (
    "{{- bos_token }}{%- for message in messages %}{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'"
    " + message['content'] | trim + '<|eot_id|>' }}{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}"
)
CHAT_STYLES = {
    # style: (template, control tokens, user-defined tokens, bos, eos)
    "chatml": (QWEN3_CHAT_TEMPLATE, ["<|im_start|>", "<|im_end|>", "<|endoftext|>"], ["<think>", "</think>"],
               "<|endoftext|>", "<|im_end|>"),
    "llama3": (LLAMA3_CHAT_TEMPLATE, ["<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"], [],
               "<|begin_of_text|>", "<|eot_id|>"),
}


def make_tiny_causal(out: Path, labels: list[str], seed: int, head_in_metadata: bool = False,
                     bad_head: bool = False, chat: str | None = None) -> None:
    if chat is None and len(labels) < 2 and not head_in_metadata:
        sys.exit("--tiny-causal needs at least two labels: llama.cpp applies a softmax over a qwen3 "
                 "head, so a single label always scores 1.0")
    rng = np.random.default_rng(seed)
    tokens, scores, types = spm_vocab()
    bos_id, eos_id = 1, 2
    if chat is not None:
        template, control, user_defined, bos, eos = CHAT_STYLES[chat]
        for text in control + user_defined:
            tokens.append(text)
            scores.append(0.0)
            types.append(int(gguf.TokenType.CONTROL if text in control else gguf.TokenType.USER_DEFINED))
        bos_id, eos_id = tokens.index(bos), tokens.index(eos)
    n_vocab, d, ff = len(tokens), TINY_N_EMBD, TINY_N_FF
    head_dim = d // TINY_N_HEAD
    kv = head_dim * CAUSAL_N_HEAD_KV

    def normal(*shape: int, std: float) -> np.ndarray:
        return (rng.standard_normal(shape) * std).astype(np.float32)

    w = gguf.GGUFWriter(str(out), arch="qwen3")
    if chat is None:
        w.add_name("longrm-tiny-causal-classifier")
        w.add_description(f"random weights, seed {seed}; causal test model for LongRM Serve's classifier method")
    else:
        w.add_name(f"longrm-tiny-chat-{chat}")
        w.add_description(f"random weights, seed {seed}; {chat} chat template; test model for LongRM Serve's judge method")
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    w.add_context_length(TINY_N_CTX)
    w.add_embedding_length(d)
    w.add_feed_forward_length(ff)
    w.add_block_count(TINY_N_LAYER)
    w.add_head_count(TINY_N_HEAD)
    w.add_head_count_kv(CAUSAL_N_HEAD_KV)
    w.add_key_length(head_dim)
    w.add_value_length(head_dim)
    w.add_rope_freq_base(CAUSAL_ROPE_BASE)
    w.add_layer_norm_rms_eps(CAUSAL_NORM_EPS)
    if head_in_metadata:
        tokens, scores, types = tokens + ["<step>"], scores + [0.0], types + [int(gguf.TokenType.CONTROL)]
        n_vocab = len(tokens)
    elif chat is not None:
        w.add_chat_template(template)
    else:
        w.add_pooling_type(gguf.PoolingType.RANK)
        w.add_classifier_output_labels(labels)

    w.add_tokenizer_model("llama")
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_bos_token_id(bos_id)
    w.add_eos_token_id(eos_id)
    w.add_unk_token_id(0)
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)

    inv = 1.0 / np.sqrt(d)
    w.add_tensor("token_embd.weight", normal(n_vocab, d, std=1.0))  # also the (tied) LM head
    w.add_tensor("output_norm.weight", np.ones(d, np.float32))
    for i in range(TINY_N_LAYER):
        p = f"blk.{i}."
        w.add_tensor(p + "attn_norm.weight", np.ones(d, np.float32))
        w.add_tensor(p + "attn_q.weight", normal(d, d, std=inv))
        w.add_tensor(p + "attn_k.weight", normal(kv, d, std=inv))
        w.add_tensor(p + "attn_v.weight", normal(kv, d, std=inv))
        w.add_tensor(p + "attn_q_norm.weight", np.full(head_dim, 2.0, np.float32))  # sharper attention
        w.add_tensor(p + "attn_k_norm.weight", np.full(head_dim, 2.0, np.float32))
        w.add_tensor(p + "attn_output.weight", normal(d, d, std=inv))
        w.add_tensor(p + "ffn_norm.weight", np.ones(d, np.float32))
        w.add_tensor(p + "ffn_gate.weight", normal(ff, d, std=inv))
        w.add_tensor(p + "ffn_up.weight", normal(ff, d, std=inv))
        w.add_tensor(p + "ffn_down.weight", normal(d, ff, std=1.0 / np.sqrt(ff)))
    if head_in_metadata:
        # What scripts/convert-rm.sh writes: score.weight (K x hidden, row-major f32) and its bias as metadata.
        width = d + 1 if bad_head else d
        w.add_array("longrm.head.weight", [float(x) for x in normal(len(labels), width, std=inv).ravel()])
        w.add_array("longrm.head.bias", [float(x) for x in normal(len(labels), std=0.1)])
        w.add_array("longrm.head.labels", labels)
        w.add_string("longrm.head.source_architecture", "Qwen3ForSequenceClassification")
        w.add_string("longrm.head.step_separator", "<step>")
    elif chat is None:
        # softmax(cls_out.weight . RMSNorm(h_last)): no bias tensor exists for qwen3's head
        w.add_tensor("cls.output.weight", normal(len(labels), d, std=inv))
    write(w)


# ---------------------------------------------------------------------------------------------
# gemma3 base + head (as gemma-embedding)
# ---------------------------------------------------------------------------------------------

def field_value(field: gguf.ReaderField):
    """The Python value of a reader field (scalar, string, or array of either)."""
    return field.contents()


def make_from(base: Path, out: Path, labels: list[str], seed: int) -> None:
    reader = gguf.GGUFReader(str(base))
    src_arch = field_value(reader.fields["general.architecture"])
    if src_arch != "gemma3":
        sys.exit(f"--from supports gemma3 bases only (got '{src_arch}'): see docs/CLASSIFIER_MODEL.md")
    dst_arch = "gemma-embedding"
    n_embd = int(field_value(reader.fields[f"{src_arch}.embedding_length"]))
    tensor_names = {t.name for t in reader.tensors}
    for name in ("dense_2.weight", "dense_3.weight"):
        if name in tensor_names:
            sys.exit(f"{base} already has {name}; refusing to overwrite it")

    w = gguf.GGUFWriter(str(out), arch=dst_arch)
    skip_keys = {"general.architecture", "GGUF.version", "GGUF.tensor_count", "GGUF.kv_count"}
    for key, field in reader.fields.items():
        if key in skip_keys or key.startswith("GGUF."):
            continue
        new_key = dst_arch + key[len(src_arch):] if key.startswith(src_arch + ".") else key
        value_type = field.types[0]
        sub_type = field.types[-1] if value_type == gguf.GGUFValueType.ARRAY else None
        w.add_key_value(new_key, field_value(field), value_type, sub_type=sub_type)
    # gemma3's sliding window is causal (a token sees itself and the n_swa - 1 before it); gemma-embedding's
    # is symmetric (|distance| <= n_swa / 2). 2 * (n_swa - 1) keeps exactly the same tokens on the left.
    swa_key = f"{dst_arch}.attention.sliding_window"
    if swa_key in w.kv_data[0]:
        w.kv_data[0][swa_key].value = 2 * (int(w.kv_data[0][swa_key].value) - 1)
    w.add_pooling_type(gguf.PoolingType.RANK)
    w.add_classifier_output_labels(labels)
    w.add_uint32(f"{dst_arch}.dense_2_feat_in", n_embd)
    w.add_uint32(f"{dst_arch}.dense_2_feat_out", len(labels))

    for t in reader.tensors:
        # quantized tensors are copied as raw bytes; add_tensor converts the byte shape back
        w.add_tensor(t.name, t.data, raw_shape=None, raw_dtype=t.tensor_type)
    # The head reads RMSNorm'd hidden states scaled by output_norm.weight (values of a few units):
    # std 1/sqrt(n_embd) keeps the scores of order one.
    rng = np.random.default_rng(seed)
    head = (rng.standard_normal((len(labels), n_embd)) / np.sqrt(n_embd)).astype(np.float32)
    w.add_tensor("dense_2.weight", head)
    write(w)


def write(w: gguf.GGUFWriter) -> None:
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--tiny", metavar="OUT", type=Path, help="write the tiny BERT test model to OUT")
    mode.add_argument("--tiny-causal", metavar="OUT", type=Path, help="write the tiny causal (qwen3) model to OUT")
    mode.add_argument("--tiny-chat", nargs=2, metavar=("STYLE", "OUT"),
                      help="write the tiny causal model without a head, with a chatml or llama3 chat template, to OUT")
    mode.add_argument("--tiny-head", metavar="OUT", type=Path,
                      help="write the tiny causal model with a head in longrm.head.* metadata to OUT")
    mode.add_argument("--from", dest="base", metavar="BASE", type=Path, help="gemma3 GGUF to add a head to")
    ap.add_argument("out", nargs="?", type=Path, help="output path (with --from)")
    ap.add_argument("--labels", default=None,
                    help="comma-separated class labels, one score each "
                         "(default: reward for --tiny, yes,no for --tiny-causal, good for --from)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--bad-head", action="store_true", help="with --tiny-head: a head one column too wide")
    args = ap.parse_args()

    if args.tiny_chat is not None:
        style, chat_out = args.tiny_chat
        if style not in CHAT_STYLES:
            ap.error(f"--tiny-chat STYLE must be one of {', '.join(CHAT_STYLES)}")
        out = Path(chat_out)
        out.parent.mkdir(parents=True, exist_ok=True)
        make_tiny_causal(out, [], args.seed, chat=style)
        print(f"wrote {out} ({out.stat().st_size} bytes, {style} chat template)")
        return 0

    tiny_out = next((p for p in (args.tiny, args.tiny_causal, args.tiny_head) if p is not None), None)
    if tiny_out is not None and args.out is not None:
        ap.error("--tiny/--tiny-causal take their output path as their own argument")
    if args.base is not None and args.out is None:
        ap.error("--from BASE needs an output path")
    kind = ("tiny" if args.tiny is not None else "causal" if args.tiny_causal is not None
            else "head" if args.tiny_head is not None else "from")
    default_label = {"tiny": "reward", "causal": "yes,no", "head": "helpful,correct,safe", "from": "good"}[kind]
    labels = [s.strip() for s in (args.labels or default_label).split(",") if s.strip()]
    if not labels:
        ap.error("--labels needs at least one label")

    t0 = time.perf_counter()
    out = tiny_out if tiny_out is not None else args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    if args.tiny is not None:
        make_tiny(out, labels, args.seed)
    elif args.tiny_causal is not None:
        make_tiny_causal(out, labels, args.seed)
    elif args.tiny_head is not None:
        make_tiny_causal(out, labels, args.seed, head_in_metadata=True, bad_head=args.bad_head)
    else:
        make_from(args.base, out, labels, args.seed)
    dt = time.perf_counter() - t0
    print(f"wrote {out} ({out.stat().st_size} bytes, {len(labels)} label(s): {','.join(labels)}) in {dt:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
