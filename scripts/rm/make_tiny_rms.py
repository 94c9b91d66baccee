#!/usr/bin/env python3
"""Tiny seeded sequence-classification reward models, one per architecture, for the parity test.

Usage (in the venv of scripts/rm/venv.sh):  python scripts/rm/make_tiny_rms.py OUT_DIR

Writes OUT_DIR/<family>/ as a Hugging Face checkpoint folder (config.json, model.safetensors, tokenizer
files, chat template) for llama, qwen2, qwen3, gemma2 and mistral, and OUT_DIR/manifest.json with the sha256
of every file. Same script, same pinned packages: same bytes.

Each model: hidden 256 (a multiple of 256, so llama-quantize's k-quants apply to every matrix), a few
layers, random weights from a fixed seed with a larger spread than transformers' default init (so rewards
differ clearly between texts), RMSNorm weights jittered around their neutral value (exercises gemma's
"1 + w"), max_position_embeddings 8192. Tokenizers are trained here on corpus.py's text:
  llama   byte-level BPE with Llama-3's split regex, <|begin_of_text|> added by the post-processor,
          Llama-3 chat template (BOS in the template), rope_scaling llama3 (as Llama-3.1), K=1.
  qwen2   byte-level BPE with Qwen2's regex (single digits, NFC), ChatML, special token <extra_0> as the
          step separator (Qwen2.5-Math-PRM style), K=1.
  qwen3   the same tokenizer family, ChatML, q/k norms, K=3 labels with id2label names.
  gemma2  SentencePiece BPE (byte fallback, no dummy prefix), Gemma chat template (no system role),
          sliding window 256 on every other layer, soft-capping, K=1.
  mistral SentencePiece BPE (byte fallback, dummy prefix) like Llama-2/Mistral-7B-v0.1, [INST] template,
          pad_token_id = eos (as many Mistral RMs): transformers pools at the last token that is not </s>.
None of the five transformers classes has a bias on `score` (nn.Linear(..., bias=False)), so no model
has one; the converter still carries `score.bias` when a checkpoint has it.
"""
from __future__ import annotations

import hashlib
import io
import json
import shutil
import sys
import tempfile
from pathlib import Path

import torch
import transformers
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus  # noqa: E402

SEED = 20261130
HIDDEN = 256
BPE_VOCAB = 1024   # trained merges + 256 bytes, before the special tokens
SPM_VOCAB = 1024

LLAMA3_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                r"|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
               r"|\s*[\r\n]+|\s+(?!\S)|\s+")

# Real templates of the families, chosen (or trimmed) so llama.cpp's built-in renderer for the detected
# family gives the same text (apart from a leading BOS, which llama.cpp adds as a token instead).
LLAMA3_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim"
    " + '<|eot_id|>' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}")
CHATML_TEMPLATE = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content']"
    " + '<|im_end|>' + '\\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")
GEMMA_TEMPLATE = (
    "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}"
    "{% endif %}{% for message in messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}"
    "{% endif %}{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\\n'}}{% endif %}")
MISTRAL_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token }}"
    "{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}")

FAMILIES = {
    "llama": dict(architecture="LlamaForSequenceClassification", layers=2, heads=4, kv_heads=2,
                  labels=["reward"]),
    "qwen2": dict(architecture="Qwen2ForSequenceClassification", layers=2, heads=4, kv_heads=2,
                  labels=["reward"], step_separator="<extra_0>"),
    "qwen3": dict(architecture="Qwen3ForSequenceClassification", layers=2, heads=4, kv_heads=2,
                  labels=["helpfulness", "correctness", "coherence"]),
    "gemma2": dict(architecture="Gemma2ForSequenceClassification", layers=4, heads=4, kv_heads=2,
                   labels=["reward"]),
    "mistral": dict(architecture="MistralForSequenceClassification", layers=2, heads=4, kv_heads=2,
                    labels=["reward"]),
}


# ---------------------------------------------------------------------------------------------------------
# tokenizers
# ---------------------------------------------------------------------------------------------------------

