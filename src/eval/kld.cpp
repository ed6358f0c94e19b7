#include "eval/kld.h"

#include <algorithm>
#include <cmath>

#include "base/error.h"
#include "eval/stats.h"
#include "eval/token_metrics.h"

namespace qat {

namespace {
// Standard error of the mean of v.
double sem(const std::vector<double>& v) {
  return v.size() < 2 ? 0 : stddev(v) / std::sqrt(double(v.size()));
}
}  // namespace

Estimate KldResult::mean_kld() const { return {mean(kld), sem(kld)}; }

Estimate KldResult::mean_dp() const { return {mean(dp), sem(dp)}; }

Estimate KldResult::same_top_fraction() const {
  const double n = double(count());
  if (n == 0) return {};
  const double p = double(same_top) / n;
  return {p, n > 1 ? std::sqrt(p * (1 - p) / (n - 1)) : 0};
}

Estimate KldResult::rms_dp() const {
  std::vector<double> sq(dp.size());
  for (size_t i = 0; i < dp.size(); ++i) sq[i] = dp[i] * dp[i];
  const double rms = std::sqrt(mean(sq));
  // d sqrt(x) = dx / (2 sqrt(x)): the error of mean(dp^2) carried through sqrt.
  return {rms, rms > 0 ? sem(sq) / (2 * rms) : 0};
}

KldResult evaluate_kld(const Model& test, const Model& base, const std::vector<int32_t>& tokens,
                       const EvalOptions& opts,
                       const std::function<void(int, const ChunkPlan&, const KldResult&)>& on_chunk) {
  const int V = test.config.vocab_size;
  QAT_CHECK(base.config.vocab_size == V, "the models have different vocabularies: ",
            test.source_path, " has ", V, " tokens, ", base.source_path, " has ",
            base.config.vocab_size);
  check_eval_inputs(test, tokens, opts);
  check_eval_inputs(base, tokens, opts);
  const ChunkPlan plan = plan_chunks(tokens.size(), opts.ctx, opts.max_chunks);
  Session st(test, plan.ctx, opts.batch), sb(base, plan.ctx, opts.batch);
  KldResult res;
  struct Row {
    TokenScore t, b;
    double kld;
  };
  std::vector<Row> rows(size_t(opts.batch));
  for (int c = 0; c < plan.n_chunks; ++c) {
    const auto window = chunk_window(tokens, plan, c, test.config.bos_token_id);
    feed_context(st, window, plan);
    feed_context(sb, window, plan);
    for (int row = plan.first; row < plan.ctx - 1; row += opts.batch) {
      const int n = std::min(opts.batch, plan.ctx - 1 - row);
      const float* lt = feed_scored(st, window, row, n);
      const float* lb = feed_scored(sb, window, row, n);
#pragma omp parallel for schedule(static)
      for (int r = 0; r < n; ++r) {
        const size_t off = size_t(r) * size_t(V);
        const int32_t next = window[size_t(row + r + 1)];
        rows[size_t(r)] = {score_token(lt + off, V, next), score_token(lb + off, V, next),
                           kl_divergence(lb + off, lt + off, V)};
      }
      for (int r = 0; r < n; ++r) {
        const Row& x = rows[size_t(r)];
        res.test.add(x.t.nll);
        res.base.add(x.b.nll);
        res.kld.push_back(x.kld);
        res.dp.push_back(x.t.p_target - x.b.p_target);
        res.same_top += x.t.argmax == x.b.argmax;
      }
    }
    if (on_chunk) on_chunk(c, plan, res);
  }
  return res;
}

}  // namespace qat
