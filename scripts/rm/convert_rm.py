#!/usr/bin/env python3
"""Convert a Hugging Face *ForSequenceClassification reward model into one GGUF file for `longrm serve`.

Run through scripts/convert-rm.sh (which provides the venv, llama.cpp's source and its libllama.so):
  convert_rm.py SRC_DIR OUT.gguf --llama-src DIR --llama-lib DIR [--outtype f32|f16|q8_0|q4_k_m]
                [--pre-tokenizer NAME] [--step-separator TEXT]

The body and the tokenizer go through llama.cpp's own convert_hf_to_gguf machinery (from the same sdist as
the library that loads the file), as the matching *ForCausalLM without the `score` layer; q4_k_m is
quantized from an f32 (or, above 4 GB of weights, bf16) conversion by libllama's llama_model_quantize,
the function behind the llama-quantize tool. The head goes into
metadata (llama.cpp refuses unknown tensors but ignores unknown keys), always as f32:
  longrm.head.weight               [FLOAT32] K*H, row-major [K][H] (score.weight as torch stores it)
  longrm.head.bias                 [FLOAT32] K (only when the checkpoint has score.bias)
  longrm.head.labels               [STRING]  K (id2label by id; LABEL_i when absent)
  longrm.head.source_architecture  STRING
  longrm.head.pad_token_id         INT32 (when the config sets one: transformers pools at the last non-pad token)
  longrm.head.step_separator       STRING (with --step-separator)
Exit status 2 for input that cannot be converted (unsupported architecture, no score head, a tokenizer the
converter cannot map), with a message naming what is missing. OUT is written as a temporary file beside it
and renamed at the end: nothing is left half-written.
"""
from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import logging
import os
import re
import sys
import tempfile
from pathlib import Path

# The sequence classifiers we convert, and the causal LM whose conversion handles their body.
SUPPORTED = {
    "LlamaForSequenceClassification": "LlamaForCausalLM",
    "Qwen2ForSequenceClassification": "Qwen2ForCausalLM",
    "Qwen3ForSequenceClassification": "Qwen3ForCausalLM",
    "Gemma2ForSequenceClassification": "Gemma2ForCausalLM",
    "MistralForSequenceClassification": "MistralForCausalLM",
}
OUTTYPES = ("f32", "f16", "q8_0", "q4_k_m")
HEAD_PREFIX = "longrm.head."


class ConvertError(Exception):
    """Input we cannot convert: reported on one line, exit status 2."""


# ---------------------------------------------------------------------------------------------------------
# reading the checkpoint
# ---------------------------------------------------------------------------------------------------------

def read_config(src: Path) -> dict:
    path = src / "config.json"
    if not path.is_file():
        raise ConvertError(f"{src} has no config.json: not a Hugging Face checkpoint folder")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ConvertError(f"{path} is not valid JSON: {e}") from None


def source_architecture(config: dict) -> str:
    archs = config.get("architectures") or []
    if not archs:
        raise ConvertError("config.json names no architecture (\"architectures\" is missing); supported: "
                           + ", ".join(SUPPORTED))
    arch = archs[0]
    if arch not in SUPPORTED:
        hint = ""
        if arch.endswith("ForCausalLM"):
            hint = " (a language model without a reward head: a reward model is a *ForSequenceClassification)"
        raise ConvertError(f"unsupported architecture {arch}{hint}; supported: {', '.join(SUPPORTED)}")
    return arch


def weight_files(src: Path) -> list[Path]:
    files = sorted(src.glob("*.safetensors"))
    return files if files else sorted(src.glob("pytorch_model*.bin"))


def read_head(src: Path):
    """score.weight (K x H) and score.bias (K) or None, as float32 numpy arrays."""
    import numpy as np
    import torch
    files = weight_files(src)
    if not files:
        raise ConvertError(f"{src} has no weights (*.safetensors or pytorch_model*.bin)")
    found: dict[str, "np.ndarray"] = {}
    for f in files:
        if f.suffix == ".safetensors":
            from safetensors import safe_open
            with safe_open(str(f), framework="pt") as st:
                for name in ("score.weight", "score.bias"):
                    if name in st.keys():
                        found[name] = st.get_tensor(name).to(torch.float32).numpy()
        else:
            state = torch.load(str(f), map_location="cpu", mmap=True, weights_only=True)
            for name in ("score.weight", "score.bias"):
                if name in state:
                    found[name] = state[name].to(torch.float32).numpy()
    if "score.weight" not in found:
        raise ConvertError(f"no score.weight in {src}: the checkpoint has no sequence-classification head "
                           "(expected a K x hidden `score` linear layer)")
    return found["score.weight"], found.get("score.bias")


