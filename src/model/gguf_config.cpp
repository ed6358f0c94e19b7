#include "model/gguf_config.h"

#include <cmath>
#include <cstring>

#include "base/error.h"

namespace qat {

namespace {

// Per-layer value from a scalar or an n_layer-long integer array (llama.cpp's
// get_key_or_arr).
std::vector<int> per_layer_ints(const GgufFile& f, const std::string& key, int n_layer,
                                std::optional<int> fallback) {
  const GgufValue* v = f.find(key);
  if (!v) {
    QAT_CHECK(fallback.has_value(), f.path(), ": missing key ", key);
    return std::vector<int>(size_t(n_layer), *fallback);
  }
  if (v->type != GgufType::ARRAY) return std::vector<int>(size_t(n_layer), int(f.get_uint(key)));
  QAT_CHECK(v->array_size() == size_t(n_layer), f.path(), ": key ", key, ": array has ",
            v->array_size(), " entries, expected one per layer (", n_layer, ")");
  std::vector<int> out;
  for (size_t i = 0; i < v->array_size(); ++i) {
    int64_t x = 0;
    switch (v->elem_type) {
      case GgufType::INT32: x = reinterpret_cast<const int32_t*>(v->raw.data())[i]; break;
      case GgufType::UINT32: x = reinterpret_cast<const uint32_t*>(v->raw.data())[i]; break;
      default: fail(f.path(), ": key ", key, ": expected an array of INT32 or UINT32, found ",
                    gguf_type_name(v->elem_type));
    }
    QAT_CHECK(x > 0 && x < (int64_t(1) << 31), f.path(), ": key ", key, "[", i, "] = ", x,
              " is out of range");
    out.push_back(int(x));
  }
  return out;
}

std::vector<bool> bool_array(const GgufFile& f, const std::string& key, int n_layer) {
  const GgufValue& v = f.get_array(key, GgufType::BOOL);
  QAT_CHECK(v.array_size() == size_t(n_layer), f.path(), ": key ", key, ": ", v.array_size(),
            " entries, expected ", n_layer);
  std::vector<bool> out;
  for (size_t i = 0; i < v.array_size(); ++i) out.push_back(v.raw[i] != 0);
  return out;
}

int get_int(const GgufFile& f, const std::string& key) {
  const uint64_t v = f.get_uint(key);
  QAT_CHECK(v < (uint64_t(1) << 31), f.path(), ": key ", key, " = ", v, " is out of range");
  return int(v);
}

int get_int_or(const GgufFile& f, const std::string& key, int fallback) {
  return f.find(key) ? get_int(f, key) : fallback;
}

int distinct_or_fail(const std::vector<int>& v, const std::vector<bool>& select, bool want,
                     const std::string& what, const std::string& path) {
  int value = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    if (select[i] != want) continue;
    QAT_CHECK(value == 0 || value == v[i], path, ": ", what, " differs between layers of the same kind");
    value = v[i];
  }
  return value;
}

}  // namespace

