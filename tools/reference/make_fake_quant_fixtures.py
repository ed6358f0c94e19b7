#!/usr/bin/env python3
"""Independent references for qat's QAT fake quantizers
(src/train/fake_quant_ops.h): PyTorch's fake-quantize ops and torchao's QAT
fake quantizer run on the same weights with the same per-block scales.

Writes tests/fixtures/fake_quant/:
  torch_fake_quant.safetensors   the arrays below (F32, U8)
  reference.json                 versions, gradient scales, block layout, and
                                 what this script observed (counts below)
Read by tests/train/fake_quant_test.cpp; the format is in
tests/fixtures/fake_quant/README.md.

Each block of 32 weights is one "channel" (torch) or "group" (torchao), with
zero point 0. For each type T in (q8_0, q4_0) and scale set S in (ref, lsq):
  T.S.scale     (blocks)  the scale handed to torch / torchao
  T.S.torch_fq  (n)       torch.fake_quantize_per_channel_affine(x, scale, 0,
                          axis 0, qmin, qmax); Q8_0: -127..127, Q4_0: -8..7
  T.S.torch_dx  (n)       its input gradient for the upstream gradient dy
  T.S.torch_ds  (blocks)  torch._fake_quantize_learnable_per_channel_affine
                          (LSQ) scale gradient with grad_factor = qat's g =
                          1/sqrt(32*Qp); its forward and input gradient are
                          asserted here to equal torch_fq / torch_dx bit for bit
  T.S.ao_fq     (n)       torchao IntxFakeQuantizer(IntxFakeQuantizeConfig(
                          torch.int8 / torch.int4, group_size=32,
                          is_symmetric=True, is_dynamic=False)) with its scale
                          set to ours (a Parameter) and zero point 0
  T.S.ao_dx     (n)       its input gradient (autograd through torchao's STE)
  T.S.ao_ds     (blocks)  its scale gradient (autograd: no LSQ scale g)
Scale sets: "ref" is the reference (absmax) scale handed to torch rounded to
fp16 -- what a file stores; "lsq" is a learned-looking scale,
fp16(ref * U(0.55, 1.25)), so that values beyond the code range clamp.

What the oracles compute differently from qat (all checked by the C++ test):
  * Codes. torch and torchao compute x * (1/scale) in float, like qat, but
    round half to even (nearbyint / torch.round); the reference rounds Q8_0
    half away from zero (roundf) and Q4_0 up (trunc(x*id + 8.5f)). For Q4_0
    the float add of 8.5 also rounds "near ties" up: x*id just below m + 0.5
    can give x*id + 8.5f == m + 9 exactly (values just above m + 0.5 land
    there too, and round up in torch as well). So codes can differ by one
    only where x*id is a tie (Q8_0) or x*id + 8.5f is an integer (Q4_0), in
    the direction of qat's rounding. The "*_ties" cases plant both kinds.
  * The reference computes codes with the fp32 scale d and stores fp16(d).
    Handing torch the stored scale (the naive emulation) changes codes where
    x/d and x/fp16(d) round differently. Blocks of kind 0 have a reference
    scale that is exact in fp16 for both types (their largest magnitude is
    1016 * k * 2^e, k <= 16, so amax/127 = 8k*2^e and max/-8 = -127k*2^e are
    fp16 values), where the emulation is exact; blocks of kind 1 have
    arbitrary scales and show the naive emulation's error.
  * torchao's int8 range is -128..127 (Q8_0 is -127..127): with learned
    scales a code below -127 becomes -128 there.
  * torchao's STE gradient comes from torch.clamp's backward, which (torch
    2.15, scalar bounds) is 0 where the rounded code lies exactly ON a bound:
    torchao passes no gradient to codes qmin and qmax, e.g. to every block's
    largest weight (code -8 in Q4_0, code 127 in Q8_0 for a positive one),
    and its scale gradient there is q instead of q - x/s. torch's
    fake_quantize ops and qat pass the gradient for qmin <= q <= qmax (LSQ's
    definition). Where it passes, its input gradient is dy * s * (1/s) in
    float (autograd through the dequantization's and the quantization's
    multiplies), which is dy off by an ulp for about a fifth of the elements.
  * torch_fq dequantizes as (q - 0) * scale in float, exactly as qat, and a
    negative scale (Q4_0 blocks whose largest value is positive) works
    unchanged in torch and torchao.
No zero blocks here (scale 0 makes torch divide by zero); qat's zero, +-0,
denormal and overflow cases are tested against the reference in C++.

Deterministic (seeded numpy generator, one torch thread).
Run: .venv-ref/bin/python tools/reference/make_fake_quant_fixtures.py
"""
import json
import math
import os
import warnings

