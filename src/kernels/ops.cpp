// Loops written so the compiler vectorizes them for the build's target
// (`omp simd` permits reordering float reductions; exp and tanh are
// branch-free polynomials instead of libm calls, which do not vectorize;
// this file is compiled with -fno-trapping-math, cmake/kernel_isa_flags.cmake).
#include "kernels/ops.h"

#include "kernels/fast_math.h"

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace qat {

float fast_exp(float x) { return exp_poly(x); }
float fast_tanh(float x) { return tanh_poly(x); }

namespace {

// Sum of x[i]^2 in double: the result stays within an ulp of torch's pairwise
// float sum for the sizes Gemma uses. kLanes partial sums, then a tree:
// `omp simd reduction` summed the lanes one after another through memory.
inline double sum_of_squares(const float* x, int64_t n) {
  constexpr int64_t kLanes = 16;
  double acc[kLanes] = {};
  int64_t i0 = 0;
  for (; i0 + kLanes <= n; i0 += kLanes)
#pragma omp simd
    for (int64_t j = 0; j < kLanes; ++j) acc[j] += double(x[i0 + j]) * double(x[i0 + j]);
  for (int64_t j = 0; i0 + j < n; ++j) acc[j] += double(x[i0 + j]) * double(x[i0 + j]);
  for (int64_t h = kLanes / 2; h >= 1; h /= 2)
#pragma omp simd
    for (int64_t j = 0; j < h; ++j) acc[j] += acc[j + h];
  return acc[0];
}

// out = (x * scale) * w, or x * scale without a weight.
inline void scale_row(const float* x, const float* w, float* out, int64_t n, float scale) {
  if (w) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) out[i] = (x[i] * scale) * w[i];
  } else {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) out[i] = x[i] * scale;
  }
}

}  // namespace

void rms_norm_rows(const float* x, const float* w, float* out, int64_t rows, int64_t n, float eps) {
  // Short rows (head_dim 32 to 256, hidden 128 to 2560), 9 or more per token
  // and layer: one row at a time, each row's reduction and square root were
  // a latency chain (130 cycles for a row of 128). Here 16 rows' sums are
  // independent work the core overlaps, and their 16 square roots and
  // divisions are one vector operation each.
  constexpr int64_t kGroup = 16;
  for (int64_t r0 = 0; r0 < rows; r0 += kGroup) {
    const int64_t nr = rows - r0 < kGroup ? rows - r0 : kGroup;
    float mean[kGroup], scale[kGroup];
    for (int64_t r = 0; r < kGroup; ++r)
      mean[r] = r < nr ? float(sum_of_squares(x + (r0 + r) * n, n) / double(n)) : 1.0f;
    // HF: x * pow(mean + eps, -0.5), computed in float.
#pragma omp simd
    for (int64_t r = 0; r < kGroup; ++r) scale[r] = 1.0f / std::sqrt(mean[r] + eps);
    for (int64_t r = 0; r < nr; ++r) scale_row(x + (r0 + r) * n, w, out + (r0 + r) * n, n, scale[r]);
  }
}

