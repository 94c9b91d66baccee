#!/usr/bin/env python3
"""Check a classifier GGUF through libllama's C API (ctypes, no extra packages).

Usage: python3 scripts/check_classifier_model.py MODEL.gguf [--lib DIR] [--text A] [--text B] [--threads N]

Loads MODEL with rank pooling (LLAMA_POOLING_TYPE_RANK), scores two texts as two sequences of ONE
batch, then each text alone, and prints n_cls_out, the labels and the scores. Exit status 0 only if:
  - every score is finite,
  - the two texts get different scores,
  - scoring a text alone twice gives the same bits (repeatability),
  - each text's score in the shared batch equals its score alone (batch invariance): within --tol
    (relative, default 1e-4), or bit for bit with --exact. llama.cpp does not promise bitwise batch
    invariance: the float summation order of attention depends on the batch layout (see
    docs/CLASSIFIER_MODEL.md for measured sizes).
The library is found in --lib DIR, $LLAMA_PREFIX/lib, ~/.cache/longrm/env.sh's LLAMA_PREFIX, or
~/.cache/longrm/llama.cpp-*/install/lib, in that order.

The ctypes structures below mirror include/llama.h of llama.cpp as vendored in llama-cpp-python 0.3.36
field for field; a self-test compares the defaults returned by llama_*_default_params() with the
values in that version's source, so a wrong layout fails loudly instead of passing garbage.
"""
from __future__ import annotations

import argparse
import ctypes as C
import math
import os
import re
import struct
import sys
import time
from pathlib import Path

# ---------------------------------------------------------------------------------------------
# C declarations (llama.h, llama-cpp-python 0.3.36 / sha256 832db0699007...)
# ---------------------------------------------------------------------------------------------

llama_token = C.c_int32
llama_pos = C.c_int32
llama_seq_id = C.c_int32
c_enum = C.c_int  # C enums here are all int-sized

LLAMA_POOLING_TYPE_RANK = 4
LLAMA_FLASH_ATTN_TYPE_DISABLED = 0


class llama_model_params(C.Structure):
    _fields_ = [
        ("devices", C.c_void_p),                  # ggml_backend_dev_t *
        ("tensor_buft_overrides", C.c_void_p),    # const struct llama_model_tensor_buft_override *
        ("n_gpu_layers", C.c_int32),
        ("split_mode", c_enum),
        ("load_mode", c_enum),
        ("lazy_mode", c_enum),
        ("main_gpu", C.c_int32),
        ("tensor_split", C.c_void_p),             # const float *
        ("progress_callback", C.c_void_p),
        ("progress_callback_user_data", C.c_void_p),
        ("kv_overrides", C.c_void_p),
        ("vocab_only", C.c_bool),
        ("check_tensors", C.c_bool),
        ("use_extra_bufts", C.c_bool),
        ("no_host", C.c_bool),
        ("no_alloc", C.c_bool),
        ("load_mtp", C.c_bool),
    ]


class llama_context_params(C.Structure):
    _fields_ = [
        ("n_ctx", C.c_uint32),
        ("n_batch", C.c_uint32),
        ("n_ubatch", C.c_uint32),
        ("n_seq_max", C.c_uint32),
        ("n_rs_seq", C.c_uint32),
        ("n_outputs_max", C.c_uint32),
        ("n_outputs_max_per_seq", C.c_uint32),
        ("n_threads", C.c_int32),
        ("n_threads_batch", C.c_int32),
        ("ctx_type", c_enum),
        ("rope_scaling_type", c_enum),
        ("pooling_type", c_enum),
        ("attention_type", c_enum),
        ("flash_attn_type", c_enum),
        ("rope_freq_base", C.c_float),
        ("rope_freq_scale", C.c_float),
        ("yarn_ext_factor", C.c_float),
        ("yarn_attn_factor", C.c_float),
        ("yarn_beta_fast", C.c_float),
        ("yarn_beta_slow", C.c_float),
        ("yarn_orig_ctx", C.c_uint32),
        ("defrag_thold", C.c_float),
        ("cb_eval", C.c_void_p),
        ("cb_eval_user_data", C.c_void_p),
        ("type_k", c_enum),
        ("type_v", c_enum),
        ("abort_callback", C.c_void_p),
        ("abort_callback_data", C.c_void_p),
        ("embeddings", C.c_bool),
        ("offload_kqv", C.c_bool),
        ("no_perf", C.c_bool),
        ("op_offload", C.c_bool),
        ("swa_full", C.c_bool),
        ("kv_unified", C.c_bool),
        ("samplers", C.c_void_p),
        ("n_samplers", C.c_size_t),
        ("ctx_other", C.c_void_p),
    ]


