#!/usr/bin/env python3
"""Writes the tiny reference files that tests/formats/ compares our formats code against.

  tests/fixtures/gguf/gguf_py_small.gguf            gguf-py GGUFWriter, default alignment (32)
  tests/fixtures/gguf/gguf_py_align64.gguf          same content, general.alignment = 64
  tests/fixtures/safetensors/st_py_small.safetensors the `safetensors` package (torch API)

Every metadata value type and several tensor types appear. Tensor bytes follow
pattern_bytes() below, which tests/formats/fixture_content.h reproduces, so the
C++ tests can rebuild the same content, write it with our writers and demand
byte-identical files.

Run:  .venv-ref/bin/python tools/reference/gguf_roundtrip_fixture.py
"""
import os
import sys

import numpy as np
import torch
from gguf import GGMLQuantizationType as Q
from gguf import GGUFValueType as V
from gguf import GGUFWriter
from safetensors.torch import save_file

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))


def pattern_bytes(n, seed):
    """Deterministic bytes: byte i is (i * 7 + seed) mod 256."""
    return np.array([(i * 7 + seed) % 256 for i in range(n)], dtype=np.uint8)


def write_gguf(path, alignment):
    w = GGUFWriter(path, arch="gemma3")  # general.architecture comes first
    if alignment != 32:
        w.add_custom_alignment(alignment)
    w.add_key_value("test.u8", 200, V.UINT8)
    w.add_key_value("test.i8", -100, V.INT8)
    w.add_key_value("test.u16", 60000, V.UINT16)
    w.add_key_value("test.i16", -30000, V.INT16)
    w.add_key_value("test.u32", 4000000000, V.UINT32)
    w.add_key_value("test.i32", -2000000000, V.INT32)
    w.add_key_value("test.f32", 1.5, V.FLOAT32)
    w.add_key_value("test.u64", 2**40 + 3, V.UINT64)
    w.add_key_value("test.i64", -(2**40), V.INT64)
    w.add_key_value("test.f64", 3.141592653589793, V.FLOAT64)
    w.add_key_value("test.bool", True, V.BOOL)
    w.add_key_value("test.string", "h\u00e9llo w\u00f6rld", V.STRING)
    w.add_key_value("test.empty_string", "", V.STRING)
    arrays = [
        ("u8", V.UINT8, [1, 2, 255]),
        ("i8", V.INT8, [-1, 0, 127]),
        ("u16", V.UINT16, [1, 65535]),
        ("i16", V.INT16, [-32768, 5]),
        ("u32", V.UINT32, [7, 4294967295]),
        ("i32", V.INT32, [-7, 2147483647, 0]),
        ("u64", V.UINT64, [2**63 + 1]),
        ("i64", V.INT64, [-(2**62), 9]),
        ("f32", V.FLOAT32, [0.5, -1.25]),
        ("f64", V.FLOAT64, [0.1, -2.5e300]),
        ("bool", V.BOOL, [True, False, True]),
        ("str", V.STRING, ["a", "", "\u00fc\u00df"]),
    ]
    for name, t, vals in arrays:
        w.add_key_value("test.arr_" + name, vals, V.ARRAY, sub_type=t)

    f32 = (np.arange(12, dtype=np.float32) * 0.5 - 2.0).reshape(3, 4)
    w.add_tensor("tok_embd.weight", f32)  # ggml dims [4, 3]
    w.add_tensor("blk.0.attn_norm.weight", np.arange(5, dtype=np.float16) / np.float16(4))
    w.add_tensor("blk.0.ffn_down.weight", pattern_bytes(2 * 34, 1).reshape(2, 34), raw_dtype=Q.Q8_0)
    w.add_tensor("blk.0.ffn_up.weight", pattern_bytes(18, 2).reshape(1, 18), raw_dtype=Q.Q4_0)
    w.add_tensor("blk.0.bf16", pattern_bytes(12, 3).reshape(3, 4), raw_dtype=Q.BF16)  # dims [2, 3]
    w.add_tensor("blk.0.i32", np.arange(8, dtype=np.int32).reshape(2, 2, 2) - 3)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


# name, torch dtype, shape: kept in step with kStTensors in fixture_content.h.
ST_TENSORS = [
    ("w.f32", torch.float32, (2, 3)),
    ("w.f16", torch.float16, (3,)),
    ("w.bf16", torch.bfloat16, (2, 2)),
    ("w.f64", torch.float64, (1,)),
    ("w.i64", torch.int64, (2,)),
    ("w.i32", torch.int32, (1, 1)),
    ("w.i16", torch.int16, (3,)),
    ("w.i8", torch.int8, (5,)),
    ("w.u8", torch.uint8, (3,)),
    ("w.bool", torch.bool, (4,)),
    ("empty", torch.float32, (0, 3)),
    ("scalar", torch.float32, ()),
    ("na\u00efve\t\"name\"", torch.float32, (1,)),
]


def write_safetensors(path):
    tensors = {}
    for i, (name, dtype, shape) in enumerate(ST_TENSORS):
        n = int(np.prod(shape, dtype=np.int64)) * torch.tensor([], dtype=dtype).element_size()
        raw = pattern_bytes(n, 10 + i)
        if dtype == torch.bool:
            raw = raw % 2
        t = torch.frombuffer(bytearray(raw.tobytes()), dtype=torch.uint8) if n else torch.empty(0, dtype=torch.uint8)
        tensors[name] = t.view(dtype).reshape(shape).clone()
    save_file(tensors, path, metadata={"format": "pt\n\"q\" \u00e9"})
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = f.read(n)
    assert header.endswith(b" "), "fixture should exercise the header padding"


def main():
    gdir = os.path.join(ROOT, "tests", "fixtures", "gguf")
    sdir = os.path.join(ROOT, "tests", "fixtures", "safetensors")
    os.makedirs(gdir, exist_ok=True)
    os.makedirs(sdir, exist_ok=True)
    write_gguf(os.path.join(gdir, "gguf_py_small.gguf"), 32)
    write_gguf(os.path.join(gdir, "gguf_py_align64.gguf"), 64)
    write_safetensors(os.path.join(sdir, "st_py_small.safetensors"))
    for d in (gdir, sdir):
        for f in sorted(os.listdir(d)):
            print(f"{os.path.join(d, f)}: {os.path.getsize(os.path.join(d, f))} bytes")


if __name__ == "__main__":
    sys.exit(main())
