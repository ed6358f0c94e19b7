#include "base/large_alloc.h"

#include <sys/mman.h>

#include <cstdlib>
#include <new>

namespace qat {

std::shared_ptr<uint8_t> allocate_large(size_t bytes) {
  constexpr size_t kHuge = size_t(2) << 20;
  const size_t align = bytes >= kHuge ? kHuge : 64;
  const size_t size = (bytes + align - 1) / align * align;
  void* p = std::aligned_alloc(align, size == 0 ? align : size);
  if (!p) throw std::bad_alloc();
  // Best effort: where THP is "madvise" this asks for huge pages; elsewhere it
  // is ignored or already the default.
  if (align == kHuge) ::madvise(p, size, MADV_HUGEPAGE);
  return std::shared_ptr<uint8_t>(static_cast<uint8_t*>(p), std::free);
}

}  // namespace qat