class llama_batch(C.Structure):
    _fields_ = [
        ("n_tokens", C.c_int32),
        ("token", C.POINTER(llama_token)),
        ("embd", C.POINTER(C.c_float)),
        ("pos", C.POINTER(llama_pos)),
        ("n_seq_id", C.POINTER(C.c_int32)),
        ("seq_id", C.POINTER(C.POINTER(llama_seq_id))),
        ("logits", C.POINTER(C.c_int8)),
    ]


LOG_CALLBACK = C.CFUNCTYPE(None, c_enum, C.c_char_p, C.c_void_p)


def declare(lib: C.CDLL) -> None:
    def fn(name, restype, *argtypes):
        f = getattr(lib, name)
        f.restype = restype
        f.argtypes = list(argtypes)

    vp = C.c_void_p
    fn("llama_backend_init", None)
    fn("llama_backend_free", None)
    fn("llama_log_set", None, LOG_CALLBACK, vp)
    fn("llama_model_default_params", llama_model_params)
    fn("llama_context_default_params", llama_context_params)
    fn("llama_model_load_from_file", vp, C.c_char_p, llama_model_params)
    fn("llama_model_free", None, vp)
    fn("llama_init_from_model", vp, vp, llama_context_params)
    fn("llama_free", None, vp)
    fn("llama_model_get_vocab", vp, vp)
    fn("llama_model_n_cls_out", C.c_uint32, vp)
    fn("llama_model_cls_label", C.c_char_p, vp, C.c_uint32)
    fn("llama_model_n_embd", C.c_int32, vp)
    fn("llama_model_n_ctx_train", C.c_int32, vp)
    fn("llama_model_has_encoder", C.c_bool, vp)
    fn("llama_model_desc", C.c_int32, vp, C.c_char_p, C.c_size_t)
    fn("llama_pooling_type", c_enum, vp)
    fn("llama_get_memory", vp, vp)
    fn("llama_memory_clear", None, vp, C.c_bool)
    fn("llama_n_batch", C.c_uint32, vp)
    fn("llama_n_ubatch", C.c_uint32, vp)
    fn("llama_vocab_n_tokens", C.c_int32, vp)
    fn("llama_vocab_bos", llama_token, vp)
    fn("llama_vocab_eos", llama_token, vp)
    fn("llama_vocab_sep", llama_token, vp)
    fn("llama_vocab_get_add_bos", C.c_bool, vp)
    fn("llama_vocab_get_add_eos", C.c_bool, vp)
    fn("llama_vocab_get_add_sep", C.c_bool, vp)
    fn("llama_token_to_piece", C.c_int32, vp, llama_token, C.c_char_p, C.c_int32, C.c_int32, C.c_bool)
    fn("llama_tokenize", C.c_int32, vp, C.c_char_p, C.c_int32, C.POINTER(llama_token), C.c_int32, C.c_bool, C.c_bool)
    fn("llama_batch_init", llama_batch, C.c_int32, C.c_int32, C.c_int32)
    fn("llama_batch_free", None, llama_batch)
    fn("llama_decode", C.c_int32, vp, llama_batch)
    fn("llama_get_embeddings_seq", C.POINTER(C.c_float), vp, llama_seq_id)


