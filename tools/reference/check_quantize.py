#!/usr/bin/env python3
"""Independent check of `qat quantize` output with the PyPI `gguf` package.

For every tensor of QUANTIZED.gguf, takes the tensor of the same name in
SOURCE.gguf, dequantizes it to float32 with gguf.quants.dequantize, converts
it with gguf.quants.quantize to the type found in QUANTIZED (Q8_0, Q4_0, F16,
BF16, F32) and demands byte equality. Also checks general.file_type and that
every metadata key of SOURCE (tokenizer included) is present in QUANTIZED.

Run:  /work/main/.venv-ref/bin/python tools/reference/check_quantize.py SOURCE.gguf QUANTIZED.gguf
Exit status 0 when every tensor matches. Not run by ctest (the suite needs no Python).
"""
import sys
import time
from collections import Counter

import numpy as np
from gguf import GGMLQuantizationType as Q
from gguf import GGUFReader
from gguf import quants

FILE_TYPES = {0: "ALL_F32", 1: "MOSTLY_F16", 2: "MOSTLY_Q4_0", 7: "MOSTLY_Q8_0", 32: "MOSTLY_BF16"}


def field_value(reader, key):
    f = reader.fields.get(key)
    return None if f is None else f.contents()


def main(src_path, out_path):
    t0 = time.time()
    src, out = GGUFReader(src_path), GGUFReader(out_path)
    src_tensors = {t.name: t for t in src.tensors}
    bad, checked = [], Counter()
    for t in out.tensors:
        s = src_tensors.get(t.name)
        if s is None:
            bad.append(f"{t.name}: not in the source")
            continue
        qtype = Q(t.tensor_type)
        f32 = quants.dequantize(np.asarray(s.data), Q(s.tensor_type)).astype(np.float32)
        f32 = f32.reshape(-1, int(t.shape[0]))  # rows of the contiguous dimension
        want = quants.quantize(f32, qtype).tobytes()
        got = np.asarray(t.data).tobytes()
        if want != got:
            n = min(len(want), len(got))
            first = next((i for i in range(n) if want[i] != got[i]), n)
            bad.append(f"{t.name} ({qtype.name}): bytes differ from gguf.quants.quantize, first at byte {first}")
        checked[f"{Q(s.tensor_type).name}->{qtype.name}"] += 1

    missing = [k for k in src.fields if k not in out.fields and not k.startswith("GGUF.")]
    ft = field_value(out, "general.file_type")
    print(f"{out_path}: general.file_type = {ft} ({FILE_TYPES.get(ft, '?')})")
    for k in sorted(checked):
        print(f"  {checked[k]:4d} tensors {k}: byte-identical" if not bad else f"  {checked[k]:4d} tensors {k}")
    if missing:
        print(f"  metadata keys of the source missing from the output: {', '.join(missing)}")
    for b in bad:
        print("  MISMATCH", b)
    print(f"{'OK' if not bad else 'FAILED'}: {sum(checked.values())} tensors checked against gguf "
          f"{quants.__name__} in {time.time() - t0:.1f} s")
    return 0 if not bad else 1


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
