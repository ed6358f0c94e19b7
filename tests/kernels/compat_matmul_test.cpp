// llama.cpp compat weights (Q4_1, Q5_0, Q5_1, Q2_K .. Q6_K, IQ4_NL, IQ4_XS, and
// the codebook / ternary IQ1_* .. IQ3_*, TQ1_0, TQ2_0) times Q8_0
// activations: every kernel level's unpack equals the reference unpack byte
// for byte, every level's product matches the scalar reference, and the
// reference matches the double-precision product of what the weight and
// activation blocks dequantize to (gguf-py-exact, tests/quant/compat_types_test.cpp).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "../common/kernel_levels.h"
#include "base/error.h"
#include "base/fp16.h"
#include "kernels/compat_matmul.h"
#include "kernels/kernel_table.h"
#include "kernels/matmul.h"
#include "kernels/quant_matmul.h"
#include "quant/ggml_compat_types.h"

namespace qat {
namespace {

constexpr TensorType kTypes[] = {TensorType::Q4_1, TensorType::Q5_0, TensorType::Q5_1,   TensorType::Q3_K,
                                 TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K,   TensorType::IQ4_NL,
                                 TensorType::IQ4_XS, TensorType::Q2_K,   TensorType::IQ2_XXS,
                                 TensorType::IQ2_XS, TensorType::IQ2_S,  TensorType::IQ3_XXS,
                                 TensorType::IQ3_S, TensorType::IQ1_S,  TensorType::IQ1_M,
                                 TensorType::TQ1_0, TensorType::TQ2_0};

// Byte offsets of a block's fp16 scale fields (ggml-common.h).
std::vector<int> fp16_fields(TensorType t) {
  switch (t) {
    case TensorType::Q4_1:
    case TensorType::Q5_1:
    case TensorType::Q4_K:
    case TensorType::Q5_K: return {0, 2};
    case TensorType::Q5_0:
    case TensorType::IQ4_NL:
    case TensorType::IQ4_XS:
    case TensorType::IQ2_XXS:
    case TensorType::IQ2_XS:
    case TensorType::IQ2_S:
    case TensorType::IQ3_XXS:
    case TensorType::IQ3_S:
    case TensorType::IQ1_S: return {0};
    case TensorType::TQ1_0: return {52};
    case TensorType::TQ2_0: return {64};
    case TensorType::Q2_K: return {80, 82};
    case TensorType::Q3_K: return {108};
    case TensorType::Q6_K: return {208};
    default: return {};
  }
}

// rows x cols of random blocks: every byte random, then sane fp16 scales
// (about one in eight zero) so products stay finite.
std::vector<uint8_t> random_blocks(TensorType t, int64_t rows, int64_t cols, std::mt19937& rng) {
  const TensorTypeInfo& info = tensor_type_info(t);
  const int64_t nblocks = rows * cols / info.block_size;
  std::vector<uint8_t> b(size_t(nblocks) * info.block_bytes);
  for (auto& v : b) v = uint8_t(rng());
  std::uniform_real_distribution<float> ud(-0.05f, 0.05f);
  for (int64_t i = 0; i < nblocks; ++i)
    for (int off : fp16_fields(t)) {
      const uint16_t h = rng() % 8 == 0 ? f32_to_fp16(0.0f) : f32_to_fp16(ud(rng));
      std::memcpy(&b[size_t(i) * info.block_bytes + size_t(off)], &h, 2);
    }
  if (t == TensorType::IQ1_M)  // d is the top nibbles of the four u16 scales at byte 48
    for (int64_t i = 0; i < nblocks; ++i) {
      const uint16_t h = f32_to_fp16(ud(rng));
      uint8_t* sc = &b[size_t(i) * info.block_bytes + 48];
      for (int k = 0; k < 4; ++k) sc[2 * k + 1] = uint8_t((sc[2 * k + 1] & 0x0f) | (((h >> (4 * k)) & 0x0f) << 4));
    }
  return b;
}

std::vector<float> random_acts(int64_t n, std::mt19937& rng) {
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n));
  for (auto& v : x) v = nd(rng);
  return x;
}

