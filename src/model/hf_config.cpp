#include "model/hf_config.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>

#include "base/error.h"

namespace qat {

using nlohmann::json;

namespace {

struct Reader {
  const json& j;
  const std::string& path;

  bool has(const char* key) const { return j.contains(key) && !j[key].is_null(); }
  int get_int(const char* key, int fallback) const {
    if (!has(key)) return fallback;
    QAT_CHECK(j[key].is_number_integer(), path, ": \"", key, "\" must be an integer, got ", j[key].dump());
    const auto v = j[key].get<int64_t>();
    QAT_CHECK(v >= -1 && v <= (int64_t(1) << 31) - 1, path, ": \"", key, "\" = ", v, " is out of range");
    return int(v);
  }
  float get_float(const char* key, float fallback) const {
    if (!has(key)) return fallback;
    QAT_CHECK(j[key].is_number(), path, ": \"", key, "\" must be a number, got ", j[key].dump());
    return j[key].get<float>();
  }
  bool get_bool(const char* key, bool fallback) const {
    if (!has(key)) return fallback;
    QAT_CHECK(j[key].is_boolean(), path, ": \"", key, "\" must be true or false, got ", j[key].dump());
    return j[key].get<bool>();
  }
  std::string get_string(const char* key, const std::string& fallback) const {
    if (!has(key)) return fallback;
    QAT_CHECK(j[key].is_string(), path, ": \"", key, "\" must be a string");
    return j[key].get<std::string>();
  }
};

void read_rope(const json& rp, const std::string& path, const char* type, float& theta,
               float* factor, float* partial) {
  if (!rp.contains(type)) return;
  const json& r = rp[type];
  QAT_CHECK(r.is_object(), path, ": rope_parameters.", type, " must be an object");
  Reader rr{r, path};
  theta = rr.get_float("rope_theta", theta);
  const std::string kind = rr.get_string("rope_type", "default");
  QAT_CHECK(kind == "default" || kind == "linear" || kind == "proportional", path,
            ": rope_parameters.", type, ".rope_type '", kind, "' is not supported");
  if (factor && kind != "default") *factor = rr.get_float("factor", 1.0f);
  if (partial && kind == "proportional") *partial = rr.get_float("partial_rotary_factor", 1.0f);
}

// The shortest decimal that reads back as the same float, as a JSON number
// (so 1e-6f is written "1e-06", not 9.999999974752427e-07).
json float_json(float f) {
  char buf[32];
  for (int precision = 6; precision <= 9; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, double(f));
    if (std::strtof(buf, nullptr) == f) break;
  }
  return json::parse(buf);
}

}  // namespace

