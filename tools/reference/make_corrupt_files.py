#!/usr/bin/env python3
"""Writes the hand-made corrupt GGUF and safetensors files under tests/corrupt/
and tests/corrupt/expected.tsv: one line per file,
"<filename>\\t<substring the error message must contain>".

Each file is a small valid file with one thing broken, so the test proves that
exact check fires (and with a clear message). Plain python3, no dependencies:

  python3 tools/reference/make_corrupt_files.py
"""
import json
import os
import struct

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "tests", "corrupt")

# GGUF value types and ggml tensor types used below.
U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
T_F32, T_F64, T_Q8_0 = 0, 28, 8


# ---------------------------------------------------------------- GGUF pieces
def u32(v):
    return struct.pack("<I", v)


def u64(v):
    return struct.pack("<Q", v)


def gstr(s):
    b = s.encode() if isinstance(s, str) else s
    return u64(len(b)) + b


def kv(key, vtype, payload):
    """A KV pair; payload is the already-encoded value."""
    return gstr(key) + u32(vtype) + payload


def kv_u32(key, v):
    return kv(key, U32, u32(v))


def kv_str(key, s):
    return kv(key, STR, gstr(s))


def kv_arr(key, elem, items):
    """items: list of already-encoded elements."""
    return kv(key, ARR, u32(elem) + u64(len(items)) + b"".join(items))


def tinfo(name, dims, ttype, offset):
    return gstr(name) + u32(len(dims)) + b"".join(u64(d) for d in dims) + u32(ttype) + u64(offset)


ARCH = kv_str("general.architecture", "gemma3")


def gguf(kvs=(ARCH,), tis=(tinfo("a", [4], T_F32, 0),), data=bytes(range(16)), version=3,
         n_tensors=None, n_kv=None, alignment=32, magic=b"GGUF"):
    head = magic + u32(version) + u64(len(tis) if n_tensors is None else n_tensors)
    head += u64(len(kvs) if n_kv is None else n_kv)
    body = head + b"".join(kvs) + b"".join(tis)
    body += b"\0" * (-len(body) % alignment)
    return body + data


VALID = gguf()


def cut_at(blob, marker, extra=0):
    """blob cut `extra` bytes after the start of the first occurrence of marker."""
    return blob[: blob.index(marker) + extra]


