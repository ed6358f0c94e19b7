// W8A8 / W4A8 matmul kernels (Q8_0 / Q4_0 weights, activations quantized to
// Q8_0 on the fly) and the weight-only W8A16 / W4A16 path (a16=1: weight rows
// dequantized, FP32 activations): decode (1 token) and prefill (64 tokens) on
// Gemma-3-270M and 1B shapes, at every kernel level this CPU supports.
// Reports weight bytes/s (decode is memory bound) and MAC/s. BM_QuantizeActivations
// times each level's activation quantizer (ns per block of 32) on 65 tokens x 512.
// BM_QuantMatmulStream decodes through ~256 MiB of distinct small matrices,
// as a model's layers stream from DRAM:
//   build/bench/bench_quant_matmul --benchmark_filter=Stream
// Run: build/bench/bench_quant_matmul --benchmark_repetitions=5
//      build/bench/bench_quant_matmul --benchmark_filter='rows:6912/cols:1152/n:64/thr:1/level:1'
#include <benchmark/benchmark.h>
#include <omp.h>

#include <algorithm>
#include <random>
#include <vector>

#include "base/cpu_features.h"
#include "base/large_alloc.h"
#include "formats/tensor_type.h"
#include "kernels/kernel_table.h"
#include "kernels/matmul.h"
#include "kernels/quant_matmul.h"
#include "kernels/weight_only_matmul.h"
#include "quant/quant_types.h"

