// Branch-free exp and tanh polynomials that vectorize inside the caller's
// loop (libm calls do not). Shared by the inference row ops (kernels/ops.cpp)
// and the training ops, so training computes GELU and softcap exactly as the
// deployed model does. Callers' files need -fno-trapping-math for GCC to
// vectorize the blends.
#pragma once
#include <bit>
#include <cmath>
#include <cstdint>

namespace qat {

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

}  // namespace qat
