// Kernel tests: the levels this build has and this CPU runs, and a guard
// that restores the detected level when a test ends.
#pragma once
#include <vector>

#include "base/cpu_features.h"
#include "kernels/kernel_table.h"

namespace qat::test {

// Every kernel level this build has and this CPU runs (scalar always).
inline std::vector<CpuLevel> kernel_levels() {
  std::vector<CpuLevel> out;
  for (int l = 0; l < int(CpuLevel::Count); ++l)
    if (kernels_for(CpuLevel(l)) && cpu_supports(CpuLevel(l))) out.push_back(CpuLevel(l));
  return out;
}

struct LevelGuard {
  ~LevelGuard() { set_cpu_level(detected_cpu_level()); }
};

}  // namespace qat::test
