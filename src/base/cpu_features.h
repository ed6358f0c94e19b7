// Which SIMD level the kernels run at. The level is detected once from the
// CPU; the environment variable QAT_CPU_LEVEL=scalar|avx2|avx512|neon forces a
// lower one (for tests, benchmarks and bug hunts).
// Asking for a level the CPU lacks is an error, not a silent fallback.
#pragma once
#include <string>

namespace qat {

// Ordered within an architecture: a higher value implies the lower ones.
enum class CpuLevel : int {
  Scalar = 0,
  Avx2,        // x86-64: AVX2 + FMA + F16C
  Avx512Vnni,  // x86-64: AVX-512 F/BW/VL + VNNI
  NeonDot,     // AArch64: NEON (ASIMD) + dot product (SDOT)
  Count,
};

const char* cpu_level_name(CpuLevel level);
// Parses "scalar", "avx2", "avx512", "neon"; throws qat::Error on anything else.
CpuLevel parse_cpu_level(const std::string& name);

// Whether this CPU (and build) can run the level's kernels.
bool cpu_supports(CpuLevel level);
// Best level this CPU supports.
CpuLevel detected_cpu_level();
// The level kernels use now: QAT_CPU_LEVEL if set (checked against the CPU),
// else detected_cpu_level(). Throws qat::Error for a bad QAT_CPU_LEVEL.
CpuLevel active_cpu_level();
// Overrides the active level (tests, benchmarks); throws if unsupported.
void set_cpu_level(CpuLevel level);

}  // namespace qat
