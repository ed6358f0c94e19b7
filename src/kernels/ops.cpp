// Loops written so the compiler vectorizes them for the build's target
// (`omp simd` permits reordering float reductions; exp and tanh are
// branch-free polynomials instead of libm calls, which do not vectorize;
// this file is compiled with -fno-trapping-math, cmake/kernel_isa_flags.cmake).
#include "kernels/ops.h"

#include <bit>
#include <cmath>
#include <cstdint>

namespace qat {

namespace {

// exp(x), relative error < 2e-7 on [-87, 88] (Cephes expf: range reduction
// by ln 2 in two parts, degree-6 polynomial, 2^n through the exponent bits).
// Inputs are clamped to that range: exp(-87) = 1.6e-38 stands in for
// anything smaller, which no caller (softmax, tanh) can tell from 0.
inline float exp_poly(float x) {
  x = x < -87.0f ? -87.0f : x;
  x = x > 88.0f ? 88.0f : x;
  // n = round(x / ln 2) by the 1.5 * 2^23 trick (std::floor blocks
  // vectorization); |r| <= ln2 / 2 either way.
  const float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  const float z = r * r;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * z + r + 1.0f;
  // 2^n through the exponent bits; the clamp keeps n in [-126, 127].
  return p * std::bit_cast<float>((int32_t(n) + 127) << 23);
}

// tanh(x) within 3e-7 absolute: (1 - e^-2|x|) / (1 + e^-2|x|) with the sign
// put back; below |x| = 0.0625 an odd Taylor polynomial avoids the
// cancellation in 1 - e^-2|x|.
inline float tanh_poly(float x) {
  const float ax = std::fabs(x);
  const float t = exp_poly(-2.0f * ax);
  const float big = (1.0f - t) / (1.0f + t);
  const float x2 = x * x;
  const float small = ax * (1.0f + x2 * (-1.0f / 3.0f + x2 * (2.0f / 15.0f + x2 * (-17.0f / 315.0f))));
  // Blend without a branch (keeps callers' loops vectorizable).
  const float use_small = float(ax < 0.0625f);
  const float v = big + use_small * (small - big);
  return std::copysign(v, x);
}

inline float gelu_poly(float x) {
  const float k = 0.7978845608028654f;  // sqrt(2/pi)
  return 0.5f * x * (1.0f + tanh_poly(k * (x + 0.044715f * x * x * x)));
}

}  // namespace

float fast_exp(float x) { return exp_poly(x); }
float fast_tanh(float x) { return tanh_poly(x); }

void rms_norm(const float* x, const float* w, float* out, int64_t n, float eps) {
  // Accumulate in double: the result stays within an ulp of torch's pairwise
  // float sum for the sizes Gemma uses.
  double ss = 0;
#pragma omp simd reduction(+ : ss)
  for (int64_t i = 0; i < n; ++i) ss += double(x[i]) * double(x[i]);
  // HF: x * pow(mean + eps, -0.5), computed in float.
  const float mean = float(ss / double(n));
  const float scale = 1.0f / std::sqrt(mean + eps);
  if (w) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) out[i] = (x[i] * scale) * w[i];
  } else {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) out[i] = x[i] * scale;
  }
}

float gelu_tanh(float x) { return gelu_poly(x); }

void geglu(const float* gate, const float* up, float* out, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) out[i] = gelu_poly(gate[i]) * up[i];
}

void rope(float* x, int64_t head_dim, const float* cos_tab, const float* sin_tab) {
  const int64_t half = head_dim / 2;
  float* lo = x;
  float* hi = x + half;
#pragma omp simd
  for (int64_t j = 0; j < half; ++j) {
    const float a = lo[j], b = hi[j];
    lo[j] = a * cos_tab[j] - b * sin_tab[j];
    hi[j] = b * cos_tab[j] + a * sin_tab[j];
  }
}

void softmax(float* x, int64_t n) {
  float m = -INFINITY;
#pragma omp simd reduction(max : m)
  for (int64_t i = 0; i < n; ++i) m = x[i] > m ? x[i] : m;
  double sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int64_t i = 0; i < n; ++i) {
    x[i] = exp_poly(x[i] - m);
    sum += x[i];
  }
  const float inv = float(1.0 / sum);
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void softcap(float* x, int64_t n, float cap) {
  const float inv = 1.0f / cap;
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) x[i] = cap * tanh_poly(x[i] * inv);
}

float dot_f32(const float* a, const float* b, int64_t n) {
  float s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

void axpy_f32(float a, const float* x, float* y, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

}  // namespace qat