void rms_norm(const float* x, const float* w, float* out, int64_t n, float eps) {
  scale_row(x, w, out, n, 1.0f / std::sqrt(float(sum_of_squares(x, n) / double(n)) + eps));
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

namespace {

constexpr int64_t kSoftmaxChunk = 16;  // columns at a time: per-column state in a few registers

// softmax_columns on the last nc < kSoftmaxChunk columns of s (all of them
// where the query block is narrower than a chunk: group sizes that do not
// divide 16).
void softmax_tail(float* s, int64_t rows, int64_t cols, int64_t nc, float scale, float cap, const int32_t* l,
                  const int32_t* h) {
  const float inv_cap = cap > 0 ? 1.0f / cap : 0.0f;
  // Two running maxima (even and odd rows) halve the dependency chain.
  float mx[kSoftmaxChunk], mx2[kSoftmaxChunk], inv[kSoftmaxChunk];
  double sum[kSoftmaxChunk];
  for (int64_t c = 0; c < nc; ++c) mx[c] = mx2[c] = -INFINITY, sum[c] = 0;
  // The row index compares as int32 like the windows, so that one vector
  // compare covers all columns (an int64 index split each mask in two).
  for (int32_t r = 0; r < int32_t(rows); ++r) {
    float* row = s + r * cols;
    float* m = (r & 1) ? mx2 : mx;
    // Two loops, not one `cap > 0 ? ... : ...`: vectorized, that evaluates
    // tanh on every lane whether or not there is a softcap.
    if (cap > 0) {
#pragma omp simd
      for (int64_t c = 0; c < nc; ++c) row[c] = cap * tanh_poly(row[c] * scale * inv_cap);
    } else {
#pragma omp simd
      for (int64_t c = 0; c < nc; ++c) row[c] *= scale;
    }
#pragma omp simd
    for (int64_t c = 0; c < nc; ++c) m[c] = r >= l[c] && r <= h[c] && row[c] > m[c] ? row[c] : m[c];
  }
  for (int64_t c = 0; c < nc; ++c) mx[c] = mx2[c] > mx[c] ? mx2[c] : mx[c];
  for (int32_t r = 0; r < int32_t(rows); ++r) {
    float* row = s + r * cols;
#pragma omp simd
    for (int64_t c = 0; c < nc; ++c) {
      row[c] = r >= l[c] && r <= h[c] ? exp_poly(row[c] - mx[c]) : 0.0f;
      sum[c] += row[c];
    }
  }
  for (int64_t c = 0; c < nc; ++c) inv[c] = float(1.0 / sum[c]);
  for (int64_t r = 0; r < rows; ++r) {
    float* row = s + r * cols;
#pragma omp simd
    for (int64_t c = 0; c < nc; ++c) row[c] *= inv[c];
  }
}

// The column softmax works on a row of W columns as one GCC vector of the
// target's native width: 16 floats with AVX-512, 8 elsewhere (one AVX2
// register, two NEON ones). A 16-float vector on an AVX2 target was lowered
// lane by lane through the stack (bench_ops BM_SoftmaxColumns 48 x 16: 7.6 us
// on a Zen 3 against 0.6 us on the AVX-512 Zen 4). Half a row is widened to
// double for the sums: a whole row of doubles would be twice the native width.
#if defined(__AVX512F__)
using SoftmaxF = float __attribute__((vector_size(64)));
using SoftmaxI = int32_t __attribute__((vector_size(64)));
using SoftmaxHalfF = float __attribute__((vector_size(32)));
using SoftmaxHalfD = double __attribute__((vector_size(64)));
#else
using SoftmaxF = float __attribute__((vector_size(32)));
using SoftmaxI = int32_t __attribute__((vector_size(32)));
using SoftmaxHalfF = float __attribute__((vector_size(16)));
using SoftmaxHalfD = double __attribute__((vector_size(32)));
#endif
constexpr int kSoftmaxLanes = int(sizeof(SoftmaxF) / sizeof(float));
static_assert(kSoftmaxChunk % kSoftmaxLanes == 0, "a chunk is whole vectors");

}  // namespace

template <>
struct Pow2Whole<SoftmaxF> {
  static SoftmaxF of(SoftmaxF n) {
    return std::bit_cast<SoftmaxF>((__builtin_convertvector(n, SoftmaxI) + 127) << 23);
  }
};

namespace {

template <class V, class T>
inline V load_vec(const T* p) {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store_vec(float* p, SoftmaxF v) { std::memcpy(p, &v, sizeof v); }
// Lanes of a where m is set (all ones), of b elsewhere.
inline SoftmaxF select(SoftmaxI m, SoftmaxF a, SoftmaxF b) {
  return std::bit_cast<SoftmaxF>((m & std::bit_cast<SoftmaxI>(a)) | (~m & std::bit_cast<SoftmaxI>(b)));
}
// All ones in the lanes whose key window [lo, hi] holds row r.
inline SoftmaxI in_window(int32_t r, SoftmaxI lo, SoftmaxI hi) {
  const SoftmaxI rv = SoftmaxI{} + r;
  return (rv >= lo) & (rv <= hi);
}
// The low and high halves of a row vector, and back.
#if defined(__AVX512F__)
inline SoftmaxHalfF low_half(SoftmaxF v) { return __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7); }
inline SoftmaxHalfF high_half(SoftmaxF v) { return __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15); }
inline SoftmaxF join_halves(SoftmaxHalfF a, SoftmaxHalfF b) {
  return __builtin_shufflevector(a, b, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
}
#else
inline SoftmaxHalfF low_half(SoftmaxF v) { return __builtin_shufflevector(v, v, 0, 1, 2, 3); }
inline SoftmaxHalfF high_half(SoftmaxF v) { return __builtin_shufflevector(v, v, 4, 5, 6, 7); }
inline SoftmaxF join_halves(SoftmaxHalfF a, SoftmaxHalfF b) { return __builtin_shufflevector(a, b, 0, 1, 2, 3, 4, 5, 6, 7); }
#endif

// softmax_columns on kSoftmaxLanes columns of s, one vector a row, so that
// each column's running maximum and sum is a lane of a register. Written as
// scalar loops over the columns inside a loop over the rows, GCC kept those
// in arrays on the stack: a store-to-load forward per row, which on AMD
// Zen 4 is not forwarded at all for a 512-bit reload of two 256-bit stores
// (75 cycles a row; bench_ops BM_SoftmaxColumns). Every column's arithmetic
// is the same at either width, so both widths give the same bits.
void softmax_lanes(float* s, int64_t rows, int64_t cols, float scale, float cap, const int32_t* l, const int32_t* h) {
  const SoftmaxI lo = load_vec<SoftmaxI>(l), hi = load_vec<SoftmaxI>(h);
  const SoftmaxF neg_inf = SoftmaxF{} - INFINITY;
  // Without a softcap the scale is applied with the exponent, one pass less:
  // scale > 0 and rounding is monotone, so max(x) * scale is exactly
  // max(x * scale).
  float mul = scale;
  if (cap > 0) {
    const float inv_cap = 1.0f / cap;
    for (int64_t r = 0; r < rows; ++r)
#pragma omp simd
      for (int64_t c = 0; c < kSoftmaxLanes; ++c) s[r * cols + c] = cap * tanh_poly(s[r * cols + c] * scale * inv_cap);
    mul = 1.0f;
  }
  // Two running maxima (even and odd rows) halve the dependency chain.
  SoftmaxF m0 = neg_inf, m1 = neg_inf;
  int32_t r = 0;
  for (; r + 1 < int32_t(rows); r += 2) {
    const SoftmaxF a = load_vec<SoftmaxF>(s + r * cols), b = load_vec<SoftmaxF>(s + (r + 1) * cols);
    m0 = select(in_window(r, lo, hi) & (a > m0), a, m0);
    m1 = select(in_window(r + 1, lo, hi) & (b > m1), b, m1);
  }
  if (r < int32_t(rows)) {
    const SoftmaxF a = load_vec<SoftmaxF>(s + r * cols);
    m0 = select(in_window(r, lo, hi) & (a > m0), a, m0);
  }
  const SoftmaxF m = select(m1 > m0, m1, m0) * mul;
  SoftmaxHalfD sum_lo = {}, sum_hi = {};
  for (r = 0; r < int32_t(rows); ++r) {
    SoftmaxF x = load_vec<SoftmaxF>(s + r * cols) * mul - m;
    // exp_poly's clamp; rows outside a window may hold anything.
    x = select(x < -87.0f, SoftmaxF{} - 87.0f, x);
    x = select(x > 88.0f, SoftmaxF{} + 88.0f, x);
    const SoftmaxF e = select(in_window(r, lo, hi), exp_in_range(x), SoftmaxF{});
    store_vec(s + r * cols, e);
    sum_lo += __builtin_convertvector(low_half(e), SoftmaxHalfD);
    sum_hi += __builtin_convertvector(high_half(e), SoftmaxHalfD);
  }
  const SoftmaxF inv = join_halves(__builtin_convertvector(1.0 / sum_lo, SoftmaxHalfF),
                                   __builtin_convertvector(1.0 / sum_hi, SoftmaxHalfF));
  for (r = 0; r < int32_t(rows); ++r) store_vec(s + r * cols, load_vec<SoftmaxF>(s + r * cols) * inv);
}

void softmax_chunk16(float* s, int64_t rows, int64_t cols, float scale, float cap, const int32_t* l,
                     const int32_t* h) {
  for (int64_t c = 0; c < kSoftmaxChunk; c += kSoftmaxLanes) softmax_lanes(s + c, rows, cols, scale, cap, l + c, h + c);
}

}  // namespace

void softmax_columns(float* s, int64_t rows, int64_t cols, float scale, float cap, const int32_t* lo,
                     const int32_t* hi) {
  int64_t c0 = 0;
  for (; c0 + kSoftmaxChunk <= cols; c0 += kSoftmaxChunk)
    softmax_chunk16(s + c0, rows, cols, scale, cap, lo + c0, hi + c0);
  if (c0 < cols) softmax_tail(s + c0, rows, cols, cols - c0, scale, cap, lo + c0, hi + c0);
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
