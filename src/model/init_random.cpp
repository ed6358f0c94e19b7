// Random weights for tests and benchmarks, deterministic for a seed.
#include <cmath>
#include <random>

#include "model/model.h"
#include "model/tensor_convert.h"

namespace qat {

std::unique_ptr<Model> init_random_model(const ModelConfig& config, uint64_t seed,
                                         TensorType matrix_type) {
  auto model = std::make_unique<Model>();
  model->config = config;
  model->source_path = "<random>";
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (const TensorSlot& s : tensor_slots(model->config, model->weights)) {
    Tensor t = Tensor::zeros(TensorType::F32, s.shape);
    float* v = t.mutable_f32();
    const int64_t n = t.numel();
    switch (s.role) {
      case TensorRole::Matrix: {
        // Keeps activations O(1) through the network: std = 1/sqrt(fan_in).
        const float std = 1.0f / std::sqrt(float(s.shape.back()));
        for (int64_t i = 0; i < n; ++i) v[i] = normal(rng) * std;
        break;
      }
      case TensorRole::Embedding:
        for (int64_t i = 0; i < n; ++i) v[i] = normal(rng) * 0.02f * 16.0f / std::sqrt(float(s.shape.back()));
        break;
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
  }
  model->finalize();
  return model;
}

}  // namespace qat
