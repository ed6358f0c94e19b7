// Allocation for large, long-lived buffers the kernels stream through
// (repacked weights): 2 MiB aligned and marked for transparent huge pages, so
// one TLB entry covers 2 MiB and the hardware prefetcher is not stopped at
// every 4 KiB page boundary. Smaller buffers are 64-byte aligned.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>

namespace qat {

std::shared_ptr<uint8_t> allocate_large(size_t bytes);

}  // namespace qat
