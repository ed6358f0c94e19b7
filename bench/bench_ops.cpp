// The forward pass's row operations at the shapes of the default `qat demo`
// fraud model (48 tokens, hidden 128, FFN 512, 4 heads of 32) and of
// Gemma-3-270M (hidden 640, FFN 2048, head 256): GeGLU, RMSNorm over
// hidden rows and over head rows, attention's column softmax. These are the
// costs FP32 and INT8 models share, so they bound how far INT8 can pull
// ahead of FP32 on a small model.
// Run: build/bench/bench_ops --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "kernels/ops.h"

namespace {

std::vector<float> random_values(size_t n, float sd, uint32_t seed) {
  std::vector<float> v(n);
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, sd);
  for (float& x : v) x = nd(rng);
  return v;
}

// args: tokens, FFN width
void BM_Geglu(benchmark::State& state) {
  const int64_t n = state.range(0) * state.range(1);
  const auto gate = random_values(size_t(n), 2.0f, 1), up = random_values(size_t(n), 1.0f, 2);
  std::vector<float> out(static_cast<size_t>(n));
  for (auto _ : state) {
    qat::geglu(gate.data(), up.data(), out.data(), n);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * n);
}
BENCHMARK(BM_Geglu)->Args({48, 512})->Args({64, 2048});

// args: rows, row length (hidden size, or head_dim for QK-norm), batched
// (0: rms_norm row by row, 1: rms_norm_rows in one call); in place, as the
// forward pass runs it on Q and K. Unit weights: repeating the norm keeps x
// as it is.
void BM_RmsNorm(benchmark::State& state) {
  const int64_t rows = state.range(0), n = state.range(1);
  const bool batched = state.range(2) != 0;
  auto x = random_values(size_t(rows * n), 1.0f, 3);
  const std::vector<float> w(static_cast<size_t>(n), 1.0f);
  for (auto _ : state) {
    if (batched)
      qat::rms_norm_rows(x.data(), w.data(), x.data(), rows, n, 1e-6f);
    else
      for (int64_t r = 0; r < rows; ++r) qat::rms_norm(x.data() + r * n, w.data(), x.data() + r * n, n, 1e-6f);
    benchmark::DoNotOptimize(x.data());
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * rows);
}
BENCHMARK(BM_RmsNorm)->ArgsProduct({{48}, {128}, {0, 1}})->ArgsProduct({{192}, {32}, {0, 1}})
    ->ArgsProduct({{64}, {640}, {0, 1}})->ArgsProduct({{256}, {256}, {0, 1}});

// args: keys (rows), queries (columns); causal windows as prompt attention has.
void BM_SoftmaxColumns(benchmark::State& state) {
  const int64_t rows = state.range(0), cols = state.range(1);
  // Each pass runs on the previous pass's output (finite, in [0, 1]): the
  // kernel is branch-free, so its time does not depend on the values.
  auto s = random_values(size_t(rows * cols), 3.0f, 5);
  std::vector<int32_t> lo(static_cast<size_t>(cols), 0), hi(static_cast<size_t>(cols));
  for (int64_t c = 0; c < cols; ++c) hi[size_t(c)] = int32_t(rows - cols + c);
  for (auto _ : state) {
    qat::softmax_columns(s.data(), rows, cols, 0.17f, 0.0f, lo.data(), hi.data());
    benchmark::DoNotOptimize(s.data());
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * rows * cols);
}
BENCHMARK(BM_SoftmaxColumns)->Args({48, 16})->Args({64, 16});

}  // namespace

BENCHMARK_MAIN();
