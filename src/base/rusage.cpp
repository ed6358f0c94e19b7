#include "base/rusage.h"

#include <sys/resource.h>

namespace qat {

uint64_t peak_rss_bytes() {
  struct rusage ru {};
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  return uint64_t(ru.ru_maxrss) * 1024;  // Linux: KiB (macOS would be bytes)
}

}  // namespace qat