namespace {

using qat::TensorType;

std::vector<uint8_t> random_weights(TensorType type, int64_t rows, int64_t cols) {
  std::vector<float> f(size_t(rows * cols));
  std::mt19937 rng(1);
  std::normal_distribution<float> nd(0.0f, 0.05f);
  for (float& v : f) v = nd(rng);
  std::vector<uint8_t> w(qat::tensor_bytes(uint32_t(type), uint64_t(rows * cols)));
  if (type == TensorType::Q8_0)
    qat::quantize_row_q8_0(f.data(), reinterpret_cast<qat::BlockQ8_0*>(w.data()), rows * cols);
  else
    qat::quantize_row_q4_0(f.data(), reinterpret_cast<qat::BlockQ4_0*>(w.data()), rows * cols);
  return w;
}

void BM_QuantMatmul(benchmark::State& state) {
  const auto type = TensorType(state.range(0));
  const int64_t rows = state.range(1), cols = state.range(2), n = state.range(3);
  const int threads = int(state.range(4));
  const auto level = qat::CpuLevel(state.range(5));
  const bool a16 = state.range(6) != 0;
  if (!qat::cpu_supports(level)) {
    state.SkipWithError("CPU level not supported here");
    return;
  }
  qat::set_cpu_level(level);
  omp_set_num_threads(threads);
  const std::vector<uint8_t> w = random_weights(type, rows, cols);
  const qat::PackedMatrix m = qat::make_packed_matrix(type, w.data(), rows, cols);
  std::vector<float> x(size_t(n * cols)), y(size_t(n * rows));
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(int(i % 17) - 8) * 0.1f;
  for (auto _ : state) {
    if (a16)
      qat::matmul_packed_a16(m, x.data(), y.data(), n);
    else
      qat::matmul_packed(m, x.data(), y.data(), n);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(w.size()));
  state.counters["MAC/s"] =
      benchmark::Counter(double(state.iterations()) * double(rows * cols * n), benchmark::Counter::kIsRate);
  state.SetLabel(std::string(type == TensorType::Q8_0 ? "W8" : "W4") + (a16 ? "A16 " : "A8 ") +
                 qat::cpu_level_name(level) +
                 " threads=" + std::to_string(threads));
  qat::set_cpu_level(qat::detected_cpu_level());
}

// Decode through many distinct small matrices, as a model's layers are read
// one token after another: a pool of about 256 MiB of (rows, cols) matrices
// in one huge-page arena, far beyond the caches, each multiplied once per
// pass with one token. Bytes/s against the machine's read bandwidth shows
// what starting a new matrix costs, which the single-matrix cases above hide
// (their small matrices sit in the cache).
void BM_QuantMatmulStream(benchmark::State& state) {
  const auto type = TensorType(state.range(0));
  const int64_t rows = state.range(1), cols = state.range(2);
  const auto level = qat::CpuLevel(state.range(3));
  if (!qat::cpu_supports(level)) {
    state.SkipWithError("CPU level not supported here");
    return;
  }
  qat::set_cpu_level(level);
  omp_set_num_threads(1);
  const std::vector<uint8_t> w = random_weights(type, rows, cols);
  const int64_t count = std::max<int64_t>(1, (int64_t(256) << 20) / int64_t(w.size()));
  // One arena in huge pages, the matrices back to back, as
  // Model::prepare_matrices_for_kernels lays a model's matrices out.
  const int64_t bytes = (qat::packed_bytes(type, rows, cols) + 63) / 64 * 64;
  const std::shared_ptr<uint8_t> arena = qat::allocate_large(size_t(count * bytes));
  std::vector<qat::PackedMatrix> pool;
  for (int64_t i = 0; i < count; ++i)
    pool.push_back(qat::make_packed_matrix_in(std::shared_ptr<uint8_t>(arena, arena.get() + i * bytes), type,
                                              w.data(), rows, cols, /*release_source=*/false));
  std::vector<float> x(static_cast<size_t>(cols)), y(static_cast<size_t>(rows));
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(int(i % 17) - 8) * 0.1f;
  for (auto _ : state) {
    for (const qat::PackedMatrix& m : pool) qat::matmul_packed(m, x.data(), y.data(), 1);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * count * int64_t(w.size()));
  state.SetLabel(std::string(type == TensorType::Q8_0 ? "W8A8 " : "W4A8 ") + qat::cpu_level_name(level) + ", " +
                 std::to_string(count) + " matrices");
  qat::set_cpu_level(qat::detected_cpu_level());
}

void args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"type", "rows", "cols", "n", "thr", "level", "a16"});
  for (int level = 0; level < int(qat::CpuLevel::Count); ++level) {
    if (!qat::cpu_supports(qat::CpuLevel(level))) continue;
    for (int a16 : {0, 1})
      for (int type : {8, 2}) {                        // Q8_0, Q4_0
        b->Args({type, 262144, 640, 1, 1, level, a16});  // 270M tied output projection, decode
        b->Args({type, 2048, 640, 1, 1, level, a16});    // 270M FFN gate, decode
        b->Args({type, 640, 2048, 1, 1, level, a16});    // 270M FFN down, decode
        b->Args({type, 6912, 1152, 1, 1, level, a16});   // 1B FFN gate, decode
        b->Args({type, 6912, 1152, 1, 2, level, a16});
        b->Args({type, 2048, 640, 64, 1, level, a16});   // 270M FFN gate, prefill of 64 tokens
        b->Args({type, 6912, 1152, 64, 1, level, a16});  // 1B FFN gate, prefill
        b->Args({type, 6912, 1152, 64, 2, level, a16});
        b->Args({type, 512, 128, 48, 1, level, a16});    // fraud demo FFN gate, one record
        b->Args({type, 128, 512, 48, 1, level, a16});    // fraud demo FFN down, one record
      }
  }
}

BENCHMARK(BM_QuantMatmulStream)
    ->ArgNames({"type", "rows", "cols", "level"})
    ->ArgsProduct({{int64_t(TensorType::Q8_0), int64_t(TensorType::Q4_0)}, {2048}, {640}, {1, 2}})
    ->Args({int64_t(TensorType::Q4_0), 640, 2048, 2})
    ->Args({int64_t(TensorType::Q4_0), 262144, 640, 2})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_QuantMatmul)->Apply(args)->Unit(benchmark::kMillisecond)->UseRealTime();