def check_tokenizer_files(src: Path) -> None:
    """transformers 5 quietly builds an empty tokenizer from tokenizer_config.json alone, and llama.cpp's
    converter would write that: refuse before, naming the files it needs."""
    if (src / "tokenizer.json").is_file() or (src / "tokenizer.model").is_file():
        return
    if (src / "vocab.json").is_file() and (src / "merges.txt").is_file():
        return
    raise ConvertError(f"{src} has no tokenizer: expected tokenizer.json, tokenizer.model (SentencePiece) or "
                       "vocab.json with merges.txt")


def check_vocab(path: Path) -> None:
    """Most of the vocabulary must be real tokens, not the converter's [PADn] fillers for unmapped ids."""
    import gguf
    tokens = gguf.GGUFReader(str(path)).fields["tokenizer.ggml.tokens"].contents()
    fillers = sum(1 for t in tokens if t.startswith("[PAD") and t.endswith("]"))
    if fillers > len(tokens) // 2:
        raise ConvertError(f"tokenizer: llama.cpp's converter mapped only {len(tokens) - fillers} of "
                           f"{len(tokens)} token ids (check tokenizer.json / tokenizer.model)")


def labels_of(config: dict, k: int) -> list[str]:
    id2label = config.get("id2label") or {}
    labels = []
    for i in range(k):
        labels.append(str(id2label.get(str(i), id2label.get(i, f"LABEL_{i}"))))
    return labels


# ---------------------------------------------------------------------------------------------------------
# llama.cpp's converter as a library
# ---------------------------------------------------------------------------------------------------------

def known_pre_tokenizers(llama_src: Path) -> list[str]:
    """The `tokenizer.ggml.pre` names the llama.cpp library of the same sdist accepts."""
    vocab_cpp = llama_src / "src" / "llama-vocab.cpp"
    names = set(re.findall(r'tokenizer_pre\s*==\s*"([^"]+)"', vocab_cpp.read_text(encoding="utf-8")))
    return sorted(names)


def use_llama_src(llama_src: Path) -> None:
    """llama.cpp's `conversion` package and its gguf-py, from the sdist of the library we build."""
    if not (llama_src / "convert_hf_to_gguf.py").is_file():
        raise ConvertError(f"{llama_src} has no convert_hf_to_gguf.py: run scripts/setup.sh")
    sys.path.insert(0, str(llama_src))
    sys.path.insert(1, str(llama_src / "gguf-py"))


def converter_class(causal_arch: str, pre_tokenizer: str | None):
    from conversion import get_model_class  # noqa: E402  (llama.cpp's conversion package)

    base = get_model_class(causal_arch)

    class RewardModelBody(base):  # type: ignore[misc, valid-type]
        """The causal model's conversion without the `score` layer (its tensors have no GGUF name)."""
        model_arch = base.model_arch

        @classmethod
        def filter_tensors(cls, item):
            if item[0].startswith("score."):
                return None
            return super().filter_tensors(item)

        def get_vocab_base_pre(self, tokenizer) -> str:
            if pre_tokenizer is not None:
                return pre_tokenizer
            return super().get_vocab_base_pre(tokenizer)

        def set_vocab(self):
            try:
                super().set_vocab()
            except NotImplementedError as e:
                if "pre-tokenizer" in str(e):
                    raise ConvertError(
                        "the BPE pre-tokenizer of this tokenizer is not one llama.cpp recognises by its hash; "
                        "name it with --pre-tokenizer NAME (e.g. llama-bpe for Llama-3, qwen2 for Qwen2/Qwen3)"
                    ) from None
                raise ConvertError(f"tokenizer: llama.cpp's converter cannot map it: {e}") from None
            except (FileNotFoundError, OSError, ValueError, KeyError, TypeError) as e:
                raise ConvertError(f"tokenizer: llama.cpp's converter cannot map it "
                                   f"(tokenizer.json or tokenizer.model missing or unusable): {e}") from None

    return RewardModelBody


def staged_input(src: Path, config: dict, causal_arch: str, tmp: Path) -> Path:
    """A copy of SRC whose config names the causal architecture; every other file is a symlink."""
    staged = tmp / src.resolve().name
    staged.mkdir()
    for item in src.iterdir():
        if item.name != "config.json":
            (staged / item.name).symlink_to(item.resolve())
    patched = dict(config, architectures=[causal_arch])
    (staged / "config.json").write_text(json.dumps(patched, indent=2), encoding="utf-8")
    return staged