def gguf_cases():
    c = {}
    c["gguf_empty.gguf"] = (b"", "too small to be a GGUF file")
    c["gguf_bad_magic.gguf"] = (gguf(magic=b"GGML"), "not a GGUF file")
    c["gguf_version1.gguf"] = (gguf(version=1), "GGUF version 1 is not supported")
    c["gguf_version2.gguf"] = (gguf(version=2), "GGUF version 2 is not supported")
    c["gguf_version_big_endian.gguf"] = (gguf(version=0x03000000), "big-endian")
    c["gguf_version99.gguf"] = (gguf(version=99), "unsupported GGUF version 99")
    # Truncated at various points.
    c["gguf_trunc_header.gguf"] = (VALID[:14], "tensor count: file truncated")
    c["gguf_trunc_key.gguf"] = (cut_at(VALID, b"general.arch", 5), "key #0: key: file truncated")
    c["gguf_trunc_key_length.gguf"] = (VALID[:27], "key #0: key length: file truncated")
    c["gguf_trunc_value.gguf"] = (cut_at(VALID, b"gemma3", 3), "string: file truncated")
    c["gguf_trunc_tensor_info.gguf"] = (cut_at(VALID, b"\x01\0\0\0\x04", 6),
                                        "tensor 'a': dimension: file truncated")
    c["gguf_trunc_data.gguf"] = (VALID[:-3], "runs past the end of the file")
    # Counts and lengths.
    c["gguf_too_many_tensors.gguf"] = (gguf(n_tensors=1 << 40),
                                       "tensor count 1099511627776 exceeds the limit")
    c["gguf_too_many_kv.gguf"] = (gguf(n_kv=1 << 63), "metadata key count 9223372036854775808 exceeds")
    c["gguf_kv_count_past_eof.gguf"] = (gguf(n_kv=1000, tis=[], data=b"", alignment=1), "key #1: key length: file truncated")
    c["gguf_huge_key_length.gguf"] = (gguf(kvs=[u64(1 << 62) + b"xx"]),
                                      "key length 4611686018427387904 exceeds the limit")
    c["gguf_string_past_eof.gguf"] = (gguf(kvs=[kv("s", STR, u64(1000) + b"abc")], tis=[], data=b""),
                                      "key 's': string: file truncated")
    c["gguf_huge_array.gguf"] = (gguf(kvs=[kv("a", ARR, u32(U32) + u64(1 << 60))]),
                                 "array length 1152921504606846976 exceeds the limit")
    c["gguf_array_past_eof.gguf"] = (gguf(kvs=[kv("a", ARR, u32(U32) + u64(1000000) + u32(1))], tis=[], data=b""),
                                     "array of 1000000 uint32: file truncated")
    c["gguf_string_array_past_eof.gguf"] = (gguf(kvs=[kv("a", ARR, u32(STR) + u64(100000) + gstr("x"))], tis=[], data=b""),
                                            "array of 100000 strings: file truncated")
    c["gguf_tensor_name_too_long.gguf"] = (gguf(tis=[u64(1 << 40) + b"abc"]),
                                           "name length 1099511627776 exceeds the limit")
    # Types.
    c["gguf_nested_array.gguf"] = (gguf(kvs=[kv_arr("a", ARR, [u32(U32) + u64(1) + u32(7)])]),
                                   "nested arrays")
    c["gguf_unknown_value_type.gguf"] = (gguf(kvs=[kv("x", 13, u32(0))]), "unknown value type 13")
    c["gguf_unknown_array_elem_type.gguf"] = (gguf(kvs=[kv("x", ARR, u32(42) + u64(1) + u32(0))]),
                                              "unknown array element type 42")
    c["gguf_bool_invalid.gguf"] = (gguf(kvs=[kv("flag", BOOL, b"\x02")]), "bool value 2 is neither 0 nor 1")
    c["gguf_unknown_tensor_type.gguf"] = (gguf(tis=[tinfo("a", [4], 5, 0)]), "unknown tensor type id 5")
    # Duplicates and names.
    c["gguf_duplicate_key.gguf"] = (gguf(kvs=[ARCH, kv_u32("x", 1), kv_u32("x", 2)]), "key 'x': duplicate key")
    c["gguf_duplicate_tensor.gguf"] = (gguf(tis=[tinfo("a", [4], T_F32, 0), tinfo("a", [4], T_F32, 32)],
                                            data=bytes(48)), "tensor 'a': duplicate tensor name")
    c["gguf_empty_key.gguf"] = (gguf(kvs=[kv_u32("", 1)]), "empty key")
    c["gguf_key_invalid_utf8.gguf"] = (gguf(kvs=[kv_u32(b"bad\xc3\x28key", 1)]), "is not valid UTF-8")
    c["gguf_empty_tensor_name.gguf"] = (gguf(tis=[tinfo("", [4], T_F32, 0)]), "empty tensor name")
    c["gguf_tensor_name_invalid_utf8.gguf"] = (gguf(tis=[tinfo(b"w\xff", [4], T_F32, 0)]),
                                               "tensor name 'w\\xff' is not valid UTF-8")
    # Dimensions and sizes.
    c["gguf_n_dims_zero.gguf"] = (gguf(tis=[tinfo("a", [], T_F32, 0)]), "dimension count 0 is not between 1 and 4")
    c["gguf_n_dims_five.gguf"] = (gguf(tis=[tinfo("a", [1, 1, 1, 1, 4], T_F32, 0)]),
                                  "dimension count 5 is not between 1 and 4")
    c["gguf_dim_zero.gguf"] = (gguf(tis=[tinfo("a", [4, 0], T_F32, 0)]), "dimension 1 is 0")
    c["gguf_dim_huge.gguf"] = (gguf(tis=[tinfo("a", [(1 << 64) - 1], T_F32, 0)]),
                               "dimension 0 is 18446744073709551615")
    c["gguf_dims_product_overflow.gguf"] = (gguf(tis=[tinfo("a", [1 << 32, 1 << 32], T_F32, 0)]),
                                            "element count overflows")
    c["gguf_bytes_overflow.gguf"] = (gguf(tis=[tinfo("a", [1 << 62], T_F64, 0)]), "byte size overflows")
    c["gguf_block_not_multiple.gguf"] = (gguf(tis=[tinfo("a", [16], T_Q8_0, 0)]),
                                         "first dimension 16 is not a multiple of Q8_0's block size 32")
    # Offsets.
    c["gguf_misaligned_offset.gguf"] = (gguf(tis=[tinfo("a", [4], T_F32, 4)], data=bytes(20)),
                                        "data offset 4 is not a multiple of the alignment 32")
    c["gguf_offset_past_eof.gguf"] = (gguf(tis=[tinfo("a", [4], T_F32, 1 << 20)]), "is past the end of the file")
    c["gguf_offset_overflow.gguf"] = (gguf(tis=[tinfo("a", [4], T_F32, (1 << 64) - 32)]),
                                      "is past the end of the file")
    c["gguf_data_past_eof.gguf"] = (gguf(tis=[tinfo("a", [1024], T_F32, 0)]),
                                    "data [128, 4224) runs past the end of the file (144 bytes)")
    c["gguf_overlapping_tensors.gguf"] = (gguf(tis=[tinfo("a", [16], T_F32, 0), tinfo("b", [4], T_F32, 32)],
                                               data=bytes(64)), "tensor 'b': data at offset 32 overlaps tensor 'a'")
    c["gguf_same_offset.gguf"] = (gguf(tis=[tinfo("a", [4], T_F32, 0), tinfo("b", [4], T_F32, 0)]),
                                  "overlaps tensor 'a'")
    # Alignment.
    c["gguf_alignment_not_pow2.gguf"] = (gguf(kvs=[kv_u32("general.alignment", 48)], alignment=48),
                                         "'general.alignment': 48 is not a power of two")
    c["gguf_alignment_zero.gguf"] = (gguf(kvs=[kv_u32("general.alignment", 0)]),
                                     "'general.alignment': 0 is not a power of two")
    c["gguf_alignment_too_big.gguf"] = (gguf(kvs=[kv_u32("general.alignment", 1 << 24)]),
                                        "between 1 and 1048576")
    c["gguf_alignment_wrong_type.gguf"] = (gguf(kvs=[kv("general.alignment", U64, u64(32))]),
                                           "key 'general.alignment': expected uint32, found uint64")
    # Typed keys llama.cpp relies on.
    c["gguf_arch_not_string.gguf"] = (gguf(kvs=[kv_u32("general.architecture", 3)]),
                                      "key 'general.architecture': expected string, found uint32")
    toks = kv_arr("tokenizer.ggml.tokens", STR, [gstr("a"), gstr("b")])
    c["gguf_tokens_wrong_elem_type.gguf"] = (gguf(kvs=[kv_arr("tokenizer.ggml.tokens", I32, [u32(1)])]),
                                             "expected array of string, found array of int32")
    c["gguf_scores_wrong_elem_type.gguf"] = (
        gguf(kvs=[toks, kv_arr("tokenizer.ggml.scores", F64, [bytes(8), bytes(8)])]),
        "key 'tokenizer.ggml.scores': expected array of float32, found array of float64")
    c["gguf_token_type_not_array.gguf"] = (gguf(kvs=[toks, kv_u32("tokenizer.ggml.token_type", 1)]),
                                           "expected array of int32, found uint32")
    c["gguf_scores_length_mismatch.gguf"] = (gguf(kvs=[toks, kv_arr("tokenizer.ggml.scores", F32, [bytes(4)])]),
                                             "1 elements, expected 2")
    return c