std::vector<CpuLevel> levels() { return test::kernel_levels(); }
using test::LevelGuard;

// k super-blocks (256) for K-quants; 8k + 3 blocks of 32 for the others, so
// their decode kernels see whole groups of 8 blocks and a short last group.
int64_t cols_for(TensorType t, int k) {
  const int64_t bs = tensor_type_info(t).block_size;
  return bs == 256 ? bs * k : bs * (8 * k + 3);
}

TEST(CompatMatmul, EveryLevelUnpacksLikeTheReference) {
  LevelGuard guard;
  std::mt19937 rng(11);
  for (TensorType t : kTypes) {
    const int64_t cols = cols_for(t, 3);
    const std::vector<uint8_t> w = random_blocks(t, 1, cols, rng);
    std::vector<int8_t> ref_codes(static_cast<size_t>(cols)), codes(static_cast<size_t>(cols));
    std::vector<CompatChunk> ref_chunks(size_t(cols / 32)), chunks(size_t(cols / 32));
    unpack_row_compat(t, w.data(), cols, ref_codes.data(), ref_chunks.data());
    for (CpuLevel l : levels()) {
      set_cpu_level(l);
      std::fill(codes.begin(), codes.end(), int8_t(99));
      kernels().unpack_compat(t, w.data(), cols, codes.data(), chunks.data());
      EXPECT_EQ(codes, ref_codes) << tensor_type_name(t) << " at " << cpu_level_name(l);
      for (size_t c = 0; c < chunks.size(); ++c) {
        ASSERT_EQ(chunks[c].sc[0], ref_chunks[c].sc[0]) << tensor_type_name(t) << " chunk " << c;
        ASSERT_EQ(chunks[c].sc[1], ref_chunks[c].sc[1]) << tensor_type_name(t) << " chunk " << c;
        ASSERT_EQ(chunks[c].mn[0], ref_chunks[c].mn[0]) << tensor_type_name(t) << " chunk " << c;
        ASSERT_EQ(chunks[c].mn[1], ref_chunks[c].mn[1]) << tensor_type_name(t) << " chunk " << c;
        ASSERT_EQ(f32_bits(chunks[c].s), f32_bits(ref_chunks[c].s)) << tensor_type_name(t) << " chunk " << c;
        ASSERT_EQ(f32_bits(chunks[c].m), f32_bits(ref_chunks[c].m)) << tensor_type_name(t) << " chunk " << c;
      }
    }
  }
}

TEST(CompatMatmul, ReferenceEqualsTheDequantizedProduct) {
  std::mt19937 rng(12);
  for (TensorType t : kTypes) {
    const int64_t rows = 5, cols = cols_for(t, 2), n = 3;
    const std::vector<uint8_t> w = random_blocks(t, rows, cols, rng);
    const std::vector<float> x = random_acts(n * cols, rng);
    std::vector<float> y(size_t(n * rows));
    matmul_compat_ref(t, w.data(), rows, cols, x.data(), y.data(), n);
    // What the kernels multiply: the activations' Q8_0 values and the weights' gguf-py values.
    std::vector<BlockQ8_0> xq;
    quantize_activations_q8_0(x.data(), n, cols, xq);
    std::vector<float> xd(x.size()), wd(size_t(rows * cols));
    dequantize_row_q8_0(xq.data(), xd.data(), int64_t(xd.size()));
    dequantize_row_compat(t, w.data(), wd.data(), rows * cols);
    for (int64_t tk = 0; tk < n; ++tk)
      for (int64_t r = 0; r < rows; ++r) {
        double exact = 0, mag = 0;
        for (int64_t c = 0; c < cols; ++c) {
          exact += double(wd[size_t(r * cols + c)]) * xd[size_t(tk * cols + c)];
          mag += std::fabs(double(wd[size_t(r * cols + c)]) * xd[size_t(tk * cols + c)]);
        }
        EXPECT_NEAR(y[size_t(tk * rows + r)], exact, 1e-5 * mag + 1e-30) << tensor_type_name(t) << " row " << r;
      }
  }
}