def add_head_metadata(writer, arch: str, weight, bias, labels: list[str], pad_token_id, step_separator) -> None:
    import gguf
    writer.add_key_value(HEAD_PREFIX + "weight", [float(x) for x in weight.reshape(-1)],
                         gguf.GGUFValueType.ARRAY, sub_type=gguf.GGUFValueType.FLOAT32)
    if bias is not None:
        writer.add_key_value(HEAD_PREFIX + "bias", [float(x) for x in bias.reshape(-1)],
                             gguf.GGUFValueType.ARRAY, sub_type=gguf.GGUFValueType.FLOAT32)
    writer.add_key_value(HEAD_PREFIX + "labels", labels, gguf.GGUFValueType.ARRAY,
                         sub_type=gguf.GGUFValueType.STRING)
    writer.add_string(HEAD_PREFIX + "source_architecture", arch)
    if pad_token_id is not None:
        writer.add_int32(HEAD_PREFIX + "pad_token_id", int(pad_token_id))
    if step_separator is not None:
        writer.add_string(HEAD_PREFIX + "step_separator", step_separator)


class QuantizeParams(ctypes.Structure):
    """struct llama_model_quantize_params of llama.h (llama.cpp of llama-cpp-python 0.3.36)."""
    _fields_ = [("nthread", ctypes.c_int32), ("ftype", ctypes.c_int), ("output_tensor_type", ctypes.c_int),
                ("token_embedding_type", ctypes.c_int), ("allow_requantize", ctypes.c_bool),
                ("quantize_output_tensor", ctypes.c_bool), ("only_copy", ctypes.c_bool), ("pure", ctypes.c_bool),
                ("keep_split", ctypes.c_bool), ("dry_run", ctypes.c_bool), ("imatrix", ctypes.c_void_p),
                ("kv_overrides", ctypes.c_void_p), ("tt_overrides", ctypes.c_void_p),
                ("prune_layers", ctypes.c_void_p), ("max_buf_size", ctypes.c_size_t)]


LLAMA_FTYPE_MOSTLY_Q4_K_M = 15


def quantize_q4_k_m(llama_lib: Path, src: Path, dst: Path) -> None:
    """What llama-quantize SRC DST Q4_K_M does (the tool is a command line over this call), through the
    libllama the server links: nothing to build. KV metadata, longrm.head.* included, is copied."""
    lib = ctypes.CDLL(str(llama_lib / "libllama.so"))
    lib.llama_model_quantize_default_params.restype = QuantizeParams
    lib.llama_model_quantize.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(QuantizeParams)]
    lib.llama_model_quantize.restype = ctypes.c_uint32
    lib.llama_backend_init()
    params = lib.llama_model_quantize_default_params()
    params.ftype = LLAMA_FTYPE_MOSTLY_Q4_K_M
    params.nthread = os.cpu_count() or 1
    if lib.llama_model_quantize(str(src).encode(), str(dst).encode(), ctypes.byref(params)) != 0:
        raise RuntimeError(f"llama_model_quantize failed on {src}")


def read_head_metadata(path: Path) -> dict:
    import gguf
    import numpy as np
    reader = gguf.GGUFReader(str(path))
    out = {}
    for key, field in reader.fields.items():
        if key.startswith(HEAD_PREFIX):
            value = field.contents()
            out[key[len(HEAD_PREFIX):]] = np.asarray(value, np.float32) if key.endswith(("weight", "bias")) else value
    return out


def check_head_metadata(path: Path, weight, bias, labels) -> None:
    import numpy as np
    meta = read_head_metadata(path)
    ok = ("weight" in meta and np.array_equal(meta["weight"], weight.reshape(-1).astype(np.float32))
          and (bias is None or np.array_equal(meta.get("bias"), bias.reshape(-1).astype(np.float32)))
          and list(meta.get("labels", [])) == labels)
    if not ok:
        raise RuntimeError(f"{path}: the longrm.head.* keys did not survive (found {sorted(meta)})")


def convert_body(args, config: dict, arch: str, outtype: str, out_tmp: Path, weight, bias, labels) -> None:
    import gguf
    import torch
    causal = SUPPORTED[arch]
    cls = converter_class(causal, args.pre_tokenizer)
    ftype = {"f32": gguf.LlamaFileType.ALL_F32, "f16": gguf.LlamaFileType.MOSTLY_F16,
             "bf16": gguf.LlamaFileType.MOSTLY_BF16, "q8_0": gguf.LlamaFileType.MOSTLY_Q8_0}[outtype]
    with tempfile.TemporaryDirectory(prefix="longrm-convert-") as tmp:
        staged = staged_input(args.src, config, causal, Path(tmp))
        with torch.inference_mode():
            model = cls(staged, ftype, out_tmp, model_name=args.src.resolve().name)
            add_head_metadata(model.gguf_writer, arch, weight, bias, labels, config.get("pad_token_id"),
                              args.step_separator)
            model.write()


