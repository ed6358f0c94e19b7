#include "model/config.h"

#include <cmath>

#include "base/error.h"

namespace qat {

const char* family_name(Family f) { return f == Family::Gemma3 ? "gemma3" : "gemma4"; }

Family parse_family(const std::string& name) {
  if (name == "gemma3") return Family::Gemma3;
  if (name == "gemma4") return Family::Gemma4;
  fail("unknown architecture '", name, "' (expected gemma3 or gemma4)");
}

bool ModelConfig::is_sliding(int layer) const {
  if (!layer_sliding.empty()) return layer_sliding.at(size_t(layer));
  // Default pattern: every 6th layer is global; Gemma 4 forces the last layer global.
  if (family == Family::Gemma4 && layer == num_hidden_layers - 1) return false;
  return (layer + 1) % 6 != 0;
}

bool ModelConfig::has_global_layer() const {
  for (int i = 0; i < num_hidden_layers; ++i)
    if (!is_sliding(i)) return true;
  return false;
}

float ModelConfig::attention_scale() const {
  return family == Family::Gemma3 ? 1.0f / std::sqrt(query_pre_attn_scalar) : 1.0f;
}

void ModelConfig::validate() const {
  auto positive = [](int v, const char* what) {
    QAT_CHECK(v > 0, "config: ", what, " must be positive, got ", v);
  };
  positive(vocab_size, "vocab_size");
  positive(hidden_size, "hidden_size");
  positive(num_hidden_layers, "num_hidden_layers");
  positive(num_attention_heads, "num_attention_heads");
  positive(num_key_value_heads, "num_key_value_heads");
  positive(head_dim, "head_dim");
  positive(intermediate_size, "intermediate_size");
  positive(sliding_window, "sliding_window");
  QAT_CHECK(num_hidden_layers <= 1024, "config: num_hidden_layers ", num_hidden_layers, " is too large");
  QAT_CHECK(num_labels >= 0, "config: num_labels must not be negative");
  QAT_CHECK(classifier_pooling == "last" || classifier_pooling == "mean", "config: classifier pooling '",
            classifier_pooling, "' (expected last or mean)");
  QAT_CHECK(head_dim % 2 == 0, "config: head_dim must be even, got ", head_dim);
  QAT_CHECK(num_attention_heads % num_key_value_heads == 0, "config: num_attention_heads ",
            num_attention_heads, " is not a multiple of num_key_value_heads ", num_key_value_heads);
  QAT_CHECK(layer_sliding.empty() || int(layer_sliding.size()) == num_hidden_layers,
            "config: layer_types has ", layer_sliding.size(), " entries for ", num_hidden_layers,
            " layers");
  QAT_CHECK(rms_norm_eps > 0 && std::isfinite(rms_norm_eps), "config: rms_norm_eps must be > 0");
  if (family == Family::Gemma3) {
    QAT_CHECK(query_pre_attn_scalar > 0, "config: query_pre_attn_scalar must be positive");
    QAT_CHECK(hidden_size_per_layer_input == 0 && num_kv_shared_layers == 0 && !attention_k_eq_v && !has_moe(),
              "config: per-layer embeddings, KV sharing, K=V and MoE are Gemma 4 features");
  } else {
    QAT_CHECK(num_kv_shared_layers >= 0 && num_kv_shared_layers < num_hidden_layers,
              "config: num_kv_shared_layers ", num_kv_shared_layers, " must be in [0, ",
              num_hidden_layers, ")");
    QAT_CHECK(hidden_size_per_layer_input >= 0, "config: hidden_size_per_layer_input < 0");
    if (hidden_size_per_layer_input > 0)
      QAT_CHECK(vocab_size_per_layer_input > 0 && vocab_size_per_layer_input <= vocab_size,
                "config: vocab_size_per_layer_input must be in [1, vocab_size]");
    QAT_CHECK(global_head_dim >= 0 && global_head_dim % 2 == 0, "config: bad global_head_dim");
    QAT_CHECK(num_experts >= 0 && num_experts <= 4096, "config: num_experts ", num_experts, " out of range [0, 4096]");
    if (has_moe()) {
      QAT_CHECK(top_k_experts >= 1 && top_k_experts <= num_experts, "config: top_k_experts ", top_k_experts,
                " must be in [1, num_experts = ", num_experts, "]");
      positive(moe_intermediate_size, "moe_intermediate_size");
    }
  }
}

std::vector<LayerSpec> ModelConfig::layers() const {
  validate();
  const int n = num_hidden_layers;
  std::vector<LayerSpec> out(static_cast<size_t>(n));
  const int first_shared = n - num_kv_shared_layers;
  for (int i = 0; i < n; ++i) {
    LayerSpec& L = out[size_t(i)];
    L.sliding = is_sliding(i);
    L.head_dim = head_dim;
    L.n_kv_heads = num_key_value_heads;
    L.ffn_dim = intermediate_size;
    L.rope_theta = L.sliding ? rope_theta_local : rope_theta_global;
    L.rope_dims = head_dim;
    if (!L.sliding) {
      L.rope_factor = rope_global_factor;
      if (family == Family::Gemma4) {
        if (global_head_dim > 0) L.head_dim = global_head_dim;
        L.k_eq_v = attention_k_eq_v;
        // HF: the global kv-head override applies only to models with K=V.
        if (attention_k_eq_v && num_global_key_value_heads > 0)
          L.n_kv_heads = num_global_key_value_heads;
        // Proportional RoPE: rotate 2*int(partial*head_dim/2) dims, frequencies
        // still use the full head_dim as denominator.
        L.rope_dims = 2 * int(rope_global_partial * float(L.head_dim) / 2.0f);
      }
    }
    QAT_CHECK(num_attention_heads % L.n_kv_heads == 0, "config: layer ", i, ": ",
              num_attention_heads, " heads not a multiple of ", L.n_kv_heads, " KV heads");
    if (family == Family::Gemma4 && i >= first_shared) {
      // Reuse the K/V of the last non-shared layer of the same type.
      for (int j = first_shared - 1; j >= 0; --j)
        if (out[size_t(j)].sliding == L.sliding) {
          L.kv_source = j;
          break;
        }
      QAT_CHECK(L.kv_source >= 0, "config: KV-shared layer ", i, " (",
                L.sliding ? "sliding" : "full", ") has no earlier layer of its type to share");
      L.stores_kv = false;
      if (use_double_wide_mlp) L.ffn_dim = 2 * intermediate_size;
    }
  }
  return out;
}

namespace {

ModelConfig gemma3(int hidden, int layers, int heads, int kv, int ffn, int window) {
  ModelConfig c;
  c.family = Family::Gemma3;
  c.hidden_size = hidden;
  c.num_hidden_layers = layers;
  c.num_attention_heads = heads;
  c.num_key_value_heads = kv;
  c.head_dim = 256;
  c.intermediate_size = ffn;
  c.sliding_window = window;
  c.query_pre_attn_scalar = 256;
  return c;
}

ModelConfig gemma4(int hidden, int layers, int heads, int kv, int ffn, int pattern) {
  ModelConfig c;
  c.family = Family::Gemma4;
  c.hidden_size = hidden;
  c.num_hidden_layers = layers;
  c.num_attention_heads = heads;
  c.num_key_value_heads = kv;
  c.head_dim = 256;
  c.global_head_dim = 512;
  c.intermediate_size = ffn;
  c.sliding_window = 512;
  c.rope_global_partial = 0.25f;
  c.final_logit_softcapping = 30.0f;
  c.max_position_embeddings = 131072;
  c.layer_sliding.resize(size_t(layers));
  for (int i = 0; i < layers; ++i) c.layer_sliding[size_t(i)] = (i + 1) % pattern != 0;
  c.layer_sliding.back() = false;
  return c;
}

}  // namespace

ModelConfig preset_config(Family family, const std::string& name) {
  if (family == Family::Gemma3) {
    if (name == "270m") {
      auto c = gemma3(640, 18, 4, 1, 2048, 512);
      return c;
    }
    if (name == "1b") return gemma3(1152, 26, 4, 1, 6912, 512);
    if (name == "4b") {
      auto c = gemma3(2560, 34, 8, 4, 10240, 1024);
      c.rope_global_factor = 8.0f;
      c.vocab_size = 262208;
      return c;
    }
    if (name == "small") {
      // A few million parameters for training from scratch on a laptop (the
      // QAT test bed): 6 layers, 5:1 pattern, MQA, 64-wide heads, 4k vocab.
      ModelConfig c = gemma3(256, 6, 4, 1, 768, 128);
      c.vocab_size = 4096;
      c.head_dim = 64;
      c.query_pre_attn_scalar = 64;
      c.max_position_embeddings = 2048;
      return c;
    }
    if (name == "tiny") {
      // Every Gemma 3 feature on, ~0.2 M parameters: GQA, 5:1 pattern with a
      // short window (tests cross it), linear RoPE scaling on global layers.
      ModelConfig c = gemma3(64, 7, 4, 2, 128, 8);
      c.vocab_size = 512;
      c.head_dim = 32;
      c.query_pre_attn_scalar = 24;
      c.rope_global_factor = 2.0f;
      c.max_position_embeddings = 2048;
      return c;
    }
  } else {
    // Published Gemma 4 text shapes (HF config.json of google/gemma-4-*).
    if (name == "e2b") {
      auto c = gemma4(1536, 35, 8, 1, 6144, 5);
      c.hidden_size_per_layer_input = 256;
      c.vocab_size_per_layer_input = 262144;
      c.num_kv_shared_layers = 20;
      c.use_double_wide_mlp = true;
      return c;
    }
    if (name == "e4b") {
      auto c = gemma4(2560, 42, 8, 2, 10240, 6);
      c.hidden_size_per_layer_input = 256;
      c.vocab_size_per_layer_input = 262144;
      c.num_kv_shared_layers = 18;
      return c;
    }
    if (name == "26b-a4b") {
      // The MoE model: 128 experts of width 704, 8 per token, beside a dense
      // MLP of 2112 in every layer.
      auto c = gemma4(2816, 30, 16, 8, 2112, 6);
      c.sliding_window = 1024;
      c.attention_k_eq_v = true;
      c.num_global_key_value_heads = 2;
      c.num_experts = 128;
      c.top_k_experts = 8;
      c.moe_intermediate_size = 704;
      return c;
    }
    if (name == "31b") {
      auto c = gemma4(5376, 60, 32, 16, 21504, 6);
      c.sliding_window = 1024;
      c.attention_k_eq_v = true;
      c.num_global_key_value_heads = 4;
      return c;
    }
    if (name == "small") {
      // The Gemma 4 counterpart of gemma3 small: 6 layers (every third
      // global, K=V there), KV sharing for the last 2, softcap 30, 4k vocab.
      ModelConfig c = gemma4(256, 6, 4, 1, 768, 3);
      c.vocab_size = 4096;
      c.head_dim = 64;
      c.global_head_dim = 128;
      c.sliding_window = 128;
      c.attention_k_eq_v = true;
      c.num_global_key_value_heads = 1;
      c.num_kv_shared_layers = 2;
      c.max_position_embeddings = 2048;
      return c;
    }
    if (name == "tiny-moe") {
      // tiny's attention (K=V globals) in 4 layers, without PLE and KV
      // sharing, plus the MoE block: 8 experts of width 32, 2 per token.
      ModelConfig c = preset_config(family, "tiny");
      c.num_hidden_layers = 4;
      c.layer_sliding = {true, false, true, false};
      c.num_kv_shared_layers = 0;
      c.use_double_wide_mlp = false;
      c.hidden_size_per_layer_input = 0;
      c.vocab_size_per_layer_input = 0;
      c.num_experts = 8;
      c.top_k_experts = 2;
      c.moe_intermediate_size = 32;
      return c;
    }
    if (name == "tiny") {
      // Every Gemma 4 dense feature on: PLE, K=V on global layers with their own
      // KV-head count, 64-wide global heads with proportional RoPE, KV sharing
      // for the last 2 layers with double-wide MLPs, softcap.
      ModelConfig c = gemma4(64, 6, 4, 2, 96, 3);
      c.vocab_size = 512;
      c.head_dim = 32;
      c.global_head_dim = 64;
      c.sliding_window = 8;
      c.attention_k_eq_v = true;
      c.num_global_key_value_heads = 1;
      c.num_kv_shared_layers = 2;
      c.use_double_wide_mlp = true;
      c.hidden_size_per_layer_input = 16;
      c.vocab_size_per_layer_input = 512;
      c.max_position_embeddings = 2048;
      return c;
    }
  }
  std::string names;
  for (auto& n : preset_names(family)) names += (names.empty() ? "" : ", ") + n;
  fail("unknown ", family_name(family), " preset '", name, "' (known: ", names, ")");
}

std::vector<std::string> preset_names(Family family) {
  if (family == Family::Gemma3) return {"tiny", "small", "270m", "1b", "4b"};
  return {"tiny", "tiny-moe", "small", "e2b", "e4b", "26b-a4b", "31b"};
}

}  // namespace qat
