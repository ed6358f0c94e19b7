// A random model as our QAT with learned per-block scales (LSQ) exports it:
// every matrix that `qat quantize TYPE` quantizes lies on its Q8_0 / Q4_0
// grid with scales other than the block maximum's. Shared by the model and
// CLI tests of grid-preserving quantization (quant/grid_import.h).
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "model/model.h"
#include "model/quantize_plan.h"
#include "quant/quant_types.h"

namespace qat::test {

struct LsqModel {
  std::unique_ptr<Model> model;                         // F32, values = dequantized blocks
  std::map<std::string, std::vector<uint8_t>> blocks;   // GGUF name -> the trained blocks
  std::map<std::string, TensorType> types;              // GGUF name -> their type
};

// Per-block scales = the reference's times a factor in [0.8, 1.25] (signed
// like the reference's, as lsq_init_scales starts them): blocks with a factor
// below 1 clamp their largest value to code -8 / +-127 (back on the reference
// grid), the others have largest codes 6..7 / 102..126.
inline LsqModel make_lsq_model(Family family, TensorType type, uint64_t seed) {
  LsqModel r;
  r.model = init_random_model(preset_config(family, "tiny"), seed);
  const QuantizePlan plan = plan_quantization(*r.model, {type, {}});
  std::mt19937 rng{uint32_t(seed)};
  std::uniform_real_distribution<float> factor(0.8f, 1.25f);
  for (const TensorSlot& s : tensor_slots(r.model->config, r.model->weights)) {
    if (!s.tensor->present()) continue;
    const TensorType to = plan.find(s.gguf_name)->to;
    if (to != TensorType::Q4_0 && to != TensorType::Q8_0) continue;
    float* w = s.tensor->mutable_f32();
    const int64_t n = s.tensor->numel();
    std::vector<float> d(size_t(n / kQuantBlock));
    std::vector<uint8_t>& q = r.blocks[s.gguf_name];
    q.resize(size_t(tensor_bytes(uint32_t(to), uint64_t(n))));
    if (to == TensorType::Q4_0) {
      reference_scales_q4_0(w, d.data(), n);
      for (float& x : d) x *= factor(rng);
      quantize_row_q4_0_scaled(w, d.data(), reinterpret_cast<BlockQ4_0*>(q.data()), n);
      dequantize_row_q4_0(reinterpret_cast<const BlockQ4_0*>(q.data()), w, n);
    } else {
      reference_scales_q8_0(w, d.data(), n);
      for (float& x : d) x *= factor(rng);
      quantize_row_q8_0_scaled(w, d.data(), reinterpret_cast<BlockQ8_0*>(q.data()), n);
      dequantize_row_q8_0(reinterpret_cast<const BlockQ8_0*>(q.data()), w, n);
    }
    r.types[s.gguf_name] = to;
  }
  return r;
}

}  // namespace qat::test
