// Per-token math on one row of logits: log-softmax, the negative
// log-likelihood of the next token, and the KL divergence between two
// models' next-token distributions. Sums run in double: a Gemma vocabulary
// has 262,144 entries.
#pragma once
#include <cstdint>

namespace qat {

// log(sum_i exp(logits[i])), computed stably (shifted by the maximum).
double log_sum_exp(const float* logits, int vocab);

// out[i] = logits[i] - log_sum_exp(logits).
void log_softmax(const float* logits, int vocab, double* out);

// What one row of logits says about the token that actually came next.
struct TokenScore {
  double nll = 0;         // -log p(target)
  double p_target = 0;    // p(target)
  int32_t argmax = 0;     // the most likely token (lowest id on ties)
};
TokenScore score_token(const float* logits, int vocab, int32_t target);

// KL(P_base || P_test) = sum_i p_base[i] * (log p_base[i] - log p_test[i]),
// in nats. The direction matches llama-perplexity --kl-divergence: the
// expectation is under the base (full precision) model.
double kl_divergence(const float* base_logits, const float* test_logits, int vocab);

}  // namespace qat