def train_byte_bpe(regex: str, nfc: bool) -> Tokenizer:
    tok = Tokenizer(models.BPE())
    if nfc:
        tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(regex), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
    trainer = trainers.BpeTrainer(vocab_size=BPE_VOCAB, show_progress=False, special_tokens=[],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(corpus.training_lines(), trainer)
    return tok


def llama3_tokenizer(out: Path) -> dict:
    tok = train_byte_bpe(LLAMA3_REGEX, nfc=False)
    specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>",
                "<|eot_id|>", "<|finetune_right_pad_id|>"]
    tok.add_special_tokens(specials)
    bos = tok.token_to_id("<|begin_of_text|>")
    tok.post_processor = processors.Sequence([
        processors.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False),
        processors.TemplateProcessing(single="<|begin_of_text|> $A", pair="<|begin_of_text|> $A <|begin_of_text|> $B",
                                      special_tokens=[("<|begin_of_text|>", bos)]),
    ])
    fast = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<|begin_of_text|>", eos_token="<|eot_id|>",
        pad_token="<|finetune_right_pad_id|>", add_bos_token=True, add_eos_token=False,
        model_max_length=8192, clean_up_tokenization_spaces=False)
    fast.chat_template = LLAMA3_TEMPLATE
    fast.save_pretrained(out)
    add_tokens_decoder(out)
    return dict(vocab_size=len(fast), bos_token_id=bos, eos_token_id=fast.eos_token_id,
                pad_token_id=fast.pad_token_id)


def qwen_tokenizer(out: Path, step_separator: str | None) -> dict:
    tok = train_byte_bpe(QWEN2_REGEX, nfc=True)
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"] + ([step_separator] if step_separator else [])
    tok.add_special_tokens(specials)
    fast = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
        additional_special_tokens=[step_separator] if step_separator else None,
        model_max_length=8192, clean_up_tokenization_spaces=False)
    fast.chat_template = CHATML_TEMPLATE
    fast.save_pretrained(out)
    add_tokens_decoder(out)
    return dict(vocab_size=len(fast), bos_token_id=None, eos_token_id=fast.eos_token_id,
                pad_token_id=fast.pad_token_id)


def train_spm(dummy_prefix: bool, specials: dict[str, int], user_defined: list[str]) -> bytes:
    import sentencepiece as spm
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(corpus.training_lines()), model_writer=model, model_type="bpe",
        vocab_size=SPM_VOCAB, character_coverage=1.0, byte_fallback=True, split_digits=True,
        normalization_rule_name="identity", add_dummy_prefix=dummy_prefix, remove_extra_whitespaces=False,
        allow_whitespace_only_pieces=True, user_defined_symbols=user_defined, num_threads=1,
        max_sentence_length=100000, minloglevel=2, **specials)
    return model.getvalue()


def add_tokens_decoder(out: Path) -> None:
    """transformers 5 keeps added tokens only in tokenizer.json; checkpoints saved by 4.x (every real one)
    also list them in tokenizer_config.json's added_tokens_decoder, which llama.cpp's SentencePiece
    conversion reads to mark <start_of_turn> and the like as control tokens. Write it as 4.x did."""
    added = json.loads((out / "tokenizer.json").read_text(encoding="utf-8"))["added_tokens"]
    path = out / "tokenizer_config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    config["added_tokens_decoder"] = {str(t["id"]): {k: t[k] for k in ("content", "lstrip", "normalized", "rstrip",
                                                                       "single_word", "special")} for t in added}
    path.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def spm_tokenizer(out: Path, family: str) -> dict:
    """Writes tokenizer.model (read by llama.cpp's converter) and, through transformers' own
    SentencePiece conversion, tokenizer.json (read by transformers): one model, two readers."""
    if family == "gemma2":
        ids = dict(pad_id=0, eos_id=1, bos_id=2, unk_id=3)
        names = dict(pad_piece="<pad>", eos_piece="<eos>", bos_piece="<bos>", unk_piece="<unk>")
        blob = train_spm(False, {**ids, **names}, ["<start_of_turn>", "<end_of_turn>"])
        cls, template = "GemmaTokenizer", GEMMA_TEMPLATE
        kwargs = dict(bos_token="<bos>", eos_token="<eos>", pad_token="<pad>", unk_token="<unk>",
                      additional_special_tokens=["<start_of_turn>", "<end_of_turn>"])
    else:
        ids = dict(unk_id=0, bos_id=1, eos_id=2, pad_id=-1)
        blob = train_spm(True, ids, [])
        cls, template = "LlamaTokenizer", MISTRAL_TEMPLATE
        # legacy=True: a space is prepended after every special token, as in Llama-2/Mistral-7B-v0.1's
        # tokenizers and in llama.cpp's SentencePiece tokenizer (which has no non-legacy mode)
        kwargs = dict(bos_token="<s>", eos_token="</s>", unk_token="<unk>", legacy=True)
    with tempfile.TemporaryDirectory() as tmp:
        # transformers converts tokenizer.model (through sentencepiece's protobuf) when it loads the folder
        (Path(tmp) / "tokenizer.model").write_bytes(blob)
        config = dict(tokenizer_class=cls, add_bos_token=True, add_eos_token=False, model_max_length=8192,
                      clean_up_tokenization_spaces=False, **kwargs)
        (Path(tmp) / "tokenizer_config.json").write_text(json.dumps(config))
        fast = transformers.AutoTokenizer.from_pretrained(tmp)
        fast.init_kwargs.pop("vocab_file", None)  # the temporary path would end up in tokenizer_config.json
    fast.chat_template = template
    fast.save_pretrained(out)
    (out / "tokenizer.model").write_bytes(blob)
    add_tokens_decoder(out)
    pad = fast.pad_token_id if family == "gemma2" else fast.eos_token_id
    return dict(vocab_size=len(fast), bos_token_id=fast.bos_token_id, eos_token_id=fast.eos_token_id,
                pad_token_id=pad)


