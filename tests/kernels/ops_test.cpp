// Row operations against direct formulas in double precision.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/ops.h"

namespace qat {
namespace {

TEST(Ops, RmsNormWithAndWithoutScale) {
  std::vector<float> x = {1, -2, 3, 0.5f}, w = {1, 2, 0.5f, -1}, out(4);
  double ms = 0;
  for (float v : x) ms += double(v) * v;
  const double inv = 1.0 / std::sqrt(ms / 4 + 1e-6);
  rms_norm(x.data(), w.data(), out.data(), 4, 1e-6f);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(out[size_t(i)], x[size_t(i)] * inv * w[size_t(i)], 1e-6);
  rms_norm(x.data(), nullptr, out.data(), 4, 1e-6f);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(out[size_t(i)], x[size_t(i)] * inv, 1e-6);
}

TEST(Ops, GeluTanhMatchesFormula) {
  for (float x : {-5.0f, -1.0f, -0.1f, 0.0f, 0.3f, 2.0f, 8.0f}) {
    const double k = std::sqrt(2.0 / M_PI);
    const double ref = 0.5 * x * (1 + std::tanh(k * (x + 0.044715 * double(x) * x * x)));
    EXPECT_NEAR(gelu_tanh(x), ref, 1e-6) << x;
  }
}

TEST(Ops, RopeRotatesHalfPairsAndLeavesZeroFrequenciesAlone) {
  // head_dim 8: pairs (0,4) (1,5) rotate; (2,6) (3,7) have cos 1, sin 0.
  std::vector<float> x = {1, 2, 3, 4, 5, 6, 7, 8};
  const float c[4] = {std::cos(0.5f), std::cos(0.25f), 1, 1};
  const float s[4] = {std::sin(0.5f), std::sin(0.25f), 0, 0};
  rope(x.data(), 8, c, s);
  EXPECT_NEAR(x[0], 1 * c[0] - 5 * s[0], 1e-6);
  EXPECT_NEAR(x[4], 5 * c[0] + 1 * s[0], 1e-6);
  EXPECT_NEAR(x[1], 2 * c[1] - 6 * s[1], 1e-6);
  EXPECT_EQ(x[2], 3);
  EXPECT_EQ(x[7], 8);
}

TEST(Ops, SoftmaxAndSoftcap) {
  std::vector<float> x = {1000, 1001, 999};
  softmax(x.data(), 3);
  const double e = std::exp(1.0), z = 1 + e + 1 / e;
  EXPECT_NEAR(x[1], e / z, 1e-6);
  EXPECT_NEAR(x[0] + x[1] + x[2], 1.0, 1e-6);
  std::vector<float> y = {60, -60, 3};
  softcap(y.data(), 3, 30);
  EXPECT_NEAR(y[0], 30 * std::tanh(2.0), 1e-5);
  EXPECT_NEAR(y[1], -30 * std::tanh(2.0), 1e-5);
}

TEST(Ops, SoftmaxColumnsIsSoftcapAndSoftmaxOverEachColumnsWindow) {
  // 37 columns (two full chunks of 16 and a ragged one), 23 rows, windows
  // from one row to all of them; with and without a softcap; large scores.
  const int64_t rows = 23, cols = 37;
  for (float cap : {0.0f, 30.0f}) {
    std::vector<float> s(size_t(rows * cols));
    std::vector<int32_t> lo(static_cast<size_t>(cols)), hi(static_cast<size_t>(cols));
    for (int64_t i = 0; i < rows * cols; ++i) s[size_t(i)] = float((i * 7919) % 201 - 100) * 0.37f;
    for (int64_t c = 0; c < cols; ++c) {
      lo[size_t(c)] = int32_t((c * 5) % 11);
      hi[size_t(c)] = int32_t(std::min<int64_t>(rows - 1, lo[size_t(c)] + (c * 3) % 17));
    }
    std::vector<float> got = s;
    softmax_columns(got.data(), rows, cols, 0.125f, cap, lo.data(), hi.data());
    for (int64_t c = 0; c < cols; ++c) {
      std::vector<float> col;  // the window, as attention_rows computes it
      for (int64_t r = lo[size_t(c)]; r <= hi[size_t(c)]; ++r) col.push_back(s[size_t(r * cols + c)] * 0.125f);
      if (cap > 0) softcap(col.data(), int64_t(col.size()), cap);
      softmax(col.data(), int64_t(col.size()));
      for (int64_t r = 0; r < rows; ++r) {
        const float v = got[size_t(r * cols + c)];
        if (r < lo[size_t(c)] || r > hi[size_t(c)]) {
          EXPECT_EQ(v, 0.0f) << "cap " << cap << " col " << c << " row " << r;
          continue;
        }
        EXPECT_NEAR(v, col[size_t(r - lo[size_t(c)])], 1e-6f * (1 + col[size_t(r - lo[size_t(c)])]))
            << "cap " << cap << " col " << c << " row " << r;
      }
    }
  }
}

}  // namespace
}  // namespace qat