// Random blocks (rows x cols) times n random tokens at every CPU level
// against the scalar reference product; the summation order differs, so
// within 1e-5 of the sum of |w x|.
void expect_every_level_matches_reference(TensorType t, int64_t rows, int64_t cols, int64_t n, std::mt19937& rng) {
  const std::vector<uint8_t> w = random_blocks(t, rows, cols, rng);
  const std::vector<float> x = random_acts(n * cols, rng);
  std::vector<float> ref(size_t(n * rows)), y(size_t(n * rows));
  matmul_compat_ref(t, w.data(), rows, cols, x.data(), ref.data(), n);
  std::vector<float> wd(size_t(rows * cols));
  dequantize_row_compat(t, w.data(), wd.data(), rows * cols);
  for (CpuLevel l : levels()) {
    set_cpu_level(l);
    std::fill(y.begin(), y.end(), NAN);
    matmul_compat(t, w.data(), rows, cols, x.data(), y.data(), n);
    for (int64_t tk = 0; tk < n; ++tk)
      for (int64_t r = 0; r < rows; ++r) {
        double mag = 0;
        for (int64_t c = 0; c < cols; ++c)
          mag += std::fabs(double(wd[size_t(r * cols + c)]) * x[size_t(tk * cols + c)]);
        ASSERT_NEAR(y[size_t(tk * rows + r)], ref[size_t(tk * rows + r)], 1e-5 * mag + 1e-30)
            << tensor_type_name(t) << " at " << cpu_level_name(l) << ", rows " << rows << ", n " << n << ", row "
            << r << ", token " << tk;
      }
  }
}

TEST(CompatMatmul, EveryLevelMatchesTheReference) {
  LevelGuard guard;
  std::mt19937 rng(13);
  for (TensorType t : kTypes)
    for (int64_t rows : {1, 7, 33})
      for (int64_t n : {1, 2, 3, 5, 15}) {  // prompt tiles of 3; 4 + 1; 8 + 4 + 3 tokens
        expect_every_level_matches_reference(t, rows, cols_for(t, rows == 7 ? 2 : 1), n, rng);
      }
}

TEST(CompatMatmul, ThreadedProductsSplitRowsInWholeTiles) {
  // Large enough for the thread pool (rows * cols * n >= 2^18), against the
  // reference: a prompt's rows split in 8-row groups, prompt tiles plus a
  // remainder row; decode's rows taken in 64-row ranges from a shared
  // counter (16 ranges, the last one short). The summation order differs from
  // the reference's, so within 1e-5 of the sum of |w x| (as above).
  std::mt19937 rng(15), rng_decode(17);
  const int64_t cols = 512;
  for (TensorType t : {TensorType::Q4_K, TensorType::Q6_K, TensorType::Q5_1, TensorType::IQ4_XS, TensorType::Q2_K,
                       TensorType::IQ3_S, TensorType::IQ1_M})
    for (const auto [rows, n] : {std::pair<int64_t, int64_t>{101, 9}, {1003, 1}, {1003, 2}}) {
      std::mt19937& r = n > 2 ? rng : rng_decode;
      const std::vector<uint8_t> w = random_blocks(t, rows, cols, r);
      const std::vector<float> x = random_acts(n * cols, r);
      std::vector<float> ref(size_t(n * rows)), y(size_t(n * rows), NAN), wd(size_t(rows * cols));
      matmul_compat_ref(t, w.data(), rows, cols, x.data(), ref.data(), n);
      matmul_compat(t, w.data(), rows, cols, x.data(), y.data(), n);
      dequantize_row_compat(t, w.data(), wd.data(), rows * cols);
      for (int64_t tk = 0; tk < n; ++tk)
        for (int64_t row = 0; row < rows; ++row) {
          double mag = 0;
          for (int64_t c = 0; c < cols; ++c) mag += std::fabs(double(wd[size_t(row * cols + c)]) * x[size_t(tk * cols + c)]);
          ASSERT_NEAR(y[size_t(tk * rows + row)], ref[size_t(tk * rows + row)], 1e-5 * mag + 1e-30)
              << tensor_type_name(t) << " rows " << rows << ", n " << n << ", row " << row << ", token " << tk;
        }
    }
}