import numpy as np
import torch

warnings.filterwarnings("ignore")  # torchao's import-time deprecation notes

import torchao  # noqa: E402
from safetensors.numpy import save_file  # noqa: E402
from torchao.quantization.qat import IntxFakeQuantizeConfig  # noqa: E402
from torchao.quantization.qat.fake_quantizer import IntxFakeQuantizer  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
OUT = os.path.join(ROOT, "tests", "fixtures", "fake_quant")
F32 = np.float32
B = 32
TYPES = {  # name: (qmin, qmax, Qp, torchao dtype)
    "q8_0": (-127, 127, 127, torch.int8),
    "q4_0": (-8, 7, 7, torch.int4),
}


def lsq_g(qp):
    return 1.0 / math.sqrt(B * qp)  # as a double; torch takes grad_factor as a double


def fp16(x):
    return np.asarray(x, F32).astype(np.float16).astype(F32)


# --- qat's reference scales (quant_types.cpp), in float32 ------------------
def ref_scales(x, t):
    b = x.reshape(-1, B)
    if t == "q8_0":
        return (np.max(np.abs(b), axis=1) / F32(127)).astype(F32)
    i = np.argmax(np.abs(b), axis=1)             # first of equal magnitudes, as the reference
    mx = b[np.arange(len(b)), i]
    return (mx / F32(-8)).astype(F32)


def ours_codes(x, s, t):
    """qat's codes (for the statistics printed here; the C++ test checks qat itself)."""
    b = x.reshape(-1, B)
    r = (b * (F32(1) / s.astype(F32))[:, None]).astype(F32)
    if t == "q8_0":
        rd = r.astype(np.float64)
        u = np.sign(rd) * np.floor(np.abs(rd) + 0.5)      # roundf, exact in double
        return np.clip(u, -127, 127).ravel(), r.ravel()
    v = (r + F32(8.5)).astype(F32)
    return (np.clip(np.trunc(v.astype(np.float64)), 0, 15) - 8).ravel(), r.ravel()


def is_tie(r, t):
    """Elements where qat's rounding and round-half-even may part (see above)."""
    rd = r.astype(np.float64)
    if t == "q8_0":
        return np.abs(rd) - np.floor(np.abs(rd)) == 0.5
    v = (r + F32(8.5)).astype(F32).astype(np.float64)
    return v == np.floor(v)


# --- inputs ------------------------------------------------------------------
def exact_amax(rng, k=None):
    k = int(rng.integers(1, 17)) if k is None else k
    e = int(rng.integers(-18, 5))
    return F32(1016 * k * 2.0 ** e)


def with_amax(rng, others, amax):
    """others scaled below amax, one element +-amax at a random position."""
    blk = np.clip(others, -0.999, 0.999).astype(np.float64) * float(amax)
    blk[int(rng.integers(B))] = amax * (1 if rng.uniform() < 0.5 else -1)
    return blk.astype(F32)


def q4_tie_values(rng, amax_signed, want):
    """Values x whose x*id + 8.5f is an integer for the block's Q4_0 scale:
    exact ties (x*id == m + 0.5) and near ties (x*id < m + 0.5 rounding up)."""
    d = F32(amax_signed) / F32(-8)
    idf = F32(1) / d
    out = []
    for _ in range(200):
        m = int(rng.integers(-8, 8))                         # m + 0.5 in [-7.5, 7.5]
        x0 = F32((m + 0.5) * float(d))
        for step in rng.permutation(np.arange(-24, 25)):
            x = (np.array([x0], F32).view(np.int32) + int(step)).view(F32)[0]   # step ulps
            r = F32(x * idf)
            v = F32(r + F32(8.5))
            exact = float(r) == m + 0.5
            if float(v) == math.floor(float(v)) and abs(x) < abs(amax_signed) and exact == (want == "exact"):
                out.append(x)
                break
        if len(out) == 8:
            break
    return out