# ---------------------------------------------------------------------------------------------------------
# models
# ---------------------------------------------------------------------------------------------------------

def config_for(family: str, spec: dict, tok: dict) -> transformers.PretrainedConfig:
    head_dim = HIDDEN // spec["heads"]
    labels = spec["labels"]
    common = dict(
        vocab_size=tok["vocab_size"], hidden_size=HIDDEN, intermediate_size=2 * HIDDEN,
        num_hidden_layers=spec["layers"], num_attention_heads=spec["heads"],
        num_key_value_heads=spec["kv_heads"], head_dim=head_dim, max_position_embeddings=8192,
        rms_norm_eps=1e-6, initializer_range=1.0 / HIDDEN ** 0.5, tie_word_embeddings=False,
        bos_token_id=tok["bos_token_id"], eos_token_id=tok["eos_token_id"], pad_token_id=tok["pad_token_id"],
        num_labels=len(labels), id2label=dict(enumerate(labels)), label2id={n: i for i, n in enumerate(labels)},
        architectures=[spec["architecture"]], dtype="float32")
    if family == "llama":
        return transformers.LlamaConfig(**common, rope_parameters=dict(
            rope_type="llama3", rope_theta=500000.0, factor=8.0, low_freq_factor=1.0, high_freq_factor=4.0,
            original_max_position_embeddings=1024))
    if family == "qwen2":
        return transformers.Qwen2Config(**common, rope_parameters=dict(rope_type="default", rope_theta=1000000.0),
                                        use_sliding_window=False)
    if family == "qwen3":
        return transformers.Qwen3Config(**common, rope_parameters=dict(rope_type="default", rope_theta=1000000.0),
                                        use_sliding_window=False)
    if family == "gemma2":
        return transformers.Gemma2Config(**common, rope_parameters=dict(rope_type="default", rope_theta=10000.0),
                                         sliding_window=256, query_pre_attn_scalar=head_dim,
                                         attn_logit_softcapping=50.0, final_logit_softcapping=30.0,
                                         hidden_activation="gelu_pytorch_tanh")
    if family == "mistral":
        # sliding_window None: llama.cpp runs Mistral as `llama`, without a window (see REWARD_MODELS.md)
        return transformers.MistralConfig(**common, rope_parameters=dict(rope_type="default", rope_theta=10000.0),
                                          sliding_window=None)
    raise ValueError(family)


def make_model(family: str, spec: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    if family == "llama":
        tok = llama3_tokenizer(out)
    elif family in ("qwen2", "qwen3"):
        tok = qwen_tokenizer(out, spec.get("step_separator"))
    else:
        tok = spm_tokenizer(out, family)
    config = config_for(family, spec, tok)
    torch.manual_seed(SEED + sorted(FAMILIES).index(family))
    model = getattr(transformers, spec["architecture"])(config).to(torch.float32)
    with torch.no_grad():
        g = torch.Generator().manual_seed(SEED)
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                base = 0.0 if family == "gemma2" else 1.0  # gemma's RMSNorm scales by (1 + w)
                p.copy_(base + 0.1 * torch.randn(p.shape, generator=g))
    model.eval()
    model.save_pretrained(out, safe_serialization=True)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    manifest = {"seed": SEED, "torch": torch.__version__, "transformers": transformers.__version__, "models": {}}
    for family, spec in FAMILIES.items():
        target = out / family
        if target.exists():
            shutil.rmtree(target)
        make_model(family, spec, target)
        manifest["models"][family] = {
            "architecture": spec["architecture"], "labels": spec["labels"],
            "step_separator": spec.get("step_separator"),
            "files": {p.name: sha256(p) for p in sorted(target.iterdir()) if p.is_file()},
        }
        print(f"{family}: {target}", file=sys.stderr)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
