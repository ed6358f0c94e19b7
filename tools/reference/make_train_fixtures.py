#!/usr/bin/env python3
"""Golden fixtures for training: PyTorch/HF transformers as the oracle for the
C++ engine's whole-model gradient test (llm.c's test_gpt2 approach).

Reuses the tiny random checkpoints under tests/fixtures/models/ (written by
make_model_fixtures.py). For each fixture NAME this writes
tests/fixtures/train/NAME/:
  reference.json     batch, ids, targets or labels, initial loss, the losses of
                     10 AdamW steps, the optimizer recipe, global grad norm
  logits.bin         float32 little-endian: (B, T, V) LM logits of the initial
                     model (task "lm") or (B, N) class logits (task "classify")
  grads.safetensors  F32 gradient of the initial loss for every trained
                     parameter, under its HF named_parameters() name
  head.safetensors   task "classify" only: the initial "score.weight" (N, H)
The format is described in tests/fixtures/train/README.md.

Fixtures: one "lm" fixture per model (B=2, T=24), and two "classify" fixtures
(B=3, T=24): gemma3_gqa_cls_last (last-token pooling) and gemma4_ple_cls_mean
(mean pooling), with a new 3-class head on the final-normed hidden states.

Deterministic (seeded generators, one CPU thread): a rerun rewrites identical
files.
Run: .venv-ref/bin/python tools/reference/make_train_fixtures.py
"""
import json
import os
import shutil
import sys

import torch
import torch.nn.functional as F
import transformers
from safetensors.torch import save_file
from transformers import Gemma3ForCausalLM, Gemma4ForCausalLM

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
MODELS = os.path.join(ROOT, "tests", "fixtures", "models")
OUT = os.path.join(ROOT, "tests", "fixtures", "train")

SEQ = 24           # > sliding_window (8) so the windows matter
STEPS = 10
NUM_CLASSES = 3
ADAMW = dict(beta1=0.9, beta2=0.95, eps=1e-8, weight_decay=0.1, clip_norm=1.0)
# Learning rates chosen so that FP32 rounding cannot move the 10 losses by 1e-5
# (relative) while the updates and the weight decay move them far more: at
# lr=1e-2 these tiny models memorize the batch within 10 steps (loss ~20 ->
# ~0.01) and FP32 and FP64 runs of the same recipe part by up to 2.5e-3 on the
# Gemma 4 models. make() replays every fixture in FP64 and checks the margin.
LR = {"lm": 1e-3, "classify": 3e-4}
LOSS_RTOL = 1e-5
IGNORE = -100

# name -> (model dir, task, batch, pooling)
FIXTURES = {
    "gemma3_gqa": ("gemma3_gqa", "lm", 2, None),
    "gemma3_mqa_untied": ("gemma3_mqa_untied", "lm", 2, None),
    "gemma3_mha": ("gemma3_mha", "lm", 2, None),
    "gemma4_keqv": ("gemma4_keqv", "lm", 2, None),
    "gemma4_kvshare": ("gemma4_kvshare", "lm", 2, None),
    "gemma4_ple": ("gemma4_ple", "lm", 2, None),
    "gemma3_gqa_cls_last": ("gemma3_gqa", "classify", 3, "last"),
    "gemma4_ple_cls_mean": ("gemma4_ple", "classify", 3, "mean"),
}


def load(model_name):
    d = os.path.join(MODELS, model_name)
    with open(os.path.join(d, "config.json")) as f:
        model_type = json.load(f)["model_type"]
    cls = Gemma3ForCausalLM if model_type.startswith("gemma3") else Gemma4ForCausalLM
    model = cls.from_pretrained(d, dtype=torch.float32, attn_implementation="eager")
    model.train()  # dropout is 0 in these configs; train() only for fidelity
    return model


def forward(model, task, ids, head, pooling):
    # output_hidden_states=True: transformers 5.24 crashes slicing the absent
    # per-layer inputs of a KV-sharing model without PLE otherwise.
    if task == "lm":
        return model(input_ids=ids, output_hidden_states=True).logits
    hidden = model.model(input_ids=ids, output_hidden_states=True).last_hidden_state
    pooled = hidden[:, -1] if pooling == "last" else hidden.mean(dim=1)
    return pooled @ head.t()


def loss_of(logits, task, targets):
    if task == "lm":
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                               ignore_index=IGNORE)
    return F.cross_entropy(logits, targets)


def batch_for(idx, task, batch, vocab, hidden_size):
    gen = torch.Generator().manual_seed(2000 + idx)
    ids = torch.randint(3, vocab, (batch, SEQ), generator=gen)
    head = None
    if task == "lm":
        targets = torch.empty_like(ids)
        targets[:, :-1] = ids[:, 1:]
        targets[:, -1] = torch.randint(3, vocab, (batch,), generator=gen)
        targets[1, :3] = IGNORE
    else:
        head = torch.randn(NUM_CLASSES, hidden_size, generator=gen) / hidden_size ** 0.5
        targets = torch.randint(0, NUM_CLASSES, (batch,), generator=gen)
    return ids, targets, head


