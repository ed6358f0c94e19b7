// The QAT fake quantizers (train/fake_quant_ops.h) against the one reference
// quantizer (quant/quant_types.h), bit for bit, over 1,200 random tensors with
// the corner cases of GGUF quantization (zeros, +-0, denormals, outliers, tiny
// blocks whose 1/d overflows, huge blocks whose fp16 scale overflows, ties);
// the STE mask against an independent clamp test; the LSQ gradients against
// finite differences of LSQ's surrogate; the activation fake quantizer
// against the inference path. Golden comparisons with torch and torchao:
// fake_quant_torch_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "../common/error_of.h"
#include "base/fp16.h"
#include "kernels/quant_matmul.h"
#include "quant/quant_types.h"
#include "train/fake_quant_ops.h"

namespace qat {
namespace {

constexpr int kB = 32;
const TensorType kBlockTypes[] = {TensorType::Q8_0, TensorType::Q4_0};

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// First index where the bit patterns differ, for messages.
size_t first_diff(const std::vector<float>& a, const std::vector<float>& b) {
  for (size_t i = 0; i < a.size(); ++i)
    if (f32_bits(a[i]) != f32_bits(b[i])) return i;
  return a.size();
}

// dequantize(quantize_row_X_scaled(w, s)): the exported values.
std::vector<float> export_values(TensorType t, const std::vector<float>& w, const float* s) {
  const int64_t n = int64_t(w.size());
  std::vector<float> y(w.size());
  if (t == TensorType::Q8_0) {
    std::vector<BlockQ8_0> q(w.size() / kB);
    if (s) quantize_row_q8_0_scaled(w.data(), s, q.data(), n);
    else quantize_row_q8_0(w.data(), q.data(), n);
    dequantize_row_q8_0(q.data(), y.data(), n);
  } else {
    std::vector<BlockQ4_0> q(w.size() / kB);
    if (s) quantize_row_q4_0_scaled(w.data(), s, q.data(), n);
    else quantize_row_q4_0(w.data(), q.data(), n);
    dequantize_row_q4_0(q.data(), y.data(), n);
  }
  return y;
}

// Whether the reference clamps x's code for scale d, decided in double from
// the definition: the code is round(x * (1/d)) with the product rounded to
// float (computed exactly in double and rounded once, so no FMA can creep
// in); Q8_0 rounds half away from zero and keeps -127..127; Q4_0 truncates
// float(r + 8.5) and keeps 0..15.
bool clamped_by_definition(TensorType t, float x, float d) {
  if (d == 0.0f) return false;
  const float id = 1.0f / d;
  if (!std::isfinite(id)) return false;  // every code is 0
  const float r = float(double(x) * double(id));
  if (t == TensorType::Q8_0) return std::fabs(std::round(double(r))) > 127.0;
  const float v = float(double(r) + 8.5);
  return v < 0.0f || v >= 16.0f;
}

// Random tensors, block by block from a mix of flavours.
std::vector<float> random_tensor(std::mt19937_64& rng, int index) {
  std::uniform_real_distribution<double> uni(0.0, 1.0);
  std::normal_distribution<double> normal;
  const int64_t nb = index % 100 == 0 ? 512 : 1 + int64_t(rng() % 24);
  std::vector<float> w(size_t(nb * kB));
  for (int64_t b = 0; b < nb; ++b) {
    float* x = w.data() + b * kB;
    const double mag = std::pow(10.0, -6.0 + 10.0 * uni(rng));
    const int flavour = int(rng() % 15);
    for (int j = 0; j < kB; ++j) {
      double v = normal(rng) * mag;
      switch (flavour) {
        case 1: v = (2 * uni(rng) - 1) * mag; break;                   // uniform
        case 2: v = normal(rng) / (std::fabs(normal(rng)) + 0.05) * mag; break;  // heavy tail
        case 3: v = 0.0; break;                                        // zeros
        case 4: v = rng() % 2 ? 0.0 : -0.0; break;                     // +0 / -0
        case 5: v = normal(rng) * 1e-3 * mag; break;                   // outlier added below
        case 6: v = normal(rng) * (j % 2 ? 1e-40 : 1e-44); break;       // denormals only
        case 7: v = j % 3 ? normal(rng) * 1e-40 : normal(rng) * mag; break;  // denormals mixed
        case 8: v = normal(rng) * std::pow(10.0, -38.0 + 3.0 * uni(rng)); break;  // 1/d overflows
        case 9: v = normal(rng) * std::pow(10.0, 4.0 + 5.0 * uni(rng)); break;   // fp16 d overflows
        case 10: v = (rng() % 2 ? 3.0e38 : -3.0e38) * uni(rng); break;  // huge, finite
        case 11: v = double(int(rng() % 255) - 127) * std::ldexp(1.0, int(rng() % 20) - 10); break;
        case 12: v = (int(rng() % 254) - 127 + 0.5) * std::ldexp(1.0, -4); break;  // Q8_0 ties
        case 13: v = mag; break;                                       // constant
        case 14: v = (int(rng() % 16) - 8 + 0.5) * std::ldexp(1.0, -3); break;  // Q4_0 ties, below
        default: break;
      }
      x[j] = float(v);
    }
    if (flavour == 5) x[rng() % kB] = float((rng() % 2 ? 1 : -1) * mag);
    if (flavour == 12) x[rng() % kB] = 127.0f * 0.0625f * (rng() % 2 ? 1.0f : -1.0f);  // d = 1/16
    if (flavour == 14) x[rng() % kB] = rng() % 2 ? 1.0f : -1.0f;  // Q4_0 d = -+1/8: x*id + 8.5 = 16 at 7.5
    if (flavour == 3 || flavour == 4 || flavour == 11 || rng() % 8 == 0) {
      // Both signs at full magnitude: the second one is Q4_0's clamped +8.
      float amax = 0.0f;
      int jm = 0;
      for (int j = 0; j < kB; ++j)
        if (std::fabs(x[j]) > amax) amax = std::fabs(x[jm = j]);
      x[(jm + 1 + rng() % (kB - 1)) % kB] = -x[jm];
    }
  }
  return w;
}

TEST(FakeQuantWeights, ForwardEqualsReferenceAndLsqWithInitScalesBitForBit) {
  std::mt19937_64 rng(20261127);
  int64_t clamped_q4 = 0, blocks = 0, values = 0;
  for (int i = 0; i < 1200; ++i) {
    const std::vector<float> w = random_tensor(rng, i);
    const int64_t n = int64_t(w.size());
    blocks += n / kB;
    for (TensorType t : kBlockTypes) {
      SCOPED_TRACE(testing::Message() << "tensor " << i << " " << tensor_type_name(t) << " n " << n);
      const std::vector<float> ref = export_values(t, w, nullptr);
      std::vector<float> wq(w.size());
      std::vector<uint8_t> pass(w.size(), 7);
      weight_fake_quant_forward(t, w.data(), wq.data(), pass.data(), n);
      ASSERT_TRUE(same_bits(wq, ref)) << "first difference at " << first_diff(wq, ref);

      // In place (w and wq alias) gives the same bits and mask.
      std::vector<float> inplace = w;
      std::vector<uint8_t> pass2(w.size(), 7);
      weight_fake_quant_forward(t, inplace.data(), inplace.data(), pass2.data(), n);
      ASSERT_TRUE(same_bits(inplace, ref));
      ASSERT_EQ(pass2, pass);

      // LSQ started from the reference scales is the same quantizer.
      std::vector<float> s(w.size() / kB), lsq(w.size());
      lsq_init_scales(t, w.data(), s.data(), n);
      lsq_forward(t, w.data(), s.data(), lsq.data(), n);
      ASSERT_TRUE(same_bits(lsq, ref)) << "first difference at " << first_diff(lsq, ref);

      // The STE mask is exactly "the code was not clamped"; with absmax
      // scales only Q4_0 clamps, and only values of the other sign than the
      // block's signed maximum (its +8).
      for (int64_t k = 0; k < n; ++k) {
        const float d = s[size_t(k / kB)];
        const bool clamped = clamped_by_definition(t, w[size_t(k)], d);
        ASSERT_EQ(pass[size_t(k)], clamped ? 0 : 1) << "element " << k << " x " << w[size_t(k)] << " d " << d;
        if (clamped) {
          ASSERT_EQ(t, TensorType::Q4_0);
          const float d16 = fp16_to_f32(f32_to_fp16(d));
          ASSERT_EQ(ref[size_t(k)], 7.0f * d16);  // code 15
          ++clamped_q4;
        }
      }
      values += n;
    }
  }
  EXPECT_GT(clamped_q4, 100);  // the mask's zeros were exercised
  std::printf("  %lld blocks, %lld values (both types), %lld Q4_0 codes clamped\n", (long long)blocks,
              (long long)values, (long long)clamped_q4);
}

TEST(FakeQuantWeights, LsqForwardIsTheExportWithThoseScales) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> uni(0.0, 1.0);
  int64_t clamped[2] = {0, 0}, total = 0;
  for (int i = 0; i < 1000; ++i) {
    const std::vector<float> w = random_tensor(rng, i + 1);
    const int64_t n = int64_t(w.size()), nb = n / kB;
    for (int ti = 0; ti < 2; ++ti) {
      const TensorType t = kBlockTypes[ti];
      SCOPED_TRACE(testing::Message() << "tensor " << i << " " << tensor_type_name(t));
      std::vector<float> s(static_cast<size_t>(nb));
      lsq_init_scales(t, w.data(), s.data(), n);
      // Learned-looking scales: perturbed (mostly smaller, so codes clamp),
      // sometimes sign-flipped, sometimes exactly fp16, all finite.
      for (float& d : s) {
        const double f = 0.3 + 1.7 * uni(rng);
        d = float(double(d == 0.0f ? 1e-3f : d) * f * (rng() % 5 == 0 ? -1.0 : 1.0));
        if (rng() % 4 == 0) d = fp16_to_f32(f32_to_fp16(d));
        if (!std::isfinite(d) || d == 0.0f) d = 1.0f;
      }
      const std::vector<float> ref = export_values(t, w, s.data());
      std::vector<float> wq(w.size());
      lsq_forward(t, w.data(), s.data(), wq.data(), n);
      ASSERT_TRUE(same_bits(wq, ref)) << "first difference at " << first_diff(wq, ref);
      std::vector<float> inplace = w;
      lsq_forward(t, inplace.data(), s.data(), inplace.data(), n);
      ASSERT_TRUE(same_bits(inplace, ref));

      // The gradient passes exactly where the code was not clamped.
      std::vector<float> ones(w.size(), 1.0f), dw(w.size(), 0.0f), ds(static_cast<size_t>(nb), 0.0f);
      lsq_backward(t, w.data(), s.data(), ones.data(), dw.data(), ds.data(), n);
      for (int64_t k = 0; k < n; ++k) {
        const bool c = clamped_by_definition(t, w[size_t(k)], s[size_t(k / kB)]);
        ASSERT_EQ(dw[size_t(k)], c ? 0.0f : 1.0f) << "element " << k;
        clamped[ti] += c;
      }
      total += n;
    }
  }
  EXPECT_GT(clamped[0], 1000);
  EXPECT_GT(clamped[1], 1000);
  std::printf("  %lld values per type; clamped Q8_0 %lld, Q4_0 %lld\n", (long long)total,
              (long long)clamped[0], (long long)clamped[1]);
}

// The least-squares scale search: never a larger error than the reference's
// absmax scale in any block, clearly smaller on Gaussian weights at Q4_0,
// and its values are still exactly what the export writes with those scales.
TEST(FakeQuantWeights, MseScalesNeverWorseThanAbsmaxAndStillExported) {
  std::mt19937_64 rng(11);
  double sum_ref[2] = {0, 0}, sum_mse[2] = {0, 0};
  for (int i = 0; i < 300; ++i) {
    const std::vector<float> w = random_tensor(rng, i + 1);
    const int64_t n = int64_t(w.size()), nb = n / kB;
    for (int ti = 0; ti < 2; ++ti) {
      const TensorType t = kBlockTypes[ti];
      SCOPED_TRACE(testing::Message() << "tensor " << i << " " << tensor_type_name(t));
      std::vector<float> s_ref(static_cast<size_t>(nb)), s_mse(static_cast<size_t>(nb));
      lsq_init_scales(t, w.data(), s_ref.data(), n);
      lsq_init_scales_mse(t, w.data(), s_mse.data(), n);
      std::vector<float> y_ref(w.size()), y_mse(w.size());
      lsq_forward(t, w.data(), s_ref.data(), y_ref.data(), n);
      lsq_forward(t, w.data(), s_mse.data(), y_mse.data(), n);
      ASSERT_TRUE(same_bits(y_mse, export_values(t, w, s_mse.data())));
      for (int64_t b = 0; b < nb; ++b) {
        double e_ref = 0, e_mse = 0;
        for (int64_t j = b * kB; j < (b + 1) * kB; ++j) {
          e_ref += std::pow(double(w[size_t(j)]) - y_ref[size_t(j)], 2);
          e_mse += std::pow(double(w[size_t(j)]) - y_mse[size_t(j)], 2);
        }
        if (std::isfinite(e_ref)) {
          ASSERT_LE(e_mse, e_ref) << "block " << b;
        }
      }
    }
  }
  // Gaussian weights, relative error energy.
  std::normal_distribution<float> normal;
  std::vector<float> g(32 * 4096);
  for (float& v : g) v = normal(rng) * 0.02f;
  for (int ti = 0; ti < 2; ++ti) {
    const TensorType t = kBlockTypes[ti];
    const int64_t n = int64_t(g.size());
    std::vector<float> s(g.size() / kB), y(g.size());
    for (int mode = 0; mode < 2; ++mode) {
      if (mode == 0) lsq_init_scales(t, g.data(), s.data(), n);
      else lsq_init_scales_mse(t, g.data(), s.data(), n);
      lsq_forward(t, g.data(), s.data(), y.data(), n);
      double e = 0;
      for (size_t j = 0; j < g.size(); ++j) e += std::pow(double(g[j]) - y[j], 2);
      (mode == 0 ? sum_ref : sum_mse)[ti] = e;
    }
  }
  std::printf("  Gaussian error energy, absmax -> mse: Q8_0 %.3g -> %.3g, Q4_0 %.3g -> %.3g\n", sum_ref[0],
              sum_mse[0], sum_ref[1], sum_mse[1]);
  EXPECT_LT(sum_mse[1], 0.93 * sum_ref[1]);  // measured: 11 % less
  EXPECT_LT(sum_mse[0], sum_ref[0]);
}

TEST(FakeQuantWeights, HalfAndBfloatRoundTripAndF32Copies) {
  std::mt19937_64 rng(11);
  for (int i = 0; i < 200; ++i) {
    const std::vector<float> w = random_tensor(rng, i + 1);
    const int64_t n = int64_t(w.size());
    for (TensorType t : {TensorType::F16, TensorType::BF16, TensorType::F32}) {
      std::vector<float> wq(w.size());
      std::vector<uint8_t> pass(w.size(), 0);
      weight_fake_quant_forward(t, w.data(), wq.data(), pass.data(), n);
      for (int64_t k = 0; k < n; ++k) {
        const float x = w[size_t(k)];
        const float want = t == TensorType::F16    ? fp16_to_f32(f32_to_fp16(x))
                           : t == TensorType::BF16 ? bf16_to_f32(f32_to_bf16(x))
                                                   : x;
        ASSERT_EQ(f32_bits(wq[size_t(k)]), f32_bits(want)) << tensor_type_name(t) << " element " << k;
        ASSERT_EQ(pass[size_t(k)], 1);
      }
      std::vector<float> inplace = w;
      weight_fake_quant_forward(t, inplace.data(), inplace.data(), pass.data(), n);
      ASSERT_TRUE(same_bits(inplace, wq));
    }
  }
  EXPECT_FALSE(fake_quant_supported(TensorType::F16));
  EXPECT_FALSE(fake_quant_supported(TensorType::F32));
  EXPECT_TRUE(fake_quant_supported(TensorType::Q8_0));
  EXPECT_TRUE(fake_quant_supported(TensorType::Q4_0));
}

TEST(FakeQuantWeights, BackwardsAccumulate) {
  std::mt19937_64 rng(3);
  std::normal_distribution<float> normal;
  for (TensorType t : kBlockTypes) {
    const int64_t n = 64 * kB, nb = 64;
    std::vector<float> w(static_cast<size_t>(n)), s(static_cast<size_t>(nb)), dwq(static_cast<size_t>(n));
    for (float& x : w) x = normal(rng);
    for (float& x : dwq) x = normal(rng);
    lsq_init_scales(t, w.data(), s.data(), n);
    for (float& d : s) d *= 0.7f;  // some codes clamp
    std::vector<float> wq(static_cast<size_t>(n));
    std::vector<uint8_t> pass(static_cast<size_t>(n));
    weight_fake_quant_forward(t, w.data(), wq.data(), pass.data(), n);

    std::vector<float> base(static_cast<size_t>(n)), base_s(static_cast<size_t>(nb));
    for (float& x : base) x = normal(rng);
    for (float& x : base_s) x = normal(rng);
    std::vector<float> dw = base;
    weight_fake_quant_backward(dw.data(), dwq.data(), pass.data(), n);
    for (int64_t k = 0; k < n; ++k)
      ASSERT_EQ(f32_bits(dw[size_t(k)]),
                f32_bits(base[size_t(k)] + (pass[size_t(k)] ? dwq[size_t(k)] : 0.0f)));

    // LSQ: a second call adds the same increments to whatever is there.
    std::vector<float> inc_w(static_cast<size_t>(n), 0.0f), inc_s(static_cast<size_t>(nb), 0.0f);
    lsq_backward(t, w.data(), s.data(), dwq.data(), inc_w.data(), inc_s.data(), n);
    dw = base;
    std::vector<float> ds = base_s;
    lsq_backward(t, w.data(), s.data(), dwq.data(), dw.data(), ds.data(), n);
    for (int64_t k = 0; k < n; ++k) ASSERT_EQ(dw[size_t(k)], base[size_t(k)] + inc_w[size_t(k)]);
    for (int64_t b = 0; b < nb; ++b) ASSERT_EQ(ds[size_t(b)], base_s[size_t(b)] + inc_s[size_t(b)]);
    int64_t zeros = 0;
    for (float x : inc_w) zeros += x == 0.0f;
    EXPECT_GT(zeros, 0);
  }
}

TEST(FakeQuantLsq, ZeroAndTinyScalesGiveZeroCodesAndNoScaleGradient) {
  for (TensorType t : kBlockTypes) {
    std::vector<float> w(64), s = {0.0f, -1e-40f}, wq(64), dw(64, 0.0f), ds(2, 0.0f), dwq(64, 1.0f);
    for (int k = 0; k < 64; ++k) w[size_t(k)] = float(k - 30) * 0.1f;
    lsq_forward(t, w.data(), s.data(), wq.data(), 64);
    EXPECT_EQ(wq, export_values(t, w, s.data()));
    for (float v : wq) EXPECT_EQ(v, 0.0f);
    lsq_backward(t, w.data(), s.data(), dwq.data(), dw.data(), ds.data(), 64);
    EXPECT_EQ(dw, dwq);  // nothing clamped
    EXPECT_EQ(ds, std::vector<float>(2, 0.0f));
  }
}

// LSQ (Esser et al. 2020) differentiates wq = round(w/s) * s, clamped to the
// code range, with rounding as identity. A function whose exact gradient is
// that rule, around the point (w0, s0), with the rounding step c = q0 - w0/s0
// and the codes q0 held fixed:
//   in range: F(w, s) = w + s * c     dF/dw = 1, dF/ds = c = q0 - w0/s0
//   clamped:  F(w, s) = q0 * s        dF/dw = 0, dF/ds = q0
// LSQ then scales the step size's gradient by g = 1/sqrt(N * Qp), N = 32
// weights per scale. Everything here is double and computed from the
// definition, so a wrong sign, a missing clamped term, a gradient through
// clamped codes or a wrong g fails the comparison.
TEST(FakeQuantLsq, GradientsMatchFiniteDifferencesOfTheLsqSurrogate) {
  struct Case {
    TensorType type;
    double qn, qp, g;
  };
  const Case cases[] = {{TensorType::Q8_0, 127, 127, 1.0 / std::sqrt(32.0 * 127.0)},
                        {TensorType::Q4_0, 8, 7, 1.0 / std::sqrt(32.0 * 7.0)}};
  for (const Case& c : cases) {
    SCOPED_TRACE(tensor_type_name(c.type));
    std::mt19937_64 rng(99);
    std::normal_distribution<double> normal;
    std::uniform_real_distribution<double> uni(0.0, 1.0);
    const int64_t nb = 24, n = nb * kB;
    std::vector<float> w(static_cast<size_t>(n)), s(static_cast<size_t>(nb)), R(static_cast<size_t>(n));
    std::vector<double> q0(static_cast<size_t>(n)), u0(static_cast<size_t>(n));
    std::vector<bool> clamped(static_cast<size_t>(n));
    int64_t n_clamped = 0;
    for (int64_t b = 0; b < nb; ++b) {
      const double mag = std::pow(10.0, -2.0 + 3.0 * uni(rng));
      for (int j = 0; j < kB; ++j) w[size_t(b * kB + j)] = float(normal(rng) * mag);
      lsq_init_scales(c.type, w.data() + b * kB, &s[size_t(b)], kB);
      s[size_t(b)] = float(s[size_t(b)] * (0.45 + 0.85 * uni(rng)) * (b % 7 == 3 ? -1.0 : 1.0));
      for (int j = 0; j < kB; ++j) {
        const size_t k = size_t(b * kB + j);
        // Keep w/s away from the rounding boundaries (half-integers, which
        // include the clamp thresholds), so float and double codes agree.
        double u = double(w[k]) / double(s[size_t(b)]);
        while (std::fabs(std::fabs(u) - std::floor(std::fabs(u)) - 0.5) < 1e-3) {
          w[k] = float(normal(rng) * mag);
          u = double(w[k]) / double(s[size_t(b)]);
        }
        const double r = c.type == TensorType::Q8_0 ? std::round(u) : std::floor(u + 0.5);
        clamped[k] = r > c.qp || r < -c.qn;
        q0[k] = std::min(c.qp, std::max(-c.qn, r));
        u0[k] = u;
        R[k] = float(normal(rng));
        n_clamped += clamped[k];
      }
    }
    ASSERT_GT(n_clamped, 20);
    ASSERT_LT(n_clamped, n - 200);

    // The forward at (w0, s0) is F: q0 * fp16(s0).
    std::vector<float> wq(static_cast<size_t>(n));
    lsq_forward(c.type, w.data(), s.data(), wq.data(), n);
    for (int64_t k = 0; k < n; ++k)
      ASSERT_EQ(wq[size_t(k)], float(q0[size_t(k)]) * fp16_to_f32(f32_to_fp16(s[size_t(k / kB)])))
          << "element " << k;

    std::vector<float> dw(static_cast<size_t>(n), 0.0f), ds(static_cast<size_t>(nb), 0.0f);
    lsq_backward(c.type, w.data(), s.data(), R.data(), dw.data(), ds.data(), n);

    // loss(w, s) = sum_k R_k * F_k(w_k, s_block(k)), central differences of
    // the terms that depend on the nudged variable (one block's).
    auto F = [&](size_t k, double wk, double sb) {
      return clamped[k] ? q0[k] * sb : wk + sb * (q0[k] - u0[k]);
    };
    std::vector<double> wd(w.begin(), w.end()), sd(s.begin(), s.end());
    auto block_loss = [&](size_t b) {
      double L = 0;
      for (size_t k = b * kB; k < (b + 1) * kB; ++k) L += double(R[k]) * F(k, wd[k], sd[b]);
      return L;
    };
    for (size_t k = 0; k < size_t(n); ++k) {
      const double h = 1e-3 * std::fabs(sd[k / kB]), keep = wd[k];
      wd[k] = keep + h;
      const double lp = block_loss(k / kB);
      wd[k] = keep - h;
      const double lm = block_loss(k / kB);
      wd[k] = keep;
      const double fd = (lp - lm) / (2 * h);
      ASSERT_NEAR(dw[k], fd, 1e-6 * (1 + std::fabs(fd))) << "dw, element " << k;
    }
    int64_t wrong_g_caught = 0;
    for (size_t b = 0; b < size_t(nb); ++b) {
      const double h = 1e-3 * std::fabs(sd[b]), keep = sd[b];
      sd[b] = keep + h;
      const double lp = block_loss(b);
      sd[b] = keep - h;
      const double lm = block_loss(b);
      sd[b] = keep;
      const double fd = (lp - lm) / (2 * h);
      double scale = 0;  // the size of the block's terms, for the tolerance
      for (int j = 0; j < kB; ++j) {
        const size_t k = b * kB + size_t(j);
        scale += std::fabs(R[k]) * (std::fabs(q0[k]) + std::fabs(u0[k]));
      }
      const double tol = 1e-5 * c.g * scale;
      EXPECT_NEAR(ds[b], c.g * fd, tol) << "ds, block " << b;
      // The test can tell g apart from what a mistake would give: no g, or
      // the per-tensor g 1/sqrt(n * Qp).
      const double g_tensor = 1.0 / std::sqrt(double(n) * c.qp);
      wrong_g_caught += std::fabs(ds[b] - fd) > tol && std::fabs(ds[b] - g_tensor * fd) > tol;
    }
    EXPECT_GE(wrong_g_caught, nb - 1);
  }
}

TEST(FakeQuantActivations, EqualsTheInferenceQuantizerBitForBit) {
  std::mt19937_64 rng(5);
  const std::pair<int64_t, int64_t> shapes[] = {{1, 32}, {3, 64}, {5, 96}, {7, 512}, {2, 4096}, {64, 1024}};
  for (int rep = 0; rep < 20; ++rep) {
    for (auto [rows, cols] : shapes) {
      std::vector<float> x;
      while (int64_t(x.size()) < rows * cols) {
        const std::vector<float> t = random_tensor(rng, rep + 1);
        x.insert(x.end(), t.begin(), t.end());
      }
      x.resize(size_t(rows * cols));
      std::vector<BlockQ8_0> blocks;
      quantize_activations_q8_0(x.data(), rows, cols, blocks);
      std::vector<float> want(x.size()), got(x.size());
      dequantize_row_q8_0(blocks.data(), want.data(), rows * cols);
      act_fake_quant_q8_0(x.data(), got.data(), rows, cols);
      ASSERT_TRUE(same_bits(got, want)) << rows << "x" << cols << " first difference "
                                        << first_diff(got, want);
      act_fake_quant_q8_0(x.data(), x.data(), rows, cols);
      ASSERT_TRUE(same_bits(x, want));
    }
  }
}

TEST(FakeQuantErrors, BadLengthsTypesAndNonFiniteValues) {
  using test::error_of;
  std::vector<float> w(1 << 16, 0.5f), y(w.size()), s(w.size() / kB, 0.1f), g(w.size());
  std::vector<uint8_t> pass(w.size());
  for (TensorType t : {TensorType::Q8_0, TensorType::Q4_0, TensorType::F16, TensorType::F32}) {
    EXPECT_NE(error_of([&] { weight_fake_quant_forward(t, w.data(), y.data(), pass.data(), 48); })
                  .find("multiple of 32"),
              std::string::npos);
  }
  EXPECT_THROW(weight_fake_quant_backward(g.data(), y.data(), pass.data(), 33), Error);
  EXPECT_THROW(lsq_forward(TensorType::Q8_0, w.data(), s.data(), y.data(), 40), Error);
  EXPECT_THROW(lsq_backward(TensorType::Q4_0, w.data(), s.data(), y.data(), g.data(), g.data(), 16), Error);
  EXPECT_THROW(act_fake_quant_q8_0(w.data(), y.data(), 2, 48), Error);
  EXPECT_THROW(act_fake_quant_q8_0(w.data(), y.data(), -1, 32), Error);

  // Types without block scales, and ids that are no type at all.
  EXPECT_NE(error_of([&] { lsq_init_scales(TensorType::F16, w.data(), s.data(), 64); }).find("F16"),
            std::string::npos);
  EXPECT_THROW(lsq_forward(TensorType::BF16, w.data(), s.data(), y.data(), 64), Error);
  EXPECT_NE(error_of([&] { weight_fake_quant_forward(TensorType(99), w.data(), y.data(), pass.data(), 64); })
                .find("id 99"),
            std::string::npos);

  // Non-finite values and scales name their block, also from the threaded
  // path (a large tensor), where the lowest bad block is reported.
  for (int64_t n : {int64_t(256), int64_t(w.size())}) {
    std::vector<float> bad = w;
    const int64_t blk = n / kB / 2;
    bad[size_t(blk * kB + 5)] = NAN;
    bad[size_t((blk + 1) * kB)] = INFINITY;
    const std::string where = "block " + std::to_string(blk) + " ";
    for (TensorType t : {TensorType::Q8_0, TensorType::Q4_0, TensorType::BF16}) {
      EXPECT_NE(
          error_of([&] { weight_fake_quant_forward(t, bad.data(), y.data(), pass.data(), n); }).find(where),
          std::string::npos);
    }
    EXPECT_NE(error_of([&] { lsq_forward(TensorType::Q4_0, bad.data(), s.data(), y.data(), n); }).find(where),
              std::string::npos);
    EXPECT_NE(error_of([&] {
                lsq_backward(TensorType::Q8_0, bad.data(), s.data(), g.data(), y.data(), y.data(), n);
              }).find(where),
              std::string::npos);
    EXPECT_NE(error_of([&] { act_fake_quant_q8_0(bad.data(), y.data(), n / 64, 64); }).find(where),
              std::string::npos);
    std::vector<float> bad_s = s;
    bad_s[size_t(blk)] = INFINITY;
    EXPECT_NE(error_of([&] { lsq_forward(TensorType::Q8_0, w.data(), bad_s.data(), y.data(), n); })
                  .find(where + "scale is not finite"),
              std::string::npos);
  }
}

}  // namespace
}  // namespace qat
