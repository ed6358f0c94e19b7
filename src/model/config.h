// One configuration struct for Gemma 3 and Gemma 4 (text; dense or Gemma 4's MoE). Field names
// follow HF config.json; per-layer values are derived once by layers().
#pragma once
#include <string>
#include <vector>

#include "quant/activation_quant.h"

namespace qat {

enum class Family { Gemma3, Gemma4 };
const char* family_name(Family f);  // "gemma3" / "gemma4" (also the GGUF arch)

// Everything one decoder layer needs, resolved from the model-wide config.
struct LayerSpec {
  bool sliding = false;   // local attention over the last sliding_window positions
  int head_dim = 0;
  int n_kv_heads = 0;
  int ffn_dim = 0;
  bool k_eq_v = false;    // Gemma 4 global layers: no v_proj, V = v_norm(K projection)
  int kv_source = -1;     // Gemma 4 KV sharing: layer whose K/V this layer reads (-1: its own)
  bool stores_kv = true;  // false for KV-sharing consumers (they have no k/v weights)
  float rope_theta = 10000.0f;
  int rope_dims = 0;      // rotated dims (pairs j, j + head_dim/2 for j < rope_dims/2)
  float rope_factor = 1.0f;  // linear position scaling (inv_freq / factor)
};

struct ModelConfig {
  Family family = Family::Gemma3;
  int vocab_size = 262144;
  int hidden_size = 640;
  int num_hidden_layers = 18;
  int num_attention_heads = 4;
  int num_key_value_heads = 1;
  int head_dim = 256;
  int intermediate_size = 2048;
  int sliding_window = 512;
  int max_position_embeddings = 32768;
  float rms_norm_eps = 1e-6f;
  float rope_theta_local = 10000.0f;
  float rope_theta_global = 1000000.0f;
  float rope_global_factor = 1.0f;           // Gemma 3 4B+: linear scaling 8 on global layers
  float rope_global_partial = 1.0f;          // Gemma 4: proportional RoPE rotates 25 % on global layers
  float query_pre_attn_scalar = 256.0f;      // Gemma 3 attention scale = this^-0.5; Gemma 4 uses 1.0
  float final_logit_softcapping = 0.0f;      // 0 = off (Gemma 4: 30)
  float attn_logit_softcapping = 0.0f;       // 0 = off
  std::vector<bool> layer_sliding;           // per layer; empty = default pattern (5 local : 1 global)
  bool tie_word_embeddings = true;
  // Gemma 4 only.
  int global_head_dim = 0;                   // 0 = head_dim
  int num_global_key_value_heads = 0;        // 0 = num_key_value_heads (used only with k_eq_v)
  bool attention_k_eq_v = false;
  int num_kv_shared_layers = 0;
  bool use_double_wide_mlp = false;          // KV-sharing layers get 2x intermediate_size
  int hidden_size_per_layer_input = 0;       // per-layer embedding width (0 = no PLE)
  int vocab_size_per_layer_input = 0;
  // Gemma 4 MoE (26B-A4B, HF enable_moe_block): every layer adds a routed
  // mixture of num_experts GeGLU experts (top_k_experts per token, each of
  // width moe_intermediate_size) beside its dense MLP. 0 experts = dense.
  int num_experts = 0;
  int top_k_experts = 0;
  int moe_intermediate_size = 0;
  // Token ids.
  int bos_token_id = 2, eos_token_id = 1, pad_token_id = 0;
  // Sequence classification head ("score.weight", (num_labels, H), no bias)
  // on the final-norm hidden states pooled per sequence; 0 = none.
  int num_labels = 0;
  std::string classifier_pooling = "last";  // "last" token or "mean" over the sequence
  std::vector<std::string> class_names;     // (num_labels), optional
  // How `qat score` turns a JSON record into the text this classifier reads
  // (finance/input_spec.h), as JSON text; GGUF "qat.score.input"; empty: none.
  std::string score_input;
  // Activations entering Q8_0 / Q4_0 matrix products: quantized to Q8_0
  // (W8A8 / W4A8, llama.cpp's way) or FP32 (weight-only, W8A16 / W4A16).
  // GGUF "qat.activation_quant" ("q8_0" | "none"; absent: q8_0).
  ActivationQuant activation_quant = ActivationQuant::Q8_0;

  // Resolved per-layer specs; throws qat::Error if the config is inconsistent.
  std::vector<LayerSpec> layers() const;
  bool is_sliding(int layer) const;
  bool has_global_layer() const;  // false for a model cut to its first sliding layers
  float attention_scale() const;  // Gemma 3: query_pre_attn_scalar^-0.5; Gemma 4: 1
  bool norm_adds_one() const { return family == Family::Gemma3; }  // x/rms * (1+w)
  bool has_v_norm() const { return family == Family::Gemma4; }
  bool has_layer_scalar() const { return family == Family::Gemma4; }
  bool has_moe() const { return num_experts > 0; }
  void validate() const;
};

// Published shapes and tiny test shapes. Names: gemma3: tiny, 270m, 1b, 4b;
// gemma4: tiny, tiny-moe, small, e2b, e4b, 26b-a4b, 31b.
ModelConfig preset_config(Family family, const std::string& name);
std::vector<std::string> preset_names(Family family);
Family parse_family(const std::string& name);  // "gemma3" | "gemma4"

}  // namespace qat
