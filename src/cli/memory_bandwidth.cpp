#include "cli/memory_bandwidth.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "base/large_alloc.h"

namespace qat::cli {

ReadBandwidth measure_read_bandwidth(int threads, int reps) {
  const int64_t n = int64_t(512) << 20 >> 2;  // floats in 512 MiB
  // Huge pages where the kernel allows, like the weights the kernels stream.
  const std::shared_ptr<uint8_t> mem = allocate_large(size_t(n) * sizeof(float));
  float* buf = reinterpret_cast<float*>(mem.get());
  // First touch by the threads that will read, so pages sit near them.
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t i = 0; i < n; ++i) buf[i] = float(i & 7);
  std::vector<double> passes;
  volatile float sink = 0;
  for (int r = 0; r < std::max(1, reps); ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    float sum = 0;
    const float* p = buf;
#pragma omp parallel num_threads(threads) reduction(+ : sum)
    {
      const int64_t nt = omp_get_num_threads(), id = omp_get_thread_num();
      const int64_t b = n * id / nt / 32 * 32, e = n * (id + 1) / nt / 32 * 32;
      // Four independent vector accumulators: one would leave the add
      // latency, not memory, setting the pace (measured 10.7 vs 12 GB/s).
      float acc[4][8] = {};
      for (int64_t i = b; i < e; i += 32)
        for (int k = 0; k < 4; ++k)
          for (int j = 0; j < 8; ++j) acc[k][j] += p[i + 8 * k + j];
      for (int k = 0; k < 4; ++k)
        for (int j = 0; j < 8; ++j) sum += acc[k][j];
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    sink = sink + sum;
    passes.push_back(double(n) * 4.0 / s / 1e9);
  }
  std::sort(passes.begin(), passes.end());
  const size_t m = passes.size();
  return {passes.back(), m % 2 ? passes[m / 2] : (passes[m / 2 - 1] + passes[m / 2]) / 2};
}

}  // namespace qat::cli
