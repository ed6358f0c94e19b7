// Random weights for tests and benchmarks, deterministic for a seed.
#include <cmath>
#include <random>

#include "model/model.h"
#include "base/progress.h"
#include "model/tensor_convert.h"

namespace qat {

namespace {
// splitmix64: fast, and good enough for random test weights.
struct FastRng {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [-1, 1).
  float uniform() { return float(int64_t(next() >> 11) - (int64_t(1) << 52)) * (1.0f / float(int64_t(1) << 52)); }
};
}  // namespace

std::unique_ptr<Model> init_random_model(const ModelConfig& config, uint64_t seed,
                                         TensorType matrix_type) {
  auto model = std::make_unique<Model>();
  model->config = config;
  model->source_path = "<random>";
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  FastRng fast{seed ^ 0x5eed};
  Progress progress("init", parameter_count(config), "params");
  for (const TensorSlot& s : tensor_slots(model->config, model->weights)) {
    Tensor t = Tensor::zeros(TensorType::F32, s.shape);
    float* v = t.mutable_f32();
    const int64_t n = t.numel();
    switch (s.role) {
      case TensorRole::Matrix:
      case TensorRole::Head:
      case TensorRole::Router: {
        // Keeps activations O(1) through the network: std = 1/sqrt(fan_in),
        // drawn uniform (fast: the 4B preset has billions of weights).
        const float a = std::sqrt(3.0f) / std::sqrt(float(s.shape.back()));
        for (int64_t i = 0; i < n; ++i) v[i] = fast.uniform() * a;
        break;
      }
      case TensorRole::Embedding: {
        // std 1/sqrt(width): after Gemma's sqrt(hidden) scaling the token's
        // own embedding is O(1) like each layer's contribution, so the output
        // depends on the context (with larger embeddings a random model just
        // repeats its input token, and quantization error becomes invisible).
        const float a = std::sqrt(3.0f) / std::sqrt(float(s.shape.back()));
        for (int64_t i = 0; i < n; ++i) v[i] = fast.uniform() * a;
        break;
      }
      case TensorRole::Norm:
        for (int64_t i = 0; i < n; ++i) v[i] = 1.0f + 0.1f * normal(rng);
        break;
      case TensorRole::Scalar:
        for (int64_t i = 0; i < n; ++i) v[i] = 1.0f + 0.1f * normal(rng);
        break;
    }
    if (s.role == TensorRole::Matrix || s.role == TensorRole::Embedding)
      t = convert_tensor(t, matrix_type);
    *s.tensor = t;
    progress.add(uint64_t(n));
  }
  progress.finish();
  model->finalize();
  return model;
}

}  // namespace qat
