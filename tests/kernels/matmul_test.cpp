// The matmul of every kernel level against the scalar reference, for every weight type,
// token counts around the 4-token tile, and widths off the 8/32 grid.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "base/fp16.h"
#include "kernels/kernel_table.h"
#include "kernels/matmul.h"

namespace qat {
namespace {

std::vector<uint8_t> make_weights(TensorType t, int64_t rows, int64_t cols, std::mt19937& rng) {
  std::normal_distribution<float> nd;
  const size_t eb = t == TensorType::F32 ? 4 : 2;
  std::vector<uint8_t> w(size_t(rows * cols) * eb);
  for (int64_t i = 0; i < rows * cols; ++i) {
    const float v = nd(rng);
    if (t == TensorType::F32) reinterpret_cast<float*>(w.data())[i] = v;
    if (t == TensorType::F16) reinterpret_cast<uint16_t*>(w.data())[i] = f32_to_fp16(v);
    if (t == TensorType::BF16) reinterpret_cast<uint16_t*>(w.data())[i] = f32_to_bf16(v);
  }
  return w;
}

TEST(Matmul, EveryLevelMatchesScalarReference) {
  std::mt19937 rng(1);
  std::normal_distribution<float> nd;
  for (int level = 0; level < int(CpuLevel::Count); ++level) {
    if (!kernels_for(CpuLevel(level)) || !cpu_supports(CpuLevel(level))) continue;
    set_cpu_level(CpuLevel(level));
  for (TensorType t : {TensorType::F32, TensorType::F16, TensorType::BF16})
    for (int64_t cols : {1, 7, 8, 33, 64, 100, 640})
      for (int64_t n : {1, 2, 3, 4, 5, 9}) {
        const int64_t rows = 37;
        auto w = make_weights(t, rows, cols, rng);
        std::vector<float> x(size_t(n * cols));
        for (float& v : x) v = nd(rng);
        std::vector<float> y(size_t(n * rows)), ref(y.size());
        const MatrixView mv{t, w.data(), rows, cols};
        matmul(mv, x.data(), y.data(), n);
        matmul_ref(mv, x.data(), ref.data(), n);
        for (size_t i = 0; i < y.size(); ++i)
          ASSERT_NEAR(y[i], ref[i], 1e-4f * std::sqrt(float(cols)) + 1e-5f)
              << cpu_level_name(CpuLevel(level)) << " " << tensor_type_name(t) << " cols " << cols
              << " n " << n << " i " << i;
      }
  }
  set_cpu_level(detected_cpu_level());
}

TEST(Matmul, GemmNNOfEveryLevelMatchesScalarReference) {
  // Attention's products: row counts around the 4-row tile, column counts off
  // the 8/16/64 grid (masked tails), A row-major and transposed, strided B
  // and C (views into larger matrices), and C's padding left untouched.
  std::mt19937 rng(2);
  std::normal_distribution<float> nd;
  for (int level = 0; level < int(CpuLevel::Count); ++level) {
    const KernelTable* kt = kernels_for(CpuLevel(level));
    if (!kt || !cpu_supports(CpuLevel(level))) continue;
    for (int64_t m : {1, 2, 3, 4, 5, 8})
      for (int64_t k : {1, 7, 32, 65})
        for (int64_t n : {1, 9, 16, 33, 64, 100})
          for (bool a_transposed : {false, true}) {
            // A (m, k) inside a larger matrix: row-major (m, k + 3) or its transpose (k, m + 3).
            const int64_t a_rs = a_transposed ? 1 : k + 3, a_cs = a_transposed ? m + 3 : 1;
            const int64_t ldb = n + 5, ldc = n + 2;
            std::vector<float> a(size_t(a_transposed ? k * (m + 3) : m * (k + 3))), b(size_t(k * ldb));
            for (float& v : a) v = nd(rng);
            for (float& v : b) v = nd(rng);
            std::vector<float> c(size_t(m * ldc), 7.0f), ref(c.size(), 7.0f);
            kt->gemm_nn_f32(a.data(), a_rs, a_cs, b.data(), ldb, c.data(), ldc, m, k, n);
            gemm_nn_f32_ref(a.data(), a_rs, a_cs, b.data(), ldb, ref.data(), ldc, m, k, n);
            for (int64_t i = 0; i < m; ++i)
              for (int64_t j = 0; j < ldc; ++j) {
                const size_t at = size_t(i * ldc + j);
                if (j >= n) {
                  ASSERT_EQ(c[at], 7.0f) << "wrote past column " << n;
                  continue;
                }
                ASSERT_NEAR(c[at], ref[at], 1e-5f * std::sqrt(float(k)) * (1 + std::fabs(ref[at])))
                    << cpu_level_name(CpuLevel(level)) << " m " << m << " k " << k << " n " << n << " at " << i
                    << "," << j << (a_transposed ? " (A transposed)" : "");
              }
          }
  }
}

TEST(Matmul, RowToF32DecodesEveryType) {
  const uint16_t half_one = f32_to_fp16(1.5f), bf_one = f32_to_bf16(-2.25f);
  float out = 0;
  row_to_f32({TensorType::F16, &half_one, 1, 1}, 0, &out);
  EXPECT_EQ(out, 1.5f);
  row_to_f32({TensorType::BF16, &bf_one, 1, 1}, 0, &out);
  EXPECT_EQ(out, -2.25f);
}

}  // namespace
}  // namespace qat
