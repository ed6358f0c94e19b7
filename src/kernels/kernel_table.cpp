#include "kernels/kernel_table.h"

#include "base/error.h"

namespace qat {

const KernelTable* kernels_for(CpuLevel level) {
  switch (level) {
    case CpuLevel::Scalar: return scalar_kernels();
    case CpuLevel::Avx2: return avx2_kernels();
    case CpuLevel::Avx512Vnni: return avx512_kernels();
    case CpuLevel::NeonDot: return neon_kernels();
    default: return nullptr;
  }
}

const KernelTable& kernels() {
  const CpuLevel level = active_cpu_level();
  // A level the CPU has but this build lacks kernels for (e.g. compiled
  // without AVX-512 support) falls back to the best lower level.
  for (int l = int(level); l >= 0; --l)
    if (const KernelTable* t = kernels_for(CpuLevel(l)); t && cpu_supports(CpuLevel(l))) return *t;
  return *scalar_kernels();
}

}  // namespace qat
