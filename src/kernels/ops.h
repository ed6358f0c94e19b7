// Element-wise and row-wise operations of the Gemma forward pass, FP32,
// vectorized by the compiler for the build target.
#pragma once
#include <cstdint>

namespace qat {

// out = x / sqrt(mean(x^2) + eps) * w   (w = nullptr: no scale, Gemma 4's V-norm).
// Gemma 3's (1 + w) is folded into w at load time. x and out may alias.
void rms_norm(const float* x, const float* w, float* out, int64_t n, float eps);
// The same on `rows` contiguous rows of n: x (rows, n) -> out (rows, n).
void rms_norm_rows(const float* x, const float* w, float* out, int64_t rows, int64_t n, float eps);

// tanh-approximated GELU (HF "gelu_pytorch_tanh").
float gelu_tanh(float x);
// out[i] = gelu_tanh(gate[i]) * up[i]
void geglu(const float* gate, const float* up, float* out, int64_t n);

// In-place NeoX-style rotary embedding on one head vector of head_dim floats:
// pairs (j, j + head_dim/2) rotate by angle pos * inv_freq[j] for j < n_freq;
// inv_freq holds head_dim/2 entries (zeros leave a pair untouched).
void rope(float* x, int64_t head_dim, const float* cos_tab, const float* sin_tab);

// In-place softmax over n values.
void softmax(float* x, int64_t n);

// Attention's masked softmax down the columns of s (rows, cols), one column
// per query (model/attention.cpp lays a block of queries across the
// columns, so the reductions run across vector lanes): column c's rows
// [lo[c], hi[c]] become softmax(cap * tanh(s * scale / cap)) (cap 0: no
// softcap), as `softcap` and `softmax` compute them, and its other rows 0.
void softmax_columns(float* s, int64_t rows, int64_t cols, float scale, float cap, const int32_t* lo,
                     const int32_t* hi);

// x = cap * tanh(x / cap)
void softcap(float* x, int64_t n, float cap);

// Attention's inner loops: sum a[i] * b[i], and y += a * x.
float dot_f32(const float* a, const float* b, int64_t n);
void axpy_f32(float a, const float* x, float* y, int64_t n);

// The vectorizable exp (relative error < 2e-7) and tanh (absolute error
// < 3e-7) that softmax, GELU and softcap use; exposed for tests.
float fast_exp(float x);
float fast_tanh(float x);

}  // namespace qat
