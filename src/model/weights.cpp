#include "model/weights.h"

#include "base/checked_math.h"
#include "base/error.h"

namespace qat {

int64_t Tensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

uint64_t Tensor::nbytes() const { return tensor_bytes(uint32_t(type), uint64_t(numel())); }

const float* Tensor::f32() const {
  QAT_CHECK(type == TensorType::F32, "internal: tensor is ", tensor_type_name(type), ", not F32");
  return reinterpret_cast<const float*>(data);
}

float* Tensor::mutable_f32() {
  QAT_CHECK(type == TensorType::F32 && owned, "internal: tensor is not owned F32");
  // data may point inside a storage shared by several tensors (training
  // keeps a layer's Q/K/V and gate/up weights adjacent).
  return reinterpret_cast<float*>(const_cast<uint8_t*>(data));
}

Tensor Tensor::zeros(TensorType type, std::vector<int64_t> shape) {
  Tensor t;
  t.type = type;
  t.shape = std::move(shape);
  t.owned = std::make_shared<std::vector<uint8_t>>(t.nbytes());
  t.data = t.owned->data();
  return t;
}

std::vector<TensorSlot> tensor_slots(const ModelConfig& c, ModelWeights& w) {
  const auto specs = c.layers();
  const int64_t H = c.hidden_size, V = c.vocab_size, L = c.num_hidden_layers;
  const int64_t P = c.hidden_size_per_layer_input;
  const int64_t nh = c.num_attention_heads;
  w.layers.resize(size_t(L));
  std::vector<TensorSlot> s;
  auto add = [&](std::string g, std::string h, std::vector<int64_t> shape, TensorRole role,
                 Tensor* t, bool optional = false) {
    s.push_back({std::move(g), std::move(h), std::move(shape), role, t, optional});
  };
  using R = TensorRole;
  add("token_embd.weight", "model.embed_tokens.weight", {V, H}, R::Embedding, &w.embed);
  if (P > 0) {
    const int64_t Vp = c.vocab_size_per_layer_input;
    add("per_layer_token_embd.weight", "model.embed_tokens_per_layer.weight", {Vp, L * P},
        R::Embedding, &w.ple_embed);
    add("per_layer_model_proj.weight", "model.per_layer_model_projection.weight", {L * P, H},
        R::Matrix, &w.ple_model_proj);
    add("per_layer_proj_norm.weight", "model.per_layer_projection_norm.weight", {P}, R::Norm,
        &w.ple_proj_norm);
  }
  for (int64_t i = 0; i < L; ++i) {
    const LayerSpec& ls = specs[size_t(i)];
    LayerWeights& lw = w.layers[size_t(i)];
    const std::string g = "blk." + std::to_string(i) + ".";
    const std::string h = "model.layers." + std::to_string(i) + ".";
    const int64_t hd = ls.head_dim, kvd = int64_t(ls.n_kv_heads) * ls.head_dim, F = ls.ffn_dim;
    add(g + "attn_norm.weight", h + "input_layernorm.weight", {H}, R::Norm, &lw.attn_norm);
    add(g + "attn_q.weight", h + "self_attn.q_proj.weight", {nh * hd, H}, R::Matrix, &lw.wq);
    if (ls.stores_kv) {
      add(g + "attn_k.weight", h + "self_attn.k_proj.weight", {kvd, H}, R::Matrix, &lw.wk);
      if (!ls.k_eq_v)
        add(g + "attn_v.weight", h + "self_attn.v_proj.weight", {kvd, H}, R::Matrix, &lw.wv);
    }
    add(g + "attn_output.weight", h + "self_attn.o_proj.weight", {H, nh * hd}, R::Matrix, &lw.wo);
    add(g + "attn_q_norm.weight", h + "self_attn.q_norm.weight", {hd}, R::Norm, &lw.q_norm);
    if (ls.stores_kv)
      add(g + "attn_k_norm.weight", h + "self_attn.k_norm.weight", {hd}, R::Norm, &lw.k_norm);
    add(g + "post_attention_norm.weight", h + "post_attention_layernorm.weight", {H}, R::Norm,
        &lw.post_attn_norm);
    add(g + "ffn_norm.weight", h + "pre_feedforward_layernorm.weight", {H}, R::Norm, &lw.ffn_norm);
    add(g + "ffn_gate.weight", h + "mlp.gate_proj.weight", {F, H}, R::Matrix, &lw.w_gate);
    add(g + "ffn_up.weight", h + "mlp.up_proj.weight", {F, H}, R::Matrix, &lw.w_up);
    add(g + "ffn_down.weight", h + "mlp.down_proj.weight", {H, F}, R::Matrix, &lw.w_down);
    add(g + "post_ffw_norm.weight", h + "post_feedforward_layernorm.weight", {H}, R::Norm,
        &lw.post_ffn_norm);
    if (c.has_moe()) {  // llama.cpp's names (gguf-py tensor_mapping, gemma4)
      const int64_t E = c.num_experts, I = c.moe_intermediate_size;
      add(g + "ffn_gate_inp.weight", h + "router.proj.weight", {E, H}, R::Router, &lw.router);
      add(g + "ffn_gate_inp.scale", h + "router.scale", {H}, R::Norm, &lw.router_scale);
      add(g + "ffn_down_exps.scale", h + "router.per_expert_scale", {E}, R::Scalar, &lw.expert_scale);
      add(g + "ffn_gate_up_exps.weight", h + "experts.gate_up_proj", {E, 2 * I, H}, R::Matrix,
          &lw.experts_gate_up);
      add(g + "ffn_down_exps.weight", h + "experts.down_proj", {E, H, I}, R::Matrix, &lw.experts_down);
      add(g + "pre_ffw_norm_2.weight", h + "pre_feedforward_layernorm_2.weight", {H}, R::Norm,
          &lw.pre_ffn_norm_2);
      add(g + "post_ffw_norm_1.weight", h + "post_feedforward_layernorm_1.weight", {H}, R::Norm,
          &lw.post_ffn_norm_1);
      add(g + "post_ffw_norm_2.weight", h + "post_feedforward_layernorm_2.weight", {H}, R::Norm,
          &lw.post_ffn_norm_2);
    }
    if (P > 0) {
      add(g + "inp_gate.weight", h + "per_layer_input_gate.weight", {P, H}, R::Matrix,
          &lw.ple_gate);
      add(g + "proj.weight", h + "per_layer_projection.weight", {H, P}, R::Matrix, &lw.ple_proj);
      add(g + "post_norm.weight", h + "post_per_layer_input_norm.weight", {H}, R::Norm,
          &lw.ple_post_norm);
    }
    if (c.has_layer_scalar())
      add(g + "layer_output_scale.weight", h + "layer_scalar", {1}, R::Scalar, &lw.layer_scalar);
  }
  add("output_norm.weight", "model.norm.weight", {H}, R::Norm, &w.final_norm);
  if (!c.tie_word_embeddings)
    add("output.weight", "lm_head.weight", {V, H}, R::Matrix, &w.output);
  if (c.num_labels > 0) add("cls.weight", "score.weight", {c.num_labels, H}, R::Head, &w.score);
  return s;
}

uint64_t parameter_count(const ModelConfig& config) {
  ModelWeights w;
  uint64_t n = 0;
  for (const auto& slot : tensor_slots(config, w)) {
    uint64_t k = 1;
    for (int64_t d : slot.shape) k = checked_mul(k, uint64_t(d), "parameter count");
    n = checked_add(n, k, "parameter count");
  }
  return n;
}

}  // namespace qat
