// The llama.cpp types qat reads (Q4_1, Q5_0, Q5_1, Q2_K .. Q6_K, IQ4_NL, IQ4_XS): the
// reference dequantizers against gguf-py bit for bit (fixtures from
// tools/reference/make_compat_quant_fixtures.py), and the kernels' unpacked
// form (codes + chunk scales) against the dequantized values.
#include "quant/ggml_compat_types.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/fp16.h"

namespace qat {
namespace {

struct Fixture {
  TensorType type;
  std::string name;
  std::vector<uint8_t> blocks;
  std::vector<float> deq;
};

std::vector<Fixture> load_fixtures() {
  const std::string path = std::string(QAT_FIXTURES_DIR) + "/quant/gguf_py_compat_dequant.bin";
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(cat("cannot open ", path));
  auto u32 = [&] {
    uint32_t v = 0;
    f.read(reinterpret_cast<char*>(&v), 4);
    return v;
  };
  char magic[4];
  f.read(magic, 4);
  if (std::memcmp(magic, "QATK", 4) != 0 || u32() != 1) throw Error(cat(path, ": bad header"));
  std::vector<Fixture> out(u32());
  for (auto& t : out) {
    t.type = TensorType(u32());
    t.name.resize(u32());
    f.read(t.name.data(), std::streamsize(t.name.size()));
    const uint32_t n = u32();
    t.blocks.resize(tensor_bytes(uint32_t(t.type), n));
    t.deq.resize(n);
    f.read(reinterpret_cast<char*>(t.blocks.data()), std::streamsize(t.blocks.size()));
    f.read(reinterpret_cast<char*>(t.deq.data()), std::streamsize(n * 4));
  }
  if (!f) throw Error(cat(path, ": truncated"));
  return out;
}

const std::vector<Fixture>& fixtures() {
  static const std::vector<Fixture> f = load_fixtures();
  return f;
}

TEST(CompatTypes, FixturesCoverEveryType) {
  std::set<TensorType> seen;
  for (const auto& t : fixtures()) {
    EXPECT_TRUE(is_compat_type(t.type)) << t.name;
    seen.insert(t.type);
  }
  EXPECT_EQ(seen.size(), 19u);  // ten K-quant / legacy / IQ4 types, nine codebook and ternary ones
  EXPECT_FALSE(is_compat_type(TensorType::Q4_0));
  EXPECT_FALSE(is_compat_type(TensorType::F32));
}

TEST(CompatTypes, DequantizeEqualsGgufPyBitForBit) {
  for (const auto& t : fixtures()) {
    std::vector<float> y(t.deq.size());
    dequantize_row_compat(t.type, t.blocks.data(), y.data(), int64_t(y.size()));
    int64_t bad = 0, first = -1;
    for (size_t i = 0; i < y.size(); ++i) {
      const bool same = f32_bits(y[i]) == f32_bits(t.deq[i]) || (std::isnan(y[i]) && std::isnan(t.deq[i]));
      if (!same && bad++ == 0) first = int64_t(i);
    }
    EXPECT_EQ(bad, 0) << t.name << ": first difference at " << first << ": " << y[size_t(first)] << " vs "
                      << t.deq[size_t(first)];
  }
}

TEST(CompatTypes, UnpackedChunksGiveTheDequantizedValues) {
  for (const auto& t : fixtures()) {
    const int64_t n = int64_t(t.deq.size());
    std::vector<int8_t> codes(static_cast<size_t>(n));
    std::vector<CompatChunk> chunks(size_t(n / 32));
    unpack_row_compat(t.type, t.blocks.data(), n, codes.data(), chunks.data());
    for (int64_t i = 0; i < n; ++i) {
      const CompatChunk& c = chunks[size_t(i / 32)];
      const int code = codes[size_t(i)];
      if (has_wide_codes(t.type))
        EXPECT_TRUE(code >= -127 && code <= 113) << t.name << " element " << i;
      else
        EXPECT_TRUE(code >= -32 && code <= 31) << t.name << " element " << i;
      // In double the chunk form is exact; the reference rounds once or twice in float.
      const int half = int(i % 32) / 16;
      const double v = double(c.s) * (double(c.sc[half]) * code) + double(c.m) * c.mn[half];
      const double ref = t.deq[size_t(i)];
      if (!std::isfinite(ref)) continue;  // fp16 scales near 65504 overflow float products
      ASSERT_NEAR(v, ref, 1e-6 * std::fabs(ref) + 1e-30) << t.name << " element " << i;
    }
  }
}

TEST(CompatTypes, RejectsPartialBlocksAndOtherTypes) {
  std::vector<uint8_t> blocks(210);
  std::vector<float> y(256);
  EXPECT_THROW(dequantize_row_compat(TensorType::Q6_K, blocks.data(), y.data(), 128), Error);
  EXPECT_THROW(dequantize_row_compat(TensorType::Q4_0, blocks.data(), y.data(), 32), Error);
  std::vector<int8_t> codes(256);
  std::vector<CompatChunk> chunks(8);
  EXPECT_THROW(unpack_row_compat(TensorType::Q4_K, blocks.data(), 64, codes.data(), chunks.data()), Error);
}

}  // namespace
}  // namespace qat