namespace qat {
namespace {

TEST(Ops, FastExpAndTanhAccuracy) {
  // Dense sweep against double-precision libm.
  double worst_exp = 0, worst_tanh = 0;
  for (float x = -87.0f; x <= 88.0f; x += 0.0137f) {
    const double ref = std::exp(double(x));
    worst_exp = std::max(worst_exp, std::fabs(fast_exp(x) - ref) / ref);
  }
  for (float x = -12.0f; x <= 12.0f; x += 0.000731f)
    worst_tanh = std::max(worst_tanh, std::fabs(double(fast_tanh(x)) - std::tanh(double(x))));
  EXPECT_LT(worst_exp, 2e-7);
  EXPECT_LT(worst_tanh, 3e-7);
  EXPECT_EQ(fast_exp(-1000.0f) < 1e-37f, true);
  EXPECT_TRUE(std::isfinite(fast_exp(1000.0f)));
  EXPECT_EQ(fast_tanh(0.0f), 0.0f);
  EXPECT_EQ(fast_tanh(50.0f), 1.0f);
  EXPECT_EQ(fast_tanh(-50.0f), -1.0f);
  EXPECT_EQ(fast_tanh(1e-20f), 1e-20f);
}

TEST(Ops, GeluAccuracyOverItsWholeRange) {
  // x / (1 + e^-2u) against 0.5 x (1 + tanh u) in double: within 1e-6 of
  // the value relative to max(1, |x|); exactly x far right, 0 far left.
  double worst = 0;
  for (float x = -40.0f; x <= 40.0f; x += 0.000917f) {
    const double k = std::sqrt(2.0 / M_PI), xd = x;
    const double ref = 0.5 * xd * (1 + std::tanh(k * (xd + 0.044715 * xd * xd * xd)));
    worst = std::max(worst, std::fabs(double(gelu_tanh(x)) - ref) / std::max(1.0, std::fabs(xd)));
  }
  EXPECT_LT(worst, 1e-6);
  EXPECT_EQ(gelu_tanh(0.0f), 0.0f);
  EXPECT_EQ(gelu_tanh(20.0f), 20.0f);
  EXPECT_EQ(gelu_tanh(3e38f), 3e38f);
  EXPECT_LE(std::fabs(gelu_tanh(-9.9f)), 1e-12f);
  EXPECT_EQ(gelu_tanh(-20.0f), 0.0f);
  EXPECT_EQ(gelu_tanh(-3e38f), 0.0f);
  EXPECT_EQ(gelu_tanh(1e-30f), 0.5f * 1e-30f);
}

TEST(Ops, RmsNormRowsIsRmsNormOnEachRow) {
  // Row lengths with and without a tail past the 16-wide partial sums; row
  // counts across the 16-row groups.
  for (int64_t n : {32, 40, 128, 640})
    for (int64_t rows : {1, 15, 16, 17, 48}) {
      std::vector<float> x(static_cast<size_t>(rows * n)), w(static_cast<size_t>(n)), a(x.size()), b(x.size());
      for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.37f * float(i)) * float(1 + i % 7);
      for (size_t i = 0; i < w.size(); ++i) w[i] = 0.5f + 0.01f * float(i % 13);
      rms_norm_rows(x.data(), w.data(), a.data(), rows, n, 1e-6f);
      for (int64_t r = 0; r < rows; ++r) rms_norm(x.data() + r * n, w.data(), b.data() + r * n, n, 1e-6f);
      EXPECT_EQ(a, b) << rows << " rows of " << n;
      std::vector<float> in_place = x;  // as the forward pass runs it on Q and K
      rms_norm_rows(in_place.data(), w.data(), in_place.data(), rows, n, 1e-6f);
      EXPECT_EQ(in_place, b) << rows << " rows of " << n << ", in place";
      rms_norm_rows(x.data(), nullptr, a.data(), rows, n, 1e-6f);
      for (int64_t r = 0; r < rows; ++r) rms_norm(x.data() + r * n, nullptr, b.data() + r * n, n, 1e-6f);
      EXPECT_EQ(a, b) << rows << " rows of " << n << ", no weight";
    }
}

TEST(Ops, DotAndAxpy) {
  std::vector<float> a(37), b(37), y(37, 1.0f);
  double ref = 0;
  for (int i = 0; i < 37; ++i) {
    a[size_t(i)] = float(i) * 0.25f - 3;
    b[size_t(i)] = float(i % 5) - 2;
    ref += double(a[size_t(i)]) * b[size_t(i)];
  }
  EXPECT_NEAR(dot_f32(a.data(), b.data(), 37), ref, 1e-4);
  axpy_f32(2.0f, a.data(), y.data(), 37);
  for (int i = 0; i < 37; ++i) EXPECT_EQ(y[size_t(i)], 1.0f + 2.0f * a[size_t(i)]);
}

}  // namespace
}  // namespace qat
