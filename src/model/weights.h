// Model weights and the one list of tensors every loader, writer and
// initializer walks (gemma.cpp's ForEachTensor idea).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "formats/tensor_type.h"
#include "kernels/quant_pack.h"
#include "model/config.h"

namespace qat {

// A weight tensor: either a view into a mapped file or owned bytes.
// shape is in torch order: a linear layer is [out, in] with `in` contiguous,
// which is the same memory as GGUF's ne = {in, out}.
struct Tensor {
  TensorType type = TensorType::F32;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;
  std::shared_ptr<std::vector<uint8_t>> owned;
  // Q8_0 / Q4_0 matrices the forward pass multiplies by: the same weights
  // repacked for the kernels at load time (Model::finalize). `data` stays
  // valid (embedding lookups, writers) but its mapped pages are released.
  std::shared_ptr<const PackedMatrix> packed;
  // The same for a 3-D (E, R, C) Q8_0 / Q4_0 tensor (MoE experts): each
  // (R, C) slice packed on its own.
  std::vector<PackedMatrix> packed_slices;
  // F32 / F16 / BF16 matrices of a mapped file: a huge-page copy `data` then
  // points to (Model::finalize), for the same reason as packing.
  std::shared_ptr<uint8_t> resident;

  bool present() const { return data != nullptr; }
  int64_t numel() const;
  // Rows of the tensor as a matrix of cols()-wide rows (all dims but the
  // last; a 3-D expert tensor (E, R, C) has E * R).
  int64_t rows() const { return shape.size() >= 2 ? numel() / shape.back() : 1; }
  int64_t cols() const { return shape.empty() ? 0 : shape.back(); }
  uint64_t nbytes() const;
  const float* f32() const;  // only for F32 tensors
  // Allocates owned zeroed storage of the given type and shape.
  static Tensor zeros(TensorType type, std::vector<int64_t> shape);
  float* mutable_f32();
};

struct LayerWeights {
  Tensor attn_norm;                   // (H)           input_layernorm
  Tensor wq;                          // (nh*hd, H)
  Tensor wk, wv;                      // (nkv*hd, H)   absent on KV-sharing layers; wv absent with K=V
  Tensor wo;                          // (H, nh*hd)
  Tensor q_norm, k_norm;              // (hd)
  Tensor post_attn_norm;              // (H)
  Tensor ffn_norm;                    // (H)           pre_feedforward_layernorm
  Tensor w_gate, w_up;                // (F, H)
  Tensor w_down;                      // (H, F)
  Tensor post_ffn_norm;               // (H)
  // Gemma 4 per-layer embeddings.
  Tensor ple_gate;                    // (P, H)        per_layer_input_gate
  Tensor ple_proj;                    // (H, P)        per_layer_projection
  Tensor ple_post_norm;               // (H)           post_per_layer_input_norm
  Tensor layer_scalar;                // (1)           Gemma 4
  // Gemma 4 MoE, beside the dense MLP above. E experts of width I.
  Tensor router;                      // (E, H)        router.proj
  Tensor router_scale;                // (H)           router.scale
  Tensor expert_scale;                // (E)           router.per_expert_scale
  Tensor experts_gate_up;             // (E, 2I, H)    experts.gate_up_proj: I gate rows, then I up rows
  Tensor experts_down;                // (E, H, I)     experts.down_proj
  Tensor pre_ffn_norm_2;              // (H)           pre_feedforward_layernorm_2 (experts' input)
  Tensor post_ffn_norm_1;             // (H)           post_feedforward_layernorm_1 (dense MLP's output)
  Tensor post_ffn_norm_2;             // (H)           post_feedforward_layernorm_2 (experts' output)
};

// Norm weights are kept as the multiplier the forward pass uses: Gemma 3's
// (1 + w), Gemma 4's w. GGUF gemma3 files store exactly that (llama.cpp's
// converter adds 1); HF Gemma 3 checkpoints store w, so loaders add 1.
struct ModelWeights {
  Tensor embed;                       // (V, H)        tied with the output
  Tensor output;                      // (V, H)        only when not tied
  Tensor final_norm;                  // (H)
  Tensor ple_embed;                   // (V_ple, L*P)
  Tensor ple_model_proj;              // (L*P, H)
  Tensor ple_proj_norm;               // (P)
  Tensor score;                       // (num_labels, H) classification head
  std::vector<LayerWeights> layers;
};

// Head: a classifier's output layer (kept in F32 by quantization, like norms).
// Router: a MoE layer's expert router (F32, as llama-quantize keeps it: it
// decides which experts run).
enum class TensorRole { Matrix, Embedding, Norm, Scalar, Head, Router };
// Norms, scalars, a classifier head and routers are always stored and
// computed in F32.
inline bool stored_as_f32(TensorRole r) {
  return r == TensorRole::Norm || r == TensorRole::Scalar || r == TensorRole::Head || r == TensorRole::Router;
}

// One tensor of the model: its names in both formats, expected shape, and
// where it lives. `optional` tensors may be absent from a file.
struct TensorSlot {
  std::string gguf_name;   // "blk.3.attn_q.weight"
  std::string hf_name;     // "model.layers.3.self_attn.q_proj.weight"
  std::vector<int64_t> shape;
  TensorRole role;
  Tensor* tensor;
  bool optional = false;
};

// Every tensor the config calls for, in a stable order (GGUF file order).
std::vector<TensorSlot> tensor_slots(const ModelConfig& config, ModelWeights& weights);

uint64_t parameter_count(const ModelConfig& config);

}  // namespace qat
