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

// 2^n for a whole-valued n in [-126, 127], through the exponent bits.
// Specialized for a vector of floats where one is used (kernels/ops.cpp's
// softmax), so that it runs the same exp_in_range.
template <class F>
struct Pow2Whole;
template <>
struct Pow2Whole<float> {
  static float of(float n) { return std::bit_cast<float>((int32_t(n) + 127) << 23); }
};

// exp(x) for x in [-87, 88], relative error < 2e-7 (Cephes expf: range
// reduction by ln 2 in two parts, degree-6 polynomial, 2^n through the
// exponent bits). The caller keeps x in range. F: float, or a vector of
// floats with a Pow2Whole specialization.
template <class F>
inline F exp_in_range(F x) {
  // n = round(x / ln 2) by the 1.5 * 2^23 trick (std::floor blocks
  // vectorization); |r| <= ln2 / 2 either way.
  const F n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  F r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  const F z = r * r;
  F p = F{} + 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * z + r + 1.0f;
  return p * Pow2Whole<F>::of(n);
}

// exp(x) for any x: clamped to [-87, 88] first. exp(-87) = 1.6e-38 stands
// in for anything smaller, which no caller (softmax, tanh) can tell from 0.
inline float exp_poly(float x) {
  x = x < -87.0f ? -87.0f : x;
  x = x > 88.0f ? 88.0f : x;
  return exp_in_range(x);
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

// GELU, tanh form (HF "gelu_pytorch_tanh"): 0.5 x (1 + tanh(u)) with
// u = sqrt(2/pi) (x + 0.044715 x^3), computed as x / (1 + e^-2u), the same
// function (0.5 (1 + tanh u) = 1 / (1 + e^-2u)). One exp and one division:
// about half the vector operations of the tanh form, which GeGLU's cost is
// made of, and no cancellation in 1 + tanh(u) for negative x.
constexpr float kGeluK = 0.7978845608028654f;  // sqrt(2/pi)
constexpr float kGeluA = 0.044715f;

// e^-2u, the exponent clamped to [-30, 30], where GELU is x (e^-30 vanishes
// next to 1) or x e^-30. Not exp_poly's +-87: GCC evaluates a clamped branch
// for every lane and blends, and x / (1 + e^87) is a denormal for any
// |x| < 0.7, whose microcode assists made GeGLU three times slower on an
// AMD EPYC (bench_ops BM_Geglu).
inline float gelu_exp_term(float x) {
  float a = x * ((-2.0f * kGeluK) + (-2.0f * kGeluK * kGeluA) * (x * x));  // -2u
  a = a < -30.0f ? -30.0f : a;
  a = a > 30.0f ? 30.0f : a;
  return exp_in_range(a);
}

// GELU from e = gelu_exp_term(x), for callers that reuse e (the trainer's
// gradient). Below x = -10 the result is 0 (the clamped exponent would leave
// x e^-30, which grows with |x|); HF's float computation gives 0 there too.
inline float gelu_from_exp_term(float x, float e) {
  const float g = x / (1.0f + e);
  return x < -10.0f ? 0.0f : g;
}

inline float gelu_poly(float x) { return gelu_from_exp_term(x, gelu_exp_term(x)); }

}  // namespace qat
