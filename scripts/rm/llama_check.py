#!/usr/bin/env python3
"""Check converted reward models against the goldens with llama.cpp itself, without the server.

Usage (in the venv of scripts/rm/venv.sh):
  python scripts/rm/llama_check.py --goldens scripts/rm/goldens.json --gguf-dir DIR [--outtypes f32,f16,...]
DIR holds <family>-<outtype>.gguf (what tests/rm_parity.sh converts). Calls $LLAMA_PREFIX/lib/libllama.so
through llama-cpp-python's ctypes bindings of the same sdist (scripts/rm/llama-bindings.sh) and checks:
  template   llama_chat_apply_template with the GGUF's template (llama.cpp's built-in renderer for the
             detected family) against transformers' apply_chat_template, for every case; a leading BOS in
             the transformers text is allowed (llama.cpp adds BOS as a token, not as text).
  tokens     llama_tokenize(query, add_special=false, parse_special=true) against transformers' token ids.
  body+head  the golden token ids decoded with embeddings on and pooling NONE; the final-norm hidden state
             at the last token (and at every step separator) times longrm.head.weight (+ bias), against the
             golden logits: the engine's numbers without the server's prompt assembly.
Prints one table row per model and output type (max |diff|, max relative diff = |diff| / max(1e-3, |golden|)).
"""
from __future__ import annotations

import argparse
import ctypes
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import goldens  # noqa: E402


def load_bindings():
    cache = os.environ.get("LONGRM_CACHE", str(Path.home() / ".cache/longrm"))
    env = dict(line.split("=", 1) for line in Path(cache, "env.sh").read_text().splitlines() if "=" in line)
    os.environ["LLAMA_CPP_LIB_PATH"] = str(Path(env["LLAMA_PREFIX"]) / "lib")
    folder = subprocess.run([str(HERE / "llama-bindings.sh")], check=True, capture_output=True, text=True).stdout.strip()
    sys.path.insert(0, folder)
    sys.path.insert(1, str(Path(env["LLAMA_PREFIX"]).parent / "src" / "gguf-py"))
    import llama_cpp.llama_cpp as ll  # noqa: E402
    return ll


def head_of(path: Path):
    import gguf
    reader = gguf.GGUFReader(str(path))
    f = {k: v.contents() for k, v in reader.fields.items() if k.startswith("longrm.head.")}
    labels = list(f["longrm.head.labels"])
    w = np.asarray(f["longrm.head.weight"], np.float64).reshape(len(labels), -1)
    b = np.asarray(f["longrm.head.bias"], np.float64) if "longrm.head.bias" in f else np.zeros(len(labels))
    return w, b, labels, f.get("longrm.head.pad_token_id")


class Engine:
    def __init__(self, ll, path: Path, n_ctx: int = 8192, kv_f32: bool = False, flash_attn: bool = False):
        self.ll = ll
        mp = ll.llama_model_default_params()
        self.model = ll.llama_model_load_from_file(str(path).encode(), mp)
        if not self.model:
            raise RuntimeError(f"llama.cpp could not load {path}")
        cp = ll.llama_context_default_params()
        cp.n_ctx, cp.n_batch, cp.n_ubatch, cp.n_seq_max = n_ctx, n_ctx, 512, 1
        cp.n_threads = cp.n_threads_batch = 2
        cp.embeddings = True
        cp.pooling_type = ll.LLAMA_POOLING_TYPE_NONE
        # as `longrm serve` by default: flash attention off (on, llama.cpp's CPU kernels round Q.K and
        # P.V through f16: ~3e-3 on these models even for f32 files), f16 KV cache (~1e-4)
        cp.flash_attn_type = ll.LLAMA_FLASH_ATTN_TYPE_ENABLED if flash_attn else ll.LLAMA_FLASH_ATTN_TYPE_DISABLED
        if kv_f32:
            cp.type_k = cp.type_v = ll.GGML_TYPE_F32
        self.ctx = ll.llama_init_from_model(self.model, cp)
        self.vocab = ll.llama_model_get_vocab(self.model)
        self.n_embd = ll.llama_model_n_embd(self.model)

    def close(self):
        self.ll.llama_free(self.ctx)
        self.ll.llama_model_free(self.model)

    def template(self) -> bytes | None:
        return self.ll.llama_model_chat_template(self.model, None)

    def apply_template(self, messages: list[dict], add_ass: bool) -> str:
        ll = self.ll
        tmpl = self.template()
        keep = [(m["role"].encode(), m["content"].encode()) for m in messages]
        arr = (ll.llama_chat_message * len(keep))(*[ll.llama_chat_message(r, c) for r, c in keep])
        size = 4 * sum(len(c) for _, c in keep) + 4096
        buf = ctypes.create_string_buffer(size)
        n = ll.llama_chat_apply_template(tmpl, arr, len(keep), add_ass, buf, size)
        if n < 0:
            raise RuntimeError("llama_chat_apply_template does not know this template")
        return buf.raw[:n].decode("utf-8")

    def tokenize(self, text: str) -> list[int]:
        data = text.encode()
        cap = len(data) + 16
        out = (ctypes.c_int32 * cap)()
        n = self.ll.llama_tokenize(self.vocab, data, len(data), out, cap, False, True)
        return list(out[:n])

    def hidden(self, ids: list[int], rows: list[int]) -> np.ndarray:
        """Final-norm hidden states of `ids` at the given positions (a fresh sequence)."""
        ll = self.ll
        ll.llama_memory_clear(ll.llama_get_memory(self.ctx), True)
        arr = (ctypes.c_int32 * len(ids))(*ids)
        batch = ll.llama_batch_get_one(arr, len(ids))
        if ll.llama_decode(self.ctx, batch) != 0:
            raise RuntimeError("llama_decode failed")
        out = []
        for r in rows:
            p = ll.llama_get_embeddings_ith(self.ctx, r)
            out.append(np.ctypeslib.as_array(p, shape=(self.n_embd,)).astype(np.float64))
        return np.stack(out)


