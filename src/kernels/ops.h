// Element-wise and row-wise operations of the Gemma forward pass, FP32.
#pragma once
#include <cstdint>

namespace qat {

// out = x / sqrt(mean(x^2) + eps) * w   (w = nullptr: no scale, Gemma 4's V-norm).
// Gemma 3's (1 + w) is folded into w at load time. x and out may alias.
void rms_norm(const float* x, const float* w, float* out, int64_t n, float eps);

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

// x = cap * tanh(x / cap)
void softcap(float* x, int64_t n, float cap);

}  // namespace qat
