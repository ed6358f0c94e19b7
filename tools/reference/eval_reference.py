#!/usr/bin/env python3
"""Golden fixture for `src/eval/`: perplexity and KL-divergence figures computed
independently with HF transformers + torch on the tiny fixture models in
tests/fixtures/models/, using llama-perplexity's windowing (what qat eval
does): the token stream is cut into non-overlapping windows of CTX tokens, the
first token of each window is replaced by <bos>, and logits rows
CTX/2 .. CTX-2 of each window are scored against the next token.

The fixture models have no tokenizer and a 128-entry vocabulary, so the text is
"tokenized" as <bos> followed by its ASCII bytes (all < 128); the ids are
stored in the fixture so the C++ test needs no tokenizer and no Python.

Writes tests/fixtures/eval/reference.json.
Run: /work/main/.venv-ref/bin/python tools/reference/eval_reference.py
"""
import json
import math
import os

import numpy as np
import torch
import transformers
from transformers import AutoModelForCausalLM

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
MODELS = os.path.join(ROOT, "tests", "fixtures", "models")
OUT = os.path.join(ROOT, "tests", "fixtures", "eval", "reference.json")

TEXT = ("The card ending 4412 was charged $2,500.00 at 03:14 in Lisbon, then $19.99 online "
        "from Singapore ten minutes later. Flag the second charge for review and call the "
        "customer before releasing the hold on the account. Credit limit: 7,500 EUR.")
BOS = 2
CTX = 32
PERPLEXITY_MODELS = ["gemma3_gqa", "gemma3_mqa_untied", "gemma4_ple"]
KLD_PAIR = ("gemma3_mha", "gemma3_gqa")  # (test, base): two different models, same vocabulary


def windows(ids):
    n_chunks = len(ids) // CTX
    for c in range(n_chunks):
        w = list(ids[c * CTX:(c + 1) * CTX])
        w[0] = BOS
        yield w


def log_probs(model, window):
    with torch.no_grad():
        logits = model(torch.tensor([window])).logits[0].double()
    return torch.log_softmax(logits, dim=-1).numpy()


def scored(window, lp):
    """(row log-probs, next token) for the scored rows of one window."""
    for j in range(CTX // 2, CTX - 1):
        yield lp[j], window[j + 1]


def ppl_stats(nll):
    nll = np.array(nll)
    mean = nll.mean()
    var = (nll ** 2).mean() - mean ** 2  # llama-perplexity's uncertainty estimate
    ppl = math.exp(mean)
    return ppl, ppl * math.sqrt(var / (len(nll) - 1))


def load(name):
    m = AutoModelForCausalLM.from_pretrained(os.path.join(MODELS, name), dtype=torch.float32)
    return m.eval()


def main():
    ids = [BOS] + list(TEXT.encode("ascii"))
    assert max(ids) < 128
    out = {"text": TEXT, "ids": ids, "bos": BOS, "ctx": CTX, "n_chunks": len(ids) // CTX,
           "transformers": transformers.__version__, "torch": torch.__version__,
           "perplexity": {}}
    for name in PERPLEXITY_MODELS:
        model = load(name)
        nll = [-lp[t] for w in windows(ids) for lp, t in scored(w, log_probs(model, w))]
        ppl, err = ppl_stats(nll)
        out["perplexity"][name] = {"ppl": ppl, "ppl_error": err, "tokens": len(nll)}
        print(f"{name}: PPL = {ppl:.6f} +/- {err:.6f} over {len(nll)} tokens")

    test, base = load(KLD_PAIR[0]), load(KLD_PAIR[1])
    kld, dp, same = [], [], 0
    for w in windows(ids):
        lt, lb = log_probs(test, w), log_probs(base, w)
        for (rt, t), (rb, _) in zip(scored(w, lt), scored(w, lb)):
            kld.append(float(np.sum(np.exp(rb) * (rb - rt))))
            dp.append(math.exp(rt[t]) - math.exp(rb[t]))
            same += int(np.argmax(rt) == np.argmax(rb))
    kld = np.array(kld)
    out["kld"] = {"test": KLD_PAIR[0], "base": KLD_PAIR[1], "tokens": len(kld),
                  "mean_kld": float(kld.mean()), "max_kld": float(kld.max()),
                  "median_kld": float(np.percentile(kld, 50)),
                  "p99_kld": float(np.percentile(kld, 99)),
                  "same_top": same / len(kld),
                  "rms_dp": float(math.sqrt(np.mean(np.square(dp))))}
    print("kld:", out["kld"])
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
