// Perplexity and KLD run through real (random-weight) models: properties that
// must hold whatever the weights are.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "base/error.h"
#include "eval/kld.h"
#include "eval/perplexity.h"
#include "model/model.h"

namespace qat {
namespace {

std::vector<int32_t> random_tokens(int n, int vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> pick(0, vocab - 1);
  std::vector<int32_t> t(static_cast<size_t>(n));
  for (auto& x : t) x = pick(rng);
  return t;
}

class ModelEval : public ::testing::TestWithParam<Family> {};

TEST_P(ModelEval, KldOfModelAgainstItselfIsZero) {
  auto model = init_random_model(preset_config(GetParam(), "tiny"), 11);
  const auto tokens = random_tokens(200, model->config.vocab_size, 5);
  EvalOptions opts;
  opts.ctx = 64;
  opts.batch = 16;
  const KldResult r = evaluate_kld(*model, *model, tokens, opts);
  EXPECT_EQ(r.count(), 3 * (64 - 1 - 32));
  EXPECT_EQ(r.mean_kld().value, 0.0);
  EXPECT_EQ(r.same_top_fraction().value, 1.0);
  EXPECT_EQ(r.rms_dp().value, 0.0);
  EXPECT_EQ(r.test.ppl(), r.base.ppl());
  // And the same perplexity as evaluate_perplexity over the same windows.
  EXPECT_NEAR(evaluate_perplexity(*model, tokens, opts).ppl(), r.test.ppl(), 1e-9 * r.test.ppl());
}

TEST_P(ModelEval, ManyModelsInOnePassEqualOneAtATime) {
  // evaluate_kld_many (the base run once per window, `qat eval compare`)
  // gives each model exactly what evaluate_kld gives it alone.
  auto base = init_random_model(preset_config(GetParam(), "tiny"), 14);
  auto a = init_random_model(preset_config(GetParam(), "tiny"), 15);
  auto b = init_random_model(preset_config(GetParam(), "tiny"), 16);
  const auto tokens = random_tokens(200, base->config.vocab_size, 8);
  EvalOptions opts;
  opts.ctx = 64;
  opts.batch = 16;
  int calls = 0;
  const std::vector<KldResult> many =
      evaluate_kld_many({a.get(), b.get()}, *base, tokens, opts,
                        [&](int c, const ChunkPlan& p, const std::vector<KldResult>& r) {
                          EXPECT_EQ(c, calls++);
                          EXPECT_EQ(r.size(), 2u);
                          EXPECT_EQ(p.n_chunks, 3);
                        });
  EXPECT_EQ(calls, 3);
  ASSERT_EQ(many.size(), 2u);
  const Model* tests[] = {a.get(), b.get()};
  for (size_t i = 0; i < 2; ++i) {
    const KldResult one = evaluate_kld(*tests[i], *base, tokens, opts);
    EXPECT_EQ(many[i].kld, one.kld);
    EXPECT_EQ(many[i].dp, one.dp);
    EXPECT_EQ(many[i].same_top, one.same_top);
    EXPECT_EQ(many[i].test.ppl(), one.test.ppl());
    EXPECT_EQ(many[i].base.ppl(), one.base.ppl());
  }
  EXPECT_GT(many[0].mean_kld().value, 0.0);
}

TEST_P(ModelEval, UniformLogitsGivePerplexityEqualToVocabSize) {
  auto model = init_random_model(preset_config(GetParam(), "tiny"), 12);
  // A zero final norm multiplier zeroes the hidden state, so every logit is 0
  // (softcap(0) = 0 too): each next token has probability 1/vocab.
  float* norm = model->weights.final_norm.mutable_f32();
  for (int64_t i = 0; i < model->weights.final_norm.numel(); ++i) norm[i] = 0;
  const auto tokens = random_tokens(150, model->config.vocab_size, 6);
  EvalOptions opts;
  opts.ctx = 32;
  const NllAccumulator acc = evaluate_perplexity(*model, tokens, opts);
  EXPECT_EQ(acc.count(), 4 * (32 - 1 - 16));
  EXPECT_NEAR(acc.ppl(), model->config.vocab_size, 1e-9 * model->config.vocab_size);
  EXPECT_NEAR(acc.ppl_error(), 0.0, 1e-6);
}

TEST_P(ModelEval, ResultDoesNotDependOnBatchOrChunkCap) {
  auto model = init_random_model(preset_config(GetParam(), "tiny"), 13);
  const auto tokens = random_tokens(300, model->config.vocab_size, 7);
  EvalOptions a, b;
  a.ctx = b.ctx = 48;
  a.batch = 1;
  b.batch = 100;
  const double pa = evaluate_perplexity(*model, tokens, a).ppl();
  const double pb = evaluate_perplexity(*model, tokens, b).ppl();
  EXPECT_NEAR(pa, pb, 1e-5 * pb);
  // The callback sees every window, in order, with the running totals.
  b.max_chunks = 2;
  std::vector<int64_t> counts;
  evaluate_perplexity(*model, tokens, b, [&](int c, const ChunkPlan& p, const NllAccumulator& acc) {
    EXPECT_EQ(c, int(counts.size()));
    EXPECT_EQ(p.n_chunks, 2);
    counts.push_back(acc.count());
  });
  EXPECT_EQ(counts, (std::vector<int64_t>{23, 46}));
}

TEST_P(ModelEval, RejectsBadInputs) {
  auto model = init_random_model(preset_config(GetParam(), "tiny"), 14);
  EvalOptions opts;
  opts.ctx = 32;
  auto tokens = random_tokens(100, model->config.vocab_size, 8);
  tokens[40] = model->config.vocab_size;  // outside the vocabulary
  EXPECT_THROW(evaluate_perplexity(*model, tokens, opts), Error);
  tokens[40] = 0;
  opts.ctx = model->config.max_position_embeddings + 1;
  EXPECT_THROW(evaluate_perplexity(*model, tokens, opts), Error);
  opts.ctx = 32;
  opts.batch = 0;
  EXPECT_THROW(evaluate_perplexity(*model, tokens, opts), Error);
}

INSTANTIATE_TEST_SUITE_P(Families, ModelEval, ::testing::Values(Family::Gemma3, Family::Gemma4),
                         [](const auto& info) { return std::string(family_name(info.param)); });

}  // namespace
}  // namespace qat
