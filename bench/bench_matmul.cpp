// FP32-activation matmul kernels: decode (1 token) and prefill (64 tokens)
// on Gemma-3-270M shapes. Reports weight bytes/s (decode is memory bound)
// and FLOP/s. Run: build/bench/bench_matmul --benchmark_repetitions=5
#include <benchmark/benchmark.h>
#include <omp.h>

#include <vector>

#include "kernels/matmul.h"

namespace {

using qat::TensorType;

void BM_Matmul(benchmark::State& state) {
  const auto type = TensorType(state.range(0));
  const int64_t rows = state.range(1), cols = state.range(2), n = state.range(3);
  omp_set_num_threads(int(state.range(4)));
  const size_t eb = type == TensorType::F32 ? 4 : 2;
  std::vector<uint8_t> w(size_t(rows * cols) * eb, 0x3c);
  std::vector<float> x(size_t(n * cols), 0.5f), y(size_t(n * rows));
  const qat::MatrixView m{type, w.data(), rows, cols};
  for (auto _ : state) {
    qat::matmul(m, x.data(), y.data(), n);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(w.size()));
  state.counters["FLOP/s"] = benchmark::Counter(double(state.iterations()) * 2.0 * double(rows * cols * n),
                                                benchmark::Counter::kIsRate);
  state.SetLabel(std::string(qat::tensor_type_name(type)) + " threads=" + std::to_string(state.range(4)));
}

// type, rows, cols, tokens, threads
BENCHMARK(BM_Matmul)
    ->ArgNames({"type", "rows", "cols", "n", "thr"})
    ->Args({0, 262144, 640, 1, 1})  // tied output projection, decode
    ->Args({0, 262144, 640, 1, 2})
    ->Args({0, 65536, 1152, 1, 1})  // 1B width, decode (a quarter of the tied output projection)
    ->Args({0, 65536, 1152, 1, 2})
    ->Args({0, 2048, 640, 1, 1})    // FFN gate, decode
    ->Args({1, 2048, 640, 1, 1})
    ->Args({30, 2048, 640, 1, 1})
    ->Args({0, 2048, 640, 64, 1})   // FFN gate, prefill of 64 tokens
    ->Args({0, 2048, 640, 64, 2})
    ->Args({30, 2048, 640, 64, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
