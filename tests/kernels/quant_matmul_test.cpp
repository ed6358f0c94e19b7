// W8A8 / W4A8 kernels: every kernel level this CPU runs against the scalar
// GGUF-layout reference over the full code range, and the reference against
// the FP32 product of what the blocks dequantize to.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <random>
#include <vector>

#include "../common/kernel_levels.h"
#include "base/error.h"
#include "base/fp16.h"
#include "kernels/kernel_table.h"
#include "kernels/matmul.h"
#include "kernels/quant_matmul.h"
#include "quant/quant_types.h"

namespace qat {
namespace {

// Random blocks over every code; about one scale in eight is zero.
uint16_t random_scale(std::mt19937& rng) {
  std::uniform_real_distribution<float> ud(-0.05f, 0.05f);
  return rng() % 8 == 0 ? f32_to_fp16(0.0f) : f32_to_fp16(ud(rng));
}
std::vector<BlockQ8_0> random_q8(int64_t nb, std::mt19937& rng) {
  std::vector<BlockQ8_0> v(nb);
  for (auto& b : v) {
    b.d_fp16 = random_scale(rng);
    for (auto& q : b.qs) q = int8_t(int(rng() % 256) - 128);
  }
  return v;
}
std::vector<BlockQ4_0> random_q4(int64_t nb, std::mt19937& rng) {
  std::vector<BlockQ4_0> v(nb);
  for (auto& b : v) {
    b.d_fp16 = random_scale(rng);
    for (auto& q : b.qs) q = uint8_t(rng() % 256);
  }
  return v;
}

// Bound for summation-order differences: 1e-5 of the sum of |w_i * a_i * scale|.
float tolerance(const float* wd, const float* ad, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += std::fabs(double(wd[i]) * ad[i]);
  return float(1e-5 * s) + 1e-30f;
}

std::vector<float> deq(const std::vector<BlockQ8_0>& b) {
  std::vector<float> f(b.size() * 32);
  dequantize_row_q8_0(b.data(), f.data(), int64_t(f.size()));
  return f;
}
std::vector<float> deq(const std::vector<BlockQ4_0>& b) {
  std::vector<float> f(b.size() * 32);
  dequantize_row_q4_0(b.data(), f.data(), int64_t(f.size()));
  return f;
}

// matmul_quant against matmul_quant_ref on the same blocks and inputs, each
// element within the summation-order tolerance. wd: the weight blocks
// dequantized; xd: x through Q8_0 fake quantization.
void expect_near_reference(TensorType t, const void* w, const std::vector<float>& wd, const std::vector<float>& x,
                           const std::vector<float>& xd, int64_t rows, int64_t cols, int64_t n,
                           const std::string& where) {
  std::vector<float> y(size_t(n * rows), NAN), yr(y.size());
  matmul_quant(t, w, rows, cols, x.data(), y.data(), n);
  matmul_quant_ref(t, w, rows, cols, x.data(), yr.data(), n);
  for (int64_t tk = 0; tk < n; ++tk)
    for (int64_t r = 0; r < rows; ++r)
      ASSERT_NEAR(y[size_t(tk * rows + r)], yr[size_t(tk * rows + r)],
                  tolerance(wd.data() + r * cols, xd.data() + tk * cols, cols))
          << where << " " << tensor_type_name(t) << " n " << n << " r " << r << " t " << tk;
}

std::vector<CpuLevel> levels() { return test::kernel_levels(); }
using test::LevelGuard;

TEST(QuantMatmul, DispatchFollowsLevel) {
  LevelGuard guard;
  for (CpuLevel l : levels()) {
    set_cpu_level(l);
    EXPECT_EQ(kernels().level, l) << cpu_level_name(l);
  }
  std::string tested;
  for (CpuLevel l : levels()) tested += std::string(tested.empty() ? "" : ",") + cpu_level_name(l);
  std::printf("kernel levels tested here: %s\n", tested.c_str());
  // CI names the levels it must cover (e.g. the AArch64 run under qemu), so a
  // build or CPU without them cannot pass by testing only the scalar code.
  if (const char* want = std::getenv("QAT_EXPECT_LEVELS")) {
    EXPECT_EQ(tested, want);
  }
}

TEST(QuantMatmul, RefDotsExactAtExtremeCodes) {
  // -128 * -128 is where int16 pair sums and the maddubs sign trick break.
  const uint16_t one = f32_to_fp16(1.0f);
  for (int aq : {-128, -127, 127}) {
    for (int wq : {-128, 127}) {
      BlockQ8_0 w{one, {}}, a{one, {}};
      for (auto& q : w.qs) q = int8_t(wq);
      for (auto& q : a.qs) q = int8_t(aq);
      EXPECT_EQ(vec_dot_q8_0_q8_0_ref(&w, &a, 1), float(32 * wq * aq));
    }
    for (int nib : {0, 15}) {  // codes -8 and 7
      BlockQ4_0 w{one, {}};
      BlockQ8_0 a{one, {}};
      for (auto& q : w.qs) q = uint8_t(nib | nib << 4);
      for (auto& q : a.qs) q = int8_t(aq);
      EXPECT_EQ(vec_dot_q4_0_q8_0_ref(&w, &a, 1), float(32 * (nib - 8) * aq));
    }
  }
}

TEST(QuantMatmul, ActivationCodesNeverReachMinus128) {
  // The SIMD kernels' sign trick needs activation codes in -127..127.
  std::vector<float> x = {-1.0f, 1.0f, -0.99999994f, -3.4e38f, 3.4e38f, -1e-30f, 1e-30f, -7.0f};
  x.resize(64, -1.0f);
  for (int i = 8; i < 64; ++i) x[size_t(i)] = -float(i) / 63.0f * (i % 2 ? 1.0f : 1.0000001f);
  std::vector<BlockQ8_0> q;
  quantize_activations_q8_0(x.data(), 2, 32, q);
  for (const auto& b : q)
    for (int8_t c : b.qs) EXPECT_GE(c, -127);
}

TEST(QuantMatmul, EveryLevelQuantizesActivationsLikeTheReference) {
  // Blocks built to hit roundf's half-way cases (x * id exactly k + 0.5),
  // zeros, -0, denormals (1/d overflows), huge values, plain noise, and
  // magnitudes from 2^-40 to 2^40 (scales through fp16's subnormals, its
  // rounding and its overflow to inf).
  std::mt19937 rng(11);
  std::normal_distribution<float> nd;
  std::vector<float> x;
  for (int b = 0; b < 700; ++b) {
    const int kind = b % 7;
    for (int j = 0; j < 32; ++j) {
      float v = nd(rng);
      if (kind == 1) v = j == 0 ? 127.0f : float(int(rng() % 254) - 127) + 0.5f;  // d = 1: exact halves
      if (kind == 6 && j > 0) {  // d = 1: one to three ulps either side of a half
        const float h = float(int(rng() % 254) - 127) + 0.5f;
        v = h;
        for (int u = 0, k = 1 + int(rng() % 3); u < k; ++u) v = std::nextafter(v, (rng() & 1) ? 200.0f : -200.0f);
      }
      if (kind == 6 && j == 0) v = -127.0f;
      if (kind == 2) v = j % 3 == 0 ? -0.0f : 0.0f;
      if (kind == 3) v = nd(rng) * 1e-41f;  // denormals
      if (kind == 4) v = nd(rng) * 1e37f;
      if (kind == 5) v = std::ldexp(nd(rng), b % 81 - 40);
      x.push_back(v);
    }
  }
  const int64_t nb = int64_t(x.size()) / 32;
  std::vector<BlockQ8_0> ref(static_cast<size_t>(nb));
  quantize_row_q8_0(x.data(), ref.data(), nb * 32);
  for (CpuLevel l : levels()) {
    std::vector<BlockQ8_0> got(static_cast<size_t>(nb));
    std::vector<ActBlockInfo> sums(static_cast<size_t>(nb));
    // 699 blocks leave an odd count in the last group of 16 (the AVX-512
    // level narrows two blocks at a time); the block after must stay as it was.
    got[size_t(nb - 1)].d_fp16 = 0x1234;
    ASSERT_TRUE(kernels_for(l)->quantize_act(x.data(), nb - 1, got.data(), sums.data())) << cpu_level_name(l);
    ASSERT_EQ(got[size_t(nb - 1)].d_fp16, 0x1234) << cpu_level_name(l);
    for (int64_t b = 0; b < nb - 1; ++b)
      ASSERT_EQ(0, std::memcmp(&got[size_t(b)], &ref[size_t(b)], sizeof(BlockQ8_0)))
          << cpu_level_name(l) << " block " << b << " of " << nb - 1;
    ASSERT_TRUE(kernels_for(l)->quantize_act(x.data(), nb, got.data(), sums.data())) << cpu_level_name(l);
    for (int64_t b = 0; b < nb; ++b) {
      ASSERT_EQ(0, std::memcmp(&got[size_t(b)], &ref[size_t(b)], sizeof(BlockQ8_0)))
          << cpu_level_name(l) << " block " << b;
      int32_t s = 0, lo = 0;
      for (int k = 0; k < 32; ++k) s += ref[size_t(b)].qs[k], lo += k < 16 ? ref[size_t(b)].qs[k] : 0;
      ASSERT_EQ(sums[size_t(b)].sum, s) << cpu_level_name(l) << " block " << b;
      ASSERT_EQ(sums[size_t(b)].sum_lo, lo) << cpu_level_name(l) << " block " << b;
      ASSERT_EQ(sums[size_t(b)].d, fp16_to_f32(ref[size_t(b)].d_fp16)) << cpu_level_name(l) << " block " << b;
    }
    // A NaN or inf anywhere is refused (the reference then reports it).
    for (float bad : {NAN, INFINITY, -INFINITY}) {
      std::vector<float> y = x;
      y[100] = bad;
      bool accepted = true;
      try {
        accepted = kernels_for(l)->quantize_act(y.data(), nb, got.data(), sums.data());
      } catch (const Error&) {
        accepted = false;  // the reference-based levels throw the reference's message
      }
      EXPECT_FALSE(accepted) << cpu_level_name(l);
    }
  }
}

TEST(QuantMatmul, KernelsExactAtExtremeCodes) {
  // Weights at -128 / 127 and activations at -127 / 127 (x = +-1 gives code
  // +-127): one block, so the result is exact on every level.
  LevelGuard guard;
  const uint16_t one = f32_to_fp16(1.0f);
  for (CpuLevel l : levels()) {
    set_cpu_level(l);
    for (int wq : {-128, 127})
      for (float xv : {-1.0f, 1.0f}) {
        std::vector<BlockQ8_0> w(9, BlockQ8_0{one, {}});  // 9 rows: one full group + a partial one
        for (auto& b : w)
          for (auto& q : b.qs) q = int8_t(wq);
        std::vector<float> x(32, xv), y(9), yr(9);
        matmul_quant(TensorType::Q8_0, w.data(), 9, 32, x.data(), y.data(), 1);
        matmul_quant_ref(TensorType::Q8_0, w.data(), 9, 32, x.data(), yr.data(), 1);
        for (int r = 0; r < 9; ++r) EXPECT_EQ(y[size_t(r)], yr[size_t(r)]) << cpu_level_name(l) << " wq " << wq;
        for (int nib : {0, 15}) {
          std::vector<BlockQ4_0> w4(9, BlockQ4_0{one, {}});
          for (auto& b : w4)
            for (auto& q : b.qs) q = uint8_t(nib | nib << 4);
          matmul_quant(TensorType::Q4_0, w4.data(), 9, 32, x.data(), y.data(), 1);
          matmul_quant_ref(TensorType::Q4_0, w4.data(), 9, 32, x.data(), yr.data(), 1);
          for (int r = 0; r < 9; ++r) EXPECT_EQ(y[size_t(r)], yr[size_t(r)]) << cpu_level_name(l) << " nib " << nib;
        }
      }
  }
}

TEST(QuantMatmul, EveryLevelMatchesReferenceOnRandomBlocks) {
  // Random blocks over the full code range (including -128 and zero scales),
  // row counts around the 8-row group, token counts around the 4-token tile.
  LevelGuard guard;
  std::mt19937 rng(7);
  std::normal_distribution<float> nd;
  for (CpuLevel l : levels()) {
    set_cpu_level(l);
    for (int64_t rows : {1, 7, 8, 9, 17, 300})
      for (int64_t nb : {1, 2, 20})
        for (int64_t n : {1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 15, 16, 17, 23}) {
          const int64_t cols = nb * 32;
          const auto w8 = random_q8(rows * nb, rng);
          const auto w4 = random_q4(rows * nb, rng);
          std::vector<float> x(size_t(n * cols)), xd(x.size());
          for (auto& v : x) v = nd(rng);
          fake_quant_q8_0(x.data(), xd.data(), int64_t(x.size()));
          const auto w8d = deq(w8), w4d = deq(w4);
          for (TensorType t : {TensorType::Q8_0, TensorType::Q4_0}) {
            const void* w = t == TensorType::Q8_0 ? static_cast<const void*>(w8.data()) : w4.data();
            expect_near_reference(t, w, t == TensorType::Q8_0 ? w8d : w4d, x, xd, rows, cols, n,
                                  std::string(cpu_level_name(l)) + " rows " + std::to_string(rows) + " nb " +
                                      std::to_string(nb));
            if (HasFatalFailure()) return;
          }
        }
  }
}

TEST(QuantMatmul, Avx512DecodeEqualsAvx2BitForBit) {
  // The AVX-512 level's one-token kernels add each block's two half sums
  // before converting, so their rows are the AVX2 kernels' exactly.
  if (!cpu_supports(CpuLevel::Avx512Vnni)) GTEST_SKIP() << "needs AVX-512 VNNI";
  LevelGuard guard;
  std::mt19937 rng(21);
  std::normal_distribution<float> nd;
  for (int64_t rows : {1, 9, 300})
    for (int64_t nb : {1, 3, 36}) {
      const int64_t cols = nb * 32;
      const auto w8 = random_q8(rows * nb, rng);
      const auto w4 = random_q4(rows * nb, rng);
      std::vector<float> x(static_cast<size_t>(cols));
      for (auto& v : x) v = nd(rng);
      for (TensorType t : {TensorType::Q8_0, TensorType::Q4_0}) {
        const void* w = t == TensorType::Q8_0 ? static_cast<const void*>(w8.data()) : w4.data();
        std::vector<float> y2(static_cast<size_t>(rows)), y5(static_cast<size_t>(rows));
        set_cpu_level(CpuLevel::Avx2);
        matmul_quant(t, w, rows, cols, x.data(), y2.data(), 1);
        set_cpu_level(CpuLevel::Avx512Vnni);
        matmul_quant(t, w, rows, cols, x.data(), y5.data(), 1);
        EXPECT_EQ(0, std::memcmp(y2.data(), y5.data(), y2.size() * sizeof(float)))
            << tensor_type_name(t) << " rows " << rows << " nb " << nb;
      }
    }
}

TEST(QuantMatmul, ThreadedDecodeMatchesReference) {
  // Large enough for the thread pool (rows * cols >= 2^18): one and two
  // tokens, 1,003 rows split between the threads in whole 8-row groups (the
  // last group short), against the reference on every level.
  LevelGuard guard;
  std::mt19937 rng(22);
  std::normal_distribution<float> nd;
  const int64_t rows = 1003, nb = 16, cols = nb * 32;
  for (CpuLevel l : levels()) {
    set_cpu_level(l);
    for (int64_t n : {1, 2})
      for (TensorType t : {TensorType::Q8_0, TensorType::Q4_0}) {
        const auto w8 = random_q8(rows * nb, rng);
        const auto w4 = random_q4(rows * nb, rng);
        const void* w = t == TensorType::Q8_0 ? static_cast<const void*>(w8.data()) : w4.data();
        const auto wd = t == TensorType::Q8_0 ? deq(w8) : deq(w4);
        std::vector<float> x(size_t(n * cols)), xd(x.size());
        for (auto& v : x) v = nd(rng);
        fake_quant_q8_0(x.data(), xd.data(), int64_t(x.size()));
        expect_near_reference(t, w, wd, x, xd, rows, cols, n, cpu_level_name(l));
        if (HasFatalFailure()) return;
      }
  }
}

TEST(QuantMatmul, NibbleOrder) {
  // Element j is the low nibble of byte j, element j+16 the high nibble.
  BlockQ4_0 w{f32_to_fp16(1.0f), {}};
  for (auto& q : w.qs) q = 0x88;  // all codes zero
  w.qs[3] = 0x89;                 // element 3 -> +1
  w.qs[5] = 0xA8;                 // element 21 -> +2
  BlockQ8_0 a{f32_to_fp16(1.0f), {}};
  a.qs[3] = 10;
  a.qs[21] = 100;
  a.qs[19] = 50;  // element 19 has code 0: must not count
  EXPECT_EQ(vec_dot_q4_0_q8_0_ref(&w, &a, 1), 210.0f);
}

// Quantized weights of a normal (rows, cols) matrix, as bytes.
std::vector<uint8_t> make_weights(TensorType t, int64_t rows, int64_t cols, std::mt19937& rng,
                                  std::vector<float>& dequant) {
  std::normal_distribution<float> nd;
  std::vector<float> f(size_t(rows * cols));
  for (auto& v : f) v = nd(rng);
  dequant.resize(f.size());
  const int64_t nb = rows * cols / 32;
  std::vector<uint8_t> bytes;
  if (t == TensorType::Q8_0) {
    bytes.resize(nb * sizeof(BlockQ8_0));
    auto* b = reinterpret_cast<BlockQ8_0*>(bytes.data());
    quantize_row_q8_0(f.data(), b, rows * cols);
    dequantize_row_q8_0(b, dequant.data(), rows * cols);
  } else {
    bytes.resize(nb * sizeof(BlockQ4_0));
    auto* b = reinterpret_cast<BlockQ4_0*>(bytes.data());
    quantize_row_q4_0(f.data(), b, rows * cols);
    dequantize_row_q4_0(b, dequant.data(), rows * cols);
  }
  return bytes;
}

TEST(QuantMatmul, MatchesReferenceAndDequantizedProduct) {
  std::mt19937 rng(3);
  std::normal_distribution<float> nd;
  for (TensorType t : {TensorType::Q8_0, TensorType::Q4_0})
    for (int64_t cols : {32, 64, 640})
      for (int64_t n : {1, 2, 3, 5}) {
        // 300 rows x 640 cols x 5 tokens crosses the OpenMP threshold.
        const int64_t rows = 300;
        std::vector<float> wd;
        const auto w = make_weights(t, rows, cols, rng, wd);
        std::vector<float> x(size_t(n * cols)), xd(x.size());
        for (auto& v : x) v = nd(rng);
        fake_quant_q8_0(x.data(), xd.data(), int64_t(x.size()));  // what the kernel sees
        std::vector<float> y(size_t(n * rows)), yr(y.size());
        matmul_quant(t, w.data(), rows, cols, x.data(), y.data(), n);
        matmul_quant_ref(t, w.data(), rows, cols, x.data(), yr.data(), n);
        for (int64_t tk = 0; tk < n; ++tk)
          for (int64_t r = 0; r < rows; ++r) {
            const float* wr = wd.data() + r * cols;
            const float* xr = xd.data() + tk * cols;
            double exact = 0;
            for (int64_t c = 0; c < cols; ++c) exact += double(wr[c]) * xr[c];
            const float tol = tolerance(wr, xr, cols);
            const size_t i = size_t(tk * rows + r);
            ASSERT_NEAR(y[i], yr[i], tol) << tensor_type_name(t) << " cols " << cols << " n " << n << " r " << r;
            // Against the FP32 product of the dequantized operands: 1e-4 of the sum of |terms|.
            ASSERT_NEAR(yr[i], exact, 10 * tol) << tensor_type_name(t) << " cols " << cols << " n " << n;
          }
      }
}

TEST(QuantMatmul, RejectsBadShapesAndTypes) {
  std::vector<BlockQ8_0> w(4);
  std::vector<float> x(48), y(4);
  EXPECT_THROW(matmul_quant(TensorType::Q8_0, w.data(), 1, 48, x.data(), y.data(), 1), Error);
  EXPECT_THROW(matmul_quant(TensorType::F32, w.data(), 1, 32, x.data(), y.data(), 1), Error);
  std::vector<BlockQ8_0> out;
  EXPECT_THROW(quantize_activations_q8_0(x.data(), 1, 48, out), Error);
}

TEST(QuantMatmul, ActivationsUseReferenceQuantizer) {
  std::mt19937 rng(5);
  std::normal_distribution<float> nd;
  std::vector<float> x(3 * 64);
  for (auto& v : x) v = nd(rng);
  std::vector<BlockQ8_0> out, ref(6);
  quantize_activations_q8_0(x.data(), 3, 64, out);
  quantize_row_q8_0(x.data(), ref.data(), 3 * 64);
  ASSERT_EQ(out.size(), 6u);
  for (size_t b = 0; b < 6; ++b) {
    EXPECT_EQ(out[b].d_fp16, ref[b].d_fp16);
    for (int j = 0; j < 32; ++j) EXPECT_EQ(out[b].qs[j], ref[b].qs[j]);
  }
}

}  // namespace
}  // namespace qat

