// Quantized (or otherwise changed) model against its base model over the same
// windows, the metrics of llama-perplexity --kl-divergence: KL divergence of
// the next-token distributions, how often both pick the same top token, and
// how the probability of the actual next token moves. Better than perplexity
// for judging quantization: a change of ppl can hide large per-token changes.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "eval/perplexity.h"

namespace qat {

// A statistic with its standard error.
struct Estimate {
  double value = 0, error = 0;
};

struct KldResult {
  NllAccumulator test, base;  // perplexity of both models over the scored tokens
  std::vector<double> kld;    // per scored token, nats
  std::vector<double> dp;     // per scored token: p_test(actual) - p_base(actual)
  int64_t same_top = 0;       // tokens where both models' argmax agree

  int64_t count() const { return int64_t(kld.size()); }
  Estimate mean_kld() const;
  Estimate same_top_fraction() const;  // in [0, 1]
  Estimate rms_dp() const;             // sqrt(mean(dp^2)), a probability
  Estimate mean_dp() const;
};

// Runs both models window by window (tokens from the test model's tokenizer,
// <bos> first). The models must share the vocabulary size.
KldResult evaluate_kld(const Model& test, const Model& base, const std::vector<int32_t>& tokens,
                       const EvalOptions& opts,
                       const std::function<void(int chunk, const ChunkPlan&, const KldResult&)>&
                           on_chunk = {});

// Several models against one base in a single pass over the windows: the base
// runs once per window and every model beside it (so all of them are in
// memory at once). Result i is what evaluate_kld(*tests[i], base, ...) gives.
std::vector<KldResult> evaluate_kld_many(
    const std::vector<const Model*>& tests, const Model& base, const std::vector<int32_t>& tokens,
    const EvalOptions& opts,
    const std::function<void(int chunk, const ChunkPlan&, const std::vector<KldResult>&)>& on_chunk = {});

}  // namespace qat