ModelConfig parse_hf_config(const std::string& text, const std::string& path) {
  json root;
  try {
    root = json::parse(text);
  } catch (const json::exception& e) {
    fail(path, ": invalid JSON: ", e.what());
  }
  QAT_CHECK(root.is_object(), path, ": expected a JSON object");
  const json* jp = &root;
  if (root.contains("text_config") && root["text_config"].is_object()) jp = &root["text_config"];
  const json& j = *jp;
  Reader r{j, path};
  const std::string model_type = r.get_string("model_type", Reader{root, path}.get_string("model_type", ""));
  ModelConfig c;
  if (model_type == "gemma3_text" || model_type == "gemma3")
    c.family = Family::Gemma3;
  else if (model_type == "gemma4_text" || model_type == "gemma4")
    c.family = Family::Gemma4;
  else
    fail(path, ": model_type '", model_type, "' is not supported (expected gemma3_text or gemma4_text)");
  const std::string act = r.get_string("hidden_activation", "gelu_pytorch_tanh");
  QAT_CHECK(act == "gelu_pytorch_tanh", path, ": hidden_activation '", act, "' is not supported");

  c.vocab_size = r.get_int("vocab_size", c.vocab_size);
  c.hidden_size = r.get_int("hidden_size", c.hidden_size);
  c.num_hidden_layers = r.get_int("num_hidden_layers", c.num_hidden_layers);
  c.num_attention_heads = r.get_int("num_attention_heads", c.num_attention_heads);
  c.num_key_value_heads = r.get_int("num_key_value_heads", c.num_key_value_heads);
  c.head_dim = r.get_int("head_dim", c.head_dim);
  c.intermediate_size = r.get_int("intermediate_size", c.intermediate_size);
  c.sliding_window = r.get_int("sliding_window", c.sliding_window);
  c.max_position_embeddings = r.get_int("max_position_embeddings", c.max_position_embeddings);
  c.rms_norm_eps = r.get_float("rms_norm_eps", c.rms_norm_eps);
  c.query_pre_attn_scalar = r.get_float("query_pre_attn_scalar", 256.0f);  // HF default
  c.final_logit_softcapping = r.get_float("final_logit_softcapping", 0.0f);
  c.attn_logit_softcapping = r.get_float("attn_logit_softcapping", 0.0f);
  c.tie_word_embeddings = Reader{root, path}.get_bool("tie_word_embeddings", r.get_bool("tie_word_embeddings", true));
  c.bos_token_id = r.get_int("bos_token_id", c.bos_token_id);
  // A sequence classifier: id2label (HF) and our pooling choice.
  if (root.contains("id2label") && root["id2label"].is_object() && root.contains("qat_classifier_pooling")) {
    const json& labels = root["id2label"];
    c.num_labels = int(labels.size());
    c.class_names.assign(labels.size(), "");
    for (auto it = labels.begin(); it != labels.end(); ++it) {
      size_t id = 0;
      try {
        id = std::stoul(it.key());
      } catch (...) {
        fail(path, ": id2label key '", it.key(), "' is not a class index");
      }
      QAT_CHECK(id < labels.size() && it.value().is_string(), path, ": id2label must map 0..", labels.size() - 1,
                " to names");
      c.class_names[id] = it.value().get<std::string>();
    }
    c.classifier_pooling = Reader{root, path}.get_string("qat_classifier_pooling", "last");
  }
  // Our own key (absent: q8_0), so a weight-only QAT model keeps its mode through HF.
  if (root.contains("qat_activation_quant")) {
    try {
      c.activation_quant = parse_activation_quant(Reader{root, path}.get_string("qat_activation_quant", "q8_0"));
    } catch (const Error& e) {
      fail(path, ": qat_activation_quant: ", e.what());
    }
  }
  c.pad_token_id = r.get_int("pad_token_id", c.pad_token_id);
  if (r.has("eos_token_id") && j["eos_token_id"].is_array()) {
    QAT_CHECK(!j["eos_token_id"].empty() && j["eos_token_id"][0].is_number_integer(), path,
              ": eos_token_id must hold integers");
    c.eos_token_id = j["eos_token_id"][0].get<int>();
  } else {
    c.eos_token_id = r.get_int("eos_token_id", c.eos_token_id);
  }
  if (r.has("layer_types")) {
    QAT_CHECK(j["layer_types"].is_array(), path, ": layer_types must be an array");
    for (const auto& t : j["layer_types"]) {
      QAT_CHECK(t.is_string(), path, ": layer_types entries must be strings");
      const std::string s = t.get<std::string>();
      QAT_CHECK(s == "sliding_attention" || s == "full_attention", path, ": layer type '", s,
                "' is not supported");
      c.layer_sliding.push_back(s == "sliding_attention");
    }
  } else if (r.has("sliding_window_pattern")) {
    const int pattern = r.get_int("sliding_window_pattern", 6);
    QAT_CHECK(pattern > 0, path, ": sliding_window_pattern must be positive");
    for (int i = 0; i < c.num_hidden_layers; ++i) c.layer_sliding.push_back((i + 1) % pattern != 0);
  }
  // RoPE: transformers 5 "rope_parameters" per layer type, or the older
  // rope_theta / rope_local_base_freq / rope_scaling keys.
  if (c.family == Family::Gemma4) c.rope_global_partial = 0.25f;
  if (r.has("rope_parameters")) {
    const json& rp = j["rope_parameters"];
    QAT_CHECK(rp.is_object(), path, ": rope_parameters must be an object");
    read_rope(rp, path, "sliding_attention", c.rope_theta_local, nullptr, nullptr);
    read_rope(rp, path, "full_attention", c.rope_theta_global, &c.rope_global_factor,
              &c.rope_global_partial);
  } else {
    c.rope_theta_global = r.get_float("rope_theta", c.rope_theta_global);
    c.rope_theta_local = r.get_float("rope_local_base_freq", c.rope_theta_local);
    if (r.has("rope_scaling")) {
      const json& rs = j["rope_scaling"];
      QAT_CHECK(rs.is_object(), path, ": rope_scaling must be an object");
      Reader rr{rs, path};
      const std::string kind = rr.get_string("rope_type", rr.get_string("type", "linear"));
      QAT_CHECK(kind == "linear", path, ": rope_scaling type '", kind, "' is not supported");
      c.rope_global_factor = rr.get_float("factor", 1.0f);
    }
  }
  if (c.family == Family::Gemma4) {
    c.attention_k_eq_v = r.get_bool("attention_k_eq_v", false);
    c.num_kv_shared_layers = r.get_int("num_kv_shared_layers", 0);
    c.use_double_wide_mlp = r.get_bool("use_double_wide_mlp", false);
    c.hidden_size_per_layer_input = r.get_int("hidden_size_per_layer_input", 0);
    c.vocab_size_per_layer_input = r.get_int("vocab_size_per_layer_input", c.vocab_size);
    c.global_head_dim = r.get_int("global_head_dim", 0);
    c.num_global_key_value_heads = r.get_int("num_global_key_value_heads", 0);
    if (r.get_bool("enable_moe_block", false)) {
      c.num_experts = r.get_int("num_experts", 0);
      c.top_k_experts = r.get_int("top_k_experts", 0);
      c.moe_intermediate_size = r.get_int("moe_intermediate_size", 0);
      QAT_CHECK(c.num_experts > 0, path, ": enable_moe_block is set but num_experts is missing or 0");
    }
    QAT_CHECK(r.get_string("use_bidirectional_attention", "") == "", path,
              ": use_bidirectional_attention is not supported");
    // transformers 5 serializes the global-layer overrides as per_layer_config.
    if (r.has("per_layer_config")) {
      const json& plc = j["per_layer_config"];
      QAT_CHECK(plc.is_object(), path, ": per_layer_config must be an object");
      for (const auto& [key, val] : plc.items()) {
        QAT_CHECK(val.is_object(), path, ": per_layer_config.", key, " must be an object");
        Reader pr{val, path};
        int layer = -1;
        try {
          layer = std::stoi(key);
        } catch (...) {
          fail(path, ": per_layer_config key '", key, "' is not a layer index");
        }
        QAT_CHECK(layer >= 0 && layer < c.num_hidden_layers, path, ": per_layer_config layer ",
                  layer, " out of range");
        QAT_CHECK(!c.is_sliding(layer), path, ": per_layer_config overrides sliding layer ", layer,
                  " (only global-layer overrides are supported)");
        for (const auto& [k, v] : val.items()) {
          if (k == "head_dim") {
            const int hd = pr.get_int("head_dim", 0);
            QAT_CHECK(c.global_head_dim == 0 || c.global_head_dim == hd, path,
                      ": per_layer_config gives global layers different head dims");
            c.global_head_dim = hd;
          } else if (k == "num_key_value_heads") {
            const int kv = pr.get_int("num_key_value_heads", 0);
            QAT_CHECK(c.num_global_key_value_heads == 0 || c.num_global_key_value_heads == kv, path,
                      ": per_layer_config gives global layers different KV-head counts");
            c.num_global_key_value_heads = kv;
          } else {
            fail(path, ": per_layer_config.", key, ".", k, " is not supported");
          }
        }
      }
    }
    if (c.global_head_dim == 0) c.global_head_dim = 512;  // HF default
    if (!c.attention_k_eq_v) c.num_global_key_value_heads = 0;
  }
  try {
    c.validate();
    c.layers();
  } catch (const Error& e) {
    fail(path, ": ", e.what());
  }
  return c;
}

