#!/usr/bin/env python3
"""Side-by-side check against llama.cpp (not part of the test suite: it needs
a llama.cpp build, which this project neither ships nor builds).

Usage: .venv-ref/bin/python tools/reference/check_llamacpp_compat.py \
           --llama-cpp /path/to/llama.cpp [--qat build/qat] [--work /tmp/qat-compat]

With the real Gemma 3 tokenizer.json (../shared/data/tokenizers/gemma3) and
small random Gemma 3 / Gemma 4 models at the full 262,144-token vocabulary:
 1. qat convert HF -> GGUF; llama.cpp's llama-simple and `qat run` must
    produce the same greedy text, and both must equal HF transformers' greedy
    generate().
 2. Gemma 4 (dense and MoE): llama.cpp's own convert_hf_to_gguf.py writes
    the GGUF; `qat run` on that file must produce the same greedy text.
Prints one line per check and exits non-zero if any differs.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

import torch
from transformers import (Gemma3ForCausalLM, Gemma3TextConfig, Gemma4ForCausalLM,
                          Gemma4TextConfig, PreTrainedTokenizerFast)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
TOK_DIR = os.path.join(ROOT, "..", "shared", "data", "tokenizers", "gemma3")
PROMPT = "The card ending 4421 was charged $1,234.56 at"
N = 16
S, F = "sliding_attention", "full_attention"


# llama.cpp's converter reads global_head_dim / num_global_key_value_heads from
# AutoConfig(...).to_dict(), which transformers >= 5.15 no longer includes
# (upstream fix 6eff59326 is not in the mirror): add them back, then run it.
CONVERT_LAUNCHER = '''
import runpy, sys
from transformers import Gemma4TextConfig
orig = Gemma4TextConfig.to_dict
def to_dict(self):
    d = orig(self)
    full = [str(i) for i, t in enumerate(d["layer_types"]) if t == "full_attention"]
    plc = d.get("per_layer_config") or {}
    for i in full:
        o = plc.get(i) or plc.get(int(i)) or {}
        d.setdefault("global_head_dim", o.get("head_dim"))
        if "num_key_value_heads" in o:
            d.setdefault("num_global_key_value_heads", o["num_key_value_heads"])
    return d
Gemma4TextConfig.to_dict = to_dict
script = sys.argv[1]
import os; sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
sys.argv = sys.argv[1:]
runpy.run_path(script, run_name="__main__")
'''


def build(kind, out):
    # The tokenizer has 262,145 entries. Gemma 3 gets 262,208 rows as the 4B
    # checkpoint has (the GGUF vocabulary is then padded); Gemma 4 gets exactly
    # one row per token, as llama.cpp's converter needs.
    rows = 262208 if kind == "gemma3" else 262145
    common = dict(vocab_size=rows, hidden_size=64, intermediate_size=128, num_attention_heads=4,
                  head_dim=32, sliding_window=8, max_position_embeddings=1024,
                  pad_token_id=0, bos_token_id=2, eos_token_id=1,
                  tie_word_embeddings=False)  # tied: random models just repeat the last token
    if kind == "gemma4_moe":
        # The 26B-A4B block: 8 experts of width 32, 2 per token, beside the
        # dense MLP in every layer; K=V on the global layers.
        cfg = Gemma4TextConfig(**common, num_hidden_layers=4, num_key_value_heads=2,
                               layer_types=[S, F, S, F], global_head_dim=64,
                               num_global_key_value_heads=1, attention_k_eq_v=True,
                               hidden_size_per_layer_input=0, final_logit_softcapping=30.0,
                               enable_moe_block=True, num_experts=8, top_k_experts=2,
                               moe_intermediate_size=32)
        model = Gemma4ForCausalLM(cfg)
    elif kind == "gemma3":
        # llama.cpp's gemma3: every 6th layer global, scale 1/sqrt(head_dim).
        cfg = Gemma3TextConfig(**common, num_hidden_layers=7, num_key_value_heads=2,
                               query_pre_attn_scalar=32,
                               layer_types=[S, S, S, S, S, F, S])
        model = Gemma3ForCausalLM(cfg)
    else:
        # KV sharing laid out as llama.cpp assumes (last non-shared layer global,
        # the one before sliding), PLE, K=V with 1 global KV head.
        cfg = Gemma4TextConfig(**common, num_hidden_layers=6, num_key_value_heads=2,
                               layer_types=[S, S, S, F, S, F], global_head_dim=64,
                               num_global_key_value_heads=1, attention_k_eq_v=True,
                               num_kv_shared_layers=2, use_double_wide_mlp=True,
                               hidden_size_per_layer_input=8,
                               vocab_size_per_layer_input=rows, final_logit_softcapping=30.0)
        model = Gemma4ForCausalLM(cfg)
    gen = torch.Generator().manual_seed(7)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(("router.scale", "per_expert_scale")):
                p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=gen))
            elif name.endswith("router.proj.weight"):  # decisive, as trained routers are
                p.copy_(4.0 * torch.randn(p.shape, generator=gen) / p.shape[-1] ** 0.5)
            elif name.endswith("norm.weight"):
                p.copy_((0.0 if kind == "gemma3" else 1.0) + 0.2 * torch.randn(p.shape, generator=gen))
            elif "embed" in name:
                p.copy_(torch.randn(p.shape, generator=gen))
            else:
                p.copy_(torch.randn(p.shape, generator=gen) / p.shape[-1] ** 0.5)
    model.eval().save_pretrained(out)
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(TOK_DIR, f), out)
    return model


def hf_greedy(model, tok):
    ids = tok(PROMPT, return_tensors="pt").input_ids
    with torch.no_grad():
        out = model.generate(ids, max_new_tokens=N, do_sample=False)
    return tok.decode(out[0, ids.shape[1]:])


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{r.stderr[-2000:]}")
    return r.stdout


def qat_text(qat, model_path):
    return run([qat, "run", "-m", model_path, "-p", PROMPT, "-n", str(N), "--temp", "0"])[len(PROMPT):].rstrip("\n")


def llama_text(llama, model_path):
    out = run([os.path.join(llama, "build", "bin", "llama-simple"), "-m", model_path, "-n", str(N), PROMPT])
    return out.split(PROMPT, 1)[1].rstrip("\n") if PROMPT in out else out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--llama-cpp", required=True)
    ap.add_argument("--qat", default=os.path.join(ROOT, "build", "qat"))
    ap.add_argument("--work", default="/tmp/qat-compat")
    a = ap.parse_args()
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    tok = PreTrainedTokenizerFast(tokenizer_file=os.path.join(TOK_DIR, "tokenizer.json"))
    ok = True
    for kind in ("gemma3", "gemma4", "gemma4_moe"):
        hf_dir = os.path.join(a.work, kind + "_hf")
        model = build(kind, hf_dir)
        ref = hf_greedy(model, tok)
        ours = os.path.join(a.work, kind + "_qat.gguf")
        run([a.qat, "convert", hf_dir, ours])
        results = {"qat run on HF dir": qat_text(a.qat, hf_dir),
                   "qat run on qat GGUF": qat_text(a.qat, ours),
                   "llama.cpp on qat GGUF": llama_text(a.llama_cpp, ours)}
        if kind.startswith("gemma4"):
            theirs = os.path.join(a.work, kind + "_llamacpp.gguf")
            run([sys.executable, "-c", CONVERT_LAUNCHER, os.path.join(a.llama_cpp, "convert_hf_to_gguf.py"),
                 hf_dir, "--outfile", theirs, "--outtype", "f32"])
            results["qat run on llama.cpp GGUF"] = qat_text(a.qat, theirs)
            results["llama.cpp on llama.cpp GGUF"] = llama_text(a.llama_cpp, theirs)
        print(f"{kind}: HF transformers greedy: {ref!r}")
        for k, v in results.items():
            same = v == ref
            ok &= same
            print(f"  {'SAME' if same else 'DIFF'}  {k}: {v!r}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