def check_step_separator(src: Path, text: str) -> None:
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(str(src))
    ids = tok.encode(text, add_special_tokens=False)
    if len(ids) != 1:
        raise ConvertError(f"--step-separator {text!r} is {len(ids)} tokens in this tokenizer; it must be one "
                           "token (a special or added token, e.g. <extra_0> in Qwen2.5-Math-PRM)")


def warn_about_config(arch: str, config: dict) -> None:
    window = config.get("sliding_window")
    if arch == "MistralForSequenceClassification" and window and config.get("use_sliding_window", True):
        print(f"warning: sliding_window={window}: llama.cpp runs Mistral as `llama` without a window, so texts "
              f"longer than {window} tokens score differently than in transformers", file=sys.stderr)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--outtype", choices=OUTTYPES, default="f16")
    ap.add_argument("--pre-tokenizer", default=None,
                    help="llama.cpp's name of the BPE pre-tokenizer (tokenizer.ggml.pre), for tokenizers whose "
                         "hash the converter does not know, e.g. llama-bpe (Llama-3) or qwen2 (Qwen2/Qwen3)")
    ap.add_argument("--step-separator", default=None,
                    help="token at which per-step rewards are read (process reward models), e.g. <extra_0>")
    ap.add_argument("--llama-src", type=Path, required=True, help="llama.cpp source of the sdist")
    ap.add_argument("--llama-lib", type=Path, default=None, help="folder of libllama.so (for q4_k_m)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    out_tmp: Path | None = None
    stage_tmp: Path | None = None
    try:
        use_llama_src(args.llama_src)
        if not args.src.is_dir():
            raise ConvertError(f"{args.src} is not a directory (expected a Hugging Face checkpoint folder)")
        if args.pre_tokenizer is not None:
            known = known_pre_tokenizers(args.llama_src)
            if args.pre_tokenizer not in known:
                raise ConvertError(f"--pre-tokenizer {args.pre_tokenizer!r} is not a pre-tokenizer llama.cpp "
                                   f"knows; one of: {', '.join(known)}")
        config = read_config(args.src)
        arch = source_architecture(config)
        weight, bias = read_head(args.src)
        hidden = config.get("hidden_size")
        if weight.ndim != 2 or (hidden is not None and weight.shape[1] != hidden):
            raise ConvertError(f"score.weight has shape {list(weight.shape)}; expected [num_labels, {hidden}]")
        if bias is not None and bias.shape != (weight.shape[0],):
            raise ConvertError(f"score.bias has shape {list(bias.shape)}; expected [{weight.shape[0]}]")
        labels = labels_of(config, weight.shape[0])
        check_tokenizer_files(args.src)
        if args.step_separator is not None:
            check_step_separator(args.src, args.step_separator)
        if args.outtype == "q4_k_m" and (args.llama_lib is None or not (args.llama_lib / "libllama.so").is_file()):
            raise ConvertError("q4_k_m needs llama.cpp's libllama.so (--llama-lib DIR, $LLAMA_PREFIX/lib)")
        warn_about_config(arch, config)

        args.out.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{args.out.name}.", suffix=".partial", dir=args.out.parent)
        os.close(fd)
        out_tmp = Path(name)
        if args.outtype == "q4_k_m":
            # Quantize from a lossless copy: f32 for small models, else bf16 (what most checkpoints hold).
            body_bytes = sum(f.stat().st_size for f in weight_files(args.src))
            inter = "f32" if body_bytes < (4 << 30) else "bf16"
            fd, name = tempfile.mkstemp(prefix=f".{args.out.name}.{inter}.", suffix=".partial", dir=args.out.parent)
            os.close(fd)
            stage_tmp = Path(name)
            convert_body(args, config, arch, inter, stage_tmp, weight, bias, labels)
            quantize_q4_k_m(args.llama_lib, stage_tmp, out_tmp)
        else:
            convert_body(args, config, arch, args.outtype, out_tmp, weight, bias, labels)
        check_head_metadata(out_tmp, weight, bias, labels)
        check_vocab(out_tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(out_tmp, 0o666 & ~umask)  # mkstemp made it private
        os.replace(out_tmp, args.out)
        out_tmp = None
        print(f"wrote {args.out} ({args.out.stat().st_size} bytes, {arch}, {args.outtype}, "
              f"{len(labels)} label(s): {', '.join(labels)})", file=sys.stderr)
        return 0
    except ConvertError as e:
        print(f"convert-rm: {e}", file=sys.stderr)
        return 2
    finally:
        for p in (out_tmp, stage_tmp):
            if p is not None:
                with contextlib.suppress(FileNotFoundError):
                    p.unlink()


if __name__ == "__main__":
    sys.exit(main())
