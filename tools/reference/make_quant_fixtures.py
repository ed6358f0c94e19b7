#!/usr/bin/env python3
"""Reference blocks for Q8_0 / Q4_0 from the PyPI `gguf` package (gguf-py),
which llama.cpp's converter uses and which is bit-exact with ggml's reference.

Writes tests/fixtures/quant/gguf_py_quant.bin, little endian:
  "QATQ" u32 version=1 u32 count, then per tensor:
    u32 name_len, name (ascii), u32 n (multiple of 32),
    f32[n] input,
    u8[n/32*34] Q8_0 blocks,  f32[n] Q8_0 dequantized,
    u8[n/32*18] Q4_0 blocks,  f32[n] Q4_0 dequantized
Run: .venv-ref/bin/python tools/reference/make_quant_fixtures.py
"""
import os
import struct

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import quants

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
OUT = os.path.join(ROOT, "tests", "fixtures", "quant", "gguf_py_quant.bin")
f32 = np.float32


def tensors():
    rng = np.random.default_rng(20261127)
    t = {}
    for i, n in enumerate([32, 64, 256, 512, 1024]):
        t[f"normal_{n}"] = rng.standard_normal(n)
        t[f"normal_scaled_{i}"] = rng.standard_normal(256) * 10.0 ** rng.uniform(-6, 3)
    t["uniform_pm1"] = rng.uniform(-1, 1, 512)
    t["uniform_pos"] = rng.uniform(0, 5, 256)
    t["uniform_neg"] = rng.uniform(-5, 0, 256)
    t["zeros"] = np.zeros(64)
    z = np.zeros(96); z[32:] = -0.0; z[64] = -0.0; z[65:] = 0.0
    t["signed_zeros"] = z                        # +0 block, all -0 block, mixed
    t["zeros_then_normal"] = np.concatenate([np.zeros(32), rng.standard_normal(32)])
    o = rng.standard_normal(128) * 0.01; o[5] = 30.0; o[40] = -30.0; o[95] = 1e4
    t["outliers"] = o
    t["single_pos_outlier"] = np.where(np.arange(64) == 17, 7.0, 0.0)
    t["single_neg_outlier"] = np.where(np.arange(64) == 31, -7.0, 0.0)
    t["constant_pos"] = np.full(64, 0.3)
    t["constant_neg"] = np.full(64, -2.5)
    t["constant_one"] = np.full(32, 1.0)
    # Ties on magnitude: +a first vs -a first decides Q4_0's signed max.
    tie = rng.standard_normal(64) * 0.1; tie[3] = 2.0; tie[10] = -2.0; tie[32 + 3] = -2.0; tie[32 + 10] = 2.0
    t["amax_ties"] = tie
    # Values exactly at +-amax and at every Q8_0 level / half level of a known scale.
    lv = np.arange(-64, 64) / 2.0          # k/2 for k in [-64, 64): .5 boundaries
    lv[0] = -127.0                         # first block: amax 127, d exactly 1
    t["q8_half_levels"] = np.concatenate([lv, -lv])
    q4 = (np.arange(-16, 16) / 2.0); q4[0] = -8.0
    t["q4_half_levels"] = np.concatenate([q4, -q4, q4 * 0.37, q4 + 0.25])
    t["at_pm_amax"] = np.tile([1.5, -1.5, 0.75, -0.75], 16)
    # x*id lands just around n + 0.5 after rounding.
    base = (np.arange(32) - 15.5).astype(f32)
    t["near_half"] = np.concatenate([base * f32(1.0000001), base * f32(0.9999999), base * f32(1.37)])
    t["denormals_mixed"] = np.concatenate([rng.standard_normal(32) * 1e-39, rng.standard_normal(32)])
    t["denormals_only"] = rng.standard_normal(64) * 1e-40          # 1/d overflows
    t["tiny_normals"] = rng.standard_normal(64) * 1e-36
    t["tiny_edge"] = rng.standard_normal(128) * 10.0 ** rng.uniform(-38, -36, 128)  # around 1/d overflow
    t["fp16_scale_subnormal"] = rng.standard_normal(64) * 1e-4   # d below fp16 normal range
    t["huge"] = rng.standard_normal(64) * 1e5                    # Q4_0 d near fp16 max
    t["fp16_scale_overflow"] = rng.standard_normal(32) * 3e7     # d overflows fp16
    t["large_finite"] = np.full(32, 3.0e38) * np.sign(rng.standard_normal(32))
    t["ramp"] = np.linspace(-1, 1, 256)
    t["bf16_like"] = (rng.standard_normal(256).astype(f32).view(np.uint32) & 0xFFFF0000).view(f32)
    t["sparse"] = rng.standard_normal(256) * (rng.uniform(size=256) < 0.1)
    return {k: np.asarray(v, dtype=f32) for k, v in t.items()}


def main():
    ts = tensors()
    out = [b"QATQ", struct.pack("<II", 1, len(ts))]
    with np.errstate(all="ignore"):          # overflow/invalid cases are intended
        for name, x in ts.items():
            assert x.size % 32 == 0 and np.all(np.isfinite(x)), name
            out += [struct.pack("<I", len(name)), name.encode(), struct.pack("<I", x.size),
                    x.astype("<f4").tobytes()]
            for qt, bs in ((T.Q8_0, 34), (T.Q4_0, 18)):
                q = quants.quantize(x, qt)
                assert q.nbytes == x.size // 32 * bs
                dq = quants.dequantize(q, qt).astype(f32)
                out += [q.tobytes(), dq.astype("<f4").tobytes()]
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    data = b"".join(out)
    with open(OUT, "wb") as f:
        f.write(data)
    print(f"wrote {len(ts)} tensors, {len(data)} bytes to {OUT}")


if __name__ == "__main__":
    main()