def strip_bos(text: str, bos_texts: tuple[str, ...]) -> str:
    for b in bos_texts:
        if text.startswith(b):
            return text[len(b):]
    return text


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--goldens", type=Path, default=HERE / "goldens.json")
    ap.add_argument("--gguf-dir", type=Path, required=True)
    ap.add_argument("--outtypes", default="f32,f16,q8_0,q4_k_m")
    ap.add_argument("--families", default=None)
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--flash-attn", action="store_true", help="flash attention on (`longrm serve --flash-attn`)")
    ap.add_argument("--kv-f32", action="store_true", help="f32 KV cache (llama.cpp's default is f16)")
    args = ap.parse_args()
    ll = load_bindings()
    silence = ll.llama_log_callback(lambda level, text, data: None)
    ll.llama_log_set(silence, ctypes.c_void_p(0))
    ll.llama_backend_init()
    data = json.loads(args.goldens.read_text())
    families = args.families.split(",") if args.families else list(data["models"])
    rows = []
    template_notes = []
    for family in families:
        g = data["models"][family]
        for outtype in args.outtypes.split(","):
            path = args.gguf_dir / f"{family}-{outtype}.gguf"
            if not path.is_file():
                rows.append((family, outtype, "missing", "", "", "")); continue
            eng = Engine(ll, path, kv_f32=args.kv_f32, flash_attn=args.flash_attn)
            w, b, labels, pad = head_of(path)
            worst_abs = worst_rel = 0.0
            tok_mismatch = tmpl_mismatch = 0
            for case in g["cases"]:
                for r in case["responses"]:
                    ids = goldens.token_ids(case, r)
                    query = goldens.query(case, r)
                    if outtype == "f32":
                        if eng.tokenize(query) != ids:
                            tok_mismatch += 1
                        full = case["messages"] + [{"role": "assistant", "content": r["response"]}]
                        bos = ("<|begin_of_text|>", "<bos>", "<s>")
                        ours, theirs = eng.apply_template(full, False), strip_bos(query, bos)
                        ours_p, theirs_p = eng.apply_template(case["messages"], True), strip_bos(case["prompt"], bos)
                        if ours != theirs or ours_p != theirs_p:
                            tmpl_mismatch += 1
                            if len(template_notes) < 6:
                                template_notes.append(f"{family} {case['kind']} {case['name']}:\n  llama.cpp    "
                                                      f"{ours[:160]!r}\n  transformers {theirs[:160]!r}")
                    # transformers pools at the last token that is not the pad token
                    targets = [max(i for i, t in enumerate(ids) if t != pad)]
                    goldens_here = [r["reward"]]
                    if "step_rewards" in r:
                        targets += r["step_positions"]
                        goldens_here += r["step_rewards"]
                    h = eng.hidden(ids, targets)
                    got = h @ w.T + b
                    for row, gold in zip(got, goldens_here):
                        gold = np.asarray(gold)
                        diff = np.abs(row - gold)
                        if args.verbose:
                            print(f"  {family} {outtype} {case['kind']} {case['name']} {len(ids)} tokens: "
                                  f"ours {row[0]:.6f} golden {gold[0]:.6f} |diff| {diff.max():.3g}", file=sys.stderr)
                        worst_abs = max(worst_abs, float(diff.max()))
                        worst_rel = max(worst_rel, float((diff / np.maximum(1e-3, np.abs(gold))).max()))
            eng.close()
            rows.append((family, outtype, f"{worst_abs:.3g}", f"{worst_rel:.3g}",
                         "" if outtype != "f32" else ("ok" if tok_mismatch == 0 else f"{tok_mismatch} differ"),
                         "" if outtype != "f32" else ("ok" if tmpl_mismatch == 0 else f"{tmpl_mismatch} differ")))
            print(" | ".join(rows[-1]), file=sys.stderr)
    print("| arch | outtype | max abs diff | max rel diff | tokens (f32) | template (f32) |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    for note in template_notes:
        print(note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