// Q6_K codes -32 (every bit 0) with the given sub-scales, in `rows` equal
// rows, times n tokens of the activation pattern x (256 values repeated),
// against the exact product, at every level.
void expect_extreme_q6_k_exact(const int8_t (&scales)[16], const std::vector<float>& x256, int64_t rows,
                               int64_t n) {
  BlockQ6_K b{};
  for (auto& v : b.ql) v = 0x00;  // low bits 0 ...
  for (auto& v : b.qh) v = 0x00;  // ... high bits 0: code 0 - 32 = -32
  for (int s = 0; s < 16; ++s) b.scales[s] = scales[s];
  b.d_fp16 = f32_to_fp16(1.0f);
  const std::vector<BlockQ6_K> w(size_t(rows), b);
  std::vector<float> x(size_t(n * 256));
  for (size_t i = 0; i < x.size(); ++i) x[i] = x256[i % 256];
  std::vector<float> wd(256);
  dequantize_row_compat(TensorType::Q6_K, &b, wd.data(), 256);
  BlockQ8_0 a;
  quantize_row_q8_0(x.data(), &a, 32);
  const double d_a = fp16_to_f32(a.d_fp16);
  double exact = 0;
  for (int i = 0; i < 256; ++i) exact += double(wd[size_t(i)]) * (x[size_t(i)] < 0 ? -127 : 127) * d_a;
  std::vector<float> y(size_t(n * rows));
  for (CpuLevel l : levels()) {
    set_cpu_level(l);
    matmul_compat(TensorType::Q6_K, w.data(), rows, 256, x.data(), y.data(), n);
    for (size_t i = 0; i < y.size(); ++i)
      ASSERT_NEAR(y[i], exact, 1e-6 * std::fabs(exact)) << cpu_level_name(l) << ", rows " << rows << ", n " << n;
  }
}

TEST(CompatMatmul, ExtremeCodesAndScalesAreExact) {
  // Q6_K codes -32 with sub-scales -128 and 127 against activation codes
  // +-127: the largest pair sums and madd products the kernels form. Then
  // every sub-scale -128 against codes +127 only, in 17 rows (a whole and a
  // ragged 16-row prompt tile): each half's sum times its sub-scale is
  // 32 * 16 * 127 * 128 = 8323072, two of them 2^24 - 130,000, the largest
  // integer the AVX-512 prompt tile converts to float.
  LevelGuard guard;
  int8_t alternating[16], low[16];
  for (int s = 0; s < 16; ++s) alternating[s] = int8_t(s % 2 == 0 ? -128 : 127), low[s] = -128;
  std::vector<float> mixed(256), ones(256, 1.0f);
  for (int i = 0; i < 256; ++i) mixed[size_t(i)] = i % 3 == 0 ? -1.0f : 1.0f;  // codes -127 / 127, d = 1/127
  expect_extreme_q6_k_exact(alternating, mixed, 1, 1);
  for (int64_t n : {1, 3, 8, 13}) expect_extreme_q6_k_exact(low, ones, 17, n);
}

TEST(CompatMatmul, DecodeOfLongRowsMatchesTheReference) {
  // Decode (1-2 tokens) over rows of 10 super-blocks (the 4B width 2560) and
  // odd row counts: the per-super-block regrouped activations of the AVX-512
  // Q4_K / Q5_K / Q6_K kernels must line up with each super-block, every row.
  // 101 rows x 2 tokens is large enough for the thread pool (whole 8-row
  // groups per thread, a ragged last group).
  LevelGuard guard;
  std::mt19937 rng(16);
  for (TensorType t : {TensorType::Q4_K, TensorType::Q6_K, TensorType::Q5_K, TensorType::Q3_K, TensorType::IQ3_S,
                       TensorType::IQ2_S})
    for (int64_t rows : {3, 17, 101})
      for (int64_t n : {1, 2}) {
        expect_every_level_matches_reference(t, rows, 2560, n, rng);
      }
}