ModelConfig config_from_gguf(const GgufFile& f) {
  const std::string arch = f.get_string("general.architecture");
  QAT_CHECK(arch == "gemma3" || arch == "gemma4", f.path(), ": architecture '", arch,
            "' is not supported (gemma3, gemma4)");
  ModelConfig c;
  c.family = arch == "gemma3" ? Family::Gemma3 : Family::Gemma4;
  const std::string a = arch + ".";
  c.num_hidden_layers = get_int(f, a + "block_count");
  QAT_CHECK(c.num_hidden_layers > 0 && c.num_hidden_layers <= 1024, f.path(), ": ", a,
            "block_count = ", c.num_hidden_layers, " is out of range");
  const int L = c.num_hidden_layers;
  c.hidden_size = get_int(f, a + "embedding_length");
  c.max_position_embeddings = get_int(f, a + "context_length");
  c.num_attention_heads = get_int(f, a + "attention.head_count");
  c.rms_norm_eps = float(f.get_float(a + "attention.layer_norm_rms_epsilon"));
  c.rope_theta_global = float(f.get_float_opt(a + "rope.freq_base").value_or(10000.0));
  c.rope_theta_local = float(f.get_float_opt(a + "rope.freq_base_swa").value_or(10000.0));
  c.sliding_window = get_int_or(f, a + "attention.sliding_window", 0);
  if (auto type = f.get_string_opt(a + "rope.scaling.type")) {
    QAT_CHECK(*type == "linear" || *type == "none", f.path(), ": rope.scaling.type '", *type,
              "' is not supported (linear)");
    if (*type == "linear") c.rope_global_factor = float(f.get_float(a + "rope.scaling.factor"));
  }
  const auto ffn = per_layer_ints(f, a + "feed_forward_length", L, std::nullopt);
  const auto kv = per_layer_ints(f, a + "attention.head_count_kv", L, c.num_attention_heads);
  const GgufTensorInfo* embd = f.find_tensor("token_embd.weight");
  QAT_CHECK(embd && embd->dims.size() == 2, f.path(), ": missing 2-D tensor token_embd.weight");
  QAT_CHECK(embd->dims[1] < (uint64_t(1) << 31), f.path(), ": token_embd.weight has too many rows");
  c.vocab_size = int(embd->dims[1]);
  c.tie_word_embeddings = f.find_tensor("output.weight") == nullptr;

  if (c.family == Family::Gemma3) {
    c.head_dim = get_int(f, a + "attention.key_length");
    QAT_CHECK(get_int_or(f, a + "attention.value_length", c.head_dim) == c.head_dim, f.path(),
              ": key_length != value_length is not supported");
    c.intermediate_size = ffn[0];
    c.num_key_value_heads = kv[0];
    for (int i = 1; i < L; ++i)
      QAT_CHECK(ffn[size_t(i)] == ffn[0] && kv[size_t(i)] == kv[0], f.path(),
                ": gemma3 layers must share one FFN width and KV-head count");
    c.final_logit_softcapping = float(f.get_float_opt(a + "final_logit_softcapping").value_or(0.0));
    // llama.cpp: every 6th layer global (no SWA at all without a window);
    // attention scale 1/sqrt(head_dim), or 1/sqrt(H/heads) for the 62-layer 27B.
    if (c.sliding_window > 0) {
      const int period = get_int_or(f, a + "attention.sliding_window_pattern", 6);
      QAT_CHECK(period > 0, f.path(), ": sliding_window_pattern must be positive");
      for (int i = 0; i < L; ++i) c.layer_sliding.push_back(i % period < period - 1);
    } else {
      c.sliding_window = std::max(1, c.max_position_embeddings);
      c.layer_sliding.assign(size_t(L), false);
    }
    c.query_pre_attn_scalar = L == 62 ? float(c.hidden_size / c.num_attention_heads) : float(c.head_dim);
    // Our own exact values, when we wrote the file.
    if (f.find("qat.layer_sliding")) c.layer_sliding = bool_array(f, "qat.layer_sliding", L);
    if (auto q = f.get_float_opt("qat.query_pre_attn_scalar")) c.query_pre_attn_scalar = float(*q);
    c.attn_logit_softcapping = float(f.get_float_opt("qat.attn_logit_softcapping").value_or(0.0));
  } else {
    c.layer_sliding = bool_array(f, a + "attention.sliding_window_pattern", L);
    c.head_dim = get_int(f, a + "attention.key_length_swa");
    c.global_head_dim = get_int(f, a + "attention.key_length");
    QAT_CHECK(get_int_or(f, a + "attention.value_length_swa", c.head_dim) == c.head_dim &&
                  get_int_or(f, a + "attention.value_length", c.global_head_dim) == c.global_head_dim,
              f.path(), ": key and value head sizes must match");
    QAT_CHECK(get_int_or(f, a + "rope.dimension_count_swa", c.head_dim) == c.head_dim, f.path(),
              ": partial RoPE on sliding layers is not supported");
    // llama.cpp applies softcap 30 when the key is absent.
    c.final_logit_softcapping = float(f.get_float_opt(a + "final_logit_softcapping").value_or(30.0));
    c.num_kv_shared_layers = get_int_or(f, a + "attention.shared_kv_layers", 0);
    c.hidden_size_per_layer_input = get_int_or(f, a + "embedding_length_per_layer_input", 0);
    if (c.hidden_size_per_layer_input > 0) {
      const GgufTensorInfo* ple = f.find_tensor("per_layer_token_embd.weight");
      QAT_CHECK(ple && ple->dims.size() == 2 && ple->dims[1] < (uint64_t(1) << 31), f.path(),
                ": missing 2-D tensor per_layer_token_embd.weight");
      c.vocab_size_per_layer_input = int(ple->dims[1]);
    }
    // Sliding and global layers each have one KV-head count; FFN width may
    // double on the KV-sharing layers.
    c.num_key_value_heads = distinct_or_fail(kv, c.layer_sliding, true, "head_count_kv", f.path());
    const int global_kv = distinct_or_fail(kv, c.layer_sliding, false, "head_count_kv", f.path());
    const int first_shared = L - c.num_kv_shared_layers;
    c.intermediate_size = ffn[0];
    for (int i = 0; i < L; ++i) {
      const int want = ffn[0] * ((i >= first_shared && ffn[size_t(L - 1)] == 2 * ffn[0]) ? 2 : 1);
      QAT_CHECK(ffn[size_t(i)] == want, f.path(), ": feed_forward_length[", i, "] = ", ffn[size_t(i)],
                " does not fit Gemma 4's pattern (", ffn[0], ", doubled only on KV-sharing layers)");
    }
    c.use_double_wide_mlp = c.num_kv_shared_layers > 0 && ffn[size_t(L - 1)] == 2 * ffn[0];
    // K=V: global layers that store KV but have no attn_v.
    int global_with_kv = -1;
    for (int i = 0; i < first_shared; ++i)
      if (!c.layer_sliding[size_t(i)]) global_with_kv = i;
    if (global_with_kv >= 0)
      c.attention_k_eq_v = !f.find_tensor("blk." + std::to_string(global_with_kv) + ".attn_v.weight");
    if (global_kv != 0 && global_kv != c.num_key_value_heads) {
      QAT_CHECK(c.attention_k_eq_v, f.path(), ": global layers have their own KV-head count but also ",
                "attn_v (HF only overrides it for K=V models)");
      c.num_global_key_value_heads = global_kv;
    }
    // Proportional RoPE from rope_freqs: 1.0 on rotated pairs, 1e30 elsewhere
    // (absent when no layer is global: nothing reads it).
    const GgufTensorInfo* rf = f.find_tensor("rope_freqs.weight");
    if (rf || c.has_global_layer()) {
      QAT_CHECK(rf && rf->type == 0 && rf->dims.size() == 1 && rf->dims[0] == uint64_t(c.global_head_dim / 2),
                f.path(), ": rope_freqs.weight must be an F32 vector of key_length/2 entries");
      int rotated = 0;
      for (uint64_t i = 0; i < rf->dims[0]; ++i) {
        float v;
        std::memcpy(&v, rf->data + 4 * i, 4);
        if (v == 1.0f) {
          QAT_CHECK(rotated == int(i), f.path(), ": rope_freqs.weight: rotated pairs must come first");
          ++rotated;
        } else {
          QAT_CHECK(v > 1e29f, f.path(), ": rope_freqs.weight[", i, "] = ", v,
                    " (only 1 and 1e30 are supported: proportional RoPE)");
        }
      }
      c.rope_global_partial = float(2 * rotated) / float(c.global_head_dim);
    }
    // MoE: llama.cpp's expert keys; every layer must then have its router.
    c.num_experts = get_int_or(f, a + "expert_count", 0);
    if (c.num_experts > 0) {
      c.top_k_experts = get_int(f, a + "expert_used_count");
      c.moe_intermediate_size = get_int(f, a + "expert_feed_forward_length");
      QAT_CHECK(f.find_tensor("blk.0.ffn_gate_up_exps.weight") || !f.find_tensor("blk.0.ffn_gate_exps.weight"),
                f.path(), ": experts stored as separate ffn_gate_exps / ffn_up_exps are not supported ",
                "(expected llama.cpp's fused ffn_gate_up_exps, as its Gemma 4 converter writes)");
    }
  }
  if (auto n = f.get_uint_opt("qat.classifier.num_labels")) {
    QAT_CHECK(*n >= 1 && *n <= 1000000, f.path(), ": qat.classifier.num_labels ", *n, " out of range");
    c.num_labels = int(*n);
    c.classifier_pooling = f.get_string_opt("qat.classifier.pooling").value_or("last");
    if (f.find("qat.classifier.labels")) {
      c.class_names = f.get_array("qat.classifier.labels", GgufType::STRING).strs;
      QAT_CHECK(c.class_names.size() == size_t(c.num_labels), f.path(), ": qat.classifier.labels has ",
                c.class_names.size(), " names for ", c.num_labels, " labels");
    }
  }
  c.score_input = f.get_string_opt("qat.score.input").value_or("");
  if (auto a = f.get_string_opt("qat.activation_quant")) {
    try {
      c.activation_quant = parse_activation_quant(*a);
    } catch (const Error& e) {
      fail(f.path(), ": qat.activation_quant: ", e.what());
    }
  }
  try {
    c.validate();
    c.layers();
  } catch (const Error& e) {
    fail(f.path(), ": ", e.what());
  }
  return c;
}

