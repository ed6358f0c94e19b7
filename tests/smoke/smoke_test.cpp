#include <gtest/gtest.h>

#include "base/fp16.h"

TEST(Fp16, RoundTripsSimpleValues) {
  EXPECT_EQ(qat::fp16_to_f32(qat::f32_to_fp16(1.5f)), 1.5f);
  EXPECT_EQ(qat::bf16_to_f32(qat::f32_to_bf16(-2.0f)), -2.0f);
}
