#!/usr/bin/env python3
"""torchao side of bench/qat_vs_torchao.sh: QAT of a HF Gemma 3 checkpoint with torchao.

Loads DIR (written by `qat convert FP32.gguf DIR`) with transformers' Gemma3ForCausalLM in
float32 and measures, on the held-out text --val:
  FP32  the model as loaded;
  PTQ   the model after torchao's QAT "prepare" step and no training, evaluated in
        fake-quant mode. Its logits equal torchao's real PTQ (quantize_ with the same base
        config; IntxUnpackedToInt8Tensor weights, dynamic int8 activations): the script
        checks this on one evaluation window and reports the largest difference;
  QAT   the prepared model after --steps steps of distillation from the frozen FP32 model,
        again in fake-quant mode (checked against the "convert" step's real model the same way).

Quantization (torchao 0.18): base config
    Int8DynamicActivationIntxWeightConfig(weight_dtype=torch.int4, weight_granularity=PerGroup(32))
(weights int4 symmetric per group of 32, scale = absmax / 7.5, codes clamped to -8..7, fp32
scales; activations int8 per token, asymmetric, dynamic), applied as
    quantize_(model, QATConfig(base, step="prepare"), filter_fn=<nn.Linear other than lm_head>)
so every decoder linear layer (q, k, v, o, gate, up, down) is fake-quantized and the tied
embedding / lm_head stays FP32 (ours keeps it Q8_0).

Training, the recipe of `qat qat` (src/train): the token stream is [bos] text [eos] (the text
tokenized in ~1 MiB pieces cut after a run of line breaks, like src/train/token_stream.cpp);
the last floor(val_fraction * N) tokens are held out; the training part is cut into windows of
seq + 1 tokens at stride seq, visited in a random order (a seeded permutation; ours shuffles
with its own generator, so the two engines see different windows); batch B windows per step.
Loss: KL(teacher || student) at temperature T (times T^2), mean over the B*seq positions.
AdamW(lr, betas (0.9, 0.95), eps 1e-8), weight decay on tensors with >= 2 dims (matrices and
the embedding), none on norms; lr: linear warm-up lr*(s+1)/warmup for steps s < warmup, then
cosine to min_lr_ratio * lr at the last step; gradient norm clipped to --clip.

Perplexity, as `qat eval ppl -c CTX` (src/eval/perplexity.cpp, src/eval/chunks.cpp): the text is
encoded with a leading <bos>; window i is tokens [i*ctx, (i+1)*ctx) with its first token
replaced by <bos>; rows ctx/2 .. ctx-2 of each window are scored (predicting the next token);
PPL = exp(mean NLL) over all scored tokens, NLL in float64; "±" as ours prints it.

Prints one JSON object on stdout; progress goes to stderr.
"""
import argparse
import copy
import json
import math
import os
import sys
import time


def log(msg):
    print(msg, file=sys.stderr, flush=True)


PIECE_BYTES = 1 << 20  # src/train/token_stream.cpp kPieceBytes


def next_cut(data, start):
    """src/train/token_stream.cpp next_cut, on bytes."""
    if len(data) - start <= PIECE_BYTES:
        return len(data)
    p = data.rfind(b"\n", start, start + PIECE_BYTES + 1)
    if p < 0:
        p = data.find(b"\n", start + PIECE_BYTES)
    if p < 0:
        return len(data)
    while p < len(data) and data[p] in (0x0A, 0x0D):
        p += 1
    return p


def token_stream(tok, path, bos, eos):
    """[bos] text [eos], the text encoded in the trainer's pieces."""
    data = open(path, "rb").read()
    pieces, start = [], 0
    while start < len(data):
        end = next_cut(data, start)
        pieces.append(data[start:end].decode("utf-8"))
        start = end
    ids = [bos]
    for enc in tok.encode_batch(pieces, add_special_tokens=False):
        ids.extend(enc.ids)
    ids.append(eos)
    return ids


