#!/usr/bin/env python3
"""Dequantization references for the llama.cpp types qat reads but does not
write (Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K, Q3_K, IQ4_NL, IQ4_XS, Q2_K, and the
codebook / ternary types IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S, IQ1_S, IQ1_M,
TQ1_0, TQ2_0), from the PyPI `gguf` package
(gguf-py), which is bit-exact with ggml's dequantize_row_*.

Blocks are random bytes with their fp16 scale fields set to chosen finite
values (normal, tiny, subnormal, zero, negative, near fp16 max), so every code
and sub-block scale pattern occurs.

Writes tests/fixtures/quant/gguf_py_compat_dequant.bin, little endian:
  "QATK" u32 version=1 u32 count, then per tensor:
    u32 ggml type id, u32 name_len, name (ascii), u32 n (elements),
    u8[n / block_size * block_bytes] blocks, f32[n] gguf-py dequantized
Run: .venv-ref/bin/python tools/reference/make_compat_quant_fixtures.py
"""
import os
import struct

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import quants
from gguf.constants import GGML_QUANT_SIZES

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
OUT = os.path.join(ROOT, "tests", "fixtures", "quant", "gguf_py_compat_dequant.bin")

# Byte offsets of the fp16 scale fields inside one block (ggml-common.h).
FP16_FIELDS = {
    T.Q4_1: [0, 2],      # d, m
    T.Q5_0: [0],         # d
    T.Q5_1: [0, 2],      # d, m
    T.Q4_K: [0, 2],      # d, dmin
    T.Q5_K: [0, 2],      # d, dmin
    T.Q6_K: [208],       # d (after ql[128], qh[64], scales[16])
    T.Q3_K: [108],       # d (after hmask[32], qs[64], scales[12])
    T.IQ4_NL: [0],       # d; appended after Q3_K, so the entries above keep their bytes
    T.IQ4_XS: [0],       # d (then scales_h, scales_l[4], qs[128])
    T.Q2_K: [80, 82],    # d, dmin (after scales[16], qs[64]); appended last as well
    # The codebook and ternary types, appended after the ten above.
    T.IQ2_XXS: [0],
    T.IQ2_XS: [0],
    T.IQ2_S: [0],
    T.IQ3_XXS: [0],
    T.IQ3_S: [0],
    T.IQ1_S: [0],
    T.IQ1_M: [],         # d is the top nibbles of the four u16 scales at byte 48 (set_iq1_m_d)
    T.TQ1_0: [52],       # d (after qs[48], qh[4])
    T.TQ2_0: [64],       # d (after qs[64])
}


def set_iq1_m_d(raw, d16):
    """IQ1_M keeps its fp16 d as the top nibble of each of its four u16 scales."""
    sc = raw[:, 48:56].copy().view("<u2")             # (nblocks, 4)
    bits = d16.view(np.uint16)
    for k in range(4):
        sc[:, k] = (sc[:, k] & 0x0FFF) | (((bits >> (4 * k)) & 0xF) << 12)
    raw[:, 48:56] = sc.view(np.uint8)


def fp16_values(rng, n, kind):
    if kind == "normal":
        v = rng.standard_normal(n) * 0.01
    elif kind == "wide":
        v = rng.standard_normal(n) * 10.0 ** rng.uniform(-7, 4, n)   # incl. fp16 subnormals
    elif kind == "special":
        v = rng.choice([0.0, -0.0, 6.0e-8, -6.0e-8, 1.0, -1.0, 65504.0, -65504.0, 1e-5], n)
    return np.asarray(v, dtype=np.float16)


def make(rng, qtype, nblocks, kind):
    bs, bb = GGML_QUANT_SIZES[qtype]
    raw = rng.integers(0, 256, size=(nblocks, bb), dtype=np.uint8)
    for off in FP16_FIELDS[qtype]:
        raw[:, off:off + 2] = fp16_values(rng, nblocks, kind).view(np.uint8).reshape(nblocks, 2)
    if qtype == T.IQ1_M:
        set_iq1_m_d(raw, fp16_values(rng, nblocks, kind))
    n = nblocks * bs
    with np.errstate(all="ignore"):      # 65504 * 63 overflows to inf on purpose
        deq = quants.dequantize(raw.reshape(-1), qtype).astype(np.float32).reshape(-1)
    assert deq.size == n
    return raw.tobytes(), deq


def main():
    rng = np.random.default_rng(20261128)
    entries = []
    for qtype in FP16_FIELDS:
        bs, _ = GGML_QUANT_SIZES[qtype]
        per = 2048 // bs                 # 2,048 elements per entry
        for kind in ("normal", "wide", "special"):
            entries.append((qtype, f"{qtype.name.lower()}_{kind}", *make(rng, qtype, per, kind)))
    out = [b"QATK", struct.pack("<II", 1, len(entries))]
    for qtype, name, raw, deq in entries:
        out += [struct.pack("<II", int(qtype), len(name)), name.encode(), struct.pack("<I", deq.size), raw,
                deq.astype("<f4").tobytes()]
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    data = b"".join(out)
    with open(OUT, "wb") as f:
        f.write(data)
    print(f"wrote {len(entries)} tensors, {len(data)} bytes to {OUT}")


if __name__ == "__main__":
    main()
