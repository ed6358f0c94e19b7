#include "base/memory_info.h"

#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace qat {

MemoryInfo read_memory_info() {
  MemoryInfo info;
  if (const char* o = std::getenv("QAT_MEM_AVAILABLE_OVERRIDE"); o && *o) {
    info.available = std::strtoull(o, nullptr, 10);
    info.known = true;
    return info;
  }
  std::ifstream in("/proc/meminfo");
  std::string line;
  bool have_avail = false;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string key;
    uint64_t kib = 0;
    if (!(ls >> key >> kib)) continue;
    if (key == "MemAvailable:") info.available = kib * 1024, have_avail = true;
    if (key == "SwapFree:") info.swap_free = kib * 1024;
  }
  info.known = have_avail;
  return info;
}

uint64_t peak_rss_bytes() {
  struct rusage ru {};
  if (::getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  return uint64_t(ru.ru_maxrss) * 1024;  // Linux reports KiB
}

std::string format_bytes(uint64_t bytes) {
  char buf[64];
  const double b = double(bytes);
  if (bytes >= (uint64_t(1) << 30))
    std::snprintf(buf, sizeof buf, "%.2f GiB", b / double(uint64_t(1) << 30));
  else if (bytes >= (uint64_t(1) << 20))
    std::snprintf(buf, sizeof buf, "%.1f MiB", b / double(uint64_t(1) << 20));
  else if (bytes >= 1024)
    std::snprintf(buf, sizeof buf, "%.1f KiB", b / 1024.0);
  else
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  return buf;
}

}  // namespace qat