def read_token_cache(path):
    """Tokens of a qat token cache (src/train/token_cache.h), or None when unreadable."""
    import numpy as np
    try:
        raw = open(path, "rb").read()
    except OSError:
        return None
    if len(raw) < 56 or raw[:8] != b"QATTOKS\0":
        return None
    n = int(np.frombuffer(raw[40:48], np.uint64)[0])
    if len(raw) != 56 + 4 * n:
        return None
    return np.frombuffer(raw[48:48 + 4 * n], np.int32)


def lr_at(step, peak, warmup, total, min_ratio):
    """src/train/lr_schedule.cpp (cosine), step counted from 0."""
    total = max(total, warmup)
    if step < warmup:
        return peak * (step + 1) / warmup
    lo = peak * min_ratio
    span = total - warmup
    p = 1.0 if span == 0 else min(1.0, (step - warmup) / span)
    return lo + (peak - lo) * 0.5 * (1.0 + math.cos(math.pi * p))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="HF checkpoint directory (qat convert FP32.gguf DIR)")
    ap.add_argument("--data", required=True, help="training text (the whole file; the tail is held out)")
    ap.add_argument("--val", required=True, help="held-out text for perplexity")
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--min-lr-ratio", type=float, default=0.1)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--clip", type=float, default=1.0)
    ap.add_argument("--temperature", type=float, default=1.0)
    ap.add_argument("--val-fraction", type=float, default=0.05, help="tail of the token stream held out from training")
    ap.add_argument("--group-size", type=int, default=32, help="int4 weight group size")
    ap.add_argument("--ctx", type=int, default=256, help="perplexity window (the second half is scored)")
    ap.add_argument("--chunks", type=int, default=0, help="evaluate at most this many windows (0 = all)")
    ap.add_argument("--eval-batch", type=int, default=8, help="windows per forward while evaluating")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--compare-tokens", metavar="CACHE",
                    help="a qat token cache (RUN/tokens.cache) of --data: report whether the streams are identical")
    ap.add_argument("--progress-every", type=int, default=1, help="a progress line every N steps")
    args = ap.parse_args()

    import numpy as np
    import torch
    import torch.nn.functional as F
    import transformers
    import torchao
    from tokenizers import Tokenizer
    from transformers import Gemma3ForCausalLM
    from torchao.quantization import Int8DynamicActivationIntxWeightConfig, PerGroup, quantize_
    from torchao.quantization.qat import FakeQuantizedLinear, QATConfig
    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    tok_path = os.path.join(args.model, "tokenizer.json")
    if not os.path.isfile(tok_path):
        sys.exit(f"error: {tok_path} is missing: `qat convert` writes it when the GGUF holds a tokenizer")
    tok = Tokenizer.from_file(tok_path)
    model = Gemma3ForCausalLM.from_pretrained(args.model, dtype=torch.float32)
    model.config.use_cache = False
    cfg = model.config
    bos, eos = cfg.bos_token_id, cfg.eos_token_id
    if tok.id_to_token(bos) != "<bos>" or tok.id_to_token(eos) != "<eos>":
        sys.exit(f"error: tokenizer.json's ids {bos}/{eos} are {tok.id_to_token(bos)!r}/{tok.id_to_token(eos)!r},"
                 " not <bos>/<eos> as config.json says")

    # --- Data -------------------------------------------------------------------------
    t0 = time.perf_counter()
    log(f"torchao: tokenizing {args.data}")
    stream = np.asarray(token_stream(tok, args.data, bos, eos), dtype=np.int64)
    n = len(stream)
    n_val = int(math.floor(args.val_fraction * n))
    n_train = n - n_val
    n_windows = (n_train - 1) // args.seq
    same_as_ours = None
    if args.compare_tokens:
        ref = read_token_cache(args.compare_tokens)
        same_as_ours = ref is not None and len(ref) == n and bool((ref == stream).all())
    val_text = open(args.val, encoding="utf-8").read()
    val_tokens = [bos] + tok.encode(val_text, add_special_tokens=False).ids
    log(f"torchao: {n} tokens ({n_train} for training: {n_windows} windows of {args.seq}; {n_val} held out), "
        f"{args.val}: {len(val_tokens)} tokens; {time.perf_counter() - t0:.1f} s"
        + ("" if same_as_ours is None else f"; token stream identical to ours: {same_as_ours}"))
    if len(val_tokens) + 1 > n_val:
        log(f"warning: {args.val} has {len(val_tokens)} tokens, more than the {n_val} held-out tokens:"
            " it may overlap the training part")

    ctx = args.ctx
    first = ctx // 2
    n_chunks = len(val_tokens) // ctx
    if n_chunks < 1:
        sys.exit(f"error: {args.val} has {len(val_tokens)} tokens, fewer than one window of {ctx}")
    if args.chunks > 0:
        n_chunks = min(n_chunks, args.chunks)
    windows = torch.tensor(val_tokens[:n_chunks * ctx], dtype=torch.long).view(n_chunks, ctx).clone()
    windows[:, 0] = bos

    def perplexity(m, label):
        m.eval()
        nll_sum = nll_sq = 0.0
        count = 0
        t = time.perf_counter()
        with torch.no_grad():
            for i in range(0, n_chunks, args.eval_batch):
                w = windows[i:i + args.eval_batch]
                logits = m(input_ids=w, use_cache=False).logits[:, first:ctx - 1].double()
                nll = -torch.log_softmax(logits, -1).gather(-1, w[:, first + 1:].unsqueeze(-1)).squeeze(-1)
                nll_sum += nll.sum().item()
                nll_sq += (nll * nll).sum().item()
                count += nll.numel()
                done = min(i + args.eval_batch, n_chunks)
                if done == n_chunks or done * 10 // n_chunks != (done - len(w)) * 10 // n_chunks:  # ~ every 10 %
                    log(f"  [{done}/{n_chunks}] {label} ppl {math.exp(nll_sum / count):.4f}  {time.perf_counter() - t:.1f} s")
        mean = nll_sum / count
        ppl = math.exp(mean)
        var = nll_sq / count - mean * mean
        err = ppl * math.sqrt(var / (count - 1)) if count > 1 and var > 0 else 0.0
        return {"ppl": ppl, "ppl_err": err, "mean_nll": mean, "tokens": count, "eval_s": time.perf_counter() - t}

    # --- FP32 and PTQ -----------------------------------------------------------------
    log(f"torchao: evaluating FP32 ({n_chunks} windows of {ctx})")
    fp32 = perplexity(model, "FP32")

    base = Int8DynamicActivationIntxWeightConfig(weight_dtype=torch.int4,
                                                 weight_granularity=PerGroup(args.group_size))

    def is_decoder_linear(mod, fqn):
        return isinstance(mod, torch.nn.Linear) and fqn != "lm_head"

    student = copy.deepcopy(model)
    quantize_(student, QATConfig(base, step="prepare"), filter_fn=is_decoder_linear)
    n_fq = sum(1 for m in student.modules() if isinstance(m, FakeQuantizedLinear))
    if student.lm_head.weight is not student.model.embed_tokens.weight or type(student.lm_head) is not torch.nn.Linear:
        sys.exit("internal: lm_head should stay the FP32 tied embedding")

    def fake_vs_real(prepared, step):
        """Largest |logit| difference on one window between fake-quant and torchao's real model."""
        if step == "ptq":
            real = copy.deepcopy(model)
            quantize_(real, base, filter_fn=is_decoder_linear)
        else:
            real = copy.deepcopy(prepared)
            quantize_(real, QATConfig(base, step="convert"), filter_fn=lambda mod, fqn: isinstance(mod, FakeQuantizedLinear))
        real.eval()
        prepared.eval()
        with torch.no_grad():
            a = prepared(input_ids=windows[:1], use_cache=False).logits
            b = real(input_ids=windows[:1], use_cache=False).logits
        return (a - b).abs().max().item()

    log(f"torchao: evaluating PTQ (QAT-prepared, untrained; {n_fq} fake-quantized linear layers)")
    ptq = perplexity(student, "PTQ")
    ptq["fake_vs_real_max_abs_logit_diff"] = fake_vs_real(student, "ptq")

    # --- QAT --------------------------------------------------------------------------
    teacher = model
    teacher.eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    student.train()
    decay = [p for p in student.parameters() if p.requires_grad and p.dim() >= 2]
    no_decay = [p for p in student.parameters() if p.requires_grad and p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
    g = torch.Generator().manual_seed(args.seed)
    order = torch.randperm(n_windows, generator=g)
    stream_t = torch.from_numpy(stream)
    B, T, Temp = args.batch, args.seq, args.temperature

    def batch(step):
        idx = [order[(step * B + r) % n_windows].item() for r in range(B)]  # wraps across epochs (not reshuffled)
        return torch.stack([stream_t[w * T:w * T + T] for w in idx])

    log(f"torchao: QAT, {args.steps} steps of {B} x {T} tokens, {args.threads} threads")
    step_s, losses = [], []
    t_train = time.perf_counter()
    for s in range(args.steps):
        ts = time.perf_counter()
        lr = lr_at(s, args.lr, args.warmup, args.steps, args.min_lr_ratio)
        for group in opt.param_groups:
            group["lr"] = lr
        ids = batch(s)
        with torch.no_grad():
            t_logits = teacher(input_ids=ids, use_cache=False).logits
        s_logits = student(input_ids=ids, use_cache=False).logits
        V = s_logits.shape[-1]
        loss = F.kl_div(torch.log_softmax(s_logits.reshape(-1, V).float() / Temp, -1),
                        torch.log_softmax(t_logits.reshape(-1, V).float() / Temp, -1),
                        reduction="batchmean", log_target=True) * (Temp * Temp)
        loss.backward()
        gnorm = torch.nn.utils.clip_grad_norm_(student.parameters(), args.clip if args.clip > 0 else float("inf"))
        opt.step()
        opt.zero_grad(set_to_none=True)
        step_s.append(time.perf_counter() - ts)
        losses.append(loss.item())
        if (s + 1) % args.progress_every == 0 or s + 1 == args.steps:
            el = time.perf_counter() - t_train
            log(f"  step {s + 1}/{args.steps}  loss {losses[-1]:.4f}  lr {lr:.2e}  |g| {gnorm.item():.3f}  "
                f"{step_s[-1]:.1f} s/step  {el:.0f} s, ETA {el / (s + 1) * (args.steps - s - 1):.0f} s")
    train_s = time.perf_counter() - t_train

    log("torchao: evaluating QAT")
    qat = perplexity(student, "QAT")
    qat["fake_vs_real_max_abs_logit_diff"] = fake_vs_real(student, "qat")

    steady = step_s[1:] if len(step_s) > 1 else step_s
    out = {
        "engine": "torchao",
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "torchao": torchao.__version__,
        "threads": torch.get_num_threads(),
        "config": f"QATConfig(Int8DynamicActivationIntxWeightConfig(weight_dtype=torch.int4, "
                  f"weight_granularity=PerGroup({args.group_size})), step='prepare'), "
                  "filter: nn.Linear except lm_head",
        "fake_quantized_linears": n_fq,
        "params": sum(p.numel() for p in model.parameters()),
        "tokens": n, "train_windows": n_windows, "val_tokens": len(val_tokens),
        "token_stream_same_as_ours": same_as_ours,
        "steps": args.steps, "batch": B, "seq": T, "lr": args.lr, "warmup": args.warmup,
        "ctx": ctx, "chunks": n_chunks,
        "fp32": fp32, "ptq": ptq, "qat": qat,
        "train_s": train_s,
        "step_s_median": sorted(steady)[len(steady) // 2],
        "step_s": [round(x, 3) for x in step_s],
        "loss_first": losses[0] if losses else None,
        "loss_last": losses[-1] if losses else None,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
