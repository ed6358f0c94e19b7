#include "base/cpu_features.h"

#include <atomic>
#include <cstdlib>

#include "base/error.h"

#if defined(__aarch64__) && defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

namespace qat {

namespace {

#if defined(__x86_64__)
bool x86_has(CpuLevel level) {
  __builtin_cpu_init();
  // The OS must also save the wide registers; __builtin_cpu_supports checks
  // XCR0 for AVX and AVX-512 state in GCC >= 11.
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                    __builtin_cpu_supports("f16c");
  if (level == CpuLevel::Avx2) return avx2;
  if (level == CpuLevel::Avx512Vnni)
    return avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
  return false;
}
#endif

std::atomic<int> g_level{-1};

}  // namespace

const char* cpu_level_name(CpuLevel level) {
  switch (level) {
    case CpuLevel::Scalar: return "scalar";
    case CpuLevel::Avx2: return "avx2";
    case CpuLevel::Avx512Vnni: return "avx512";
    case CpuLevel::NeonDot: return "neon";
    default: return "?";
  }
}

CpuLevel parse_cpu_level(const std::string& name) {
  for (int l = 0; l < int(CpuLevel::Count); ++l)
    if (name == cpu_level_name(CpuLevel(l))) return CpuLevel(l);
  fail("unknown CPU level '", name, "' (expected scalar, avx2, avx512 or neon)");
}

bool cpu_supports(CpuLevel level) {
  if (level == CpuLevel::Scalar) return true;
#if defined(__x86_64__)
  return x86_has(level);
#elif defined(__aarch64__) && defined(__linux__)
  return level == CpuLevel::NeonDot && (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
#else
  return false;
#endif
}

CpuLevel detected_cpu_level() {
  CpuLevel best = CpuLevel::Scalar;
  for (int l = 1; l < int(CpuLevel::Count); ++l)
    if (cpu_supports(CpuLevel(l))) best = CpuLevel(l);
  return best;
}

CpuLevel active_cpu_level() {
  int l = g_level.load(std::memory_order_relaxed);
  if (l >= 0) return CpuLevel(l);
  CpuLevel level = detected_cpu_level();
  if (const char* env = std::getenv("QAT_CPU_LEVEL"); env && *env) {
    CpuLevel want;
    try {
      want = parse_cpu_level(env);
    } catch (const Error& e) {
      fail("QAT_CPU_LEVEL: ", e.what());
    }
    QAT_CHECK(cpu_supports(want), "QAT_CPU_LEVEL=", env, " is not supported by this CPU (best: ",
              cpu_level_name(level), ")");
    level = want;
  }
  g_level.store(int(level), std::memory_order_relaxed);
  return level;
}

void set_cpu_level(CpuLevel level) {
  QAT_CHECK(cpu_supports(level), "CPU level ", cpu_level_name(level), " is not supported by this CPU");
  g_level.store(int(level), std::memory_order_relaxed);
}

}  // namespace qat
