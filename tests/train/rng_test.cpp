#include "train/rng.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "base/error.h"

namespace qat {
namespace {

// Reference values of xoshiro256** from state {1, 2, 3, 4} (as in the
// rand_xoshiro crate's tests of Vigna's C code).
TEST(Rng, MatchesXoshiro256StarStarReference) {
  Rng r = Rng::from_state({1, 2, 3, 4});
  const uint64_t expected[] = {11520ull,
                               0ull,
                               1509978240ull,
                               1215971899390074240ull,
                               1216172134540287360ull,
                               607988272756665600ull,
                               16172922978634559625ull,
                               8476171486693032832ull,
                               10595114339597558777ull,
                               2904607092377533576ull};
  for (uint64_t e : expected) EXPECT_EQ(r.next_u64(), e);
}

// The seed expands through splitmix64: seed 0 gives splitmix64's first four outputs.
TEST(Rng, SeedExpandsThroughSplitmix64) {
  const Rng::State s = Rng(0).state();
  EXPECT_EQ(s[0], 0xE220A8397B1DCDAFull);
  EXPECT_EQ(s[1], 0x6E789E6AA1B965F4ull);
  EXPECT_EQ(s[2], 0x06C45D188009454Full);
  EXPECT_EQ(s[3], 0xF88BB8A8724C81ECull);
}

TEST(Rng, SameSeedSameStreamOtherSeedOtherStream) {
  Rng a(42), b(42), c(43);
  int differ = 0;
  for (int i = 0; i < 100; ++i) {
    const uint64_t x = a.next_u64();
    EXPECT_EQ(x, b.next_u64());
    differ += x != c.next_u64();
  }
  EXPECT_GT(differ, 95);
}

TEST(Rng, UniformIsInUnitIntervalWithMeanOneHalf) {
  Rng r(7);
  double sum = 0;
  for (int i = 0; i < 100000; ++i) {
    const float u = r.uniform();
    ASSERT_GE(u, 0.0f);
    ASSERT_LT(u, 1.0f);
    sum += u;
  }
  EXPECT_NEAR(sum / 100000, 0.5, 0.01);
}

TEST(Rng, BelowIsInRangeAndUnbiased) {
  Rng r(9);
  EXPECT_EQ(r.below(1), 0u);
  EXPECT_THROW(r.below(0), Error);
  int counts[3] = {};
  for (int i = 0; i < 30000; ++i) ++counts[r.below(3)];
  for (int c : counts) EXPECT_NEAR(c, 10000, 400);  // ~4 sigma
  // A range near 2^64 exercises the rejection path; results stay in range.
  const uint64_t big = (1ull << 63) + 12345;
  for (int i = 0; i < 1000; ++i) EXPECT_LT(r.below(big), big);
}

TEST(Rng, NormalHasZeroMeanUnitVariance) {
  Rng r(11);
  double sum = 0, sq = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double x = r.normal();
    ASSERT_TRUE(std::isfinite(x));
    sum += x;
    sq += x * x;
  }
  EXPECT_NEAR(sum / n, 0.0, 0.01);
  EXPECT_NEAR(sq / n, 1.0, 0.02);
}

TEST(Rng, StateRoundTripsExactly) {
  Rng a(123);
  for (int i = 0; i < 37; ++i) a.normal();  // mid-stream
  const std::string saved = a.to_string();
  const Rng::State state = a.state();
  std::vector<uint64_t> rest;
  for (int i = 0; i < 100; ++i) rest.push_back(a.next_u64());

  Rng b = Rng::from_string(saved), c = Rng::from_state(state);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(b.next_u64(), rest[size_t(i)]);
    EXPECT_EQ(c.next_u64(), rest[size_t(i)]);
  }
  EXPECT_EQ(saved.rfind("xoshiro256ss:", 0), 0u);
}

TEST(Rng, BadStateStringsAreRejected) {
  EXPECT_THROW(Rng::from_string(""), Error);
  EXPECT_THROW(Rng::from_string("pcg64:" + std::string(64, '1')), Error);
  EXPECT_THROW(Rng::from_string("xoshiro256ss:" + std::string(63, '1')), Error);
  EXPECT_THROW(Rng::from_string("xoshiro256ss:" + std::string(63, '1') + "g"), Error);
  EXPECT_THROW(Rng::from_string("xoshiro256ss:" + std::string(64, '0')), Error);  // all-zero state
  EXPECT_THROW(Rng::from_state({0, 0, 0, 0}), Error);
}

TEST(Rng, ShuffleIsADeterministicPermutation) {
  std::vector<int> a(50), b(50);
  std::iota(a.begin(), a.end(), 0);
  b = a;
  Rng r1(5), r2(5);
  r1.shuffle(a);
  r2.shuffle(b);
  EXPECT_EQ(a, b);
  std::vector<int> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < 50; ++i) EXPECT_EQ(sorted[size_t(i)], i);
  int moved = 0;
  for (int i = 0; i < 50; ++i) moved += a[size_t(i)] != i;
  EXPECT_GT(moved, 40);
}

}  // namespace
}  // namespace qat