def make_blocks(rng):
    cases = []  # (name, kind, [blocks])

    def add(name, kind, blocks):
        cases.append((name, kind, blocks))

    add("normal", 0, [with_amax(rng, rng.standard_normal(B) * 0.35, exact_amax(rng)) for _ in range(12)])
    add("uniform", 0, [with_amax(rng, rng.uniform(-1, 1, B), exact_amax(rng)) for _ in range(8)])
    add("heavy_tail", 0, [with_amax(rng, rng.standard_t(2, B) * 0.1, exact_amax(rng)) for _ in range(8)])
    outl = []
    for _ in range(6):
        o = rng.standard_normal(B) * 1e-3
        o[rng.integers(0, B, 4)] = 0.0
        outl.append(with_amax(rng, o, exact_amax(rng)))
    add("single_outlier", 0, outl)
    special = []
    for i in range(6):
        blk = np.zeros(B, F32)
        blk[1::4] = -0.0
        blk[2::4] = (rng.standard_normal(B // 4) * 1e-40).astype(F32)   # float denormals
        blk[3::4] = (rng.standard_normal(B // 4) * 1e-3).astype(F32)
        amax = exact_amax(rng)
        blk = np.clip(blk, -0.999 * amax, 0.999 * amax).astype(F32)
        blk[(5 * i) % B] = amax * (1 if i % 2 else -1)
        special.append(blk)
    add("signed_zeros_denormals", 0, special)
    # Both signs at full magnitude: Q4_0 maps the first to code 0 (-8) and
    # the other to +8, which clamps to 7.
    both = []
    for i in range(4):
        blk = with_amax(rng, rng.standard_normal(B) * 0.3, exact_amax(rng))
        j = int(np.argmax(np.abs(blk)))
        blk[(j + 7) % B] = -blk[j]
        both.append(blk)
    add("both_signs_at_amax", 0, both)
    q8t = []
    for i in range(8):
        k = [1, 2, 4, 8, 16][i % 5]                 # amax/127 = 8k*2^e: a power of two
        amax = exact_amax(rng, k)
        blk = with_amax(rng, rng.standard_normal(B) * 0.3, amax)
        d = F32(amax) / F32(127)
        j = int(np.argmax(np.abs(blk)))
        for p in rng.permutation([p for p in range(B) if p != j])[:16]:
            blk[p] = F32((int(rng.integers(-127, 127)) + 0.5) * float(d))   # x*id == m + 0.5 exactly
        q8t.append(blk)
    add("q8_0_ties", 0, q8t)
    q4t = []
    for i in range(8):
        amax = exact_amax(rng)
        blk = with_amax(rng, rng.standard_normal(B) * 0.3, amax)
        j = int(np.argmax(np.abs(blk)))
        ties = q4_tie_values(rng, blk[j], "exact" if i % 2 == 0 else "near")
        assert len(ties) >= 4, "could not plant Q4_0 ties"
        for p, x in zip(rng.permutation([p for p in range(B) if p != j]), ties):
            blk[p] = x
        q4t.append(blk)
    add("q4_0_ties", 0, q4t)
    add("general", 1, [(rng.standard_normal(B) * 10.0 ** rng.uniform(-3, 2)).astype(F32) for _ in range(16)])
    return cases


# --- oracles -----------------------------------------------------------------
def run_torch(x, scale, dy, qmin, qmax, g):
    nb = len(scale)
    X = torch.from_numpy(x.reshape(nb, B).copy()).requires_grad_()
    y = torch.fake_quantize_per_channel_affine(X, torch.from_numpy(scale.copy()),
                                               torch.zeros(nb, dtype=torch.int32), 0, qmin, qmax)
    y.backward(torch.from_numpy(dy.reshape(nb, B).copy()))
    fq, dx = y.detach().numpy().ravel(), X.grad.numpy().ravel()
    X2 = torch.from_numpy(x.reshape(nb, B).copy()).requires_grad_()
    S2 = torch.from_numpy(scale.copy()).requires_grad_()
    y2 = torch._fake_quantize_learnable_per_channel_affine(X2, S2, torch.zeros(nb), 0, qmin, qmax, g)
    y2.backward(torch.from_numpy(dy.reshape(nb, B).copy()))
    assert np.array_equal(y2.detach().numpy().ravel().view(np.uint32), fq.view(np.uint32)), \
        "learnable LSQ forward != fake_quantize_per_channel_affine"
    assert np.array_equal(X2.grad.numpy().ravel(), dx), "learnable LSQ dx != fake_quantize dx"
    return fq, dx, S2.grad.numpy().astype(F32)


def run_torchao(x, scale, dy, dtype):
    nb = len(scale)
    fq = IntxFakeQuantizer(IntxFakeQuantizeConfig(dtype, group_size=B, is_symmetric=True, is_dynamic=False))
    fq.scale = torch.nn.Parameter(torch.from_numpy(scale.reshape(nb, 1).copy()))
    fq.zero_point = torch.zeros(nb, 1, dtype=torch.int32)
    X = torch.from_numpy(x.reshape(nb, B).copy()).requires_grad_()
    y = fq(X)
    y.backward(torch.from_numpy(dy.reshape(nb, B).copy()))
    return y.detach().numpy().ravel(), X.grad.numpy().ravel(), fq.scale.grad.numpy().ravel().astype(F32)


def main():
    torch.set_num_threads(1)
    rng = np.random.default_rng(20261127)
    cases = make_blocks(rng)
    blocks, kind, layout = [], [], []
    for name, k, bl in cases:
        layout.append({"name": name, "first_block": len(blocks), "blocks": len(bl), "kind": k})
        blocks += bl
        kind += [k] * len(bl)
    x = np.concatenate(blocks).astype(F32)
    kind = np.array(kind, np.uint8)
    nb = len(kind)
    dy = rng.standard_normal(x.size).astype(F32)
    dy[dy == 0] = F32(1)
    assert np.all(np.isfinite(x))

    arrays = {"x": x, "dy": dy, "kind": kind}
    observed = {}
    for t, (qmin, qmax, qp, ao_dtype) in TYPES.items():
        d = ref_scales(x, t)
        assert np.all(d != 0)
        exact = fp16(d) == d
        assert np.all(exact[kind == 0]), f"{t}: a kind-0 block's reference scale is not exact in fp16"
        sets = {"ref": fp16(d), "lsq": fp16(d * rng.uniform(0.55, 1.25, nb).astype(F32))}
        for sname, scale in sets.items():
            assert np.all(scale != 0) and np.all(np.isfinite(scale))
            tfq, tdx, tds = run_torch(x, scale, dy, qmin, qmax, lsq_g(qp))
            afq, adx, ads = run_torchao(x, scale, dy, ao_dtype)
            p = f"{t}.{sname}."
            arrays.update({p + "scale": scale, p + "torch_fq": tfq, p + "torch_dx": tdx, p + "torch_ds": tds,
                           p + "ao_fq": afq, p + "ao_dx": adx, p + "ao_ds": ads})
            # Statistics for the README / report (qat emulated in numpy here).
            code_scale = d if sname == "ref" else scale
            q, r = ours_codes(x, code_scale, t)
            ours = (q.reshape(-1, B) * scale[:, None]).astype(F32).ravel()
            ex = np.repeat(kind == 0, B) if sname == "ref" else np.ones(x.size, bool)
            tie = is_tie(r, t)
            differ = ours != tfq
            tq = np.rint(tfq.reshape(-1, B) / scale[:, None]).ravel()
            aq = np.rint(afq.reshape(-1, B) / scale[:, None]).ravel()
            observed[f"{t}.{sname}"] = {
                "tie_elements": int(np.sum(tie & ex)),
                "torch_differs_at_ties": int(np.sum(differ & tie & ex)),
                "torch_differs_elsewhere_exact_blocks": int(np.sum(differ & ~tie & ex)),
                "torch_differs_in_kind1_blocks": int(np.sum(differ & ~ex)),
                "torchao_forward_differs_from_torch": int(np.sum(afq != tfq)),
                "torchao_code_minus_128": int(np.sum(aq == -128)),
                "torchao_dx_zero_where_torch_passes": int(np.sum((adx == 0) & (tdx != 0))),
                "codes_on_a_bound_torch": int(np.sum((tq == qmin) | (tq == qmax))),
                "clamped_torch": int(np.sum(tdx == 0)),
            }

    os.makedirs(OUT, exist_ok=True)
    save_file({k: np.ascontiguousarray(v) for k, v in arrays.items()},
              os.path.join(OUT, "torch_fake_quant.safetensors"))
    ref = {
        "torch": torch.__version__, "torchao": torchao.__version__, "numpy": np.__version__,
        "block": B, "blocks": nb, "n": int(x.size),
        "lsq_grad_factor": {t: lsq_g(v[2]) for t, v in TYPES.items()},
        "ranges": {t: {"torch": [v[0], v[1]], "torchao": list(
            {torch.int8: (-128, 127), torch.int4: (-8, 7)}[v[3]])} for t, v in TYPES.items()},
        "cases": layout,
        "observed": observed,
    }
    with open(os.path.join(OUT, "reference.json"), "w") as f:
        json.dump(ref, f, indent=1)
        f.write("\n")
    print(json.dumps(observed, indent=1))
    print(f"wrote {nb} blocks ({x.size} values) to {OUT}")


if __name__ == "__main__":
    main()
