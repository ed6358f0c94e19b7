// qat info: what a model file holds: architecture, shapes, parameter count,
// tensor types and bytes. Validates the whole file on the way.
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <map>

#include "base/error.h"
#include "cli/commands.h"
#include "formats/gguf.h"
#include "formats/safetensors.h"
#include "model/gguf_config.h"
#include "model/model.h"
#include "quant/ggml_compat_types.h"

namespace qat::cli {

namespace {

std::string human_bytes(uint64_t b) {
  char buf[32];
  if (b >= (uint64_t(1) << 30)) std::snprintf(buf, sizeof buf, "%.2f GiB", double(b) / (1 << 30));
  else if (b >= (1 << 20)) std::snprintf(buf, sizeof buf, "%.2f MiB", double(b) / (1 << 20));
  else if (b >= 1024) std::snprintf(buf, sizeof buf, "%.1f KiB", double(b) / 1024);
  else std::snprintf(buf, sizeof buf, "%llu B", (unsigned long long)b);
  return buf;
}

void print_config(const ModelConfig& c) {
  const auto specs = c.layers();
  int n_global = 0, n_shared = 0;
  for (const auto& s : specs) n_global += !s.sliding, n_shared += s.kv_source >= 0;
  std::printf("  layers:           %d (%d sliding, %d global; window %d)\n", c.num_hidden_layers,
              c.num_hidden_layers - n_global, n_global, c.sliding_window);
  std::printf("  hidden / ffn:     %d / %d%s\n", c.hidden_size, c.intermediate_size,
              c.use_double_wide_mlp ? " (x2 on KV-sharing layers)" : "");
  std::printf("  heads:            %d query, %d KV, head dim %d", c.num_attention_heads,
              c.num_key_value_heads, c.head_dim);
  // A model cut to its first layers (`qat init --layers`) may have no global layer.
  const auto global = std::find_if(specs.begin(), specs.end(), [](const LayerSpec& s) { return !s.sliding; });
  if (c.family == Family::Gemma4 && global != specs.end())
    std::printf(" (global: %d KV, head dim %d%s)", global->n_kv_heads, global->head_dim,
                c.attention_k_eq_v ? ", K=V" : "");
  std::printf("\n  vocab:            %d\n", c.vocab_size);
  std::printf("  rope theta:       %g local, %g global", c.rope_theta_local, c.rope_theta_global);
  if (c.rope_global_factor != 1.0f) std::printf(" (linear x%g)", c.rope_global_factor);
  if (c.family == Family::Gemma4) std::printf(" (%g%% rotated)", c.rope_global_partial * 100);
  std::printf("\n");
  if (c.hidden_size_per_layer_input > 0)
    std::printf("  per-layer embed:  %d per layer\n", c.hidden_size_per_layer_input);
  if (c.num_kv_shared_layers > 0)
    std::printf("  KV sharing:       last %d layers reuse earlier K/V\n", c.num_kv_shared_layers);
  if (c.has_moe())
    std::printf("  experts:          %d per layer, %d per token, width %d (beside the dense MLP)\n",
                c.num_experts, c.top_k_experts, c.moe_intermediate_size);
  if (c.final_logit_softcapping > 0) std::printf("  logit softcap:    %g\n", c.final_logit_softcapping);
  std::printf("  parameters:       %llu", (unsigned long long)parameter_count(c));
  if (c.has_moe()) {
    // Unchosen experts: every layer's (E - K) experts of 3 * H * I weights.
    const uint64_t idle = uint64_t(c.num_hidden_layers) * uint64_t(c.num_experts - c.top_k_experts) * 3 *
                          uint64_t(c.hidden_size) * uint64_t(c.moe_intermediate_size);
    std::printf(" (%llu active per token)", (unsigned long long)(parameter_count(c) - idle));
  }
  std::printf("\n");
  std::printf("  activations:      %s (%s)\n", activation_quant_name(c.activation_quant),
              c.activation_quant == ActivationQuant::None
                  ? "Q8_0/Q4_0 matrices multiply FP32 activations: W8A16 / W4A16"
                  : "Q8_0/Q4_0 matrices multiply activations quantized to Q8_0: W8A8 / W4A8");
  if (c.num_labels > 0) {
    std::string names;
    for (const std::string& n : c.class_names) names += (names.empty() ? "" : ", ") + n;
    std::printf("  classifier:       %d classes (%s), %s-token pooling, head cls.weight / score.weight\n",
                c.num_labels, names.c_str(), c.classifier_pooling.c_str());
  }
}

void info_gguf(const std::string& path) {
  auto f = GgufFile::open(path);
  std::printf("%s: GGUF v%u, %s, %zu metadata keys, %zu tensors, alignment %llu\n", path.c_str(),
              f->version(), human_bytes(f->file_size()).c_str(), f->kv().size(), f->tensors().size(),
              (unsigned long long)f->alignment());
  std::map<std::string, std::pair<uint64_t, uint64_t>> by_type;  // name -> (count, bytes)
  uint64_t params = 0;
  for (const auto& t : f->tensors()) {
    auto& e = by_type[tensor_type_info(t.type)->name];
    e.first++;
    e.second += t.n_bytes;
    params += t.n_elements;
  }
  std::printf("  architecture:     %s\n", f->get_string_opt("general.architecture").value_or("?").c_str());
  if (auto name = f->get_string_opt("general.name")) std::printf("  name:             %s\n", name->c_str());
  std::printf("  tensor elements:  %llu\n", (unsigned long long)params);
  for (const auto& [type, e] : by_type)
    std::printf("  %-6s tensors:    %llu (%s)\n", type.c_str(), (unsigned long long)e.first,
                human_bytes(e.second).c_str());
  bool computable = true;
  for (const auto& t : f->tensors())  // ours, or llama.cpp's Q4_1 .. Q6_K, IQ*, TQ*
    computable &= t.type == 0 || t.type == 1 || t.type == 30 || t.type == 2 || t.type == 8 ||
                  (tensor_type_info(t.type) && is_compat_type(TensorType(t.type)));
  if (!computable) {
    // Config and tokenizer from the metadata alone; the tensors cannot be loaded.
    print_config(config_from_gguf(*f));
    std::printf("  note:             has tensor types this build reads but cannot run (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, "
                "Q2_K .. Q6_K, the IQ1 .. IQ4 types, TQ1_0 and TQ2_0 run)\n");
    const auto tok = f->get_string_opt("tokenizer.ggml.model");
    std::printf("  tokenizer:        %s\n",
                tok && *tok != "none" ? (std::to_string(Tokenizer::from_gguf(*f)->vocab_size()) + " tokens").c_str()
                                      : "none");
    return;
  }
  // Loading checks every tensor's presence and shape against the metadata.
  auto model = load_gguf_model(path);
  print_config(model->config);
  std::printf("  tokenizer:        %s\n",
              model->tokenizer ? (std::to_string(model->tokenizer->vocab_size()) + " tokens").c_str() : "none");
}

void info_safetensors(const std::string& path) {
  auto f = SafetensorsFile::open(path);
  uint64_t bytes = 0, params = 0;
  for (const auto& t : f->tensors()) bytes += t.n_bytes, params += t.n_elements;
  std::printf("%s: safetensors, %zu tensors, %llu elements, %s of data\n", path.c_str(),
              f->tensors().size(), (unsigned long long)params, human_bytes(bytes).c_str());
}

void info_hf_dir(const std::string& dir) {
  auto model = load_hf_model(dir);
  std::printf("%s: HF checkpoint, %s\n", dir.c_str(), family_name(model->config.family));
  std::map<std::string, std::pair<uint64_t, uint64_t>> by_type;
  for (const auto& s : tensor_slots(model->config, model->weights)) {
    if (!s.tensor->present()) continue;
    auto& e = by_type[tensor_type_name(s.tensor->type)];
    e.first++;
    e.second += s.tensor->nbytes();
  }
  for (const auto& [type, e] : by_type)
    std::printf("  %-6s tensors:    %llu (%s in memory)\n", type.c_str(), (unsigned long long)e.first,
                human_bytes(e.second).c_str());
  print_config(model->config);
  std::printf("  tokenizer:        %s\n",
              model->tokenizer ? (std::to_string(model->tokenizer->vocab_size()) + " tokens").c_str() : "none");
}

}  // namespace

void add_info(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("info", "Show what a model file holds (GGUF, safetensors or HF directory)");
  cmd->add_option("FILE", *path, "GGUF file, .safetensors file or HF checkpoint directory")->required();
  cmd->callback([path] {
    struct stat st {};
    QAT_CHECK(::stat(path->c_str(), &st) == 0, *path, ": no such file or directory");
    if (S_ISDIR(st.st_mode)) return info_hf_dir(*path);
    const std::string& p = *path;
    if (p.size() > 12 && p.substr(p.size() - 12) == ".safetensors") return info_safetensors(p);
    info_gguf(p);
  });
}

}  // namespace qat::cli