def check_layout(lib: C.CDLL) -> None:
    """The defaults of this llama.cpp version, read back through our structures."""
    m = lib.llama_model_default_params()
    got_m = (m.devices, m.n_gpu_layers, m.split_mode, m.load_mode, m.lazy_mode, m.main_gpu, m.vocab_only,
             m.check_tensors, m.use_extra_bufts, m.no_host, m.no_alloc, m.load_mtp)
    want_m = (None, -1, 1, -1, 1, 0, False, False, True, False, False, False)
    c = lib.llama_context_default_params()
    got_c = (c.n_ctx, c.n_batch, c.n_ubatch, c.n_seq_max, c.n_rs_seq, c.n_outputs_max, c.n_outputs_max_per_seq,
             c.ctx_type, c.rope_scaling_type, c.pooling_type, c.attention_type, c.flash_attn_type,
             c.yarn_ext_factor, c.defrag_thold, c.type_k, c.type_v, c.embeddings, c.offload_kqv, c.no_perf,
             c.op_offload, c.swa_full, c.kv_unified, c.samplers, c.n_samplers, c.ctx_other)
    want_c = (512, 2048, 512, 1, 0, 0, 1, 0, -1, -1, -1, -1, -1.0, -1.0, 1, 1, False, True, True,
              True, True, False, None, 0, None)
    if got_m != want_m or got_c != want_c:
        sys.exit(f"struct layout mismatch with this libllama:\n model   {got_m}\n  wanted {want_m}\n"
                 f" context {got_c}\n  wanted {want_c}")


# ---------------------------------------------------------------------------------------------

def find_lib_dir(explicit: str | None) -> Path:
    if explicit:
        return Path(explicit)
    prefix = os.environ.get("LLAMA_PREFIX")
    if not prefix:
        env_sh = Path.home() / ".cache/longrm/env.sh"
        if env_sh.is_file():
            m = re.search(r"^\s*(?:export\s+)?LLAMA_PREFIX=[\"']?([^\"'\n]+)", env_sh.read_text(), re.M)
            if m:
                prefix = os.path.expandvars(m.group(1))
    if not prefix:  # set-up still running (env.sh is written last): take the installed library if any
        found = sorted(Path.home().glob(".cache/longrm/llama.cpp-*/install/lib/libllama.so"))
        if found:
            return found[-1].parent
        sys.exit("libllama not found: set LLAMA_PREFIX, run scripts/setup.sh, or pass --lib DIR")
    return Path(prefix) / "lib"


def tokenize(lib, vocab, text: str) -> list[int]:
    raw = text.encode("utf-8")
    cap = len(raw) + 8
    buf = (llama_token * cap)()
    n = lib.llama_tokenize(vocab, raw, len(raw), buf, cap, True, False)  # add_special, no special parsing
    if n < 0:
        cap = -n
        buf = (llama_token * cap)()
        n = lib.llama_tokenize(vocab, raw, len(raw), buf, cap, True, False)
    if n <= 0:
        sys.exit(f"tokenize failed ({n}) for {text!r}")
    return list(buf[:n])


def piece(lib, vocab, tok: int) -> str:
    buf = C.create_string_buffer(64)
    n = lib.llama_token_to_piece(vocab, tok, buf, 64, 0, True)
    return buf.raw[:max(n, 0)].decode("utf-8", "replace")


