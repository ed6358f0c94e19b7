// W8A16 / W4A16 (weight-only) products: Q8_0 / Q4_0 weights times FP32
// activations. The scalar reference equals the FP32 product of the
// dequantized matrix bit for bit; every level's fast path (packed and GGUF
// layout) equals that level's own F32 matmul of the dequantized matrix,
// because it dequantizes 8-row groups to the reference's exact values and
// runs the same float kernel with the same row tiles.
#include <gtest/gtest.h>

#include <cmath>
#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

#include "../common/kernel_levels.h"
#include "base/error.h"
#include "base/fp16.h"
#include "kernels/kernel_table.h"
#include "kernels/matmul.h"
#include "kernels/quant_pack.h"
#include "kernels/weight_only_matmul.h"
#include "quant/quant_types.h"

namespace qat {
namespace {

std::vector<CpuLevel> levels() { return test::kernel_levels(); }
using test::LevelGuard;

// Random GGUF-layout blocks over every code (about one scale in eight zero),
// and what they dequantize to.
std::vector<uint8_t> random_weights(TensorType t, int64_t rows, int64_t cols, std::mt19937& rng,
                                    std::vector<float>& deq) {
  std::uniform_real_distribution<float> ud(-0.05f, 0.05f);
  const int64_t nb = rows * cols / 32;
  const size_t bb = t == TensorType::Q8_0 ? sizeof(BlockQ8_0) : sizeof(BlockQ4_0);
  std::vector<uint8_t> bytes(size_t(nb) * bb);
  for (int64_t b = 0; b < nb; ++b) {
    uint8_t* p = bytes.data() + size_t(b) * bb;
    const uint16_t d = rng() % 8 == 0 ? f32_to_fp16(0.0f) : f32_to_fp16(ud(rng));
    std::memcpy(p, &d, 2);
    for (size_t i = 2; i < bb; ++i) p[i] = uint8_t(rng() % 256);
  }
  deq.resize(size_t(rows * cols));
  if (t == TensorType::Q8_0)
    dequantize_row_q8_0(reinterpret_cast<const BlockQ8_0*>(bytes.data()), deq.data(), rows * cols);
  else
    dequantize_row_q4_0(reinterpret_cast<const BlockQ4_0*>(bytes.data()), deq.data(), rows * cols);
  return bytes;
}

TEST(WeightOnlyMatmul, EveryLevelDequantizesPackedGroupsLikeTheReference) {
  // Every code (random bytes) and zero scales; row counts that leave a
  // partial last group.
  LevelGuard guard;
  std::mt19937 rng(3);
  for (CpuLevel l : levels())
  for (TensorType t : {TensorType::Q8_0, TensorType::Q4_0})
    for (int64_t rows : {1, 8, 13, 40}) {
      const int64_t cols = 96;
      std::vector<float> deq;
      const auto w = random_weights(t, rows, cols, rng, deq);
      const PackedMatrix p = make_packed_matrix(t, w.data(), rows, cols);
      set_cpu_level(l);
      std::vector<float> got(size_t(kPackRows * cols));
      for (int64_t g = 0; g * kPackRows < rows; ++g) {
        std::fill(got.begin(), got.end(), -1.0f);
        dequantize_packed_group(p, g, got.data());
        for (int64_t j = 0; j < kPackRows && g * kPackRows + j < rows; ++j)
          for (int64_t c = 0; c < cols; ++c) {
            const float want = deq[size_t((g * kPackRows + j) * cols + c)], have = got[size_t(j * cols + c)];
            ASSERT_EQ(std::memcmp(&want, &have, 4), 0)
                << cpu_level_name(l) << " " << tensor_type_name(t) << " row " << g * kPackRows + j << " col " << c
                << ": " << have << " vs " << want;
          }
      }
      EXPECT_THROW(dequantize_packed_group(p, (rows + kPackRows - 1) / kPackRows, got.data()), Error);
    }
}

TEST(WeightOnlyMatmul, ReferenceEqualsFp32ProductOfDequantizedWeights) {
  std::mt19937 rng(5);
  std::normal_distribution<float> nd;
  for (TensorType t : {TensorType::Q8_0, TensorType::Q4_0})
    for (int64_t rows : {1, 9, 40})
      for (int64_t n : {1, 4}) {
        const int64_t cols = 64;
        std::vector<float> deq;
        const auto w = random_weights(t, rows, cols, rng, deq);
        std::vector<float> x(size_t(n * cols)), y(size_t(n * rows)), yf(y.size());
        for (auto& v : x) v = nd(rng);
        matmul_quant_a16_ref(t, w.data(), rows, cols, x.data(), y.data(), n);
        matmul_ref(MatrixView{TensorType::F32, deq.data(), rows, cols}, x.data(), yf.data(), n);
        EXPECT_EQ(y, yf) << tensor_type_name(t) << " rows " << rows << " n " << n;
      }
}

TEST(WeightOnlyMatmul, EveryLevelEqualsItsFp32Matmul) {
  // Row counts around the 8-row group, token counts around the float
  // kernels' 3-token tile, and products large enough to run threaded.
  LevelGuard guard;
  std::mt19937 rng(7);
  std::normal_distribution<float> nd;
  for (CpuLevel l : levels()) {
    set_cpu_level(l);
    for (int64_t rows : {1, 7, 8, 9, 17, 300})
      for (int64_t nb : {1, 3, 24})
        for (int64_t n : {1, 2, 3, 4, 7}) {
          const int64_t cols = nb * 32;
          for (TensorType t : {TensorType::Q8_0, TensorType::Q4_0}) {
            std::vector<float> deq;
            const auto w = random_weights(t, rows, cols, rng, deq);
            const PackedMatrix p = make_packed_matrix(t, w.data(), rows, cols);
            std::vector<float> x(size_t(n * cols));
            for (auto& v : x) v = nd(rng);
            std::vector<float> yf(size_t(n * rows)), yp(yf.size()), yg(yf.size()), yd(yf.size()), yr(yf.size());
            matmul(MatrixView{TensorType::F32, deq.data(), rows, cols}, x.data(), yf.data(), n);
            matmul_packed_a16(p, x.data(), yp.data(), n);
            matmul_quant_a16(t, w.data(), rows, cols, x.data(), yg.data(), n);
            // Through the dispatcher, as the model calls it.
            matmul(MatrixView{t, w.data(), rows, cols, &p, ActivationQuant::None}, x.data(), yd.data(), n);
            matmul_quant_a16_ref(t, w.data(), rows, cols, x.data(), yr.data(), n);
            const std::string what = std::string(cpu_level_name(l)) + " " + tensor_type_name(t) + " rows " +
                                     std::to_string(rows) + " nb " + std::to_string(nb) + " n " + std::to_string(n);
            ASSERT_EQ(yp, yf) << what;
            ASSERT_EQ(yg, yf) << what;
            ASSERT_EQ(yd, yf) << what;
            // Against the scalar reference: summation order only.
            for (int64_t tk = 0; tk < n; ++tk)
              for (int64_t r = 0; r < rows; ++r) {
                double mag = 0;
                for (int64_t c = 0; c < cols; ++c)
                  mag += std::fabs(double(deq[size_t(r * cols + c)]) * x[size_t(tk * cols + c)]);
                ASSERT_NEAR(yp[size_t(tk * rows + r)], yr[size_t(tk * rows + r)], 1e-5 * mag + 1e-30) << what;
              }
          }
        }
  }
}

TEST(WeightOnlyMatmul, DispatchFollowsTheActivationMode) {
  // Q8_0 activations (the default) and FP32 activations give different
  // products of the same weights; float weights ignore the mode.
  std::mt19937 rng(9);
  std::normal_distribution<float> nd;
  const int64_t rows = 16, cols = 128, n = 2;
  std::vector<float> deq;
  const auto w = random_weights(TensorType::Q4_0, rows, cols, rng, deq);
  std::vector<float> x(size_t(n * cols));
  for (auto& v : x) v = nd(rng);
  std::vector<float> a8(size_t(n * rows)), a16(a8.size()), ref(a8.size()), f(a8.size()), f16(a8.size());
  matmul(MatrixView{TensorType::Q4_0, w.data(), rows, cols}, x.data(), a8.data(), n);
  matmul(MatrixView{TensorType::Q4_0, w.data(), rows, cols, nullptr, ActivationQuant::None}, x.data(), a16.data(), n);
  matmul_quant_a16(TensorType::Q4_0, w.data(), rows, cols, x.data(), ref.data(), n);
  EXPECT_EQ(a16, ref);
  EXPECT_NE(a8, a16);
  matmul(MatrixView{TensorType::F32, deq.data(), rows, cols}, x.data(), f.data(), n);
  matmul(MatrixView{TensorType::F32, deq.data(), rows, cols, nullptr, ActivationQuant::None}, x.data(), f16.data(), n);
  EXPECT_EQ(f, f16);
}

TEST(WeightOnlyMatmul, RejectsBadShapesAndTypes) {
  std::vector<uint8_t> w(34 * 4);
  std::vector<float> x(64), y(4);
  EXPECT_THROW(matmul_quant_a16(TensorType::F32, w.data(), 2, 64, x.data(), y.data(), 1), Error);
  EXPECT_THROW(matmul_quant_a16(TensorType::Q8_0, w.data(), 2, 48, x.data(), y.data(), 1), Error);
  EXPECT_EQ(parse_activation_quant("none"), ActivationQuant::None);
  EXPECT_EQ(parse_activation_quant("q8_0"), ActivationQuant::Q8_0);
  EXPECT_THROW(parse_activation_quant("int4"), Error);
}

}  // namespace
}  // namespace qat
