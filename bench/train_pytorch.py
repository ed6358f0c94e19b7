#!/usr/bin/env python3
"""PyTorch-eager side of bench/train_vs_pytorch.sh: train a HF Gemma 3 checkpoint on CPU.

Loads DIR (written by `qat init`) with transformers' Gemma3ForCausalLM in float32 and runs
the same loop as `qat train`: (B, T) inputs and (B, T) next-token targets, mean cross
entropy over all B*T positions, backward, clip_grad_norm_(1.0), AdamW(lr 1e-3, betas
0.9/0.95, weight decay 0.1 on matrices, none on 1-D parameters), zero_grad. Token ids are
random in [3, vocab) (throughput does not depend on the values), drawn before the timed
loop. Steps 1..--warmup are excluded from the steady-state figure.

Prints one JSON object on stdout: tokens/s (steady and whole-run), per-step seconds, the
loss of the first and last step, and memory: RSS after `import torch`, after importing transformers too, after the model
and optimizer are built, and the process's peak RSS (getrusage ru_maxrss) at the end.

Thread count: set OMP_NUM_THREADS / MKL_NUM_THREADS before starting Python (the wrapper
does) and pass --threads; torch.set_num_threads is called with it.
"""
import argparse
import json
import os
import resource
import sys
import time


def rss_mib():
    """Current resident set size (VmRSS) in MiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="HF checkpoint directory (qat init -o DIR)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=2, help="leading steps left out of the steady-state tokens/s")
    ap.add_argument("--attn", default="default",
                    help="attn_implementation: default (what from_pretrained picks), eager, sdpa")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--profile", metavar="FILE", help="write a torch.profiler op table (steady steps) to FILE")
    args = ap.parse_args()
    if args.steps <= args.warmup:
        sys.exit(f"--steps ({args.steps}) must exceed --warmup ({args.warmup})")

    rss_start = rss_mib()
    import torch
    import torch.nn.functional as F
    rss_torch = rss_mib()
    import transformers
    from transformers import Gemma3ForCausalLM
    transformers.utils.logging.disable_progress_bar()
    rss_import = rss_mib()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    kw = dict(dtype=torch.float32)
    if args.attn != "default":
        kw["attn_implementation"] = args.attn
    try:
        model = Gemma3ForCausalLM.from_pretrained(args.model, **kw)
    except TypeError:  # transformers < 4.56 spells it torch_dtype
        kw["torch_dtype"] = kw.pop("dtype")
        model = Gemma3ForCausalLM.from_pretrained(args.model, **kw)
    model.config.use_cache = False
    model.train()
    attn_used = getattr(model.config, "_attn_implementation", "?")

    decay = [p for p in model.parameters() if p.requires_grad and p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=1e-3, betas=(0.9, 0.95), eps=1e-8)
    n_params = sum(p.numel() for p in model.parameters())
    rss_built = rss_mib()

    vocab = model.config.vocab_size
    B, T = args.batch, args.seq
    g = torch.Generator().manual_seed(args.seed)
    batches = [torch.randint(3, vocab, (B, T + 1), generator=g) for _ in range(args.steps)]

    def step(ids):
        logits = model(input_ids=ids[:, :T], use_cache=False).logits
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), ids[:, 1:].reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss.item()

    step_s, losses = [], []
    prof = None
    t_run = time.perf_counter()
    for i, ids in enumerate(batches):
        if args.profile and i == args.warmup:
            prof = torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU], record_shapes=False)
            prof.__enter__()
        t0 = time.perf_counter()
        losses.append(step(ids))
        step_s.append(time.perf_counter() - t0)
    run_s = time.perf_counter() - t_run
    if prof is not None:
        prof.__exit__(None, None, None)
        with open(args.profile, "w") as f:
            f.write(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=40))

    steady = step_s[args.warmup:]
    out = {
        "engine": "pytorch",
        "attn": attn_used,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "threads": torch.get_num_threads(),
        "batch": B,
        "seq": T,
        "steps": args.steps,
        "warmup": args.warmup,
        "params": n_params,
        "tokens_per_s": B * T * len(steady) / sum(steady),
        "tokens_per_s_all": B * T * args.steps / run_s,
        "step_s": [round(s, 4) for s in step_s],
        "loss_first": losses[0],
        "loss_last": losses[-1],
        "rss_start_mib": rss_start,
        "rss_after_import_torch_mib": rss_torch,
        "rss_after_import_mib": rss_import,
        "rss_after_build_mib": rss_built,
        "peak_rss_mib": peak_rss_mib(),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
