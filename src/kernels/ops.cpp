#include "kernels/ops.h"

#include <cmath>

namespace qat {

void rms_norm(const float* x, const float* w, float* out, int64_t n, float eps) {
  // Accumulate in double: one pass, and the result stays within an ulp of
  // torch's pairwise float sum for the sizes Gemma uses.
  double ss = 0;
  for (int64_t i = 0; i < n; ++i) ss += double(x[i]) * double(x[i]);
  // HF: x * pow(mean + eps, -0.5), computed in float.
  const float mean = float(ss / double(n));
  const float scale = 1.0f / std::sqrt(mean + eps);
  if (w)
    for (int64_t i = 0; i < n; ++i) out[i] = (x[i] * scale) * w[i];
  else
    for (int64_t i = 0; i < n; ++i) out[i] = x[i] * scale;
}

float gelu_tanh(float x) {
  const float k = 0.7978845608028654f;  // sqrt(2/pi)
  return 0.5f * x * (1.0f + std::tanh(k * (x + 0.044715f * x * x * x)));
}

void geglu(const float* gate, const float* up, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = gelu_tanh(gate[i]) * up[i];
}

void rope(float* x, int64_t head_dim, const float* cos_tab, const float* sin_tab) {
  const int64_t half = head_dim / 2;
  for (int64_t j = 0; j < half; ++j) {
    const float a = x[j], b = x[j + half];
    x[j] = a * cos_tab[j] - b * sin_tab[j];
    x[j + half] = b * cos_tab[j] + a * sin_tab[j];
  }
}

void softmax(float* x, int64_t n) {
  float m = -INFINITY;
  for (int64_t i = 0; i < n; ++i) m = x[i] > m ? x[i] : m;
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - m);
    sum += x[i];
  }
  const float inv = float(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void softcap(float* x, int64_t n, float cap) {
  for (int64_t i = 0; i < n; ++i) x[i] = cap * std::tanh(x[i] / cap);
}

}  // namespace qat
