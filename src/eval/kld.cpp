#include "eval/kld.h"

#include <algorithm>
#include <cmath>
#include <memory>

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
  std::vector<KldResult> r = evaluate_kld_many(
      {&test}, base, tokens, opts,
      [&](int c, const ChunkPlan& p, const std::vector<KldResult>& x) {
        if (on_chunk) on_chunk(c, p, x[0]);
      });
  return std::move(r[0]);
}

std::vector<KldResult> evaluate_kld_many(
    const std::vector<const Model*>& tests, const Model& base, const std::vector<int32_t>& tokens,
    const EvalOptions& opts,
    const std::function<void(int, const ChunkPlan&, const std::vector<KldResult>&)>& on_chunk) {
  QAT_CHECK(!tests.empty(), "internal: no models to compare");
  const int V = base.config.vocab_size;
  for (const Model* test : tests)
    QAT_CHECK(test->config.vocab_size == V, "the models have different vocabularies: ", test->source_path,
              " has ", test->config.vocab_size, " tokens, ", base.source_path, " has ", V);
  for (const Model* test : tests) check_eval_inputs(*test, tokens, opts);
  check_eval_inputs(base, tokens, opts);
  const ChunkPlan plan = plan_chunks(tokens.size(), opts.ctx, opts.max_chunks);
  const size_t M = tests.size();
  Session sb(base, plan.ctx, opts.batch);
  std::vector<std::unique_ptr<Session>> st;
  for (const Model* test : tests) st.push_back(std::make_unique<Session>(*test, plan.ctx, opts.batch));
  std::vector<KldResult> res(M);
  struct Score {
    TokenScore t;
    double kld;
  };
  std::vector<TokenScore> base_rows(size_t(opts.batch));
  std::vector<Score> rows(size_t(opts.batch) * M);
  std::vector<const float*> lt(M);
  for (int c = 0; c < plan.n_chunks; ++c) {
    const auto window = chunk_window(tokens, plan, c, tests[0]->config.bos_token_id);
    for (auto& s : st) feed_context(*s, window, plan);
    feed_context(sb, window, plan);
    for (int row = plan.first; row < plan.ctx - 1; row += opts.batch) {
      const int n = std::min(opts.batch, plan.ctx - 1 - row);
      // Each session keeps its own logits until its next call.
      for (size_t i = 0; i < M; ++i) lt[i] = feed_scored(*st[i], window, row, n);
      const float* lb = feed_scored(sb, window, row, n);
#pragma omp parallel for schedule(static)
      for (int r = 0; r < n; ++r) {
        const size_t off = size_t(r) * size_t(V);
        const int32_t next = window[size_t(row + r + 1)];
        base_rows[size_t(r)] = score_token(lb + off, V, next);
        for (size_t i = 0; i < M; ++i)
          rows[size_t(r) * M + i] = {score_token(lt[i] + off, V, next), kl_divergence(lb + off, lt[i] + off, V)};
      }
      for (int r = 0; r < n; ++r) {  // in order: reproducible sums
        const TokenScore& b = base_rows[size_t(r)];
        for (size_t i = 0; i < M; ++i) {
          const Score& x = rows[size_t(r) * M + i];
          KldResult& o = res[i];
          o.test.add(x.t.nll);
          o.base.add(b.nll);
          o.kld.push_back(x.kld);
          o.dp.push_back(x.t.p_target - b.p_target);
          o.same_top += x.t.argmax == b.argmax;
        }
      }
    }
    if (on_chunk) on_chunk(c, plan, res);
  }
  return res;
}

}  // namespace qat
