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
