#include "train/lm_sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <numeric>
#include <set>

#include "base/error.h"
#include "data_test_util.h"

namespace qat {
namespace {

using test::expect_error;

// Token i has value i, so a token's value says where it came from.
std::vector<int32_t> iota_tokens(int n) {
  std::vector<int32_t> t(size_t(n), 0);
  std::iota(t.begin(), t.end(), 0);
  return t;
}

LmSamplerOptions opts(int batch, int seq, double val, uint64_t seed = 7) {
  LmSamplerOptions o;
  o.batch = batch;
  o.seq = seq;
  o.val_fraction = val;
  o.seed = seed;
  return o;
}

TEST(LmSampler, TargetsAreTheNextTokens) {
  const auto tokens = iota_tokens(1000);
  LmSampler s(tokens, opts(4, 16, 0.1));
  const LmBatch b = s.next();
  EXPECT_EQ(b.batch, 4);
  EXPECT_EQ(b.seq, 16);
  ASSERT_EQ(b.inputs.size(), 64u);
  ASSERT_EQ(b.targets.size(), 64u);
  for (int r = 0; r < 4; ++r) {
    EXPECT_EQ(b.inputs[size_t(r * 16)] % 16, 0);  // windows start at multiples of seq
    for (int t = 0; t < 16; ++t) {
      EXPECT_EQ(b.inputs[size_t(r * 16 + t)], b.inputs[size_t(r * 16)] + t);
      EXPECT_EQ(b.targets[size_t(r * 16 + t)], b.inputs[size_t(r * 16 + t)] + 1);
    }
  }
}

// The validation part is the stream's tail; no training window reads it.
TEST(LmSampler, TrainAndValidationAreDisjoint) {
  const auto tokens = iota_tokens(1000);
  LmSampler s(tokens, opts(3, 10, 0.25));
  EXPECT_EQ(s.val_begin(), 750);
  EXPECT_EQ(s.train_windows(), (750 - 1) / 10);  // 74
  EXPECT_EQ(s.val_windows(), (250 - 1) / 10);    // 24
  for (int i = 0; i < 200; ++i) {                // several epochs
    const LmBatch b = s.next();
    for (size_t k = 0; k < b.inputs.size(); ++k) {
      ASSERT_LT(b.inputs[k], 750);
      ASSERT_LT(b.targets[k], 750);
    }
  }
  int64_t rows = 0;
  for (int64_t i = 0; i < s.val_batches(); ++i) {
    const LmBatch b = s.val_batch(i);
    rows += b.batch;
    for (int r = 0; r < b.batch; ++r)  // sequential windows
      EXPECT_EQ(b.inputs[size_t(r * 10)], 750 + (i * 3 + r) * 10);
    for (int32_t t : b.inputs) EXPECT_GE(t, 750);
  }
  EXPECT_EQ(rows, 24);
  EXPECT_EQ(s.val_batches(), 8);
  EXPECT_THROW(s.val_batch(8), Error);
}

TEST(LmSampler, LastValidationBatchIsPartial) {
  const auto tokens = iota_tokens(1000);
  LmSampler s(tokens, opts(5, 10, 0.25));  // 24 validation windows: 5 batches, the last of 4
  ASSERT_EQ(s.val_batches(), 5);
  EXPECT_EQ(s.val_batch(4).batch, 4);
  EXPECT_EQ(s.val_batch(4).inputs.size(), 40u);
}

TEST(LmSampler, EachEpochVisitsEveryWindowOnce) {
  const auto tokens = iota_tokens(2000);
  LmSampler s(tokens, opts(7, 10, 0.0));  // 199 windows: epochs end mid-batch
  const int64_t w = s.train_windows();
  ASSERT_EQ(w, 199);
  std::vector<int32_t> starts;
  for (int i = 0; i < 3 * 199 / 7 + 1; ++i) {
    const LmBatch b = s.next();
    for (int r = 0; r < b.batch; ++r) starts.push_back(b.inputs[size_t(r * 10)]);
  }
  for (int e = 0; e < 3; ++e) {
    std::vector<int32_t> epoch(starts.begin() + e * w, starts.begin() + (e + 1) * w);
    std::vector<int32_t> sorted = epoch;
    std::sort(sorted.begin(), sorted.end());
    for (int64_t k = 0; k < w; ++k) ASSERT_EQ(sorted[size_t(k)], k * 10) << "epoch " << e;
    if (e > 0) {
      EXPECT_NE(epoch, std::vector<int32_t>(starts.begin() + (e - 1) * w, starts.begin() + e * w));
    }
  }
  EXPECT_EQ(s.cursor().epoch, uint64_t(starts.size() / size_t(w)));
  EXPECT_EQ(s.cursor().index, uint64_t(starts.size() % size_t(w)));
}

TEST(LmSampler, SameSeedSameBatchesOtherSeedOthers) {
  const auto tokens = iota_tokens(5000);
  LmSampler a(tokens, opts(4, 32, 0.1, 99)), b(tokens, opts(4, 32, 0.1, 99)), c(tokens, opts(4, 32, 0.1, 100));
  int differ = 0;
  for (int i = 0; i < 20; ++i) {
    const LmBatch x = a.next();
    EXPECT_EQ(x.inputs, b.next().inputs);
    differ += x.inputs != c.next().inputs;
  }
  EXPECT_GT(differ, 15);
}

// A run interrupted after k batches and resumed from its saved cursor (via
// JSON, as a checkpoint stores it) draws the same batches as one that never
// stopped, across epoch ends.
TEST(LmSampler, ResumeFromSavedCursorContinuesExactly) {
  const auto tokens = iota_tokens(3000);
  const LmSamplerOptions o = opts(5, 16, 0.05);
  LmSampler uninterrupted(tokens, o);
  std::vector<LmBatch> expected;
  for (int i = 0; i < 120; ++i) expected.push_back(uninterrupted.next());  // 178 windows: 3+ epochs

  for (int stop : {0, 1, 35, 36, 71}) {
    LmSampler first(tokens, o);
    for (int i = 0; i < stop; ++i) first.next();
    const std::string saved = data_cursor_to_json(first.cursor()).dump();

    LmSampler resumed(tokens, o);
    resumed.set_cursor(data_cursor_from_json(nlohmann::json::parse(saved)));
    for (int i = stop; i < 120; ++i) {
      const LmBatch b = resumed.next();
      ASSERT_EQ(b.inputs, expected[size_t(i)].inputs) << "stopped at " << stop << ", batch " << i;
      ASSERT_EQ(b.targets, expected[size_t(i)].targets);
    }
  }
}

TEST(LmSampler, TooLittleTextSaysHowMuchIsNeeded) {
  const auto tokens = iota_tokens(50);
  expect_error([&] { LmSampler s(tokens, opts(2, 64, 0.0)); },
               {"shorter than one training window", "50 training tokens", "needs 65"});
  const auto more = iota_tokens(200);
  expect_error([&] { LmSampler s(more, opts(2, 64, 0.1)); },
               {"validation part is shorter than one window", "20 tokens", "needs 65"});
  expect_error([&] { LmSampler s(more, opts(0, 64, 0.1)); }, {"must be positive"});
  expect_error([&] { LmSampler s(more, opts(2, 16, 1.0)); }, {"val_fraction"});
  // Exactly one window fits: seq + 1 tokens.
  const auto exact = iota_tokens(65);
  EXPECT_EQ(LmSampler(exact, opts(2, 64, 0.0)).train_windows(), 1);
}

TEST(LmSampler, CursorFromOtherDataIsRejected) {
  const auto tokens = iota_tokens(1000);
  LmSampler s(tokens, opts(4, 10, 0.0));  // 99 windows
  EXPECT_THROW(s.set_cursor({0, 99}), Error);
  s.set_cursor({5, 98});
  s.next();
  EXPECT_EQ(s.cursor(), (DataCursor{6, 3}));
}

}  // namespace
}  // namespace qat
