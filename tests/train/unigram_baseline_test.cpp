#include <gtest/gtest.h>

#include <cmath>

#include "train/unigram_baseline.h"

namespace qat {
namespace {

TEST(UnigramBaseline, MatchesHandComputedValue) {
  // Train on {0, 0, 1}, vocab 3: smoothed counts 3, 2, 1 of 6. Score {0, 2}.
  const std::vector<int32_t> t = {0, 0, 1, 0, 2};
  const double want = -(std::log(3.0 / 6.0) + std::log(1.0 / 6.0)) / 2.0;
  EXPECT_NEAR(unigram_cross_entropy(t, 3, 3), want, 1e-12);
  EXPECT_EQ(unigram_cross_entropy(t, 5, 3), 0.0);
  EXPECT_THROW(unigram_cross_entropy(t, 6, 3), std::exception);
}

}  // namespace
}  // namespace qat
