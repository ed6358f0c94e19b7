// torch computes the norm in float with its own reduction order; we compute it
// in double over a fixed chunking, which rounds to the exact norm and is the
// same on every thread count (torch's result can differ from it by an ulp).
// The scale follows torch/nn/utils/clip_grad.py op for op: `max_norm / t` on
// a tensor is reciprocal(t) * max_norm, all in float.
#include "train/grad_clip.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "base/error.h"

namespace qat {

namespace {

// Chunks fix the summation order independently of the thread count.
constexpr int64_t kChunk = 1 << 14;
constexpr int64_t kParallelMin = 1 << 15;

double sum_of_squares(const float* g, int64_t n) {
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  std::vector<double> partial(size_t(chunks), 0.0);
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t end = std::min(n, (c + 1) * kChunk);
    double s = 0.0;
    for (int64_t i = c * kChunk; i < end; ++i) s += double(g[i]) * double(g[i]);
    partial[size_t(c)] = s;
  }
  double total = 0.0;
  for (double s : partial) total += s;
  return total;
}

void scale(float* g, int64_t n, float coef) {
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) g[i] *= coef;
}

}  // namespace

float grad_norm(const ParameterList& params) {
  double total = 0.0;
  for (const Parameter& p : params)
    if (p.trainable) total += sum_of_squares(p.grad, p.numel);
  return float(std::sqrt(total));
}

float clip_grad_norm(ParameterList& params, float max_norm) {
  QAT_CHECK(max_norm > 0.0f && std::isfinite(max_norm),
            "clip_grad_norm: max_norm must be positive and finite, got ", max_norm);
  const float total = grad_norm(params);
  const float coef = (1.0f / (total + 1e-6f)) * max_norm;
  // A NaN coef stays NaN (every comparison with it is false), as in torch.clamp.
  const float clamped = 1.0f < coef ? 1.0f : coef;
  // Multiplying by 1 is exact, so unclipped gradients keep every bit.
  for (Parameter& p : params)
    if (p.trainable) scale(p.grad, p.numel, clamped);
  return total;
}

}  // namespace qat
