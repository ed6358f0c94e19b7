// Process resource usage from getrusage(2), for benchmark reports.
#pragma once
#include <cstdint>

namespace qat {

// Peak resident set size of this process so far, in bytes (ru_maxrss, which
// Linux reports in KiB). It is a high-water mark: it never goes down, so in a
// run that loads several models it is the peak over all of them so far.
// Pages of a memory-mapped model count once they have been touched.
uint64_t peak_rss_bytes();

}  // namespace qat
