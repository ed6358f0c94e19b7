#!/usr/bin/env python3
"""Golden fixtures for the forward pass: tiny random Gemma 3 / Gemma 4 causal
LMs built from a config with HF transformers (no download), saved with
save_pretrained, and their logits for a fixed prompt.

For each config NAME this writes tests/fixtures/models/NAME/:
  config.json, model.safetensors   the HF checkpoint (FP32)
  reference.json                   prompt ids, decode ids, shapes
  logits.bin                       float32 (48, vocab): 40 prefill positions,
                                   then 8 single-token decode steps through
                                   HF's KV cache
Run: .venv-ref/bin/python tools/reference/make_model_fixtures.py
"""
import json
import os
import shutil
import sys

import numpy as np
import torch
import transformers
from transformers import (Gemma3ForCausalLM, Gemma3TextConfig, Gemma4ForCausalLM,
                          Gemma4TextConfig)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
OUT = os.path.join(ROOT, "tests", "fixtures", "models")
PREFILL, DECODE = 40, 8
S, F = "sliding_attention", "full_attention"

COMMON = dict(vocab_size=128, hidden_size=32, intermediate_size=64, num_attention_heads=4,
              head_dim=16, sliding_window=8, max_position_embeddings=256,
              pad_token_id=0, bos_token_id=2, eos_token_id=1)

CONFIGS = {
    # Gemma 3: GQA, default 5:1 pattern, linear RoPE scaling on global layers.
    "gemma3_gqa": (Gemma3TextConfig, dict(
        COMMON, num_hidden_layers=7, num_key_value_heads=2, query_pre_attn_scalar=16,
        rope_parameters={F: dict(rope_type="linear", factor=4.0, rope_theta=1000000.0),
                         S: dict(rope_type="default", rope_theta=10000.0)})),
    # Gemma 3: MQA, irregular layer types, query_pre_attn_scalar != head_dim,
    # untied output, final softcap.
    "gemma3_mqa_untied": (Gemma3TextConfig, dict(
        COMMON, num_hidden_layers=5, num_key_value_heads=1, query_pre_attn_scalar=24,
        layer_types=[S, F, S, S, F], tie_word_embeddings=False, final_logit_softcapping=15.0)),
    # Gemma 3: MHA, larger window than some positions, sliding last layer.
    "gemma3_mha": (Gemma3TextConfig, dict(
        COMMON, num_hidden_layers=4, num_key_value_heads=4, query_pre_attn_scalar=16,
        sliding_window=16, layer_types=[S, S, F, S])),
    # Gemma 4: K=V on global layers with their own KV-head count.
    "gemma4_keqv": (Gemma4TextConfig, dict(
        COMMON, num_hidden_layers=5, num_key_value_heads=2, layer_types=[S, S, F, S, F],
        global_head_dim=32, num_global_key_value_heads=1, attention_k_eq_v=True,
        hidden_size_per_layer_input=0, final_logit_softcapping=30.0)),
    # Gemma 4: KV sharing for the last 3 layers, double-wide MLP there, no K=V.
    "gemma4_kvshare": (Gemma4TextConfig, dict(
        COMMON, num_hidden_layers=7, num_key_value_heads=2, layer_types=[S, S, F, S, S, S, F],
        global_head_dim=32, num_kv_shared_layers=3, use_double_wide_mlp=True,
        hidden_size_per_layer_input=0, final_logit_softcapping=30.0)),
    # Gemma 4: per-layer embeddings plus every other feature.
    "gemma4_ple": (Gemma4TextConfig, dict(
        COMMON, num_hidden_layers=6, num_key_value_heads=2, layer_types=[S, S, F, S, S, F],
        global_head_dim=32, num_global_key_value_heads=1, attention_k_eq_v=True,
        num_kv_shared_layers=2, use_double_wide_mlp=True, hidden_size_per_layer_input=8,
        vocab_size_per_layer_input=128, final_logit_softcapping=30.0)),
    # Gemma 4 MoE (26B-A4B's block): 8 experts of width 16, 3 per token, beside
    # the dense MLP in every layer; K=V globals.
    "gemma4_moe": (Gemma4TextConfig, dict(
        COMMON, num_hidden_layers=4, num_key_value_heads=2, layer_types=[S, F, S, F],
        global_head_dim=32, num_global_key_value_heads=1, attention_k_eq_v=True,
        hidden_size_per_layer_input=0, final_logit_softcapping=30.0,
        enable_moe_block=True, num_experts=8, top_k_experts=3, moe_intermediate_size=16)),
}


