// The content of the reference files written by
// tools/reference/gguf_roundtrip_fixture.py, rebuilt in C++ so the tests can
// write it with our writers and compare bytes. Keep the two in step.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "base/fp16.h"
#include "formats/gguf.h"
#include "formats/safetensors.h"

namespace qat::test {

// Byte i is (i * 7 + seed) mod 256, as pattern_bytes() in the script.
inline std::vector<uint8_t> pattern_bytes(size_t n, unsigned seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = uint8_t((i * 7 + seed) % 256);
  return v;
}

template <typename T>
GgufValue packed_array(GgufType elem, const std::vector<T>& v) {
  GgufValue r;
  r.type = GgufType::ARRAY;
  r.elem_type = elem;
  r.raw.resize(v.size() * sizeof(T));
  std::memcpy(r.raw.data(), v.data(), r.raw.size());
  return r;
}

inline GgufValue scalar(GgufType t, uint64_t u) {
  GgufValue v;
  v.type = t;
  v.num.u = u;
  return v;
}
inline GgufValue signed_scalar(GgufType t, int64_t i) {
  GgufValue v;
  v.type = t;
  v.num.i = i;
  return v;
}
inline GgufValue f64(double d) {
  GgufValue v;
  v.type = GgufType::FLOAT64;
  v.num.f = d;
  return v;
}

// Buffers the GGUF fixture's tensors point into; must outlive the writer.
struct GgufFixtureData {
  std::vector<float> f32;
  std::vector<uint16_t> f16;
  std::vector<uint8_t> q8, q4, bf16;
  std::vector<int32_t> i32;
};

inline void fill_gguf_fixture(GgufWriter& w, GgufFixtureData& d, uint32_t alignment) {
  using T = GgufType;
  w.set("general.architecture", GgufValue::string("gemma3"));
  if (alignment != 32) w.set("general.alignment", GgufValue::u32(alignment));
  w.set("test.u8", scalar(T::UINT8, 200));
  w.set("test.i8", signed_scalar(T::INT8, -100));
  w.set("test.u16", scalar(T::UINT16, 60000));
  w.set("test.i16", signed_scalar(T::INT16, -30000));
  w.set("test.u32", GgufValue::u32(4000000000u));
  w.set("test.i32", GgufValue::i32(-2000000000));
  w.set("test.f32", GgufValue::f32(1.5f));
  w.set("test.u64", GgufValue::u64((uint64_t(1) << 40) + 3));
  w.set("test.i64", signed_scalar(T::INT64, -(int64_t(1) << 40)));
  w.set("test.f64", f64(3.141592653589793));
  w.set("test.bool", GgufValue::boolean(true));
  w.set("test.string", GgufValue::string("h\u00e9llo w\u00f6rld"));
  w.set("test.empty_string", GgufValue::string(""));
  w.set("test.arr_u8", packed_array<uint8_t>(T::UINT8, {1, 2, 255}));
  w.set("test.arr_i8", packed_array<int8_t>(T::INT8, {-1, 0, 127}));
  w.set("test.arr_u16", packed_array<uint16_t>(T::UINT16, {1, 65535}));
  w.set("test.arr_i16", packed_array<int16_t>(T::INT16, {-32768, 5}));
  w.set("test.arr_u32", GgufValue::u32_array({7, 4294967295u}));
  w.set("test.arr_i32", GgufValue::i32_array({-7, 2147483647, 0}));
  w.set("test.arr_u64", packed_array<uint64_t>(T::UINT64, {(uint64_t(1) << 63) + 1}));
  w.set("test.arr_i64", packed_array<int64_t>(T::INT64, {-(int64_t(1) << 62), 9}));
  w.set("test.arr_f32", GgufValue::f32_array({0.5f, -1.25f}));
  w.set("test.arr_f64", packed_array<double>(T::FLOAT64, {0.1, -2.5e300}));
  w.set("test.arr_bool", GgufValue::bool_array({true, false, true}));
  w.set("test.arr_str", GgufValue::string_array({"a", "", "\u00fc\u00df"}));

  for (int i = 0; i < 12; ++i) d.f32.push_back(float(i) * 0.5f - 2.0f);
  for (int i = 0; i < 5; ++i) d.f16.push_back(f32_to_fp16(float(i) / 4.0f));
  d.q8 = pattern_bytes(68, 1);
  d.q4 = pattern_bytes(18, 2);
  d.bf16 = pattern_bytes(12, 3);
  for (int i = 0; i < 8; ++i) d.i32.push_back(i - 3);
  w.add_tensor("tok_embd.weight", {4, 3}, 0, d.f32.data(), 48);
  w.add_tensor("blk.0.attn_norm.weight", {5}, 1, d.f16.data(), 10);
  w.add_tensor("blk.0.ffn_down.weight", {32, 2}, 8, d.q8.data(), 68);
  w.add_tensor("blk.0.ffn_up.weight", {32, 1}, 2, d.q4.data(), 18);
  w.add_tensor("blk.0.bf16", {2, 3}, 30, d.bf16.data(), 12);
  w.add_tensor("blk.0.i32", {2, 2, 2}, 26, d.i32.data(), 32);
}

// The safetensors fixture: name, dtype, shape, in the script's list order
// (index i seeds the tensor's bytes with 10 + i; BOOL bytes are taken mod 2).
struct StFixtureTensor {
  const char* name;
  StDtype dtype;
  std::vector<uint64_t> shape;
};
inline const std::vector<StFixtureTensor>& st_fixture_tensors() {
  static const std::vector<StFixtureTensor> t = {
      {"w.f32", StDtype::F32, {2, 3}},    {"w.f16", StDtype::F16, {3}},
      {"w.bf16", StDtype::BF16, {2, 2}},  {"w.f64", StDtype::F64, {1}},
      {"w.i64", StDtype::I64, {2}},       {"w.i32", StDtype::I32, {1, 1}},
      {"w.i16", StDtype::I16, {3}},       {"w.i8", StDtype::I8, {5}},
      {"w.u8", StDtype::U8, {3}},         {"w.bool", StDtype::BOOL, {4}},
      {"empty", StDtype::F32, {0, 3}},    {"scalar", StDtype::F32, {}},
      {"na\u00efve\t\"name\"", StDtype::F32, {1}},
  };
  return t;
}

inline std::vector<uint8_t> st_fixture_bytes(size_t index) {
  const StFixtureTensor& t = st_fixture_tensors()[index];
  size_t n = st_dtype_size(t.dtype);
  for (uint64_t d : t.shape) n *= d;
  std::vector<uint8_t> b = pattern_bytes(n, unsigned(10 + index));
  if (t.dtype == StDtype::BOOL)
    for (auto& x : b) x %= 2;
  return b;
}

}  // namespace qat::test
