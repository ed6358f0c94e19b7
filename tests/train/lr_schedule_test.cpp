// Learning rate schedule: the endpoints pinned, monotone pieces, each kind.
#include "train/lr_schedule.h"

#include <gtest/gtest.h>

#include "train_test_util.h"

namespace qat {
namespace {

constexpr float kPeak = 3e-4f;

LrSchedule schedule(LrSchedule::Kind kind, int64_t warmup = 10, int64_t total = 110) {
  LrSchedule s;
  s.peak_lr = kPeak;
  s.warmup_steps = warmup;
  s.total_steps = total;
  s.min_lr_ratio = 0.1f;
  s.kind = kind;
  return s;
}

TEST(LrSchedule, EndpointsOfWarmupAndDecay) {
  for (auto kind : {LrSchedule::Cosine, LrSchedule::Linear}) {
    const LrSchedule s = schedule(kind);
    SCOPED_TRACE(lr_schedule_kind_name(kind));
    EXPECT_EQ(lr_at(s, 0), float(double(kPeak) / 10));  // step 0 already learns
    EXPECT_EQ(lr_at(s, 4), float(double(kPeak) * 5 / 10));
    EXPECT_EQ(lr_at(s, 9), kPeak);   // last warmup step reaches the peak
    EXPECT_EQ(lr_at(s, 10), kPeak);  // decay starts from the peak
    const float min = float(double(kPeak) * double(0.1f));
    EXPECT_EQ(lr_at(s, 110), min);
    EXPECT_EQ(lr_at(s, 5000), min);  // and stays there
  }
}

TEST(LrSchedule, RisesThroughWarmupThenNeverRises) {
  for (auto kind : {LrSchedule::Cosine, LrSchedule::Linear, LrSchedule::Constant}) {
    const LrSchedule s = schedule(kind);
    SCOPED_TRACE(lr_schedule_kind_name(kind));
    for (int64_t t = 1; t < 10; ++t) EXPECT_GT(lr_at(s, t), lr_at(s, t - 1)) << t;
    for (int64_t t = 11; t < 130; ++t) EXPECT_LE(lr_at(s, t), lr_at(s, t - 1)) << t;
    for (int64_t t = 11; t < 110 && kind != LrSchedule::Constant; ++t)
      EXPECT_LT(lr_at(s, t), lr_at(s, t - 1)) << t;
  }
}

TEST(LrSchedule, MidpointsOfEachKind) {
  const double min = double(kPeak) * 0.1f;
  // Halfway through the decay, cosine and linear are both at the mean.
  EXPECT_NEAR(lr_at(schedule(LrSchedule::Cosine), 60), (kPeak + min) / 2, 1e-10);
  EXPECT_NEAR(lr_at(schedule(LrSchedule::Linear), 60), (kPeak + min) / 2, 1e-10);
  // A quarter in, cosine is still above linear.
  EXPECT_NEAR(lr_at(schedule(LrSchedule::Linear), 35), min + (kPeak - min) * 0.75, 1e-10);
  EXPECT_GT(lr_at(schedule(LrSchedule::Cosine), 35), lr_at(schedule(LrSchedule::Linear), 35));
  for (int64_t t : {10, 60, 110, 1000}) EXPECT_EQ(lr_at(schedule(LrSchedule::Constant), t), kPeak);
}

TEST(LrSchedule, NoWarmupAndNoDecaySpan) {
  EXPECT_EQ(lr_at(schedule(LrSchedule::Cosine, 0, 100), 0), kPeak);
  const LrSchedule s = schedule(LrSchedule::Cosine, 10, 10);
  EXPECT_EQ(lr_at(s, 9), kPeak);
  EXPECT_EQ(lr_at(s, 10), float(double(kPeak) * double(0.1f)));
}

TEST(LrSchedule, RejectsInvalidSchedules) {
  LrSchedule s = schedule(LrSchedule::Cosine);
  s.total_steps = 5;
  EXPECT_NE(test::error_of([&] { lr_at(s, 0); }).find("total_steps"), std::string::npos);
  s = schedule(LrSchedule::Cosine);
  s.peak_lr = 0.0f;
  EXPECT_NE(test::error_of([&] { lr_at(s, 0); }).find("peak_lr"), std::string::npos);
  s = schedule(LrSchedule::Cosine);
  s.min_lr_ratio = 1.5f;
  EXPECT_NE(test::error_of([&] { lr_at(s, 0); }).find("min_lr_ratio"), std::string::npos);
  EXPECT_NE(test::error_of([&] { lr_at(schedule(LrSchedule::Cosine), -1); }).find("step"),
            std::string::npos);
}

}  // namespace
}  // namespace qat
