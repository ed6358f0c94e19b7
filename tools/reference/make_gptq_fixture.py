#!/usr/bin/env python3
"""An independent GPTQ for qat's src/train/gptq.cpp: the algorithm as the
GPTQ paper's reference code runs it (Frantar et al. 2022, IST-DASLab/gptq
`fasterquant` with groups: H += damp * mean(diag H) * I, H^-1 by Cholesky,
its upper Cholesky factor U, then column by column: a new group's scale from
the group's current weights, err = (w - q(w)) / U_ii, w[:, i+1:] -= err U[i, i+1:]),
with numpy's LAPACK for the linear algebra and the GGUF block rules (Q4_0:
d = the block's signed extreme / -8, code trunc(x / d + 8.5) in 0..15; Q8_0:
d = amax / 127, code round-half-away(x / d); values code * fp16(d)) written
here from the GGUF definitions, in float32 as gguf-py computes them.

Writes tests/fixtures/gptq/gptq.safetensors (F32 arrays):
  x                  (n, k)   calibration inputs, columns correlated
  w                  (rows, k) weights
  <type>.values      (rows, k) GPTQ's dequantized weights   (type: q4_0, q8_0)
  <type>.scales      (rows, k/32) the block scales d (float32, unrounded)
  <type>.latent      (rows, k) the values GPTQ rounded
and tests/fixtures/gptq/reference.json (sizes, dampening, numpy version).
Read by tests/train/gptq_test.cpp. Needs only numpy:
  python3 tools/reference/make_gptq_fixture.py
"""
import json
import os
import struct

import numpy as np

ROWS, K, N = 12, 96, 384
DAMP = 0.01
OUT = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures", "gptq")


def block_scale(block, qtype):
    """The reference's d for one block of 32 (float32)."""
    block = block.astype(np.float32)
    if qtype == "q4_0":
        imax = int(np.argmax(np.abs(block)))  # first of equal magnitudes
        return np.float32(block[imax] / np.float32(-8.0))
    return np.float32(np.max(np.abs(block)) / np.float32(127.0))


def quantize_value(x, d, qtype):
    """One value in a block of scale d: code and dequantized value (float32)."""
    x = np.float32(x)
    d = np.float32(d)
    inv = np.float32(0.0) if d == 0 else np.float32(np.float32(1.0) / d)
    d16 = np.float32(np.float16(d))
    if qtype == "q4_0":
        v = np.float32(np.float32(x * inv) + np.float32(8.5))
        code = int(min(15.0, max(0.0, np.trunc(v))))
        return np.float32(np.float32(code - 8) * d16)
    r = np.float32(x * inv)
    code = np.sign(r) * np.floor(np.abs(r) + np.float32(0.5))  # round half away from zero
    code = int(min(127.0, max(-127.0, code)))
    return np.float32(np.float32(code) * d16)


def gptq(w, h, qtype):
    rows, k = w.shape
    h = h.copy()
    h[np.diag_indices(k)] += DAMP * np.mean(np.diag(h))
    # H^-1 via its Cholesky factor, then the upper Cholesky factor of H^-1.
    l = np.linalg.cholesky(h)
    linv = np.linalg.inv(l)
    hinv = linv.T @ linv
    u = np.linalg.cholesky(hinv).T
    w = w.astype(np.float64).copy()
    values = np.zeros((rows, k), np.float32)
    latent = np.zeros((rows, k), np.float32)
    scales = np.zeros((rows, k // 32), np.float32)
    for i in range(k):
        if i % 32 == 0:
            for r in range(rows):
                scales[r, i // 32] = block_scale(w[r, i:i + 32], qtype)
        for r in range(rows):
            x = np.float32(w[r, i])
            latent[r, i] = x
            q = quantize_value(x, scales[r, i // 32], qtype)
            values[r, i] = q
            err = (w[r, i] - float(q)) / u[i, i]
            w[r, i + 1:] -= err * u[i, i + 1:]
    return values, scales, latent


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name, arr in tensors:
        arr = np.ascontiguousarray(arr, dtype=np.float32)
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [offset, offset + arr.nbytes]}
        blobs.append(arr.tobytes())
        offset += arr.nbytes
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def main():
    rng = np.random.default_rng(20261128)
    z = rng.standard_normal((N, K)).astype(np.float32)
    mix = (np.eye(K) + 0.3 * rng.standard_normal((K, K))).astype(np.float32)
    x = (z @ mix).astype(np.float32)
    w = (0.05 * rng.standard_normal((ROWS, K))).astype(np.float32)
    w[3, 40] = 0.6  # an outlier block
    h = x.astype(np.float64).T @ x.astype(np.float64)
    tensors = [("x", x), ("w", w)]
    for qtype in ("q4_0", "q8_0"):
        values, scales, latent = gptq(w, h, qtype)
        tensors += [(qtype + ".values", values), (qtype + ".scales", scales), (qtype + ".latent", latent)]
    os.makedirs(OUT, exist_ok=True)
    write_safetensors(os.path.join(OUT, "gptq.safetensors"), tensors)
    with open(os.path.join(OUT, "reference.json"), "w") as f:
        json.dump({"rows": ROWS, "k": K, "n": N, "damp": DAMP, "numpy": np.__version__}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
