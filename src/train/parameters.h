// The trainable view of a model: every tensor as an FP32 buffer with a
// gradient of the same shape, named as in HF checkpoints, in one stable
// order (tensor_slots order). Optimizer, clipping, checkpoints and freezing
// all walk this list and know nothing about Gemma.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace qat {

// What a tensor is, for weight decay and for freezing groups.
enum class ParamGroup {
  Embedding,  // token and per-layer embeddings (decayed)
  Matrix,     // linear layers of the decoder (decayed)
  Norm,       // RMSNorm weights (not decayed)
  Scalar,     // Gemma 4 per-layer output scalars (not decayed)
  Head,       // classification head (decayed)
  QuantScale, // QAT learned block scales (LSQ; not decayed)
};
const char* param_group_name(ParamGroup g);  // "embedding" "matrix" "norm" "scalar" "head" "qscale"

struct Parameter {
  std::string name;  // HF name: "model.layers.3.self_attn.q_proj.weight", "score.weight"
  std::vector<int64_t> shape;
  float* value = nullptr;  // (numel) owned by the model being trained
  float* grad = nullptr;   // (numel) same layout; accumulated by backward
  int64_t numel = 0;
  ParamGroup group = ParamGroup::Matrix;
  bool trainable = true;  // false: frozen (no update, no optimizer state change)
  // This parameter's learning rate = the schedule's lr * lr_scale (QAT's
  // learned scales take a much smaller step than the weights, --lsq-lr).
  float lr_scale = 1.0f;

  bool decayed() const {
    return group == ParamGroup::Embedding || group == ParamGroup::Matrix || group == ParamGroup::Head;
  }
};

using ParameterList = std::vector<Parameter>;

void zero_grads(ParameterList& params);

}  // namespace qat