std::string hf_config_json(const ModelConfig& c) {
  json j;
  const bool g4 = c.family == Family::Gemma4;
  j["architectures"] = {g4 ? "Gemma4ForCausalLM" : "Gemma3ForCausalLM"};
  j["model_type"] = g4 ? "gemma4_text" : "gemma3_text";
  j["vocab_size"] = c.vocab_size;
  j["hidden_size"] = c.hidden_size;
  j["num_hidden_layers"] = c.num_hidden_layers;
  j["num_attention_heads"] = c.num_attention_heads;
  j["num_key_value_heads"] = c.num_key_value_heads;
  j["head_dim"] = c.head_dim;
  j["intermediate_size"] = c.intermediate_size;
  j["sliding_window"] = c.sliding_window;
  j["max_position_embeddings"] = c.max_position_embeddings;
  j["rms_norm_eps"] = float_json(c.rms_norm_eps);
  j["hidden_activation"] = "gelu_pytorch_tanh";
  j["attention_bias"] = false;
  j["attention_dropout"] = 0.0;
  j["tie_word_embeddings"] = c.tie_word_embeddings;
  j["bos_token_id"] = c.bos_token_id;
  j["eos_token_id"] = c.eos_token_id;
  j["pad_token_id"] = c.pad_token_id;
  if (c.num_labels > 0) {
    json id2label = json::object(), label2id = json::object();
    for (int i = 0; i < c.num_labels; ++i) {
      const std::string name = size_t(i) < c.class_names.size() ? c.class_names[size_t(i)] : "LABEL_" + std::to_string(i);
      id2label[std::to_string(i)] = name;
      label2id[name] = i;
    }
    j["id2label"] = id2label;
    j["label2id"] = label2id;
    j["qat_classifier_pooling"] = c.classifier_pooling;
  }
  if (c.activation_quant != ActivationQuant::Q8_0) j["qat_activation_quant"] = activation_quant_name(c.activation_quant);
  j["final_logit_softcapping"] = c.final_logit_softcapping > 0 ? float_json(c.final_logit_softcapping) : json(nullptr);
  j["dtype"] = "float32";
  json types = json::array();
  for (int i = 0; i < c.num_hidden_layers; ++i)
    types.push_back(c.is_sliding(i) ? "sliding_attention" : "full_attention");
  j["layer_types"] = types;
  json global = {{"rope_theta", float_json(c.rope_theta_global)}, {"rope_type", "default"}};
  if (g4) {
    global = {{"rope_theta", float_json(c.rope_theta_global)},
              {"rope_type", "proportional"},
              {"partial_rotary_factor", float_json(c.rope_global_partial)}};
    if (c.rope_global_factor != 1.0f) global["factor"] = float_json(c.rope_global_factor);
  } else if (c.rope_global_factor != 1.0f) {
    global = {{"rope_theta", float_json(c.rope_theta_global)}, {"rope_type", "linear"}, {"factor", float_json(c.rope_global_factor)}};
  }
  j["rope_parameters"] = {{"full_attention", global},
                          {"sliding_attention", {{"rope_theta", float_json(c.rope_theta_local)}, {"rope_type", "default"}}}};
  if (g4) {
    j["attention_k_eq_v"] = c.attention_k_eq_v;
    j["num_kv_shared_layers"] = c.num_kv_shared_layers;
    j["use_double_wide_mlp"] = c.use_double_wide_mlp;
    j["hidden_size_per_layer_input"] = c.hidden_size_per_layer_input;
    j["vocab_size_per_layer_input"] = c.vocab_size_per_layer_input > 0 ? c.vocab_size_per_layer_input : c.vocab_size;
    j["enable_moe_block"] = c.has_moe();
    if (c.has_moe()) {
      j["num_experts"] = c.num_experts;
      j["top_k_experts"] = c.top_k_experts;
      j["moe_intermediate_size"] = c.moe_intermediate_size;
    }
    json plc = json::object();
    for (int i = 0; i < c.num_hidden_layers; ++i) {
      if (c.is_sliding(i)) continue;
      json o = {{"head_dim", c.global_head_dim > 0 ? c.global_head_dim : c.head_dim}};
      if (c.attention_k_eq_v && c.num_global_key_value_heads > 0)
        o["num_key_value_heads"] = c.num_global_key_value_heads;
      plc[std::to_string(i)] = o;
    }
    j["per_layer_config"] = plc;
  } else {
    if (c.query_pre_attn_scalar == float(int(c.query_pre_attn_scalar)))
      j["query_pre_attn_scalar"] = int(c.query_pre_attn_scalar);
    else
      j["query_pre_attn_scalar"] = float_json(c.query_pre_attn_scalar);
    j["attn_logit_softcapping"] = c.attn_logit_softcapping > 0 ? float_json(c.attn_logit_softcapping) : json(nullptr);
  }
  return j.dump(2) + "\n";
}

}  // namespace qat
