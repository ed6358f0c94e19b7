// The per-token math and the statistics, against values worked out by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "base/error.h"
#include "eval/chunks.h"
#include "eval/perplexity.h"
#include "eval/stats.h"
#include "eval/token_metrics.h"

namespace qat {
namespace {

TEST(TokenMetrics, LogSoftmaxOfSmallRow) {
  // logits (1, 2, 3): lse = 3 + ln(e^-2 + e^-1 + 1) = 3.4076059644443806
  const float logits[3] = {1, 2, 3};
  EXPECT_NEAR(log_sum_exp(logits, 3), 3.4076059644443806, 1e-12);
  double out[3];
  log_softmax(logits, 3, out);
  EXPECT_NEAR(out[0], -2.4076059644443806, 1e-12);
  EXPECT_NEAR(out[1], -1.4076059644443806, 1e-12);
  EXPECT_NEAR(out[2], -0.4076059644443806, 1e-12);
  EXPECT_NEAR(std::exp(out[0]) + std::exp(out[1]) + std::exp(out[2]), 1.0, 1e-12);
}

TEST(TokenMetrics, LogSumExpIsStableForLargeLogits) {
  const float logits[2] = {1000, 1000};  // exp() alone would overflow
  EXPECT_NEAR(log_sum_exp(logits, 2), 1000 + std::log(2.0), 1e-9);
}

TEST(TokenMetrics, ScoreToken) {
  const float logits[3] = {1, 2, 3};
  const TokenScore s = score_token(logits, 3, 0);
  EXPECT_NEAR(s.nll, 2.4076059644443806, 1e-12);
  EXPECT_NEAR(s.p_target, 0.09003057317038046, 1e-12);
  EXPECT_EQ(s.argmax, 2);
  EXPECT_THROW(score_token(logits, 3, 3), Error);
  EXPECT_THROW(score_token(logits, 3, -1), Error);
}

TEST(TokenMetrics, UniformLogitsGiveLogVocab) {
  const std::vector<float> logits(1000, 0.25f);
  const TokenScore s = score_token(logits.data(), 1000, 123);
  EXPECT_NEAR(s.nll, std::log(1000.0), 1e-12);
  EXPECT_EQ(s.argmax, 0) << "ties go to the lowest id";
}

TEST(TokenMetrics, KlDivergenceByHand) {
  // P_base = (1/2, 1/2), P_test = (3/4, 1/4):
  // KL = 1/2 ln(2/3) + 1/2 ln(2) = 1/2 ln(4/3).
  const float base[2] = {0, 0};
  const float test[2] = {float(std::log(3.0)), 0};
  EXPECT_NEAR(kl_divergence(base, test, 2), 0.5 * std::log(4.0 / 3.0), 1e-7);
  // Not symmetric: KL(test || base) = 3/4 ln(3/2) + 1/4 ln(1/2).
  EXPECT_NEAR(kl_divergence(test, base, 2), 0.75 * std::log(1.5) + 0.25 * std::log(0.5), 1e-7);
  // Equal rows, and rows differing by a constant shift (same distribution).
  const float a[3] = {1, -2, 5}, b[3] = {11, 8, 15};
  EXPECT_EQ(kl_divergence(a, a, 3), 0.0);
  EXPECT_NEAR(kl_divergence(a, b, 3), 0.0, 1e-12);
}

TEST(Perplexity, AccumulatorByHand) {
  NllAccumulator acc;
  for (double x : {1.0, 2.0, 3.0}) acc.add(x);
  EXPECT_EQ(acc.count(), 3);
  EXPECT_NEAR(acc.ppl(), std::exp(2.0), 1e-12);
  // var = (1 + 4 + 9)/3 - 2^2 = 2/3; error = e^2 * sqrt(var / (n - 1)).
  EXPECT_NEAR(acc.ppl_error(), std::exp(2.0) * std::sqrt(1.0 / 3.0), 1e-12);
  NllAccumulator one;
  one.add(1.0);
  EXPECT_EQ(one.ppl_error(), 0.0);
}

TEST(Stats, MeanStddevPercentile) {
  const std::vector<double> v = {2, 4, 4, 4, 5, 5, 7, 9};
  EXPECT_DOUBLE_EQ(mean(v), 5.0);
  EXPECT_NEAR(stddev(v), std::sqrt(32.0 / 7.0), 1e-12);
  EXPECT_EQ(stddev({3.0}), 0.0);
  EXPECT_DOUBLE_EQ(percentile({4, 1, 3, 2}, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(percentile({4, 1, 3, 2}, 0.0), 1.0);
  EXPECT_DOUBLE_EQ(percentile({4, 1, 3, 2}, 1.0), 4.0);
  EXPECT_NEAR(percentile({1, 2, 3, 4}, 0.99), 3.97, 1e-12);
  EXPECT_THROW(percentile({}, 0.5), Error);
}

TEST(Chunks, PlanAndWindows) {
  ChunkPlan p = plan_chunks(1000, 100, 0);
  EXPECT_EQ(p.n_chunks, 10);
  EXPECT_EQ(p.first, 50);
  EXPECT_EQ(p.scored_per_chunk(), 49);  // rows 50..98 predict tokens 51..99
  EXPECT_EQ(plan_chunks(1000, 100, 3).n_chunks, 3);
  EXPECT_EQ(plan_chunks(1000, 100, 50).n_chunks, 10);
  EXPECT_THROW(plan_chunks(99, 100, 0), Error);
  EXPECT_THROW(plan_chunks(1000, 3, 0), Error);

  std::vector<int32_t> tokens(20);
  for (int i = 0; i < 20; ++i) tokens[size_t(i)] = 100 + i;
  p = plan_chunks(tokens.size(), 8, 0);
  EXPECT_EQ(p.n_chunks, 2);  // the last 4 tokens fill no window
  EXPECT_EQ(chunk_window(tokens, p, 1, 2), (std::vector<int32_t>{2, 109, 110, 111, 112, 113, 114, 115}));
}

}  // namespace
}  // namespace qat
