// One training step (forward + backward) of the gemma3 / gemma4 "small"
// presets (a few million parameters), batch 8 x 128 tokens:
//   build/bench/bench_train_step --benchmark_repetitions=3
// tokens/s = items_per_second.
#include <benchmark/benchmark.h>

#include <random>

#include "model/model.h"
#include "train/gemma_train.h"

namespace {

void train_step(benchmark::State& state, qat::Family family) {
  const int64_t B = 8, T = 128;
  auto model = qat::init_random_model(qat::preset_config(family, "small"), 1);
  qat::GemmaTrainer trainer(*model);
  std::mt19937 rng(0);
  std::vector<int32_t> ids(size_t(B * T)), targets(ids.size());
  for (auto& x : ids) x = int32_t(3 + rng() % 4000);
  for (auto& x : targets) x = int32_t(3 + rng() % 4000);
  for (auto _ : state) {
    qat::zero_grads(trainer.parameters());
    benchmark::DoNotOptimize(trainer.forward_lm(ids.data(), targets.data(), B, T));
    trainer.backward();
  }
  state.SetItemsProcessed(state.iterations() * B * T);
}

void BM_TrainStepGemma3Small(benchmark::State& s) { train_step(s, qat::Family::Gemma3); }
void BM_TrainStepGemma4Small(benchmark::State& s) { train_step(s, qat::Family::Gemma4); }
BENCHMARK(BM_TrainStepGemma3Small)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_TrainStepGemma4Small)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
