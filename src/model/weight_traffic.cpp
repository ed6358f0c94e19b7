#include "model/weight_traffic.h"

#include "base/checked_math.h"

namespace qat {

namespace {
uint64_t row_bytes(const Tensor& t) { return tensor_bytes(uint32_t(t.type), uint64_t(t.cols())); }
}  // namespace

uint64_t weight_bytes_per_token(const Model& model) {
  // tensor_slots wants mutable weights; a copy shares the tensor data.
  ModelWeights w = model.weights;
  uint64_t total = 0;
  for (const TensorSlot& slot : tensor_slots(model.config, w)) {
    const Tensor& t = *slot.tensor;
    if (!t.present()) continue;
    // Embedding tables are read one row per token (lookup); the tied
    // embedding is added in full below as the output projection.
    uint64_t n = slot.role == TensorRole::Embedding ? row_bytes(t) : t.nbytes();
    // MoE experts (E, R, C): a token reads the slices of its top-k experts.
    if (t.shape.size() == 3) n = n / uint64_t(t.shape[0]) * uint64_t(model.config.top_k_experts);
    total = checked_add(total, n, "weight bytes per token");
  }
  if (model.config.tie_word_embeddings)
    total = checked_add(total, w.embed.nbytes(), "weight bytes per token");
  return total;
}

}  // namespace qat
