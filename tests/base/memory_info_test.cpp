#include "base/memory_info.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <vector>

namespace qat {
namespace {

TEST(MemoryInfo, ReadsProcMeminfoAndHonoursTheOverride) {
  ::unsetenv("QAT_MEM_AVAILABLE_OVERRIDE");
  const MemoryInfo real = read_memory_info();
  EXPECT_TRUE(real.known);
  EXPECT_GT(real.available, uint64_t(1) << 20);
  ::setenv("QAT_MEM_AVAILABLE_OVERRIDE", "12345", 1);
  const MemoryInfo o = read_memory_info();
  EXPECT_TRUE(o.known);
  EXPECT_EQ(o.available, 12345u);
  EXPECT_EQ(o.swap_free, 0u);
  ::unsetenv("QAT_MEM_AVAILABLE_OVERRIDE");
}

TEST(MemoryInfo, PeakRssGrowsWithTouchedMemory) {
  const uint64_t before = peak_rss_bytes();
  EXPECT_GT(before, 0u);
  std::vector<char> big(size_t(64) << 20, 1);  // touched: 64 MiB resident
  EXPECT_GE(peak_rss_bytes() + (uint64_t(1) << 20), before + big.size() / 2);
}

TEST(MemoryInfo, FormatsBytes) {
  EXPECT_EQ(format_bytes(512), "512 B");
  EXPECT_EQ(format_bytes(1536), "1.5 KiB");
  EXPECT_EQ(format_bytes(uint64_t(64) << 20), "64.0 MiB");
  EXPECT_EQ(format_bytes(uint64_t(3) << 30), "3.00 GiB");
}

}  // namespace
}  // namespace qat
