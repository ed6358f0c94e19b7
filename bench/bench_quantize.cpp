// Cost of grid-preserving quantization (quant/grid_import.h) against the
// reference quantizer, one thread, 1M weights:
//   build/bench/bench_quantize  (or: --benchmark_filter=Q4_0)
// "ordinary": Gaussian weights of a non-QAT model (detection finds nothing,
// the cost `qat quantize` adds to every ordinary model); "trained": every
// block on a Q4_0/Q8_0 grid with a scale other than the block maximum's.
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <vector>

#include "base/fp16.h"
#include "quant/grid_import.h"
#include "quant/quant_types.h"

namespace {

using qat::TensorType;
constexpr int64_t kN = int64_t(1) << 20;

std::vector<float> weights(TensorType to, TensorType source, bool trained) {
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::vector<float> w(kN);
  for (float& v : w) v = normal(rng);
  if (trained) {  // LSQ-like: scales 1.1 x the reference's
    std::vector<float> d(kN / 32);
    std::vector<uint8_t> q(size_t(qat::tensor_bytes(uint32_t(to), kN)));
    if (to == TensorType::Q4_0) {
      qat::reference_scales_q4_0(w.data(), d.data(), kN);
      for (float& s : d) s *= 1.1f;
      qat::quantize_row_q4_0_scaled(w.data(), d.data(), reinterpret_cast<qat::BlockQ4_0*>(q.data()), kN);
      qat::dequantize_row_q4_0(reinterpret_cast<qat::BlockQ4_0*>(q.data()), w.data(), kN);
    } else {
      qat::reference_scales_q8_0(w.data(), d.data(), kN);
      for (float& s : d) s *= 1.1f;
      qat::quantize_row_q8_0_scaled(w.data(), d.data(), reinterpret_cast<qat::BlockQ8_0*>(q.data()), kN);
      qat::dequantize_row_q8_0(reinterpret_cast<qat::BlockQ8_0*>(q.data()), w.data(), kN);
    }
  }
  for (float& v : w)
    v = source == TensorType::BF16  ? qat::bf16_to_f32(qat::f32_to_bf16(v))
        : source == TensorType::F16 ? qat::fp16_to_f32(qat::f32_to_fp16(v))
                                    : v;
  return w;
}

void BM_Reference(benchmark::State& state, TensorType to, TensorType source, bool trained) {
  const std::vector<float> w = weights(to, source, trained);
  std::vector<uint8_t> out(size_t(qat::tensor_bytes(uint32_t(to), kN)));
  for (auto _ : state) {
    if (to == TensorType::Q4_0)
      qat::quantize_row_q4_0(w.data(), reinterpret_cast<qat::BlockQ4_0*>(out.data()), kN);
    else
      qat::quantize_row_q8_0(w.data(), reinterpret_cast<qat::BlockQ8_0*>(out.data()), kN);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * kN);
}

void BM_KeepGrid(benchmark::State& state, TensorType to, TensorType source, bool trained) {
  const std::vector<float> w = weights(to, source, trained);
  std::vector<uint8_t> out(size_t(qat::tensor_bytes(uint32_t(to), kN)));
  qat::GridStats st;
  for (auto _ : state) {
    st = qat::quantize_row_keep_grid(to, source, w.data(), out.data(), kN);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * kN);
  state.counters["kept_%"] = 100.0 * double(st.kept()) / double(st.blocks);
}

#define QAT_GRID_BENCH(TO, SRC)                                                                    \
  BENCHMARK_CAPTURE(BM_Reference, TO##_from_##SRC##_ordinary, TensorType::TO, TensorType::SRC, false); \
  BENCHMARK_CAPTURE(BM_KeepGrid, TO##_from_##SRC##_ordinary, TensorType::TO, TensorType::SRC, false);  \
  BENCHMARK_CAPTURE(BM_KeepGrid, TO##_from_##SRC##_trained, TensorType::TO, TensorType::SRC, true);

QAT_GRID_BENCH(Q4_0, F32)
QAT_GRID_BENCH(Q4_0, F16)
QAT_GRID_BENCH(Q4_0, BF16)
QAT_GRID_BENCH(Q8_0, F32)
QAT_GRID_BENCH(Q8_0, F16)
QAT_GRID_BENCH(Q8_0, BF16)

}  // namespace

BENCHMARK_MAIN();
