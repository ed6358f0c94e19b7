// Loops written so the compiler vectorizes them for the build's target
// (`omp simd` permits reordering float reductions; exp and tanh are
// branch-free polynomials instead of libm calls, which do not vectorize;
// this file is compiled with -fno-trapping-math, cmake/kernel_isa_flags.cmake).
#include "kernels/ops.h"

#include "kernels/fast_math.h"

#include <cmath>
#include <cstdint>

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

// softmax_columns on columns [0, nc) of s. kFull: nc is kSoftmaxChunk, so
// every loop has a fixed trip count and the running maxima and sums stay in
// registers (with a run-time nc GCC kept them in memory and versioned each
// loop; the function was 1,100 instructions).
template <bool kFull>
void softmax_chunk(float* s, int64_t rows, int64_t cols, int64_t nc_arg, float scale, float cap, const int32_t* l,
                   const int32_t* h) {
  const int64_t nc = kFull ? kSoftmaxChunk : nc_arg;
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

}  // namespace

void softmax_columns(float* s, int64_t rows, int64_t cols, float scale, float cap, const int32_t* lo,
                     const int32_t* hi) {
  int64_t c0 = 0;
  for (; c0 + kSoftmaxChunk <= cols; c0 += kSoftmaxChunk)
    softmax_chunk<true>(s + c0, rows, cols, kSoftmaxChunk, scale, cap, lo + c0, hi + c0);
  if (c0 < cols) softmax_chunk<false>(s + c0, rows, cols, cols - c0, scale, cap, lo + c0, hi + c0);
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
