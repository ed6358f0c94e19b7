// HF checkpoint directory -> Model: config.json, model.safetensors or shards
// listed in model.safetensors.index.json, tokenizer.json / tokenizer.model.
#include <sys/stat.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "base/atomic_file.h"
#include "base/error.h"
#include "formats/safetensors.h"
#include "model/hf_config.h"
#include "model/model.h"
#include "model/tensor_convert.h"

namespace qat {

namespace {

bool file_exists(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// Shard file names, from the index when there is one.
std::vector<std::string> shard_files(const std::string& dir) {
  const std::string index = dir + "/model.safetensors.index.json";
  if (file_exists(index)) {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(read_text_file(index));
    } catch (const nlohmann::json::exception& e) {
      fail(index, ": invalid JSON: ", e.what());
    }
    QAT_CHECK(j.is_object() && j.contains("weight_map") && j["weight_map"].is_object(), index,
              ": expected an object with a \"weight_map\" object");
    std::set<std::string> files;
    for (const auto& [name, file] : j["weight_map"].items()) {
      QAT_CHECK(file.is_string(), index, ": weight_map[\"", name, "\"] must be a file name");
      const std::string f = file.get<std::string>();
      QAT_CHECK(f.find('/') == std::string::npos && f.find("..") == std::string::npos, index,
                ": shard name '", f, "' must be a plain file name in the same directory");
      files.insert(f);
    }
    QAT_CHECK(!files.empty(), index, ": weight_map is empty");
    return {files.begin(), files.end()};
  }
  QAT_CHECK(file_exists(dir + "/model.safetensors"), dir,
            ": no model.safetensors or model.safetensors.index.json in this directory");
  return {"model.safetensors"};
}

TensorType to_tensor_type(StDtype d, const std::string& where) {
  switch (d) {
    case StDtype::F32: return TensorType::F32;
    case StDtype::F16: return TensorType::F16;
    case StDtype::BF16: return TensorType::BF16;
    default: fail(where, ": dtype ", st_dtype_name(d), " is not supported (F32, F16, BF16)");
  }
}

// Names a tensor may have: Gemma*ForCausalLM uses "model.", the multimodal
// wrappers "model.language_model." (transformers 5) or "language_model.model.".
std::vector<std::string> candidate_names(const std::string& hf) {
  if (hf.rfind("model.", 0) == 0) {
    const std::string rest = hf.substr(6);
    return {hf, "model.language_model." + rest, "language_model.model." + rest};
  }
  return {hf, "language_model." + hf, "model.language_model." + hf};
}

bool is_non_text_tensor(const std::string& n) {
  for (const char* p : {"model.vision_tower.", "model.audio_tower.", "model.embed_vision.",
                        "model.embed_audio.", "vision_tower.", "multi_modal_projector.",
                        "model.multi_modal_projector."})
    if (n.rfind(p, 0) == 0) return true;
  return false;
}

}  // namespace

std::unique_ptr<Model> load_hf_model(const std::string& dir) {
  auto model = std::make_unique<Model>();
  model->source_path = dir;
  const std::string config_path = dir + "/config.json";
  QAT_CHECK(file_exists(config_path), dir, ": no config.json (is this a HF checkpoint directory?)");
  model->config = parse_hf_config(read_text_file(config_path), config_path);
  const ModelConfig& c = model->config;

  // name -> (tensor, shard path)
  std::map<std::string, std::pair<const StTensor*, std::string>> by_name;
  for (const std::string& f : shard_files(dir)) {
    const std::string path = dir + "/" + f;
    std::shared_ptr<SafetensorsFile> st = SafetensorsFile::open(path);
    for (const StTensor& t : st->tensors()) {
      QAT_CHECK(!by_name.count(t.name), path, ": tensor '", t.name, "' also appears in ",
                by_name[t.name].second);
      by_name[t.name] = {&t, path};
    }
    model->sources.push_back(st);
  }

  std::set<std::string> used;
  for (const TensorSlot& slot : tensor_slots(model->config, model->weights)) {
    const StTensor* st = nullptr;
    std::string where;
    for (const std::string& name : candidate_names(slot.hf_name)) {
      auto it = by_name.find(name);
      if (it != by_name.end()) {
        st = it->second.first;
        where = it->second.second + ": tensor '" + name + "'";
        used.insert(name);
        break;
      }
    }
    if (!st) {
      QAT_CHECK(slot.optional, dir, ": missing tensor '", slot.hf_name, "'");
      continue;
    }
    std::vector<int64_t> shape(st->shape.begin(), st->shape.end());
    if (slot.role == TensorRole::Scalar && shape.empty()) shape = {1};  // 0-d scalar
    if (shape != slot.shape) {
      std::string got, want;
      for (auto d : shape) got += (got.empty() ? "" : ", ") + std::to_string(d);
      for (auto d : slot.shape) want += (want.empty() ? "" : ", ") + std::to_string(d);
      fail(where, ": shape [", got, "], expected [", want, "] from config.json");
    }
    Tensor t;
    t.type = to_tensor_type(st->dtype, where);
    t.shape = slot.shape;
    t.data = st->data;
    if (stored_as_f32(slot.role)) {
      std::vector<float> v = tensor_to_f32(t);
      if (slot.role == TensorRole::Norm && c.norm_adds_one())
        for (float& x : v) x += 1.0f;  // Gemma 3 RMSNorm multiplies by (1 + w)
      t = f32_tensor(slot.shape, v);
    }
    *slot.tensor = t;
  }
  // A tied checkpoint may still carry lm_head; KV-sharing layers may carry
  // unused k/v weights (HF ignores both). Anything else is an error.
  const auto specs = c.layers();
  for (const auto& [name, entry] : by_name) {
    if (used.count(name) || is_non_text_tensor(name)) continue;
    if (name.find("lm_head.weight") != std::string::npos && c.tie_word_embeddings) continue;
    bool shared_kv = false;
    for (int i = 0; i < c.num_hidden_layers; ++i)
      if (!specs[size_t(i)].stores_kv &&
          name.find("layers." + std::to_string(i) + ".self_attn.") != std::string::npos)
        shared_kv = true;
    if (shared_kv) continue;
    fail(entry.second, ": unexpected tensor '", name, "' (not part of a ", family_name(c.family),
         " text model with this config.json)");
  }
  model->finalize();
  if (file_exists(dir + "/tokenizer.json") || file_exists(dir + "/tokenizer.model"))
    model->tokenizer = Tokenizer::from_hf_dir(dir);
  return model;
}

}  // namespace qat