def score(lib, ctx, n_cls: int, seqs: list[list[int]]) -> list[list[float]]:
    """Decode every sequence in ONE llama_batch (seq ids 0..n-1) and read the rank-pooled outputs."""
    mem = lib.llama_get_memory(ctx)
    if mem:  # causal models keep a KV cache: start from empty so positions 0.. are free
        lib.llama_memory_clear(mem, True)
    total = sum(len(s) for s in seqs)
    batch = lib.llama_batch_init(total, 0, 1)
    try:
        i = 0
        for sid, toks in enumerate(seqs):
            for pos, tok in enumerate(toks):
                batch.token[i] = tok
                batch.pos[i] = pos
                batch.n_seq_id[i] = 1
                batch.seq_id[i][0] = sid
                batch.logits[i] = 1  # pooled outputs need every token marked as output
                i += 1
        batch.n_tokens = total
        rc = lib.llama_decode(ctx, batch)
        if rc != 0:
            sys.exit(f"llama_decode returned {rc}")
        out = []
        for sid in range(len(seqs)):
            p = lib.llama_get_embeddings_seq(ctx, sid)
            if not p:
                sys.exit(f"llama_get_embeddings_seq({sid}) returned NULL")
            out.append([p[j] for j in range(n_cls)])
        return out
    finally:
        lib.llama_batch_free(batch)


