#include "eval/perplexity.h"

#include <algorithm>
#include <cmath>

#include "base/error.h"
#include "eval/token_metrics.h"

namespace qat {

double NllAccumulator::ppl() const { return std::exp(mean_nll()); }

double NllAccumulator::ppl_error() const {
  if (count_ < 2) return 0;
  const double m = mean_nll();
  const double var = sum2_ / double(count_) - m * m;
  return var > 0 ? ppl() * std::sqrt(var / double(count_ - 1)) : 0;
}

void check_eval_inputs(const Model& model, const std::vector<int32_t>& tokens,
                       const EvalOptions& opts) {
  QAT_CHECK(opts.batch >= 1, "--batch must be >= 1, got ", opts.batch);
  QAT_CHECK(opts.ctx <= model.config.max_position_embeddings, "--ctx ", opts.ctx,
            " exceeds the model's maximum of ", model.config.max_position_embeddings,
            " positions (", model.source_path, ")");
  const int V = model.config.vocab_size;
  for (int32_t t : tokens)
    QAT_CHECK(t >= 0 && t < V, "token id ", t, " is outside the vocabulary of ",
              model.source_path, " (", V, " entries)");
}

NllAccumulator evaluate_perplexity(const Model& model, const std::vector<int32_t>& tokens,
                                   const EvalOptions& opts,
                                   const std::function<void(int, const ChunkPlan&,
                                                            const NllAccumulator&)>& on_chunk) {
  check_eval_inputs(model, tokens, opts);
  const ChunkPlan plan = plan_chunks(tokens.size(), opts.ctx, opts.max_chunks);
  const int V = model.config.vocab_size;
  Session session(model, plan.ctx, opts.batch);
  NllAccumulator acc;
  std::vector<double> nll(size_t(opts.batch));
  for (int c = 0; c < plan.n_chunks; ++c) {
    const auto window = chunk_window(tokens, plan, c, model.config.bos_token_id);
    feed_context(session, window, plan);
    for (int row = plan.first; row < plan.ctx - 1; row += opts.batch) {
      const int n = std::min(opts.batch, plan.ctx - 1 - row);
      const float* logits = feed_scored(session, window, row, n);
#pragma omp parallel for schedule(static)
      for (int r = 0; r < n; ++r)
        nll[size_t(r)] = score_token(logits + size_t(r) * V, V, window[size_t(row + r + 1)]).nll;
      for (int r = 0; r < n; ++r) acc.add(nll[size_t(r)]);  // in order: reproducible sums
    }
    if (on_chunk) on_chunk(c, plan, acc);
  }
  return acc;
}

}  // namespace qat
