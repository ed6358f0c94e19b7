#include "train/data_cursor.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "train/epoch_order.h"

namespace qat {
namespace {

TEST(DataCursor, JsonRoundTrip) {
  const DataCursor c{3, 17};
  const nlohmann::json j = data_cursor_to_json(c);
  EXPECT_EQ(j.dump(), R"({"epoch":3,"index":17})");
  EXPECT_EQ(data_cursor_from_json(nlohmann::json::parse(j.dump())), c);
}

TEST(DataCursor, BadJsonIsAnError) {
  using nlohmann::json;
  EXPECT_THROW(data_cursor_from_json(json::parse("[1,2]")), Error);
  EXPECT_THROW(data_cursor_from_json(json::parse(R"({"epoch":1})")), Error);
  EXPECT_THROW(data_cursor_from_json(json::parse(R"({"epoch":1,"index":-2})")), Error);
  EXPECT_THROW(data_cursor_from_json(json::parse(R"({"epoch":"1","index":2})")), Error);
  EXPECT_THROW(data_cursor_from_json(json::parse(R"({"epoch":1.5,"index":2})")), Error);
}

TEST(EpochOrder, EveryEpochIsAPermutationAndEpochsDiffer) {
  const EpochOrder o(100, 42);
  const auto e0 = o.order(0), e1 = o.order(1);
  for (const auto& e : {e0, e1}) {
    auto s = e;
    std::sort(s.begin(), s.end());
    for (int64_t i = 0; i < 100; ++i) ASSERT_EQ(s[size_t(i)], i);
  }
  EXPECT_NE(e0, e1);
  EXPECT_EQ(EpochOrder(100, 42).order(1), e1);  // a pure function of (n, seed, epoch)
  EXPECT_NE(EpochOrder(100, 43).order(1), e1);
}

TEST(EpochOrder, NextWalksTheOrderAndRollsOver) {
  EpochOrder o(5, 1);
  DataCursor c;
  const auto e0 = o.order(0), e1 = o.order(1);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(o.next(c), e0[size_t(i)]);
  EXPECT_EQ(c, (DataCursor{1, 0}));
  EXPECT_EQ(o.next(c), e1[0]);
  EXPECT_EQ(c, (DataCursor{1, 1}));
}

TEST(EpochOrder, CursorPastTheEndIsAnError) {
  EpochOrder o(5, 1);
  DataCursor c{0, 5};
  EXPECT_THROW(o.next(c), Error);
  EXPECT_THROW(o.check(c), Error);
  EXPECT_THROW(EpochOrder(0, 1), Error);
}

}  // namespace
}  // namespace qat