def bits(x: float) -> str:
    return struct.pack("<f", x).hex()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", type=Path)
    ap.add_argument("--lib", help="directory holding libllama.so (default: $LLAMA_PREFIX/lib)")
    ap.add_argument("--text", action="append", help="a text to score (give two; defaults are built in)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--flash-attn", choices=["auto", "on", "off"], default="off",
                    help="flash attention (default off: the setting the design measured as bit-stable)")
    ap.add_argument("--tol", type=float, default=1e-4,
                    help="allowed |batched - alone| / max(1, |alone|) (default 1e-4)")
    ap.add_argument("--exact", action="store_true", help="require bitwise batch invariance")
    ap.add_argument("--no-extra-bufts", action="store_true",
                    help="disable llama.cpp's extra (repacking) CPU buffer types (a native build's AMX "
                         "kernels die with SIGILL on VMs that advertise AMX without enabling it)")
    ap.add_argument("--verbose", action="store_true", help="show llama.cpp's log")
    args = ap.parse_args()
    texts = args.text or ["The capital of France is Paris.",
                          "The sky is green and the grass is blue!"]
    if len(texts) != 2 or texts[0] == texts[1]:
        ap.error("give exactly two different --text values")

    lib_dir = find_lib_dir(args.lib)
    lib = C.CDLL(str(lib_dir / "libllama.so"))
    declare(lib)
    check_layout(lib)

    @LOG_CALLBACK
    def quiet(level, text, _ud):
        if args.verbose or level == 4:  # always show errors
            sys.stderr.write(text.decode("utf-8", "replace"))

    lib.llama_log_set(quiet, None)
    # Set-up's build keeps its CPU backend in modules beside libggml, one per CPU variant (scripts/setup.sh):
    # load the best this CPU runs, from there (llama_backend_init would only look beside python3).
    ggml = C.CDLL(str(lib_dir / "libggml.so"))
    ggml.ggml_backend_load_all_from_path.argtypes = [C.c_char_p]
    if ggml.ggml_backend_reg_count() == 0:
        ggml.ggml_backend_load_all_from_path(str(lib_dir).encode())
    lib.llama_backend_init()

    t0 = time.perf_counter()
    mparams = lib.llama_model_default_params()
    mparams.n_gpu_layers = 0
    mparams.use_extra_bufts = not args.no_extra_bufts
    model = lib.llama_model_load_from_file(str(args.model).encode(), mparams)
    if not model:
        sys.exit(f"failed to load {args.model} (rerun with --verbose for llama.cpp's reason)")
    t_load = time.perf_counter() - t0
    vocab = lib.llama_model_get_vocab(model)

    seqs = [tokenize(lib, vocab, t) for t in texts]
    total = sum(len(s) for s in seqs)

    cparams = lib.llama_context_default_params()
    cparams.embeddings = True
    cparams.pooling_type = LLAMA_POOLING_TYPE_RANK
    cparams.n_seq_max = len(seqs)
    # Non-causal models (no KV cache) process a whole llama_decode call in ONE ubatch: n_ubatch must
    # cover every token of every sequence in the call. n_ctx is split across sequences for causal ones.
    cparams.n_ctx = max(512, 2 * total)
    cparams.n_batch = cparams.n_ubatch = max(512, total)
    cparams.n_threads = cparams.n_threads_batch = args.threads
    cparams.flash_attn_type = {"auto": -1, "on": 1, "off": 0}[args.flash_attn]
    ctx = lib.llama_init_from_model(model, cparams)
    if not ctx:
        sys.exit("llama_init_from_model failed (rerun with --verbose)")

    desc = C.create_string_buffer(128)
    lib.llama_model_desc(model, desc, 128)
    n_cls = lib.llama_model_n_cls_out(model)
    labels = [(lib.llama_model_cls_label(model, i) or b"").decode() for i in range(n_cls)]
    print(f"model        {args.model} ({args.model.stat().st_size} bytes, {desc.value.decode()})")
    print(f"load         {t_load * 1000:.1f} ms; n_embd {lib.llama_model_n_embd(model)}, "
          f"n_ctx_train {lib.llama_model_n_ctx_train(model)}, vocab {lib.llama_vocab_n_tokens(vocab)}")
    print(f"context      pooling {lib.llama_pooling_type(ctx)} (4 = rank), KV cache "
          f"{'yes' if lib.llama_get_memory(ctx) else 'no (encoder path)'}, n_batch {lib.llama_n_batch(ctx)}, "
          f"n_ubatch {lib.llama_n_ubatch(ctx)}, flash attention {args.flash_attn}")
    print(f"special      bos {lib.llama_vocab_bos(vocab)} eos {lib.llama_vocab_eos(vocab)} "
          f"sep {lib.llama_vocab_sep(vocab)}; add_bos {lib.llama_vocab_get_add_bos(vocab)} "
          f"add_eos {lib.llama_vocab_get_add_eos(vocab)} add_sep {lib.llama_vocab_get_add_sep(vocab)}")
    print(f"n_cls_out    {n_cls}")
    print(f"labels       {labels}")
    for t, s in zip(texts, seqs):
        shown = " ".join(piece(lib, vocab, x) for x in s[:6]) + (" ..." if len(s) > 6 else "")
        print(f"tokens       {len(s):3d} for {t!r}: {s[:6]}{' ...' if len(s) > 6 else ''} = {shown!r}")

    t0 = time.perf_counter()
    together = score(lib, ctx, n_cls, seqs)
    t_batch = time.perf_counter() - t0
    alone = [score(lib, ctx, n_cls, [s])[0] for s in seqs]
    t_all = time.perf_counter() - t0
    again = [score(lib, ctx, n_cls, [s])[0] for s in seqs]

    for k, t in enumerate(texts):
        print(f"score        seq {k} batched {together[k]}  alone {alone[k]}  {t!r}")
    finite = all(math.isfinite(x) for row in together + alone for x in row)
    differ = together[0] != together[1]
    repeat = [[bits(x) for x in a] == [bits(x) for x in b] for a, b in zip(alone, again)]
    bitwise = [[bits(x) for x in a] == [bits(x) for x in b] for a, b in zip(together, alone)]
    rel = max(abs(x - y) / max(1.0, abs(y)) for a, b in zip(together, alone) for x, y in zip(a, b))
    invariant = all(bitwise) if args.exact else rel <= args.tol
    print(f"check        finite: {finite}; texts differ: {differ}; alone twice bitwise equal: {repeat}")
    print(f"check        batched vs alone: bitwise equal {bitwise}; max relative difference {rel:.3g} "
          f"({'must be 0' if args.exact else f'tolerance {args.tol:g}'})")
    print(f"timing       one batch of {total} tokens: {t_batch * 1000:.1f} ms (first decode, includes graph "
          f"set-up); the three decodes {t_all * 1000:.1f} ms")
    ok = finite and differ and all(repeat) and invariant
    print("RESULT       " + ("PASS" if ok else "FAIL"))

    lib.llama_free(ctx)
    lib.llama_model_free(model)
    lib.llama_backend_free()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
