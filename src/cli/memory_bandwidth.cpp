#include "cli/memory_bandwidth.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>

namespace qat::cli {

double measure_read_bandwidth_gbps(int threads, int reps) {
  const int64_t n = int64_t(512) << 20 >> 2;  // floats in 512 MiB
  std::unique_ptr<float[]> buf(new float[size_t(n)]);
  // First touch by the threads that will read, so pages sit near them.
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t i = 0; i < n; ++i) buf[size_t(i)] = float(i & 7);
  double best = 0;
  volatile float sink = 0;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    float sum = 0;
    const float* p = buf.get();
#pragma omp parallel for simd num_threads(threads) schedule(static) reduction(+ : sum)
    for (int64_t i = 0; i < n; ++i) sum += p[i];
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    sink = sink + sum;
    best = std::max(best, double(n) * 4.0 / s / 1e9);
  }
  return best;
}

}  // namespace qat::cli