namespace qat {
namespace {

TEST(QuantMatmul, SharedInputProductsEqualSeparateOnes) {
  // Q/K/V-style lists: packed W8A8 / W4A8 (one quantization of x), an
  // unpacked Q8_0 and an F32 matrix in between, and a weight-only one.
  std::mt19937 rng(5);
  std::normal_distribution<float> nd;
  const int64_t cols = 96, n = 5;
  std::vector<float> x(size_t(n * cols));
  for (float& v : x) v = nd(rng);
  const std::vector<int64_t> rows = {16, 40, 8, 24, 12, 9};
  std::vector<std::vector<float>> f32;
  std::vector<std::vector<BlockQ8_0>> q8;
  std::vector<std::vector<BlockQ4_0>> q4;
  std::vector<PackedMatrix> packed;
  std::vector<MatrixView> ws;
  for (size_t i = 0; i < rows.size(); ++i) {
    std::vector<float> w(size_t(rows[i] * cols));
    for (float& v : w) v = nd(rng);
    f32.push_back(w);
    q8.emplace_back(w.size() / 32);
    q4.emplace_back(w.size() / 32);
    quantize_row_q8_0(w.data(), q8.back().data(), int64_t(w.size()));
    quantize_row_q4_0(w.data(), q4.back().data(), int64_t(w.size()));
  }
  packed.push_back(make_packed_matrix(TensorType::Q8_0, q8[0].data(), rows[0], cols));
  packed.push_back(make_packed_matrix(TensorType::Q4_0, q4[1].data(), rows[1], cols));
  packed.push_back(make_packed_matrix(TensorType::Q4_0, q4[3].data(), rows[3], cols));
  packed.push_back(make_packed_matrix(TensorType::Q8_0, q8[5].data(), rows[5], cols));
  ws.push_back({TensorType::Q8_0, q8[0].data(), rows[0], cols, &packed[0]});
  ws.push_back({TensorType::Q4_0, q4[1].data(), rows[1], cols, &packed[1]});
  ws.push_back({TensorType::Q8_0, q8[2].data(), rows[2], cols, nullptr});  // quantizes x itself
  ws.push_back({TensorType::Q4_0, q4[3].data(), rows[3], cols, &packed[2]});
  ws.push_back({TensorType::F32, f32[4].data(), rows[4], cols});
  ws.push_back({TensorType::Q8_0, q8[5].data(), rows[5], cols, &packed[3], ActivationQuant::None});
  std::vector<std::vector<float>> got, want;
  std::vector<float*> ys;
  for (size_t i = 0; i < ws.size(); ++i) {
    got.emplace_back(size_t(n * rows[i]), -1.0f);
    want.emplace_back(size_t(n * rows[i]), -2.0f);
    ys.push_back(got.back().data());
  }
  matmul_shared_input(ws, x.data(), ys, n);
  for (size_t i = 0; i < ws.size(); ++i) {
    matmul(ws[i], x.data(), want[i].data(), n);
    EXPECT_EQ(0, std::memcmp(got[i].data(), want[i].data(), want[i].size() * sizeof(float))) << "matrix " << i;
  }
  EXPECT_THROW(matmul_shared_input(ws, x.data(), std::span<float* const>(ys.data(), 2), n), Error);
}

}  // namespace
}  // namespace qat
