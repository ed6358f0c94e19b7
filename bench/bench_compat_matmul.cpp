// llama.cpp's compat weights (Q4_1, Q5_0, Q5_1, Q2_K .. Q6_K, IQ4_NL, IQ4_XS, read
// in place from the file's blocks) times Q8_0 activations: decode (1 and 2
// tokens) and a 64-token prompt on a 32768 x 2560 matrix (4B width; larger than the
// L3 cache, so decode streams from DRAM), at every kernel level this CPU
// supports. Reports weight bytes/s (decode is memory bound) and MAC/s.
// Run: build/bench/bench_compat_matmul --benchmark_repetitions=5
//      build/bench/bench_compat_matmul --benchmark_filter='type:14/rows:32768/cols:2560/n:1/thr:1'
#include <benchmark/benchmark.h>
#include <omp.h>

#include <cstring>
#include <random>
#include <vector>

#include "base/cpu_features.h"
#include "base/fp16.h"
#include "formats/tensor_type.h"
#include "kernels/compat_matmul.h"

namespace {

using qat::TensorType;

// Byte offsets of a block's fp16 scale fields (ggml-common.h).
std::vector<int> fp16_fields(TensorType t) {
  switch (t) {
    case TensorType::Q5_0:
    case TensorType::IQ4_NL:
    case TensorType::IQ4_XS:
    case TensorType::IQ2_XXS:
    case TensorType::IQ2_XS:
    case TensorType::IQ2_S:
    case TensorType::IQ3_XXS:
    case TensorType::IQ3_S:
    case TensorType::IQ1_S: return {0};
    case TensorType::IQ1_M: return {};  // d is spread over the scale bytes; random is fine for timing
    case TensorType::Q2_K: return {80, 82};
    case TensorType::Q3_K: return {108};
    case TensorType::Q6_K: return {208};
    case TensorType::TQ1_0: return {52};
    case TensorType::TQ2_0: return {64};
    default: return {0, 2};  // Q4_1, Q5_1: d, m; Q4_K, Q5_K: d, dmin
  }
}

// Random code bytes with small finite fp16 scales: the kernels' speed does
// not depend on the values.
std::vector<uint8_t> random_blocks(TensorType type, int64_t rows, int64_t cols) {
  const qat::TensorTypeInfo& info = qat::tensor_type_info(type);
  const int64_t nblocks = rows * cols / info.block_size;
  std::vector<uint8_t> b(size_t(nblocks) * info.block_bytes);
  std::mt19937 rng(1);
  for (auto& v : b) v = uint8_t(rng());
  const uint16_t scale = qat::f32_to_fp16(0.01f);
  for (int64_t i = 0; i < nblocks; ++i)
    for (int off : fp16_fields(type)) std::memcpy(&b[size_t(i) * info.block_bytes + size_t(off)], &scale, 2);
  return b;
}

void BM_CompatMatmul(benchmark::State& state) {
  const auto type = TensorType(state.range(0));
  const int64_t rows = state.range(1), cols = state.range(2), n = state.range(3);
  const int threads = int(state.range(4));
  const auto level = qat::CpuLevel(state.range(5));
  if (!qat::cpu_supports(level)) {
    state.SkipWithError("CPU level not supported here");
    return;
  }
  qat::set_cpu_level(level);
  omp_set_num_threads(threads);
  const std::vector<uint8_t> w = random_blocks(type, rows, cols);
  std::vector<float> x(size_t(n * cols)), y(size_t(n * rows));
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(int(i % 17) - 8) * 0.1f;
  for (auto _ : state) {
    qat::matmul_compat(type, w.data(), rows, cols, x.data(), y.data(), n);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(w.size()));
  state.counters["MAC/s"] = benchmark::Counter(double(state.iterations()) * double(rows * cols * n),
                                               benchmark::Counter::kIsRate);
  state.SetLabel(std::string(qat::tensor_type_name(type)) + " " + qat::cpu_level_name(level));
}

void Args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"type", "rows", "cols", "n", "thr", "level"});
  for (TensorType t : {TensorType::Q4_1, TensorType::Q5_0, TensorType::Q5_1, TensorType::Q2_K, TensorType::Q3_K, TensorType::Q4_K,
                       TensorType::Q5_K, TensorType::Q6_K, TensorType::IQ4_NL, TensorType::IQ4_XS, TensorType::IQ2_XXS,
                       TensorType::IQ2_XS, TensorType::IQ2_S, TensorType::IQ3_XXS, TensorType::IQ3_S, TensorType::IQ1_S,
                       TensorType::IQ1_M, TensorType::TQ1_0, TensorType::TQ2_0})
    for (int64_t n : {1, 2, 64})
      for (int thr : {1, 2})
        for (qat::CpuLevel l : {qat::CpuLevel::Scalar, qat::CpuLevel::Avx2, qat::CpuLevel::Avx512Vnni})
          b->Args({int64_t(t), 32768, 2560, n, thr, int64_t(l)});
  b->Unit(benchmark::kMillisecond)->UseRealTime();
}

}  // namespace

BENCHMARK(BM_CompatMatmul)->Apply(Args);
BENCHMARK_MAIN();
