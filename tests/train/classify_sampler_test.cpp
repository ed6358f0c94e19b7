#include "train/classify_sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/error.h"

namespace qat {
namespace {

// Example i has i+1 tokens, all equal to 100+i, and label i % 3.
ClassifyDataset synthetic(int n) {
  ClassifyDataset d;
  d.source = "synthetic";
  d.classes = {"a", "b", "c"};
  for (int i = 0; i < n; ++i) {
    ClassifyExample e;
    e.ids.assign(size_t(i % 9 + 1), 100 + i);
    e.label = i % 3;
    e.line = i + 2;
    d.examples.push_back(e);
  }
  return d;
}

int example_of(const ClassifyBatch& b, int row) { return b.ids[size_t(row * b.seq)] - 100; }

TEST(ClassifySampler, RowsArePaddedAtTheEnd) {
  const ClassifyDataset d = synthetic(10);
  const ClassifyBatch b = make_classify_batch(d, {2, 0, 5}, /*pad_id=*/0);
  EXPECT_EQ(b.batch, 3);
  EXPECT_EQ(b.seq, 6);  // the longest row (example 5: 6 tokens)
  EXPECT_EQ(b.lengths, (std::vector<int32_t>{3, 1, 6}));
  EXPECT_EQ(b.labels, (std::vector<int32_t>{2, 0, 2}));
  const std::vector<int32_t> expected = {102, 102, 102, 0,   0,   0,  //
                                         100, 0,   0,   0,   0,   0,  //
                                         105, 105, 105, 105, 105, 105};
  EXPECT_EQ(b.ids, expected);
}

TEST(ClassifySampler, EpochsCoverEveryExampleOnceAndResumeExactly) {
  const ClassifyDataset d = synthetic(23);
  ClassifySampler s(d, 4, 77, 0);
  EXPECT_EQ(s.batches_per_epoch(), 6);
  std::vector<int> seen;
  std::vector<ClassifyBatch> batches;
  for (int i = 0; i < 30; ++i) {  // 120 rows: 5+ epochs, epoch ends mid-batch
    batches.push_back(s.next());
    const ClassifyBatch& b = batches.back();
    ASSERT_EQ(b.batch, 4);
    for (int r = 0; r < 4; ++r) {
      const int ex = example_of(b, r);
      seen.push_back(ex);
      EXPECT_EQ(b.labels[size_t(r)], ex % 3);
      EXPECT_EQ(b.lengths[size_t(r)], ex % 9 + 1);
    }
  }
  for (int e = 0; e < 5; ++e) {
    std::vector<int> epoch(seen.begin() + e * 23, seen.begin() + (e + 1) * 23);
    std::sort(epoch.begin(), epoch.end());
    for (int k = 0; k < 23; ++k) ASSERT_EQ(epoch[size_t(k)], k) << "epoch " << e;
  }
  EXPECT_EQ(s.cursor(), (DataCursor{5, 5}));

  for (int stop : {0, 5, 6, 17}) {
    ClassifySampler first(d, 4, 77, 0);
    for (int i = 0; i < stop; ++i) first.next();
    ClassifySampler resumed(d, 4, 77, 0);
    resumed.set_cursor(data_cursor_from_json(nlohmann::json::parse(data_cursor_to_json(first.cursor()).dump())));
    for (int i = stop; i < 30; ++i)
      ASSERT_EQ(resumed.next().ids, batches[size_t(i)].ids) << "stop " << stop << " batch " << i;
  }
  ClassifySampler other_seed(d, 4, 78, 0);
  EXPECT_NE(other_seed.next().ids, batches[0].ids);
  EXPECT_THROW(s.set_cursor({0, 23}), Error);
}

TEST(ClassifySampler, EvalBatchesAreInFileOrder) {
  const ClassifyDataset d = synthetic(10);
  const ClassifySampler s(d, 4, 1, 0);
  ASSERT_EQ(s.eval_batches(), 3);
  int next = 0;
  for (int64_t i = 0; i < 3; ++i) {
    const ClassifyBatch b = s.eval_batch(i);
    EXPECT_EQ(b.batch, i < 2 ? 4 : 2);
    for (int r = 0; r < b.batch; ++r) EXPECT_EQ(example_of(b, r), next++);
  }
  EXPECT_THROW(s.eval_batch(3), Error);
}

TEST(ClassifySampler, SmallerThanABatchRepeatsAcrossEpochs) {
  const ClassifyDataset d = synthetic(3);
  ClassifySampler s(d, 8, 1, 0);
  const ClassifyBatch b = s.next();
  EXPECT_EQ(b.batch, 8);
  EXPECT_EQ(s.cursor(), (DataCursor{2, 2}));
  const ClassifyDataset empty = synthetic(0);
  EXPECT_THROW({ ClassifySampler none(empty, 4, 1, 0); }, Error);
}

}  // namespace
}  // namespace qat