// One decoded token's products of a Gemma 3 1B file, in the model's order
// and one huge-page arena (26 layers of q, k, v, o, gate, up, down, then the
// 262144-row tied output): the weight stream of `qat bench` tg without the
// attention and norms between the products.
//   build/bench/bench_quant_matmul --benchmark_filter=DecodeSequence
void BM_DecodeSequence(benchmark::State& state) {
  const auto type = TensorType(state.range(0));
  omp_set_num_threads(int(state.range(1)));
  struct Shape {
    int64_t rows, cols;
  };
  const std::vector<Shape> layer = {{1024, 1152}, {256, 1152}, {256, 1152}, {1152, 1024},
                                    {6912, 1152}, {6912, 1152}, {1152, 6912}};
  std::vector<Shape> shapes;
  for (int l = 0; l < 26; ++l) shapes.insert(shapes.end(), layer.begin(), layer.end());
  shapes.push_back({262144, 1152});
  auto padded = [&](const Shape& s) { return (qat::packed_bytes(type, s.rows, s.cols) + 63) / 64 * 64; };
  int64_t total = 0;
  for (const Shape& s : shapes) total += padded(s);
  const std::shared_ptr<uint8_t> arena = qat::allocate_large(size_t(total));
  std::vector<qat::PackedMatrix> pool;
  // Every layer gets the first layer's values (random weights for 1B
  // parameters take a minute); each matrix still has its own bytes.
  std::vector<std::vector<uint8_t>> values(layer.size() + 1);
  int64_t offset = 0, weight_bytes = 0;
  for (size_t i = 0; i < shapes.size(); ++i) {
    const Shape& s = shapes[i];
    std::vector<uint8_t>& w = values[i + 1 < shapes.size() ? i % layer.size() : layer.size()];
    if (w.empty()) w = random_weights(type, s.rows, s.cols);
    weight_bytes += int64_t(w.size());
    pool.push_back(qat::make_packed_matrix_in(std::shared_ptr<uint8_t>(arena, arena.get() + offset), type, w.data(),
                                              s.rows, s.cols, /*release_source=*/false));
    offset += padded(s);
  }
  std::vector<float> x(6912), y(262144);
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(int(i % 17) - 8) * 0.1f;
  for (auto _ : state) {
    for (const qat::PackedMatrix& m : pool) qat::matmul_packed(m, x.data(), y.data(), 1);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * weight_bytes);
  state.SetLabel(std::string(type == TensorType::Q8_0 ? "W8A8 " : "W4A8 ") + qat::cpu_level_name(qat::kernels().level) +
                 ", threads=" + std::to_string(state.range(1)));
  omp_set_num_threads(1);
}
BENCHMARK(BM_DecodeSequence)
    ->ArgNames({"type", "thr"})
    ->ArgsProduct({{int64_t(TensorType::Q8_0), int64_t(TensorType::Q4_0)}, {1, 2}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// FP32 activations to Q8_0 blocks plus their sums, as every W8A8 / W4A8
// product starts: 65 tokens of a 512-wide input (the fraud demo's FFN down).
void BM_QuantizeActivations(benchmark::State& state) {
  const auto level = qat::CpuLevel(state.range(0));
  const qat::KernelTable* k = qat::kernels_for(level);
  if (!k || !qat::cpu_supports(level)) {
    state.SkipWithError("CPU level not supported here");
    return;
  }
  const int64_t nb = 65 * 512 / 32;
  std::vector<float> x(size_t(nb * 32));
  std::mt19937 rng(2);
  std::normal_distribution<float> nd;
  for (float& v : x) v = nd(rng);
  std::vector<qat::BlockQ8_0> y(static_cast<size_t>(nb));
  std::vector<qat::ActBlockInfo> info(static_cast<size_t>(nb));
  for (auto _ : state) {
    benchmark::DoNotOptimize(k->quantize_act(x.data(), nb, y.data(), info.data()));
    benchmark::ClobberMemory();
  }
  state.counters["ns/block"] = benchmark::Counter(double(state.iterations()) * double(nb),
                                                  benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.SetLabel(qat::cpu_level_name(level));
}
BENCHMARK(BM_QuantizeActivations)->DenseRange(0, int(qat::CpuLevel::Count) - 1)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