TEST(CompatMatmul, ExtremeQ4KCodesScalesAndMinsAreExact) {
  // Q4_K codes 15 with sub-scales and mins 63 (every scale byte 0xff) against
  // activation codes +-127, for 1 and 2 tokens (decode) and 3 and 8 (prompt
  // tiles): the largest integer sums the kernels form before their float stage.
  LevelGuard guard;
  const int64_t rows = 3, cols = 512;
  std::vector<BlockQ4_K> w(size_t(rows * cols / 256));
  for (BlockQ4_K& b : w) {
    b.d_fp16 = f32_to_fp16(1.0f);
    b.dmin_fp16 = f32_to_fp16(0.5f);
    std::memset(b.scales, 0xff, sizeof(b.scales));
    std::memset(b.qs, 0xff, sizeof(b.qs));
  }
  std::vector<float> wd(size_t(rows * cols));
  dequantize_row_compat(TensorType::Q4_K, w.data(), wd.data(), rows * cols);
  for (int64_t n : {1, 2, 3, 8}) {
    std::vector<float> x(size_t(n * cols));
    for (int64_t i = 0; i < n * cols; ++i) x[size_t(i)] = (i / cols) % 2 == 0 ? 1.0f : -1.0f;  // codes +-127
    BlockQ8_0 a;
    quantize_row_q8_0(x.data(), &a, 32);
    const double d_a = fp16_to_f32(a.d_fp16);
    std::vector<float> y(size_t(n * rows));
    for (CpuLevel l : levels()) {
      set_cpu_level(l);
      matmul_compat(TensorType::Q4_K, w.data(), rows, cols, x.data(), y.data(), n);
      for (int64_t tk = 0; tk < n; ++tk)
        for (int64_t r = 0; r < rows; ++r) {
          double exact = 0;
          for (int64_t c = 0; c < cols; ++c) exact += double(wd[size_t(r * cols + c)]) * (tk % 2 == 0 ? 127 : -127) * d_a;
          ASSERT_NEAR(y[size_t(tk * rows + r)], exact, 1e-6 * std::fabs(exact)) << cpu_level_name(l) << ", n " << n;
        }
    }
  }
}

TEST(CompatMatmul, ExtremeGridLevelsAreExact) {
  // IQ4 levels -127 (index 0) in every element, against activations of one
  // sign (codes +-127): each maddubs pair sum is 2 * 127 * 127, so adding two
  // of them in int16 would overflow. IQ2_XS / IQ2_S: the grid entry of eight
  // 43s with the largest sub-scales (31 per 16). 8 rows and 1..5 tokens reach
  // the fused decode kernels and the prompt tile.
  LevelGuard guard;
  const int64_t rows = 8, cols = 512;
  for (TensorType t : {TensorType::IQ4_NL, TensorType::IQ4_XS, TensorType::IQ2_XS, TensorType::IQ2_S}) {
    const TensorTypeInfo& info = tensor_type_info(t);
    std::vector<uint8_t> w(size_t(rows * cols / info.block_size) * info.block_bytes, 0);  // indices 0
    for (size_t b = 0; b < w.size(); b += info.block_bytes) {
      const uint16_t one = f32_to_fp16(1.0f);
      std::memcpy(&w[b], &one, 2);
      if (t == TensorType::IQ4_XS) w[b + 2] = w[b + 3] = 0xff, std::memset(&w[b + 4], 0xff, 4);  // ls 63: scale 31
      if (t == TensorType::IQ2_XS) {
        for (int k = 0; k < 32; ++k) w[b + 2 + 2 * k] = 0xff, w[b + 3 + 2 * k] = 0x01;  // index 511, no signs
        std::memset(&w[b + 66], 0xff, 8);                                                // scales 15: 31
      }
      if (t == TensorType::IQ2_S) {
        std::memset(&w[b + 2], 0xff, 32);   // index bits 0..7 (signs stay 0)
        std::memset(&w[b + 66], 0xff, 16);  // qh (index 1023) and scales 15
      }
    }
    std::vector<float> wd(size_t(rows * cols));
    dequantize_row_compat(t, w.data(), wd.data(), rows * cols);
    for (int64_t n : {1, 2, 4, 5}) {
      std::vector<float> x(size_t(n * cols));
      for (int64_t i = 0; i < n * cols; ++i) x[size_t(i)] = (i / cols) % 2 == 0 ? 1.0f : -1.0f;  // codes +-127
      std::vector<float> y(size_t(n * rows));
      BlockQ8_0 a;
      quantize_row_q8_0(x.data(), &a, 32);
      ASSERT_EQ(a.qs[0], 127);
      const double d_a = fp16_to_f32(a.d_fp16);
      for (CpuLevel l : levels()) {
        set_cpu_level(l);
        matmul_compat(t, w.data(), rows, cols, x.data(), y.data(), n);
        for (int64_t tk = 0; tk < n; ++tk)
          for (int64_t r = 0; r < rows; ++r) {
            double exact = 0;
            for (int64_t c = 0; c < cols; ++c) exact += double(wd[size_t(r * cols + c)]) * (tk % 2 == 0 ? 127 : -127) * d_a;
            ASSERT_NEAR(y[size_t(tk * rows + r)], exact, 1e-6 * std::fabs(exact))
                << tensor_type_name(t) << " at " << cpu_level_name(l) << ", n " << n << ", row " << r;
          }
      }
    }
  }
}

