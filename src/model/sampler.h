// Next-token choice from logits: greedy (temperature 0) or temperature +
// top-k + top-p sampling with a seeded generator (same seed, same tokens).
#pragma once
#include <cstdint>
#include <random>
#include <vector>

namespace qat {

struct SamplerParams {
  float temperature = 1.0f;  // 0 = greedy
  int top_k = 64;            // 0 = no limit (Gemma's generation_config: 64)
  float top_p = 0.95f;       // 1 = no limit (Gemma's generation_config: 0.95)
  uint64_t seed = 0;
};

class Sampler {
 public:
  explicit Sampler(SamplerParams p);
  int32_t sample(const float* logits, int vocab);

 private:
  SamplerParams p_;
  std::mt19937_64 rng_;
  std::vector<std::pair<float, int32_t>> cand_;
};

int32_t argmax(const float* logits, int n);

}  // namespace qat