def randomize(model, gemma3, gen):
    """HF's init leaves norms at their identity and scalars at 1, which would
    not test them: draw every parameter so each one changes the logits."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(("router.scale", "per_expert_scale")):
                p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=gen))
            elif name.endswith("router.proj.weight"):
                # A decisive router, as trained ones are: top-k choices far
                # from ties (checked below).
                p.copy_(4.0 * torch.randn(p.shape, generator=gen) / p.shape[-1] ** 0.5)
            elif name.endswith("norm.weight"):
                base = 0.0 if gemma3 else 1.0
                p.copy_(base + 0.2 * torch.randn(p.shape, generator=gen))
            elif "embed" in name:
                p.copy_(torch.randn(p.shape, generator=gen))
            else:
                p.copy_(torch.randn(p.shape, generator=gen) / p.shape[-1] ** 0.5)
        for name, b in model.named_buffers():
            if name.endswith("layer_scalar"):
                b.copy_(1.0 + 0.2 * torch.randn(b.shape, generator=gen))


def main():
    torch.manual_seed(0)
    for idx, (name, (cls, kwargs)) in enumerate(CONFIGS.items()):
        config = cls(**kwargs)
        config._attn_implementation = "eager"
        model_cls = Gemma3ForCausalLM if cls is Gemma3TextConfig else Gemma4ForCausalLM
        model = model_cls(config).eval()
        gen = torch.Generator().manual_seed(1000 + idx)
        randomize(model, cls is Gemma3TextConfig, gen)
        vocab = config.vocab_size
        ids = torch.randint(3, vocab, (1, PREFILL + DECODE), generator=gen)
        with torch.no_grad():
            # output_hidden_states=True: transformers 5.24 crashes slicing the
            # absent per-layer inputs of a KV-sharing model without PLE otherwise.
            out = model(input_ids=ids[:, :PREFILL], use_cache=True, output_hidden_states=True)
            rows = [out.logits[0]]
            cache = out.past_key_values
            for t in range(PREFILL, PREFILL + DECODE):
                out = model(input_ids=ids[:, t:t + 1], past_key_values=cache, use_cache=True)
                cache = out.past_key_values
                rows.append(out.logits[0])
            logits = torch.cat(rows).float().numpy()
            out = model(input_ids=ids, output_hidden_states=True,
                        output_router_logits=bool(getattr(config, "enable_moe_block", False)))
            full = out.logits[0].float().numpy()
            if getattr(config, "enable_moe_block", False):
                # Every token's k-th and (k+1)-th router probabilities must
                # differ by far more than float rounding, or another engine
                # could pick another expert legitimately.
                k = config.top_k_experts
                for probs in out.router_logits:
                    top = torch.topk(probs.float(), k + 1, dim=-1).values
                    gap = (top[:, k - 1] - top[:, k]).min().item()
                    assert gap > 1e-4, (name, gap)
        # Cached decode and a full forward must agree: guards the fixture itself.
        assert np.allclose(logits, full, rtol=1e-4, atol=1e-4), name
        d = os.path.join(OUT, name)
        shutil.rmtree(d, ignore_errors=True)
        model.save_pretrained(d, safe_serialization=True)
        for extra in ("generation_config.json",):
            if os.path.exists(os.path.join(d, extra)):
                os.remove(os.path.join(d, extra))
        logits.astype("<f4").tofile(os.path.join(d, "logits.bin"))
        ref = dict(prefill=PREFILL, decode=DECODE, vocab=vocab,
                   ids=ids[0].tolist(), transformers=transformers.__version__,
                   torch=torch.__version__)
        with open(os.path.join(d, "reference.json"), "w") as f:
            json.dump(ref, f, indent=1)
        print(f"{name}: {sum(p.numel() for p in model.parameters())} params, "
              f"logits |max| {np.abs(logits).max():.3f}")


if __name__ == "__main__":
    sys.exit(main())
