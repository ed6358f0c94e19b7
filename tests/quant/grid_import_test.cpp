// Grid-preserving quantization (quant/grid_import.h): blocks trained on a
// Q4_0 / Q8_0 grid with a scale other than the block maximum's (LSQ), stored
// as F32 / F16 / BF16, come back as the identical blocks, where the reference
// quantizer moves them to another grid; ordinary weights are quantized
// exactly as the reference does.
#include "quant/grid_import.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "base/error.h"
#include "base/fp16.h"
#include "quant/quant_types.h"

namespace qat {
namespace {

size_t block_bytes(TensorType to) { return to == TensorType::Q4_0 ? sizeof(BlockQ4_0) : sizeof(BlockQ8_0); }

void dequantize(TensorType to, const void* q, float* y, int64_t n) {
  if (to == TensorType::Q4_0)
    dequantize_row_q4_0(static_cast<const BlockQ4_0*>(q), y, n);
  else
    dequantize_row_q8_0(static_cast<const BlockQ8_0*>(q), y, n);
}

void quantize_reference(TensorType to, const float* x, void* q, int64_t n) {
  if (to == TensorType::Q4_0)
    quantize_row_q4_0(x, static_cast<BlockQ4_0*>(q), n);
  else
    quantize_row_q8_0(x, static_cast<BlockQ8_0*>(q), n);
}

// Values as a file of type `source` stores them.
std::vector<float> stored_as(TensorType source, const std::vector<float>& x) {
  std::vector<float> y(x.size());
  for (size_t i = 0; i < x.size(); ++i)
    y[i] = source == TensorType::BF16  ? bf16_to_f32(f32_to_bf16(x[i]))
           : source == TensorType::F16 ? fp16_to_f32(f32_to_fp16(x[i]))
                                       : x[i];
  return y;
}

// Trained-looking blocks: a random fp16 scale (random sign for Q4_0, positive
// for Q8_0, as LSQ keeps the reference's sign) and random codes whose largest
// magnitude k is below the type's extreme (Q4_0 5..7, Q8_0 64..126: large
// enough that d/2 with doubled codes does not fit, see the ambiguity test),
// the first code of magnitude k negative as the reference's convention. The
// returned bytes are what quantize_row_X_scaled(values, d) gives: the export
// of a block trained with that scale.
std::vector<uint8_t> trained_blocks(TensorType to, int64_t nb, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uni(0.0f, 1.0f);
  const bool q4 = to == TensorType::Q4_0;
  std::vector<uint8_t> out(size_t(nb) * block_bytes(to));
  for (int64_t b = 0; b < nb; ++b) {
    const int k = q4 ? 5 + int(rng() % 3) : 64 + int(rng() % 63);
    int code[32];
    for (int& c : code) c = int(rng() % uint32_t(2 * k + 1)) - k;
    code[rng() % 32] = (rng() & 1) ? k : -k;
    for (int j = 0; j < 32; ++j)
      if (std::abs(code[j]) == k) {
        if (code[j] > 0)
          for (int& c : code) c = -c;
        break;
      }
    // |d| log-uniform over 2^-14 .. 2^-2 (normal fp16, weight-sized).
    float d = std::exp2(-14.0f + 12.0f * uni(rng));
    if (q4 && (rng() & 1)) d = -d;
    const uint16_t d16 = f32_to_fp16(d);
    if (q4) {
      BlockQ4_0 blk{d16, {}};
      for (int j = 0; j < 16; ++j) blk.qs[j] = uint8_t((code[j] + 8) | ((code[j + 16] + 8) << 4));
      std::memcpy(out.data() + size_t(b) * sizeof blk, &blk, sizeof blk);
    } else {
      BlockQ8_0 blk{d16, {}};
      for (int j = 0; j < 32; ++j) blk.qs[j] = int8_t(code[j]);
      std::memcpy(out.data() + size_t(b) * sizeof blk, &blk, sizeof blk);
    }
  }
  return out;
}

int64_t identical_blocks(TensorType to, const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  int64_t n = 0;
  const size_t bb = block_bytes(to);
  for (size_t i = 0; i + bb <= a.size(); i += bb) n += std::memcmp(a.data() + i, b.data() + i, bb) == 0;
  return n;
}

// Every block dequantizes, rounded to the source type, to the stored values.
::testing::AssertionResult reproduces_stored(TensorType to, TensorType source, const std::vector<uint8_t>& q,
                                             const std::vector<float>& stored) {
  std::vector<float> v(stored.size());
  dequantize(to, q.data(), v.data(), int64_t(v.size()));
  const std::vector<float> r = stored_as(source, v);
  for (size_t i = 0; i < r.size(); ++i)
    if (r[i] != stored[i])
      return ::testing::AssertionFailure() << "element " << i << ": " << r[i] << " vs stored " << stored[i];
  return ::testing::AssertionSuccess();
}

TEST(GridImport, TrainedGridsComeBackIdentical) {
  constexpr int64_t nb = 20000;
  for (TensorType to : {TensorType::Q4_0, TensorType::Q8_0})
    for (TensorType source : {TensorType::F32, TensorType::F16, TensorType::BF16}) {
      SCOPED_TRACE(std::string(tensor_type_name(to)) + " from " + tensor_type_name(source));
      const std::vector<uint8_t> trained = trained_blocks(to, nb, 7 + uint32_t(source));
      std::vector<float> x(size_t(nb * 32));
      dequantize(to, trained.data(), x.data(), int64_t(x.size()));
      const std::vector<float> stored = stored_as(source, x);

      std::vector<uint8_t> got(trained.size()), ref(trained.size());
      const GridStats st = quantize_row_keep_grid(to, source, stored.data(), got.data(), int64_t(stored.size()));
      quantize_reference(to, stored.data(), ref.data(), int64_t(stored.size()));
      const int64_t same = identical_blocks(to, trained, got), same_ref = identical_blocks(to, trained, ref);
      std::printf("  %s from %-4s: %6.2f %% of %lld trained blocks identical (reference quantizer: %.2f %%); "
                  "kept %lld (reference scale %lld, detected %lld)\n",
                  tensor_type_name(to), tensor_type_name(source), 100.0 * double(same) / double(nb),
                  static_cast<long long>(nb), 100.0 * double(same_ref) / double(nb),
                  static_cast<long long>(st.kept()), static_cast<long long>(st.reference),
                  static_cast<long long>(st.detected));
      EXPECT_EQ(st.blocks, nb);
      // The reference quantizer puts these blocks on another grid (so this
      // test can fail): the largest code is never at the extreme.
      EXPECT_EQ(same_ref, 0);
      // Every block keeps a grid that reproduces the stored values.
      EXPECT_EQ(st.kept(), nb);
      EXPECT_TRUE(reproduces_stored(to, source, got, stored));
      if (source == TensorType::F32) {
        EXPECT_EQ(same, nb) << "F32 determines the grid: every block must come back";
      } else if (source == TensorType::F16) {
        EXPECT_GE(double(same), 0.99 * double(nb));
      } else {
        // BF16 keeps 8 significant bits of the 11 + 3 (Q4_0) or 11 + 7 (Q8_0)
        // that code * d has: several neighbouring fp16 scales reproduce the
        // stored block (the trained one among them, by construction), and the
        // values cannot tell which was trained. Q4_0 blocks have only 7
        // distinct |codes|, hence fewer constraints on d than Q8_0's.
        // Measured: Q4_0 40.7 %, Q8_0 93.8 %; the codes are always the trained ones.
        EXPECT_GE(double(same), (to == TensorType::Q4_0 ? 0.3 : 0.85) * double(nb));
      }
      // The kept scale is the trained one or a few fp16 ulps from it; the
      // codes are the trained ones, except that a BF16-rounded Q8_0 value
      // near code +-127 (8 bits for 7 bits of code) can also be the next code
      // on a neighbouring scale.
      const size_t bb = block_bytes(to);
      int max_ulps = 0;
      int64_t same_codes = 0;
      for (size_t at = 0; at < got.size(); at += bb) {
        uint16_t a, b;
        std::memcpy(&a, got.data() + at, 2), std::memcpy(&b, trained.data() + at, 2);
        max_ulps = std::max(max_ulps, std::abs(int(a) - int(b)));
        ASSERT_EQ((a ^ b) & 0x8000, 0) << "block " << at / bb << ": sign of d";
        same_codes += std::memcmp(got.data() + at + 2, trained.data() + at + 2, bb - 2) == 0;
      }
      std::printf("    kept scales within %d fp16 ulps of the trained ones, codes identical in %.2f %%\n",
                  max_ulps, 100.0 * double(same_codes) / double(nb));
      if (to == TensorType::Q4_0 || source != TensorType::BF16) {
        EXPECT_EQ(same_codes, nb);
      }
    }
}

TEST(GridImport, OrdinaryWeightsQuantizeAsTheReference) {
  // Gaussian weights of several sizes, as a non-QAT checkpoint holds them.
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  constexpr int64_t n = 32 * 50000;
  std::vector<float> w(n);
  for (int64_t i = 0; i < n; ++i) w[size_t(i)] = normal(rng) * std::exp2(-float(i / 32 % 12));
  for (TensorType to : {TensorType::Q4_0, TensorType::Q8_0})
    for (TensorType source : {TensorType::F32, TensorType::F16, TensorType::BF16}) {
      SCOPED_TRACE(std::string(tensor_type_name(to)) + " from " + tensor_type_name(source));
      const std::vector<float> stored = stored_as(source, w);
      std::vector<uint8_t> got(size_t(n / 32) * block_bytes(to)), ref(got.size());
      const GridStats st = quantize_row_keep_grid(to, source, stored.data(), got.data(), n);
      quantize_reference(to, stored.data(), ref.data(), n);
      std::printf("  %s from %-4s: grid kept in %lld of %lld Gaussian blocks\n", tensor_type_name(to),
                  tensor_type_name(source), static_cast<long long>(st.kept()), static_cast<long long>(st.blocks));
      // A kept block would reproduce its stored values exactly (a lossless
      // choice); with random values that essentially never happens.
      EXPECT_LE(st.kept(), st.blocks / 10000);
      const size_t bb = block_bytes(to);
      for (int64_t b = 0; b < n / 32; ++b) {
        std::vector<float> v(32);
        dequantize(to, got.data() + size_t(b) * bb, v.data(), 32);
        const bool kept = stored_as(source, v) == std::vector<float>(stored.begin() + b * 32, stored.begin() + b * 32 + 32);
        if (!kept) {
          ASSERT_EQ(0, std::memcmp(got.data() + size_t(b) * bb, ref.data() + size_t(b) * bb, bb)) << b;
        }
      }
    }
}

TEST(GridImport, ReferenceGridsStayByteIdentical) {
  // Blocks trained with the reference scales (QAT without LSQ, or any
  // reference-quantized model) dequantized and stored: keep_grid gives the
  // reference's bytes.
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  constexpr int64_t n = 32 * 4000;
  std::vector<float> w(n);
  for (float& v : w) v = normal(rng);
  for (TensorType to : {TensorType::Q4_0, TensorType::Q8_0}) {
    std::vector<uint8_t> q(size_t(n / 32) * block_bytes(to)), got(q.size());
    quantize_reference(to, w.data(), q.data(), n);
    std::vector<float> x(n);
    dequantize(to, q.data(), x.data(), n);
    const GridStats st = quantize_row_keep_grid(to, TensorType::F32, x.data(), got.data(), n);
    EXPECT_EQ(st.reference, n / 32) << tensor_type_name(to);
    EXPECT_EQ(0, std::memcmp(q.data(), got.data(), q.size())) << tensor_type_name(to);
  }
}

// Blocks built from codes and an fp16 scale, dequantized to F32.
std::vector<float> q4_values(const std::vector<int>& codes, float d, BlockQ4_0* blk = nullptr) {
  BlockQ4_0 b{f32_to_fp16(d), {}};
  for (int j = 0; j < 16; ++j) b.qs[j] = uint8_t((codes[size_t(j)] + 8) | ((codes[size_t(j) + 16] + 8) << 4));
  std::vector<float> x(32);
  dequantize_row_q4_0(&b, x.data(), 32);
  if (blk) *blk = b;
  return x;
}

TEST(GridImport, AmbiguousBlocksTakeTheFinestGridWithTheSameValues) {
  // All codes within -4..3: the block is also on the grid of d/2 with doubled
  // codes, which is then the reference's grid (d/2 = max / -8): rule 1 takes
  // it. Same values, other bytes: the documented consequence.
  std::vector<int> codes(32);
  for (int j = 0; j < 32; ++j) codes[size_t(j)] = (j * 5) % 8 - 4;
  const float d = 0.0123f;
  const std::vector<float> x = q4_values(codes, d);
  BlockQ4_0 got;
  GridStats st = quantize_row_keep_grid(TensorType::Q4_0, TensorType::F32, x.data(), &got, 32);
  EXPECT_EQ(st.reference, 1);
  EXPECT_EQ(fp16_to_f32(got.d_fp16), fp16_to_f32(f32_to_fp16(d)) / 2);
  std::vector<float> v(32);
  dequantize_row_q4_0(&got, v.data(), 32);
  EXPECT_EQ(v, x);

  // Codes within -3..3 (max 3): d/2 (codes to 6) is finer than d and not the
  // reference's scale (3d/8): rule 2 takes d/2.
  for (int& c : codes) c = c < -3 ? -3 : c;
  const std::vector<float> y = q4_values(codes, d);
  st = quantize_row_keep_grid(TensorType::Q4_0, TensorType::F32, y.data(), &got, 32);
  EXPECT_EQ(st.detected, 1);
  EXPECT_EQ(fp16_to_f32(got.d_fp16), fp16_to_f32(f32_to_fp16(d)) / 2);
  dequantize_row_q4_0(&got, v.data(), 32);
  EXPECT_EQ(v, y);
}

TEST(GridImport, SignOfTheScaleFollowsTheStoredZerosThenTheReference) {
  // Codes -6..6 with no -8: d and -d (codes negated) give the same values.
  // The first largest element has code +6, so the reference's convention
  // alone would take -d; the signs of the stored zeros (0 * d) say d.
  std::vector<int> codes(32);
  for (int j = 0; j < 32; ++j) codes[size_t(j)] = (j * 7) % 13 - 6;  // has zeros and -6
  codes[0] = 6;
  for (float d : {0.01f, -0.01f}) {
    BlockQ4_0 want, got;
    const std::vector<float> x = q4_values(codes, d, &want);  // zeros are 0 * d: signed like d
    for (TensorType source : {TensorType::F32, TensorType::F16}) {
      GridStats st = quantize_row_keep_grid(TensorType::Q4_0, source, stored_as(source, x).data(), &got, 32);
      EXPECT_EQ(st.detected, 1);
      EXPECT_EQ(0, std::memcmp(&want, &got, sizeof got)) << "the zeros' sign picks d = " << d;
    }
    // Without signed zeros (both +0): the reference's convention, the first
    // largest element negative, i.e. d > 0 here.
    std::vector<float> plus = x;
    for (float& v : plus) v = v == 0.0f ? 0.0f : v;
    GridStats st = quantize_row_keep_grid(TensorType::Q4_0, TensorType::F32, plus.data(), &got, 32);
    EXPECT_EQ(st.detected, 1);
    EXPECT_GT(fp16_to_f32(got.d_fp16), 0.0f);
    // No zeros at all: the convention, -d here (the first largest element
    // gets code -6). Same values either way.
    std::vector<int> nonzero = codes;
    for (int& c : nonzero) c = c == 0 ? 1 : c;
    const std::vector<float> y = q4_values(nonzero, d);
    st = quantize_row_keep_grid(TensorType::Q4_0, TensorType::F32, y.data(), &got, 32);
    EXPECT_EQ(st.detected, 1);
    EXPECT_EQ(fp16_to_f32(got.d_fp16), -fp16_to_f32(f32_to_fp16(d)));
    std::vector<float> v(32);
    dequantize_row_q4_0(&got, v.data(), 32);
    EXPECT_EQ(v, y);
  }
}

TEST(GridImport, ZeroAndSingleValueBlocks) {
  for (TensorType to : {TensorType::Q4_0, TensorType::Q8_0}) {
    SCOPED_TRACE(tensor_type_name(to));
    std::vector<float> x(64, 0.0f);
    for (int j = 32; j < 64; j += 3) x[size_t(j)] = -0.0f;
    std::vector<uint8_t> got(2 * block_bytes(to)), ref(got.size());
    GridStats st = quantize_row_keep_grid(to, TensorType::BF16, x.data(), got.data(), 64);
    quantize_reference(to, x.data(), ref.data(), 64);
    EXPECT_EQ(st.reference, 2);
    EXPECT_EQ(got, ref);

    // One nonzero value: a BF16 value is on the reference grid (value / -8
    // or / 127 is an exact fp16 in range); an F32 value with 24 significant
    // bits is on no fp16 grid at all: the reference quantizer.
    std::fill(x.begin(), x.end(), 0.0f);
    x[5] = 0.375f;
    st = quantize_row_keep_grid(to, TensorType::BF16, x.data(), got.data(), 32);
    EXPECT_EQ(st.kept(), 1);
    EXPECT_TRUE(reproduces_stored(to, TensorType::BF16, std::vector<uint8_t>(got.begin(), got.begin() + long(block_bytes(to))),
                                  std::vector<float>(x.begin(), x.begin() + 32)));
    x[5] = 0.1f;  // 0x3dcccccd
    st = quantize_row_keep_grid(to, TensorType::F32, x.data(), got.data(), 32);
    quantize_reference(to, x.data(), ref.data(), 32);
    EXPECT_EQ(st.kept(), 0);
    EXPECT_EQ(0, std::memcmp(got.data(), ref.data(), block_bytes(to)));
  }
}

TEST(GridImport, Q4GridFitsInQ8_0) {
  // A Q4_0-trained tensor kept at Q8_0 (Gemma's tied embedding under q4_0):
  // Q8_0 holds the Q4_0 grid exactly (codes * 8 with d / 8).
  std::vector<int> codes(32);
  for (int j = 0; j < 32; ++j) codes[size_t(j)] = (j * 11) % 15 - 7;
  const std::vector<float> x = q4_values(codes, 0.00731f);
  BlockQ8_0 got;
  const GridStats st = quantize_row_keep_grid(TensorType::Q8_0, TensorType::F32, x.data(), &got, 32);
  EXPECT_EQ(st.kept(), 1);
  std::vector<float> v(32);
  dequantize_row_q8_0(&got, v.data(), 32);
  EXPECT_EQ(v, x);
}

TEST(GridImport, Errors) {
  std::vector<float> x(96, 0.5f);
  x[70] = std::numeric_limits<float>::quiet_NaN();
  std::vector<BlockQ4_0> q(3);
  try {
    quantize_row_keep_grid(TensorType::Q4_0, TensorType::F32, x.data(), q.data(), 96);
    FAIL() << "NaN must not quantize";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("block 2 element 6"), std::string::npos) << e.what();
  }
  EXPECT_THROW(quantize_row_keep_grid(TensorType::Q4_0, TensorType::F32, x.data(), q.data(), 40), Error);
  EXPECT_THROW(quantize_row_keep_grid(TensorType::F16, TensorType::F32, x.data(), q.data(), 32), Error);
  EXPECT_THROW(quantize_row_keep_grid(TensorType::Q4_0, TensorType::Q8_0, x.data(), q.data(), 32), Error);
  EXPECT_TRUE(keep_grid_supported(TensorType::Q8_0, TensorType::BF16));
  EXPECT_FALSE(keep_grid_supported(TensorType::BF16, TensorType::F32));
}

}  // namespace
}  // namespace qat
