#include "eval/token_metrics.h"

#include <algorithm>
#include <cmath>

#include "base/error.h"

namespace qat {

double log_sum_exp(const float* logits, int vocab) {
  QAT_CHECK(vocab > 0, "internal: empty logits row");
  const float mx = *std::max_element(logits, logits + vocab);
  double s = 0;
  for (int i = 0; i < vocab; ++i) s += std::exp(double(logits[i]) - double(mx));
  return double(mx) + std::log(s);
}

void log_softmax(const float* logits, int vocab, double* out) {
  const double lse = log_sum_exp(logits, vocab);
  for (int i = 0; i < vocab; ++i) out[i] = double(logits[i]) - lse;
}

TokenScore score_token(const float* logits, int vocab, int32_t target) {
  QAT_CHECK(target >= 0 && target < vocab, "token id ", target, " is outside the vocabulary (",
            vocab, " entries)");
  TokenScore s;
  s.nll = log_sum_exp(logits, vocab) - double(logits[target]);
  s.p_target = std::exp(-s.nll);
  s.argmax = int32_t(std::max_element(logits, logits + vocab) - logits);
  return s;
}

double kl_divergence(const float* base, const float* test, int vocab) {
  const double lse_b = log_sum_exp(base, vocab), lse_t = log_sum_exp(test, vocab);
  double kld = 0;
  for (int i = 0; i < vocab; ++i) {
    const double log_pb = double(base[i]) - lse_b;
    const double log_pt = double(test[i]) - lse_t;
    kld += std::exp(log_pb) * (log_pb - log_pt);
  }
  // Each term is exact zero for equal rows; rounding can make a near-zero
  // divergence slightly negative, which no distribution pair can have.
  return std::max(kld, 0.0);
}

}  // namespace qat