# --------------------------------------------------------- safetensors pieces
def st_raw(header: bytes, data=b"", n=None):
    return u64(len(header) if n is None else n) + header + data


def st(header_obj, data):
    return st_raw(json.dumps(header_obj, separators=(",", ":")).encode(), data)


def ent(dtype="F32", shape=(2,), offs=(0, 8)):
    return {"dtype": dtype, "shape": list(shape), "data_offsets": list(offs)}


def st_cases():
    c = {}
    good = json.dumps({"a": ent()}).encode()
    c["st_empty.safetensors"] = (b"", "too small to be a safetensors file")
    c["st_short.safetensors"] = (b"\x05\0\0", "too small to be a safetensors file")
    c["st_header_len_past_eof.safetensors"] = (st_raw(good, bytes(8), n=4096),
                                               "header length 4096 runs past the end of the file")
    c["st_header_len_huge.safetensors"] = (st_raw(good, bytes(8), n=1 << 62), "exceeds the limit of 100000000 bytes")
    c["st_not_utf8.safetensors"] = (st_raw(b'{"a\xff":' + json.dumps(ent()).encode() + b"}", bytes(8)),
                                    "header is not valid UTF-8")
    c["st_overlong_utf8.safetensors"] = (st_raw(b'{"\xc0\xaf":' + json.dumps(ent()).encode() + b"}", bytes(8)),
                                         "header is not valid UTF-8")
    c["st_invalid_json.safetensors"] = (st_raw(b'{"a": {dtype: "F32"}}', bytes(8)), "header is not valid JSON")
    c["st_truncated_json.safetensors"] = (st_raw(good[:-5], bytes(8)), "header is not valid JSON")
    c["st_not_object.safetensors"] = (st_raw(b"[1, 2]  ", bytes(8)), "must be a JSON object")
    c["st_duplicate_tensor.safetensors"] = (
        st_raw(b'{"a":' + json.dumps(ent()).encode() + b',"a":' + json.dumps(ent(offs=(8, 16))).encode() + b"}",
               bytes(16)), "duplicate key 'a'")
    c["st_duplicate_field.safetensors"] = (
        st_raw(b'{"a":{"dtype":"F32","dtype":"I32","shape":[2],"data_offsets":[0,8]}}', bytes(8)),
        "duplicate key 'dtype'")
    c["st_duplicate_metadata.safetensors"] = (
        st_raw(b'{"__metadata__":{"k":"1","k":"2"},"a":' + json.dumps(ent()).encode() + b"}", bytes(8)),
        "duplicate key 'k'")
    c["st_unknown_dtype.safetensors"] = (st({"a": ent(dtype="F99")}, bytes(8)), "unknown dtype 'F99'")
    c["st_dtype_not_string.safetensors"] = (st({"a": ent(dtype=4)}, bytes(8)), "dtype must be a string")
    c["st_shape_not_array.safetensors"] = (st({"a": {"dtype": "F32", "shape": 2, "data_offsets": [0, 8]}}, bytes(8)),
                                           "shape must be an array")
    c["st_shape_negative.safetensors"] = (st({"a": ent(shape=(-2,))}, bytes(8)),
                                          "shape must contain unsigned integers, found a negative integer")
    c["st_shape_float.safetensors"] = (st({"a": ent(shape=(2.0,))}, bytes(8)), "found a floating-point number")
    c["st_shape_overflow.safetensors"] = (st({"a": ent(shape=(1 << 32, 1 << 32))}, bytes(8)), "overflows 64 bits")
    c["st_shape_bytes_overflow.safetensors"] = (st({"a": ent(dtype="F64", shape=(1 << 62,))}, bytes(8)),
                                                "overflows 64 bits")
    c["st_shape_offset_mismatch.safetensors"] = (st({"a": ent(shape=(3,))}, bytes(8)),
                                                 "shape [3] of F32 is 12 bytes but data_offsets [0, 8) hold 8")
    c["st_offsets_not_ints.safetensors"] = (st({"a": ent(offs=("0", "8"))}, bytes(8)),
                                            "data_offsets must contain unsigned integers, found a string")
    c["st_offsets_wrong_length.safetensors"] = (st({"a": ent(offs=(0,))}, bytes(8)),
                                                "data_offsets must be an array of two integers")
    c["st_offsets_reversed.safetensors"] = (st({"a": ent(offs=(8, 0))}, bytes(8)), "end before they begin")
    c["st_offsets_past_eof.safetensors"] = (st({"a": ent(offs=(0, 8))}, bytes(4)),
                                            "run past the end of the data section (4 bytes)")
    c["st_offset_max_u64.safetensors"] = (st({"a": ent(offs=(0, (1 << 64) - 1))}, bytes(8)),
                                          "run past the end of the data section")
    c["st_offset_beyond_u64.safetensors"] = (st_raw(b'{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,18446744073709551616]}}', bytes(8)),
                                             "found a floating-point number")
    c["st_hole.safetensors"] = (st({"a": ent(offs=(0, 8)), "b": ent(offs=(12, 20))}, bytes(20)),
                                "tensor 'b': data_offsets [12, 20) leave a hole of 4 bytes at offset 8")
    c["st_start_not_zero.safetensors"] = (st({"a": ent(offs=(4, 12))}, bytes(12)), "leave a hole of 4 bytes at offset 0")
    c["st_overlap.safetensors"] = (st({"a": ent(shape=(4,), offs=(0, 16)), "b": ent(offs=(8, 16))}, bytes(16)),
                                   "overlap tensor 'a'")
    c["st_trailing_bytes.safetensors"] = (st({"a": ent()}, bytes(12)), "4 trailing bytes after the last tensor")
    c["st_missing_field.safetensors"] = (st({"a": {"dtype": "F32", "shape": [2]}}, bytes(8)),
                                         "needs dtype, shape and data_offsets")
    c["st_unknown_field.safetensors"] = (st({"a": dict(ent(), foo=1)}, bytes(8)), "unknown field 'foo'")
    c["st_entry_not_object.safetensors"] = (st({"a": [1, 2]}, bytes(8)), "expected an object, found an array")
    c["st_metadata_not_object.safetensors"] = (st({"__metadata__": "x", "a": ent()}, bytes(8)),
                                               "__metadata__ must be an object")
    c["st_metadata_not_string.safetensors"] = (st({"__metadata__": {"k": 1}, "a": ent()}, bytes(8)),
                                               "__metadata__ 'k' must be a string")
    c["st_deep_nesting.safetensors"] = (st_raw(b'{"a":' + b"[" * 5000 + b"]" * 5000 + b"}", b""),
                                        "nested deeper than 3 levels")
    c["st_empty_name.safetensors"] = (st({"": ent()}, bytes(8)), "empty tensor name")
    return c


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):  # regenerate from scratch so removed cases disappear
        if f.endswith((".gguf", ".safetensors")) or f == "expected.tsv":
            os.remove(os.path.join(OUT, f))
    cases = {**gguf_cases(), **st_cases()}
    lines = []
    for name, (blob, expect) in sorted(cases.items()):
        assert "\t" not in expect and "\n" not in expect
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(blob)
        lines.append(f"{name}\t{expect}\n")
    with open(os.path.join(OUT, "expected.tsv"), "w") as f:
        f.writelines(lines)
    print(f"wrote {len(cases)} corrupt files to {OUT}")


if __name__ == "__main__":
    main()
