#!/usr/bin/env python3
"""Golden fixture for qat's AdamW + gradient clipping: torch runs five steps
of clip_grad_norm_ + AdamW(foreach=False) on a few small tensors with given
gradients and records the norm and every parameter after each step.

Run: /work/main/.venv-ref/bin/python tools/reference/make_adamw_fixture.py
Writes tests/fixtures/train_optim/adamw_torch.json.

Two expected series:
  "torch":     stock torch. Its CPU float sqrt is MKL's vsSqrt, which is not
               correctly rounded (up to ~0.73 ulp on an AVX2 machine, and the
               result depends on the CPU MKL dispatches to), and its norm
               reduction accumulates in float in its own order. qat matches
               this series to ~1e-7 relative, not bit for bit.
  "ieee_sqrt": the same torch code with aten::sqrt replaced by a correctly
               rounded sqrt and the total norm computed as
               float(sqrt(sum of squares in double)) (then clipped with
               torch.nn.utils.clip_grads_with_norm_). Every other operation is
               torch's own, so qat must match this series bit for bit: it
               pins the operation order and the scalar precisions.

Hyperparameters and learning rates are float32 values (qat stores them as
float), passed to torch as the doubles equal to those floats.
"""
import json
import os
import sys

import numpy as np
import torch

F32 = np.float32
CONFIG = {"beta1": F32(0.9), "beta2": F32(0.95), "eps": F32(1e-8), "weight_decay": F32(0.1)}
MAX_NORM = F32(1.0)
LRS = [F32(x) for x in (1e-3, 3e-3, 2e-3, 5e-4, 1e-2)]
GRAD_SCALES = [3.0, 1.0, 0.05, 0.5, 0.02]  # clipped, clipped, not, clipped, not
# name, shape, group (qat ParamGroup), trainable. Sizes are not multiples of
# 8/16 so torch's vector loops and scalar tails are both exercised.
PARAMS = [
    ("model.embed_tokens.weight", [5, 7], "embedding", True),
    ("model.layers.0.mlp.up_proj.weight", [12, 10], "matrix", True),
    ("model.layers.0.input_layernorm.weight", [24], "norm", True),
    ("model.layers.0.layer_scalar", [1], "scalar", True),
    ("model.layers.0.self_attn.q_proj.weight", [3, 4], "matrix", False),
]
DECAYED = {"embedding", "matrix", "head"}


def floats(t):
    return [float(x) for x in t.detach().reshape(-1).numpy().astype(F32)]


def make_inputs():
    g = torch.Generator().manual_seed(20260511)
    init = [torch.randn(*shape, generator=g) for _, shape, _, _ in PARAMS]
    grads = []
    for scale in GRAD_SCALES:
        grads.append([torch.randn(*shape, generator=g) * scale for _, shape, _, _ in PARAMS])
    return init, grads


def ieee_total_norm(grads):
    total = sum(float(np.sum(g.double().numpy() ** 2)) for g in grads)
    return torch.tensor(np.float32(np.sqrt(total)))


def run(init, grads, ieee):
    params = [torch.nn.Parameter(t.clone(), requires_grad=trainable)
              for t, (_, _, _, trainable) in zip(init, PARAMS)]
    trainable = [p for p, spec in zip(params, PARAMS) if spec[3]]
    decay = [p for p, spec in zip(params, PARAMS) if spec[3] and spec[2] in DECAYED]
    no_decay = [p for p, spec in zip(params, PARAMS) if spec[3] and spec[2] not in DECAYED]
    wd = float(CONFIG["weight_decay"])
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": wd}, {"params": no_decay, "weight_decay": 0.0}],
        lr=float(LRS[0]), betas=(float(CONFIG["beta1"]), float(CONFIG["beta2"])),
        eps=float(CONFIG["eps"]), foreach=False, fused=False)
    steps = []
    for lr, step_grads in zip(LRS, grads):
        for p, gr, spec in zip(params, step_grads, PARAMS):
            p.grad = gr.clone() if spec[3] else None
        if ieee:
            norm = ieee_total_norm([p.grad for p in trainable])
            torch.nn.utils.clip_grads_with_norm_(trainable, float(MAX_NORM), norm, foreach=False)
        else:
            norm = torch.nn.utils.clip_grad_norm_(trainable, float(MAX_NORM))
        for group in opt.param_groups:
            group["lr"] = float(lr)
        opt.step()
        steps.append({"norm": float(norm), "params": [floats(p) for p in params]})
    state = [opt.state[p] for p in trainable]
    final = {"exp_avg": [floats(s["exp_avg"]) for s in state],
             "exp_avg_sq": [floats(s["exp_avg_sq"]) for s in state]}
    return {"steps": steps, "final_state": final}


def correctly_rounded_sqrt(x):
    return torch.from_numpy(np.sqrt(x.numpy()))


def main():
    torch.set_num_threads(1)
    init, grads = make_inputs()
    stock = run(init, grads, ieee=False)
    lib = torch.library.Library("aten", "IMPL")  # noqa: F841 (kept alive for the override)
    lib.impl("sqrt", correctly_rounded_sqrt, "CPU")
    ieee = run(init, grads, ieee=True)
    fixture = {
        "generator": "tools/reference/make_adamw_fixture.py",
        "torch_version": torch.__version__,
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "config": {k: float(v) for k, v in CONFIG.items()},
        "max_norm": float(MAX_NORM),
        "lrs": [float(x) for x in LRS],
        "params": [{"name": n, "shape": s, "group": gname, "trainable": t, "init": floats(v)}
                   for (n, s, gname, t), v in zip(PARAMS, init)],
        "grads": [[floats(g) for g in step] for step in grads],
        "expected": {"torch": stock, "ieee_sqrt": ieee},
    }
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                       "../../tests/fixtures/train_optim/adamw_torch.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
        f.write("\n")
    diffs = sum(a != b for s1, s2 in zip(stock["steps"], ieee["steps"])
                for p1, p2 in zip(s1["params"], s2["params"]) for a, b in zip(p1, p2))
    print(f"wrote {os.path.normpath(out)}; stock vs ieee_sqrt differ in {diffs} parameter values",
          file=sys.stderr)


if __name__ == "__main__":
    main()
