// AdamW, following torch/optim/adam.py (_single_tensor_adam with
// decoupled_weight_decay=True) and the ATen CPU kernels it calls:
//   param.mul_(1 - lr*wd)                       float multiply by float(double)
//   exp_avg.lerp_(grad, 1 - beta1)              fma(w, g - m, m) (Lerp.h, fmadd)
//   exp_avg_sq.mul_(beta2).addcmul_(g, g, 1-b2) fma((1-b2)*g, g, v*b2)
//   bias corrections, step size                 double (Python floats)
//   denom = sqrt(v) / bc2_sqrt + eps            float
//   param.addcdiv_(m, denom, -step_size)        p + (-step_size*m) / denom
// A scalar torch receives as a Python float reaches a float32 kernel rounded
// to float once; each one below is rounded exactly where torch rounds it.
// The two FMAs are torch's: lerp's vector path calls fmadd, and torch's build
// contracts addcmul's self + value*t1*t2 (both checked against torch 2.15 on
// AVX2 over 1M elements, tails included). They are explicit here; the weight
// decay is its own pass, as in torch, because g++ would otherwise fuse
// p*decay + update into an FMA (one rounding instead of two), even across
// statements. The golden test (tests/train/adamw_test.cpp) catches either.
#include "train/adamw.h"

#include <cmath>

#include "base/error.h"

namespace qat {

namespace {

// Below this many elements a parallel region costs more than it saves.
constexpr int64_t kParallelMin = 1 << 15;

// The per-step scalars, each rounded to float where torch's kernel rounds it.
struct StepScalars {
  float decay;          // 1 - lr*wd, or 1 (an exact no-op) when not decayed
  float w1;             // lerp weight 1 - beta1
  float beta2;
  float one_minus_b2;   // addcmul value 1 - beta2
  float bc2_sqrt;       // sqrt(1 - beta2^step), divided by as a float
  float eps;
  float neg_step_size;  // -lr / (1 - beta1^step)
};

StepScalars step_scalars(const AdamWConfig& c, float lr, bool decayed, int64_t step) {
  const double lr_d = lr, b1 = c.beta1, b2 = c.beta2, t = double(step);
  const double bc1 = 1.0 - std::pow(b1, t);
  const double bc2 = 1.0 - std::pow(b2, t);
  StepScalars s;
  s.decay = decayed && c.weight_decay != 0.0f ? float(1.0 - lr_d * double(c.weight_decay)) : 1.0f;
  s.w1 = float(1.0 - b1);
  s.beta2 = c.beta2;
  s.one_minus_b2 = float(1.0 - b2);
  s.bc2_sqrt = float(std::pow(bc2, 0.5));  // Python's bc2**0.5 is libm pow, not sqrt
  s.eps = c.eps;
  s.neg_step_size = float(-(lr_d / bc1));
  return s;
}

void decay(float* p, int64_t n, float factor) {
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) p[i] *= factor;
}

// Not vectorised: std::sqrt may set errno. Built with -fno-math-errno, g++
// vectorises this loop (2.7x faster here) with identical results.
void update(float* p, const float* g, float* m, float* v, int64_t n, const StepScalars& s) {
  // torch's lerp (ATen Lerp.h): small weights start from m, large ones from g.
  const bool small_w = std::fabs(s.w1) < 0.5f;
  const float coeff = small_w ? s.w1 : s.w1 - 1.0f;
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) {
    const float gi = g[i], m0 = m[i];
    const float mi = std::fma(coeff, gi - m0, small_w ? m0 : gi);
    const float vi = std::fma(s.one_minus_b2 * gi, gi, v[i] * s.beta2);
    const float denom = std::sqrt(vi) / s.bc2_sqrt + s.eps;
    p[i] += (s.neg_step_size * mi) / denom;
    m[i] = mi;
    v[i] = vi;
  }
}

}  // namespace

AdamW::AdamW(const ParameterList& params, AdamWConfig config) : config_(config) {
  QAT_CHECK(config.beta1 >= 0.0f && config.beta1 < 1.0f, "AdamW: beta1 must be in [0, 1), got ",
            config.beta1);
  QAT_CHECK(config.beta2 >= 0.0f && config.beta2 < 1.0f, "AdamW: beta2 must be in [0, 1), got ",
            config.beta2);
  QAT_CHECK(config.eps >= 0.0f, "AdamW: eps must be >= 0, got ", config.eps);
  QAT_CHECK(config.weight_decay >= 0.0f, "AdamW: weight_decay must be >= 0, got ",
            config.weight_decay);
  slots_.reserve(params.size());
  for (const Parameter& p : params) slots_.push_back(AdamWSlot{p.name, 0, {}, {}});
}

void AdamW::step(ParameterList& params, float lr) {
  QAT_CHECK(std::isfinite(lr) && lr >= 0.0f, "AdamW: learning rate must be finite and >= 0, got ",
            lr);
  QAT_CHECK(params.size() == slots_.size(), "AdamW: step with ", params.size(),
            " parameters, but the optimizer was built for ", slots_.size());
  for (size_t k = 0; k < params.size(); ++k) {
    Parameter& p = params[k];
    AdamWSlot& s = slots_[k];
    QAT_CHECK(p.name == s.name, "AdamW: parameter ", k, " is '", p.name, "', the optimizer has '",
              s.name, "' there (the list changed order)");
    if (!p.trainable) continue;
    if (s.m.empty() && p.numel > 0) {
      s.m.assign(size_t(p.numel), 0.0f);
      s.v.assign(size_t(p.numel), 0.0f);
    }
    QAT_CHECK(int64_t(s.m.size()) == p.numel && int64_t(s.v.size()) == p.numel, "AdamW: '",
              p.name, "' has ", p.numel, " elements but its state has ", s.m.size(), " and ",
              s.v.size());
    s.step += 1;
    const StepScalars scalars = step_scalars(config_, p.lr_scale == 1.0f ? lr : lr * p.lr_scale, p.decayed(), s.step);
    if (scalars.decay != 1.0f) decay(p.value, p.numel, scalars.decay);
    update(p.value, p.grad, s.m.data(), s.v.data(), p.numel, scalars);
  }
  step_count_ += 1;
}

}  // namespace qat
