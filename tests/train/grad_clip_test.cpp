// Gradient clipping: the norm covers trainable gradients only, clipping
// scales to max_norm as torch does, unclipped gradients keep every bit, and
// the norm is exact and the same on any thread count.
#include "train/grad_clip.h"

#include <gtest/gtest.h>
#include <omp.h>

#include <bit>
#include <cmath>

#include "train_test_util.h"

namespace qat {
namespace {

using test::OwnedParams;

OwnedParams three_four_and_frozen() {
  OwnedParams ps;
  ps.add("a", {1}, ParamGroup::Matrix);
  ps.add("b", {2}, ParamGroup::Norm);
  ps.add("frozen", {2}, ParamGroup::Matrix, /*trainable=*/false);
  ps.grads[0] = {3.0f};
  ps.grads[1] = {0.0f, -4.0f};
  ps.grads[2] = {100.0f, 100.0f};
  return ps;
}

TEST(GradClip, NormCoversTrainableGradsOnly) {
  OwnedParams ps = three_four_and_frozen();
  EXPECT_EQ(grad_norm(ps.list), 5.0f);
}

TEST(GradClip, ScalesToMaxNormAndReturnsTheNormBefore) {
  OwnedParams ps = three_four_and_frozen();
  EXPECT_EQ(clip_grad_norm(ps.list, 1.0f), 5.0f);
  // torch: coef = reciprocal(5 + 1e-6) * 1 in float.
  const float coef = 1.0f / (5.0f + 1e-6f);
  EXPECT_EQ(ps.grads[0][0], 3.0f * coef);
  EXPECT_EQ(ps.grads[1][1], -4.0f * coef);
  EXPECT_NEAR(grad_norm(ps.list), 1.0f, 1e-6f);
  EXPECT_EQ(ps.grads[2][0], 100.0f);  // frozen: untouched
}

TEST(GradClip, BelowMaxNormLeavesEveryBit) {
  OwnedParams ps;
  ps.add("w", {64}, ParamGroup::Matrix);
  ps.fill_random(4, 1.0f, 0.01f);
  const std::vector<float> before = ps.grads[0];
  const float norm = clip_grad_norm(ps.list, 1.0f);
  EXPECT_LT(norm, 1.0f);
  EXPECT_EQ(ps.grads[0], before);
}

TEST(GradClip, NormIsExactAndSameOnAnyThreadCount) {
  OwnedParams ps;
  ps.add("big", {700, 1000}, ParamGroup::Matrix);
  ps.add("small", {33}, ParamGroup::Norm);
  ps.fill_random(5, 1.0f, 1.0f);
  long double exact = 0.0L;  // a wider sum, to check the rounding
  for (const auto& g : ps.grads)
    for (float x : g) exact += (long double)x * x;
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  const float one = grad_norm(ps.list);
  omp_set_num_threads(3);
  const float three = grad_norm(ps.list);
  omp_set_num_threads(saved);
  EXPECT_EQ(std::bit_cast<uint32_t>(one), std::bit_cast<uint32_t>(three));
  EXPECT_EQ(one, float(std::sqrt(exact)));
}

TEST(GradClip, NonFiniteNormIsReturnedForTheCallerToSkipTheStep) {
  OwnedParams ps;
  ps.add("w", {2}, ParamGroup::Matrix);
  ps.grads[0] = {INFINITY, 1.0f};
  EXPECT_TRUE(std::isinf(clip_grad_norm(ps.list, 1.0f)));
  EXPECT_TRUE(std::isnan(ps.grads[0][0]));  // inf * 0, as in torch
}

TEST(GradClip, RejectsNonPositiveMaxNorm) {
  OwnedParams ps = three_four_and_frozen();
  EXPECT_NE(test::error_of([&] { clip_grad_norm(ps.list, 0.0f); }).find("max_norm"),
            std::string::npos);
}

}  // namespace
}  // namespace qat
