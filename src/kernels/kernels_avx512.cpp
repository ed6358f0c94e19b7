// AVX-512 (F/BW/VL) + VNNI level: not written yet; the table is absent, so
// kernels() falls back to AVX2 on such CPUs.
#include "kernels/kernel_table.h"

namespace qat {
const KernelTable* avx512_kernels() { return nullptr; }
}  // namespace qat