def train(model, task, ids, targets, head, pooling, lr):
    """Initial logits/loss/grads, then STEPS AdamW steps on the same batch."""
    named = list(model.named_parameters())
    if head is not None:
        head = torch.nn.Parameter(head.clone())
        named.append(("score.weight", head))
    logits = forward(model, task, ids, head, pooling)
    loss = loss_of(logits, task, targets)
    loss.backward()
    # Parameters the loss does not reach keep grad None; AdamW skips them
    # (no weight decay either).
    unused = [n for n, p in named if p.grad is None]
    trained = [(n, p) for n, p in named if p.grad is not None]
    grads = {n: p.grad.detach().clone().contiguous() for n, p in trained}
    init_logits, init_loss = logits.detach().clone(), loss.item()
    for _, p in named:
        p.grad = None

    params = [p for _, p in trained]
    opt = torch.optim.AdamW(
        [dict(params=[p for p in params if p.dim() >= 2], weight_decay=ADAMW["weight_decay"]),
         dict(params=[p for p in params if p.dim() < 2], weight_decay=0.0)],
        lr=lr, betas=(ADAMW["beta1"], ADAMW["beta2"]), eps=ADAMW["eps"],
        foreach=False, fused=False)
    losses, grad_norm = [], None
    for step in range(STEPS):
        opt.zero_grad(set_to_none=True)
        logits = forward(model, task, ids, head, pooling)
        loss = loss_of(logits, task, targets)
        losses.append(loss.item())
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(params, ADAMW["clip_norm"], foreach=False)
        if step == 0:
            assert torch.equal(logits.detach(), init_logits)
            grad_norm = norm.item()
        opt.step()
    assert losses[0] == init_loss
    return dict(logits=init_logits, loss=init_loss, grads=grads, unused=unused,
                losses=losses, grad_norm=grad_norm)


def rel_err(a, b):
    """max |a - b| / max |b| over a tensor."""
    return ((a.double() - b.double()).abs().max() / b.double().abs().max()).item()


def make(idx, name, model_name, task, batch, pooling):
    model = load(model_name)
    config = model.config
    ids, targets, head = batch_for(idx, task, batch, config.vocab_size, config.hidden_size)
    lr = LR[task]
    r = train(model, task, ids, targets, head, pooling, lr)

    # Guard: the same recipe in FP64 must agree with the FP32 reference well
    # inside the C++ test's tolerances, or those tolerances test rounding.
    m64 = load(model_name).double()
    r64 = train(m64, task, ids, targets, None if head is None else head.double(), pooling, lr)
    loss_rel = max(abs(a - b) / abs(b) for a, b in zip(r["losses"], r64["losses"]))
    grad_rel = max(rel_err(r["grads"][n], r64["grads"][n]) for n in r["grads"])
    logit_rel = rel_err(r["logits"], r64["logits"])
    assert loss_rel < LOSS_RTOL / 5, (name, loss_rel)
    assert r["unused"] == r64["unused"] and r["grads"].keys() == r64["grads"].keys()

    # Persistent buffers (checkpoint tensors that are not parameters: Gemma 4's
    # layer_scalar) are not trained; neither are parameters without a grad.
    state = model.state_dict()
    frozen = [n for n, _ in model.named_buffers() if n in state]
    frozen += r["unused"]

    d = os.path.join(OUT, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    r["logits"].numpy().astype("<f4").tofile(os.path.join(d, "logits.bin"))
    save_file(r["grads"], os.path.join(d, "grads.safetensors"))
    ref = dict(model=model_name, task=task, batch=batch, seq=SEQ, ids=ids.tolist())
    if task == "lm":
        ref["targets"] = targets.tolist()
    else:
        save_file({"score.weight": head.contiguous()}, os.path.join(d, "head.safetensors"))
        ref.update(pooling=pooling, num_classes=NUM_CLASSES, labels=targets.tolist())
    ref.update(loss=r["loss"], losses=r["losses"], adamw=dict(lr=lr, **ADAMW),
               decay_rule="params with dim >= 2 decayed, 1-dim not",
               frozen=frozen, grad_norm=r["grad_norm"],
               transformers=transformers.__version__, torch=torch.__version__)
    with open(os.path.join(d, "reference.json"), "w") as f:
        # One line per field: the id rows stay readable.
        f.write("{\n" + ",\n".join(f" {json.dumps(k)}: {json.dumps(v)}" for k, v in ref.items())
                + "\n}\n")
    n_params = sum(g.numel() for g in r["grads"].values())
    print(f"{name}: {len(r['grads'])} tensors, {n_params} params, unused {r['unused']}, "
          f"frozen {len(frozen)}, loss {r['loss']:.6f} -> {r['losses'][-1]:.6f}, "
          f"grad_norm {r['grad_norm']:.4f}; FP32 vs FP64: logits {logit_rel:.1e}, "
          f"grads {grad_rel:.1e}, losses {loss_rel:.1e}")


def main():
    torch.set_num_threads(1)
    torch.manual_seed(0)
    for idx, (name, spec) in enumerate(FIXTURES.items()):
        make(idx, name, *spec)


if __name__ == "__main__":
    sys.exit(main())
