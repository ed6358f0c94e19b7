// The reference Q8_0 / Q4_0 routines against gguf-py's bytes (fixtures from
// tools/reference/make_quant_fixtures.py), plus the fake-quant identity and
// error budgets that the QAT work relies on.
#include "quant/quant_types.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/fp16.h"

namespace qat {
namespace {

struct Fixture {
  std::string name;
  std::vector<float> x, deq8, deq4;
  std::vector<uint8_t> q8, q4;
};

std::vector<Fixture> load_fixtures() {
  const std::string path = std::string(QAT_FIXTURES_DIR) + "/quant/gguf_py_quant.bin";
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(cat("cannot open ", path));
  auto u32 = [&] {
    uint32_t v = 0;
    f.read(reinterpret_cast<char*>(&v), 4);
    return v;
  };
  auto bytes = [&](void* p, size_t n) { f.read(static_cast<char*>(p), std::streamsize(n)); };
  char magic[4];
  bytes(magic, 4);
  if (std::memcmp(magic, "QATQ", 4) != 0 || u32() != 1) throw Error(cat(path, ": bad header"));
  std::vector<Fixture> out(u32());
  for (auto& t : out) {
    t.name.resize(u32());
    bytes(t.name.data(), t.name.size());
    const uint32_t n = u32();
    t.x.resize(n), t.deq8.resize(n), t.deq4.resize(n);
    t.q8.resize(n / 32 * 34), t.q4.resize(n / 32 * 18);
    bytes(t.x.data(), n * 4);
    bytes(t.q8.data(), t.q8.size());
    bytes(t.deq8.data(), n * 4);
    bytes(t.q4.data(), t.q4.size());
    bytes(t.deq4.data(), n * 4);
  }
  if (!f) throw Error(cat(path, ": truncated"));
  return out;
}

const std::vector<Fixture>& fixtures() {
  static const std::vector<Fixture> f = load_fixtures();
  return f;
}

// Bitwise float comparison, so -0.0 vs +0.0 and NaN payloads count as differences.
::testing::AssertionResult same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return ::testing::AssertionFailure() << "size " << a.size() << " vs " << b.size();
  for (size_t i = 0; i < a.size(); ++i)
    // inf * 0 gives the CPU's default NaN, whose sign differs between x86
    // (negative) and AArch64 (positive): any NaN matches any NaN.
    if (f32_bits(a[i]) != f32_bits(b[i]) && !(std::isnan(a[i]) && std::isnan(b[i])))
      return ::testing::AssertionFailure() << "element " << i << ": " << a[i] << " (0x" << std::hex
                                           << f32_bits(a[i]) << ") vs " << b[i] << " (0x" << f32_bits(b[i]) << ")";
  return ::testing::AssertionSuccess();
}

TEST(QuantFixtures, LoadedAndCoverEdgeCases) {
  EXPECT_GE(fixtures().size(), 35u);
}

TEST(QuantFixtures, Q8_0BlocksByteIdenticalToGgufPy) {
  for (const auto& t : fixtures()) {
    const int64_t n = int64_t(t.x.size());
    std::vector<BlockQ8_0> q(size_t(n / 32));
    quantize_row_q8_0(t.x.data(), q.data(), n);
    ASSERT_EQ(0, std::memcmp(q.data(), t.q8.data(), t.q8.size())) << t.name;
    std::vector<float> d(static_cast<size_t>(n));
    dequantize_row_q8_0(q.data(), d.data(), n);
    EXPECT_TRUE(same_bits(d, t.deq8)) << t.name;
  }
}

TEST(QuantFixtures, Q4_0BlocksByteIdenticalToGgufPy) {
  for (const auto& t : fixtures()) {
    const int64_t n = int64_t(t.x.size());
    std::vector<BlockQ4_0> q(size_t(n / 32));
    quantize_row_q4_0(t.x.data(), q.data(), n);
    ASSERT_EQ(0, std::memcmp(q.data(), t.q4.data(), t.q4.size())) << t.name;
    std::vector<float> d(static_cast<size_t>(n));
    dequantize_row_q4_0(q.data(), d.data(), n);
    EXPECT_TRUE(same_bits(d, t.deq4)) << t.name;
  }
}

// Random tensors of mixed scale plus injected edge values (zeros, -0,
// denormals, ties, constant blocks), all finite.
std::vector<std::vector<float>> random_tensors(int count) {
  std::mt19937 rng(12345);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> uni(0.0f, 1.0f);
  std::vector<std::vector<float>> out;
  for (int k = 0; k < count; ++k) {
    const int nb = 1 + int(rng() % 4);
    std::vector<float> x(size_t(nb * 32));
    const float scale = std::pow(10.0f, -8.0f + 12.0f * uni(rng));
    for (auto& v : x) v = normal(rng) * scale;
    switch (k % 8) {
      case 0: break;
      case 1: for (auto& v : x) if (uni(rng) < 0.3f) v = (rng() & 1) ? 0.0f : -0.0f; break;
      case 2: for (auto& v : x) v = normal(rng) * 1e-39f; break;                        // denormals
      case 3: x[rng() % x.size()] = scale * 50.0f; break;                              // outlier
      case 4: x[0] = scale * 4; x[1] = -scale * 4; break;                              // amax tie
      case 5: std::fill(x.begin(), x.begin() + 32, scale); break;                      // constant
      case 6: for (auto& v : x) v = std::round(v / scale * 4) / 8 * scale; break;      // many .5 ties
      case 7: std::fill(x.begin(), x.begin() + 32, -0.0f); break;
    }
    out.push_back(std::move(x));
  }
  return out;
}

template <typename Block>
void check_fake_quant_identity(void (*quant)(const float*, Block*, int64_t),
                               void (*dequant)(const Block*, float*, int64_t),
                               void (*fake)(const float*, float*, int64_t)) {
  auto tensors = random_tensors(1200);
  for (const auto& t : fixtures()) tensors.push_back(t.x);
  for (const auto& x : tensors) {
    const int64_t n = int64_t(x.size());
    std::vector<Block> q(size_t(n / 32));
    std::vector<float> want(x.size()), got(x.size());
    quant(x.data(), q.data(), n);
    dequant(q.data(), want.data(), n);
    fake(x.data(), got.data(), n);
    ASSERT_TRUE(same_bits(got, want));
    std::vector<float> inplace = x;  // aliasing is allowed
    fake(inplace.data(), inplace.data(), n);
    ASSERT_TRUE(same_bits(inplace, want));
  }
}

TEST(QuantFakeQuant, Q8_0EqualsDequantOfQuant) {
  check_fake_quant_identity<BlockQ8_0>(quantize_row_q8_0, dequantize_row_q8_0, fake_quant_q8_0);
}
TEST(QuantFakeQuant, Q4_0EqualsDequantOfQuant) {
  check_fake_quant_identity<BlockQ4_0>(quantize_row_q4_0, dequantize_row_q4_0, fake_quant_q4_0);
}

// Error budgets. The codes use the fp32 d but values use fp16(d), so the bound
// is half a step of fp16(d) plus the code's drift from the rescaling
// |x| * |d - fp16(d)| / d (at most ~2^-11 relative for normal fp16 scales).
// Only blocks with a normal fp16 scale are checked: subnormal scales lose
// relative precision by design of the format.
TEST(QuantErrorBudget, Q8_0WithinHalfStep) {
  for (const auto& x : random_tensors(1000)) {
    const int64_t n = int64_t(x.size());
    std::vector<BlockQ8_0> q(size_t(n / 32));
    std::vector<float> y(x.size());
    quantize_row_q8_0(x.data(), q.data(), n);
    dequantize_row_q8_0(q.data(), y.data(), n);
    for (int64_t b = 0; b < n / 32; ++b) {
      const float d = fp16_to_f32(q[size_t(b)].d_fp16);
      if (d < 6.1035156e-05f) continue;  // fp16 subnormal or zero scale
      float amax = 0;
      for (int j = 0; j < 32; ++j) amax = std::fmax(amax, std::fabs(x[size_t(b * 32 + j)]));
      const float d32 = amax / 127.0f;
      for (int j = 0; j < 32; ++j) {
        const size_t i = size_t(b * 32 + j);
        const float drift = std::fabs(x[i]) * std::fabs(d - d32) / d32;
        ASSERT_LE(std::fabs(x[i] - y[i]), d / 2 * 1.0001f + drift) << "block " << b << " j " << j;
      }
    }
  }
}

TEST(QuantErrorBudget, Q4_0WithinHalfStepExceptClampedTop) {
  for (const auto& x : random_tensors(1000)) {
    const int64_t n = int64_t(x.size());
    std::vector<BlockQ4_0> q(size_t(n / 32));
    std::vector<float> y(x.size());
    quantize_row_q4_0(x.data(), q.data(), n);
    dequantize_row_q4_0(q.data(), y.data(), n);
    for (int64_t b = 0; b < n / 32; ++b) {
      const float d = std::fabs(fp16_to_f32(q[size_t(b)].d_fp16));
      if (d < 6.1035156e-05f) continue;
      float amax = 0;
      for (int j = 0; j < 32; ++j) amax = std::fmax(amax, std::fabs(x[size_t(b * 32 + j)]));
      const float d32 = amax / 8.0f;
      for (int j = 0; j < 32; ++j) {
        const size_t i = size_t(b * 32 + j);
        const uint8_t byte = q[size_t(b)].qs[j % 16];
        const int code = j < 16 ? (byte & 15) : (byte >> 4);
        // Code 15 absorbs 16 (the value -max): error up to a full step there.
        const float step = code == 15 ? d * 1.0001f : d / 2 * 1.0001f;
        const float drift = std::fabs(x[i]) * std::fabs(d - d32) / d32;
        ASSERT_LE(std::fabs(x[i] - y[i]), step + drift) << "block " << b << " j " << j;
      }
    }
  }
}

TEST(QuantEdgeCases, ExactLevelsRoundTripExactly) {
  // d = 1 exactly (amax 127): every integer in [-127, 127] is representable.
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[size_t(j)] = float(j * 8 - 127);
  x[0] = -127;
  std::vector<float> y(32);
  fake_quant_q8_0(x.data(), y.data(), 32);
  EXPECT_TRUE(same_bits(x, y));
  // Q4_0 with max = -8: d = 1, codes 0..15 give -8..7 exactly.
  for (int j = 0; j < 32; ++j) x[size_t(j)] = float(j % 16 - 8);
  fake_quant_q4_0(x.data(), y.data(), 32);
  EXPECT_TRUE(same_bits(x, y));
}

TEST(QuantEdgeCases, RoundHalfAwayFromZero) {
  // amax 127 -> d = 1, id = 1: x = k + 0.5 rounds away from zero like roundf.
  std::vector<float> x(32, 0.0f);
  x[0] = 127.0f, x[1] = 2.5f, x[2] = -2.5f, x[3] = 0.5f, x[4] = -0.5f;
  BlockQ8_0 b;
  quantize_row_q8_0(x.data(), &b, 32);
  EXPECT_EQ(b.qs[1], 3);
  EXPECT_EQ(b.qs[2], -3);
  EXPECT_EQ(b.qs[3], 1);
  EXPECT_EQ(b.qs[4], -1);
}

TEST(QuantEdgeCases, ZerosAndNegativeZero) {
  std::vector<float> x(32, -0.0f), y(32);
  BlockQ8_0 b8;
  quantize_row_q8_0(x.data(), &b8, 32);
  EXPECT_EQ(b8.d_fp16, 0);
  for (int8_t q : b8.qs) EXPECT_EQ(q, 0);
  BlockQ4_0 b4;
  quantize_row_q4_0(x.data(), &b4, 32);
  EXPECT_EQ(b4.d_fp16, 0x0000);  // max = x[0] = -0 -> d = -0 / -8 = +0 (gguf-py)
  for (uint8_t q : b4.qs) EXPECT_EQ(q, 0x88);
  x[0] = 0.0f;
  quantize_row_q4_0(x.data(), &b4, 32);
  EXPECT_EQ(b4.d_fp16, 0x8000);  // max = +0 -> d = -0
  fake_quant_q4_0(x.data(), y.data(), 32);
  for (float v : y) EXPECT_EQ(v, 0.0f);
}

TEST(QuantEdgeCases, Q4_0SignedMaxFirstOnTies) {
  std::vector<float> x(32, 0.1f);
  x[2] = -3.0f, x[7] = 3.0f;  // -3 comes first -> d = -3 / -8 > 0
  BlockQ4_0 b;
  quantize_row_q4_0(x.data(), &b, 32);
  EXPECT_EQ(b.d_fp16, f32_to_fp16(0.375f));
  EXPECT_EQ(b.qs[2] & 15, 0);   // -3 -> -8
  EXPECT_EQ(b.qs[7] & 15, 15);  // +3 -> 16, clamped to 15
}

TEST(QuantEdgeCases, NonFiniteInputRejectedWithBlockIndex) {
  std::vector<float> x(96, 1.0f), y(96);
  std::vector<BlockQ8_0> q8(3);
  std::vector<BlockQ4_0> q4(3);
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                    -std::numeric_limits<float>::infinity()}) {
    x[70] = bad;  // block 2, element 6
    try {
      quantize_row_q8_0(x.data(), q8.data(), 96);
      ADD_FAILURE() << "no throw";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("block 2 element 6"), std::string::npos) << e.what();
    }
    EXPECT_THROW(quantize_row_q4_0(x.data(), q4.data(), 96), Error);
    try {
      fake_quant_q4_0(x.data(), y.data(), 96);
      ADD_FAILURE() << "no throw";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("block 2 element 6"), std::string::npos) << e.what();
    }
    EXPECT_THROW(fake_quant_q8_0(x.data(), y.data(), 96), Error);
  }
}

TEST(QuantEdgeCases, LengthNotMultipleOf32Throws) {
  std::vector<float> x(64, 1.0f), y(64);
  std::vector<BlockQ8_0> q8(2);
  std::vector<BlockQ4_0> q4(2);
  for (int64_t n : {int64_t(1), int64_t(31), int64_t(33), int64_t(63), int64_t(-32)}) {
    EXPECT_THROW(quantize_row_q8_0(x.data(), q8.data(), n), Error) << n;
    EXPECT_THROW(dequantize_row_q8_0(q8.data(), y.data(), n), Error) << n;
    EXPECT_THROW(quantize_row_q4_0(x.data(), q4.data(), n), Error) << n;
    EXPECT_THROW(dequantize_row_q4_0(q4.data(), y.data(), n), Error) << n;
    EXPECT_THROW(fake_quant_q8_0(x.data(), y.data(), n), Error) << n;
    EXPECT_THROW(fake_quant_q4_0(x.data(), y.data(), n), Error) << n;
  }
  EXPECT_NO_THROW(fake_quant_q8_0(x.data(), y.data(), 0));
}

}  // namespace
}  // namespace qat