TEST(CompatMatmul, MatmulDispatchesBothActivationModes) {
  std::mt19937 rng(14);
  for (TensorType t : {TensorType::Q4_K, TensorType::Q6_K, TensorType::Q5_0}) {
    const int64_t rows = 9, cols = cols_for(t, 1), n = 4;
    const std::vector<uint8_t> w = random_blocks(t, rows, cols, rng);
    const std::vector<float> x = random_acts(n * cols, rng);
    MatrixView v{t, w.data(), rows, cols};
    std::vector<float> y(size_t(n * rows)), direct(size_t(n * rows));
    matmul(v, x.data(), y.data(), n);
    matmul_compat(t, w.data(), rows, cols, x.data(), direct.data(), n);
    EXPECT_EQ(y, direct) << tensor_type_name(t);
    // FP32 activations: the dequantized weights times x.
    v.act = ActivationQuant::None;
    matmul(v, x.data(), y.data(), n);
    std::vector<float> wd(size_t(rows * cols)), row(static_cast<size_t>(cols));
    dequantize_row_compat(t, w.data(), wd.data(), rows * cols);
    for (int64_t r = 0; r < rows; ++r) {
      row_to_f32(v, r, row.data());
      for (int64_t c = 0; c < cols; ++c) ASSERT_EQ(row[size_t(c)], wd[size_t(r * cols + c)]);
      for (int64_t tk = 0; tk < n; ++tk) {
        double exact = 0, mag = 0;
        for (int64_t c = 0; c < cols; ++c) {
          exact += double(wd[size_t(r * cols + c)]) * x[size_t(tk * cols + c)];
          mag += std::fabs(double(wd[size_t(r * cols + c)]) * x[size_t(tk * cols + c)]);
        }
        EXPECT_NEAR(y[size_t(tk * rows + r)], exact, 1e-5 * mag + 1e-30) << tensor_type_name(t);
      }
    }
  }
}

TEST(CompatMatmul, RejectsRowsThatAreNotWholeBlocks) {
  std::vector<uint8_t> w(210);
  std::vector<float> x(128), y(1);
  EXPECT_THROW(matmul_compat(TensorType::Q6_K, w.data(), 1, 128, x.data(), y.data(), 1), Error);
  EXPECT_THROW(matmul_compat(TensorType::Q8_0, w.data(), 1, 32, x.data(), y.data(), 1), Error);
}

}  // namespace
}  // namespace qat
