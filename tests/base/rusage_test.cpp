#include "base/memory_info.h"

#include <gtest/gtest.h>

#include <vector>

namespace qat {
namespace {

TEST(Rusage, PeakRssGrowsWhenMemoryIsTouched) {
  const uint64_t before = peak_rss_bytes();
  EXPECT_GT(before, 0u);
  std::vector<char> block(size_t(256) << 20);  // 256 MiB, zero-filled: every page touched
  for (size_t i = 0; i < block.size(); i += 4096) block[i] = char(i);
  const uint64_t after = peak_rss_bytes();
  EXPECT_GE(after, before);
  EXPECT_GE(after, uint64_t(200) << 20) << "the touched block must show in the peak";
  volatile char sink = block[4096];
  (void)sink;
}

}  // namespace
}  // namespace qat
