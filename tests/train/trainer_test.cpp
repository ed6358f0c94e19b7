// The training loop in-process: gradient accumulation over micro-batches of
// equal and of mixed sizes equals one big batch, frozen groups do not move,
// a classifier's validation accuracy is reported.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "model/model.h"
#include "base/error.h"
#include "train/trainer.h"

namespace qat {
namespace {

std::vector<int32_t> random_stream(size_t n, int vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int32_t> t(n);
  for (auto& x : t) x = int32_t(3 + rng() % uint32_t(vocab - 3));
  return t;
}

std::unique_ptr<Model> tiny(uint64_t seed = 11) {
  return init_random_model(preset_config(Family::Gemma4, "tiny"), seed);
}

TEST(Trainer, GradientAccumulationEqualsOneBigBatch) {
  const auto tokens = random_stream(4000, 512, 1);
  // Batches of 4 sequences in one micro-batch vs two micro-batches of 2: the
  // sampler draws the same windows in the same order either way.
  // Compared: the losses of the first steps and the first step's gradient
  // norm (a wrong 1/rows scaling would change it by the micro-batch count).
  // Later steps drift apart by float rounding that Adam's first updates
  // amplify (lr * sign(g) for gradients near zero), so they are not compared.
  std::vector<StepRecord> runs[2];
  for (int accum : {1, 2}) {
    auto m = tiny();
    GemmaTrainer gt(*m);
    LmSamplerOptions so;
    so.batch = accum == 1 ? 4 : 2;
    so.seq = 24;
    so.val_fraction = 0;
    LmSampler sampler(tokens, so);
    TrainOptions o;
    o.steps = 3;
    o.grad_accum = accum;
    o.progress = false;
    Trainer t(gt, TrainData{&sampler, nullptr, nullptr}, o);
    t.run();
    runs[accum - 1] = t.history();
  }
  ASSERT_EQ(runs[0].size(), 3u);
  ASSERT_EQ(runs[1].size(), 3u);
  // Step 2 follows two Adam updates: 1e-4. OpenBLAS's AVX-512 kernels (picked
  // at run time on CPUs that have it) round attention's products differently
  // from its AVX2 ones, and moved the Debug build's step-2 loss by 3.7e-5
  // relative on an AMD EPYC with AVX-512 (2e-5 with OPENBLAS_CORETYPE=Haswell).
  for (size_t i = 0; i < 3; ++i)
    EXPECT_NEAR(runs[1][i].loss, runs[0][i].loss, (i < 2 ? 2e-5 : 1e-4) * runs[0][i].loss) << "step " << i;
  EXPECT_NEAR(runs[1][0].grad_norm, runs[0][0].grad_norm, 1e-5 * runs[0][0].grad_norm);
}

TEST(Trainer, MixedMicroBatchSizesWeighEveryTokenEqually) {
  // One micro-batch with ignored targets (fewer counted tokens) and one full:
  // the accumulated gradient must equal that of the concatenated batch.
  auto m = tiny();
  GemmaTrainer gt(*m);
  const int64_t T = 16;
  auto ids = random_stream(size_t(4 * T), 512, 2);
  auto tg = random_stream(size_t(4 * T), 512, 3);
  for (int i = 0; i < 20; ++i) tg[size_t(i)] = -1;  // the first micro-batch counts 12 of 32 targets
  ParameterList& params = gt.parameters();
  zero_grads(params);
  gt.forward_lm(ids.data(), tg.data(), 4, T);
  gt.backward();
  std::vector<float> big(params[0].grad, params[0].grad + params[0].numel);
  zero_grads(params);
  int64_t total = 0;
  for (int half = 0; half < 2; ++half) {
    gt.forward_lm(ids.data() + half * 2 * T, tg.data() + half * 2 * T, 2, T);
    total += gt.counted();
    gt.backward(float(gt.counted()));  // what Trainer does with --grad-accum > 1
  }
  EXPECT_EQ(total, 4 * T - 20);
  double worst = 0, scale = 0;
  for (int64_t i = 0; i < params[0].numel; ++i) {
    worst = std::max(worst, double(std::fabs(params[0].grad[i] / float(total) - big[size_t(i)])));
    scale = std::max(scale, double(std::fabs(big[size_t(i)])));
  }
  EXPECT_LT(worst / scale, 1e-4) << "embedding gradient, relative to its largest element";
}

TEST(Trainer, FrozenGroupsAndPatternsDoNotMove) {
  const auto tokens = random_stream(3000, 512, 4);
  auto m = tiny();
  GemmaTrainer gt(*m);
  std::vector<std::vector<float>> before;
  for (const Parameter& p : gt.parameters()) before.emplace_back(p.value, p.value + p.numel);
  LmSamplerOptions so;
  so.batch = 2;
  so.seq = 16;
  so.val_fraction = 0;
  LmSampler sampler(tokens, so);
  TrainOptions o;
  o.steps = 3;
  o.progress = false;
  o.freeze = {"embedding", "norm", "mlp\\.down_proj"};
  Trainer t(gt, TrainData{&sampler, nullptr, nullptr}, o);
  t.run();
  int moved = 0, still = 0;
  for (size_t i = 0; i < gt.parameters().size(); ++i) {
    const Parameter& p = gt.parameters()[i];
    const bool same = std::equal(before[i].begin(), before[i].end(), p.value);
    const bool frozen = p.group == ParamGroup::Embedding || p.group == ParamGroup::Norm ||
                        p.group == ParamGroup::Scalar || p.name.find("mlp.down_proj") != std::string::npos;
    EXPECT_EQ(same, frozen) << p.name;
    EXPECT_EQ(p.trainable, !frozen) << p.name;
    (same ? still : moved)++;
  }
  EXPECT_GT(moved, 0);
  EXPECT_GT(still, 0);
  // Freezing everything is an error, not a silent no-op.
  auto m2 = tiny();
  GemmaTrainer gt2(*m2);
  o.freeze = {"embedding", "matrix", "norm"};
  EXPECT_THROW(Trainer(gt2, TrainData{&sampler, nullptr, nullptr}, o), qat::Error);
}

}  // namespace
}  // namespace qat