void write_gguf_config(GgufWriter& w, const ModelConfig& c, const std::string& name, uint32_t file_type) {
  const bool g4 = c.family == Family::Gemma4;
  const std::string a = std::string(family_name(c.family)) + ".";
  const int L = c.num_hidden_layers;
  const auto specs = c.layers();
  w.set("general.architecture", GgufValue::string(family_name(c.family)));
  w.set("general.type", GgufValue::string("model"));
  w.set("general.name", GgufValue::string(name));
  w.set(a + "block_count", GgufValue::u32(uint32_t(L)));
  w.set(a + "context_length", GgufValue::u32(uint32_t(c.max_position_embeddings)));
  w.set(a + "embedding_length", GgufValue::u32(uint32_t(c.hidden_size)));
  if (g4 && c.use_double_wide_mlp && c.num_kv_shared_layers > 0) {
    std::vector<int32_t> ffn;
    for (const auto& s : specs) ffn.push_back(s.ffn_dim);
    w.set(a + "feed_forward_length", GgufValue::i32_array(ffn));
  } else {
    w.set(a + "feed_forward_length", GgufValue::u32(uint32_t(c.intermediate_size)));
  }
  w.set(a + "attention.head_count", GgufValue::u32(uint32_t(c.num_attention_heads)));
  if (g4 && c.attention_k_eq_v && c.num_global_key_value_heads > 0) {
    std::vector<int32_t> kv;
    for (const auto& s : specs) kv.push_back(s.n_kv_heads);
    w.set(a + "attention.head_count_kv", GgufValue::i32_array(kv));
  } else {
    w.set(a + "attention.head_count_kv", GgufValue::u32(uint32_t(c.num_key_value_heads)));
  }
  if (!g4 && c.rope_global_factor != 1.0f) {
    w.set(a + "rope.scaling.type", GgufValue::string("linear"));
    w.set(a + "rope.scaling.factor", GgufValue::f32(c.rope_global_factor));
  }
  w.set(a + "rope.freq_base", GgufValue::f32(c.rope_theta_global));
  w.set(a + "rope.freq_base_swa", GgufValue::f32(c.rope_theta_local));
  w.set(a + "attention.layer_norm_rms_epsilon", GgufValue::f32(c.rms_norm_eps));
  const int global_hd = g4 && c.global_head_dim > 0 ? c.global_head_dim : c.head_dim;
  w.set(a + "attention.key_length", GgufValue::u32(uint32_t(global_hd)));
  w.set(a + "attention.value_length", GgufValue::u32(uint32_t(global_hd)));
  w.set("general.file_type", GgufValue::u32(file_type));
  if (c.final_logit_softcapping > 0)
    w.set(a + "final_logit_softcapping", GgufValue::f32(c.final_logit_softcapping));
  w.set(a + "attention.sliding_window", GgufValue::u32(uint32_t(c.sliding_window)));
  std::vector<bool> sliding;
  for (int i = 0; i < L; ++i) sliding.push_back(c.is_sliding(i));
  if (g4) {
    w.set(a + "attention.shared_kv_layers", GgufValue::u32(uint32_t(c.num_kv_shared_layers)));
    w.set(a + "embedding_length_per_layer_input", GgufValue::u32(uint32_t(c.hidden_size_per_layer_input)));
    w.set(a + "attention.sliding_window_pattern", GgufValue::bool_array(sliding));
    w.set(a + "attention.key_length_swa", GgufValue::u32(uint32_t(c.head_dim)));
    w.set(a + "attention.value_length_swa", GgufValue::u32(uint32_t(c.head_dim)));
    w.set(a + "rope.dimension_count", GgufValue::u32(uint32_t(global_hd)));
    w.set(a + "rope.dimension_count_swa", GgufValue::u32(uint32_t(c.head_dim)));
    if (c.has_moe()) {
      w.set(a + "expert_count", GgufValue::u32(uint32_t(c.num_experts)));
      w.set(a + "expert_used_count", GgufValue::u32(uint32_t(c.top_k_experts)));
      w.set(a + "expert_feed_forward_length", GgufValue::u32(uint32_t(c.moe_intermediate_size)));
    }
  }
  w.set("general.quantization_version", GgufValue::u32(2));
  if (c.num_labels > 0) {
    w.set("qat.classifier.num_labels", GgufValue::u32(uint32_t(c.num_labels)));
    w.set("qat.classifier.pooling", GgufValue::string(c.classifier_pooling));
    std::vector<std::string> names = c.class_names;
    names.resize(size_t(c.num_labels));
    w.set("qat.classifier.labels", GgufValue::string_array(names));
  }
  if (!c.score_input.empty()) w.set("qat.score.input", GgufValue::string(c.score_input));
  // Written only when not the default, so W8A8 / W4A8 files keep their bytes.
  if (c.activation_quant != ActivationQuant::Q8_0)
    w.set("qat.activation_quant", GgufValue::string(activation_quant_name(c.activation_quant)));
  // What llama.cpp's gemma3 keys cannot say; ignored by llama.cpp.
  if (!g4) {
    w.set("qat.layer_sliding", GgufValue::bool_array(sliding));
    w.set("qat.query_pre_attn_scalar", GgufValue::f32(c.query_pre_attn_scalar));
    if (c.attn_logit_softcapping > 0)
      w.set("qat.attn_logit_softcapping", GgufValue::f32(c.attn_logit_softcapping));
    w.set("qat.norm_weights", GgufValue::string("stored as 1+w (llama.cpp's gemma3 convention)"));
  }
}

}  // namespace qat
