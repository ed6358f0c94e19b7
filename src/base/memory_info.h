// How much memory the machine can give us, and how much we have used: for
// up-front "does this model fit" checks and for reporting peak memory.
#pragma once
#include <cstdint>
#include <string>

namespace qat {

struct MemoryInfo {
  uint64_t available = 0;  // MemAvailable: free + reclaimable (page cache, ...)
  uint64_t swap_free = 0;  // SwapFree
  bool known = false;      // false when /proc/meminfo could not be read
};

// Reads /proc/meminfo. The environment variable QAT_MEM_AVAILABLE_OVERRIDE
// (bytes) replaces MemAvailable and zeroes SwapFree, so tests can exercise
// the "does not fit" path on any machine.
MemoryInfo read_memory_info();

// Peak resident set size of this process so far (getrusage ru_maxrss).
uint64_t peak_rss_bytes();

// "1.23 GiB", "456.0 MiB", "789 B": for messages.
std::string format_bytes(uint64_t bytes);

}  // namespace qat
