// GGUF file <-> Model, tensor names and layouts as llama.cpp's gemma3 /
// gemma4 loaders expect them (see gguf_config.h for the metadata).
#include <filesystem>
#include <set>

#include "base/error.h"
#include "base/progress.h"
#include "formats/gguf.h"
#include "model/gguf_config.h"
#include "model/model.h"
#include "model/tensor_convert.h"

namespace qat {

namespace {

std::string dims_str(const std::vector<uint64_t>& d) {
  std::string s;
  for (auto x : d) s += (s.empty() ? "" : ", ") + std::to_string(x);
  return "[" + s + "]";
}

uint32_t file_type_of(TensorType t) {
  switch (t) {
    case TensorType::F32: return 0;
    case TensorType::F16: return 1;
    case TensorType::BF16: return 32;
    default: fail("GGUF output type ", tensor_type_name(t), " is not supported by convert");
  }
}

}  // namespace

std::unique_ptr<Model> load_gguf_model(const std::string& path) {
  auto model = std::make_unique<Model>();
  model->source_path = path;
  std::shared_ptr<GgufFile> f = GgufFile::open(path);
  model->sources.push_back(f);
  model->config = config_from_gguf(*f);
  std::set<std::string> used = {"rope_freqs.weight"};  // read into the config
  for (const TensorSlot& slot : tensor_slots(model->config, model->weights)) {
    const GgufTensorInfo* t = f->find_tensor(slot.gguf_name);
    if (!t) {
      if (slot.role == TensorRole::Scalar) {  // llama.cpp: absent layer_output_scale = 1
        *slot.tensor = f32_tensor(slot.shape, std::vector<float>(1, 1.0f));
        continue;
      }
      QAT_CHECK(slot.optional, path, ": missing tensor '", slot.gguf_name, "'");
      continue;
    }
    used.insert(slot.gguf_name);
    // GGUF dims are reversed torch shapes.
    std::vector<int64_t> shape(t->dims.rbegin(), t->dims.rend());
    std::vector<uint64_t> want(slot.shape.rbegin(), slot.shape.rend());
    QAT_CHECK(shape == slot.shape, path, ": tensor '", slot.gguf_name, "' has dims ", dims_str(t->dims),
              ", expected ", dims_str(want), " from the metadata");
    const TensorTypeInfo* info = tensor_type_info(t->type);
    const bool small = slot.role == TensorRole::Norm || slot.role == TensorRole::Scalar;
    const bool supported = t->type == 0 || t->type == 1 || t->type == 30 ||
                           (!small && (t->type == 2 || t->type == 8));  // Q4_0, Q8_0 matrices
    QAT_CHECK(supported, path, ": tensor '", slot.gguf_name, "' has type ", info ? info->name : "?",
              ", which this build cannot compute with (F32, F16, BF16; Q8_0 and Q4_0 for matrices)");
    Tensor x;
    x.type = TensorType(t->type);
    x.shape = slot.shape;
    x.data = t->data;
    if (small)
      x = f32_tensor(slot.shape, tensor_to_f32(x));  // gemma3 files already hold 1 + w
    *slot.tensor = x;
  }
  for (const GgufTensorInfo& t : f->tensors())
    QAT_CHECK(used.count(t.name), path, ": unexpected tensor '", t.name, "' for a ",
              family_name(model->config.family), " model with this metadata");
  model->finalize();
  const auto tok_model = f->get_string_opt("tokenizer.ggml.model");
  if (tok_model && *tok_model != "none") model->tokenizer = Tokenizer::from_gguf(*f);
  return model;
}

void save_gguf_model(const Model& model, const std::string& path, TensorType type) {
  const ModelConfig& c = model.config;
  GgufWriter w;
  std::string name = std::filesystem::path(model.source_path).stem().string();
  if (name.empty() || name[0] == '<') name = std::string(family_name(c.family)) + " model";
  write_gguf_config(w, c, name, file_type_of(type));
  if (model.tokenizer) {
    QAT_CHECK(model.tokenizer->vocab_size() <= c.vocab_size, path, ": tokenizer has ",
              model.tokenizer->vocab_size(), " tokens, more than the ", c.vocab_size, " embedding rows");
    // llama.cpp needs one token per embedding row: pad like its converter.
    model.tokenizer->write_gguf_padded(w, c.vocab_size);
  }

  std::vector<Tensor> keep;  // converted tensors must outlive w.write()
  keep.reserve(4 * size_t(c.num_hidden_layers) * 8 + 8);
  auto add = [&](const std::string& n, const Tensor& t) {
    std::vector<uint64_t> dims(t.shape.rbegin(), t.shape.rend());
    w.add_tensor(n, dims, uint32_t(t.type), t.data, t.nbytes());
  };
  if (c.family == Family::Gemma4) {
    // Proportional RoPE for llama.cpp: frequency factor 1 on rotated pairs,
    // 1e30 (no rotation) on the rest; first tensor, as the converter writes it.
    const int G = c.global_head_dim > 0 ? c.global_head_dim : c.head_dim;
    const int rotated = int(c.rope_global_partial * float(G) / 2.0f);
    std::vector<float> f(size_t(G / 2), 1e30f);
    for (int i = 0; i < rotated; ++i) f[size_t(i)] = 1.0f;
    keep.push_back(f32_tensor({G / 2}, f));
    add("rope_freqs.weight", keep.back());
  }
  ModelWeights& weights = const_cast<ModelWeights&>(model.weights);  // slots are only read
  const auto slots = tensor_slots(c, weights);
  Progress progress("convert", slots.size(), "tensors");
  for (const TensorSlot& s : slots) {
    progress.add();
    if (!s.tensor->present()) continue;
    const bool small = s.role == TensorRole::Norm || s.role == TensorRole::Scalar;
    keep.push_back(convert_tensor(*s.tensor, small ? TensorType::F32 : type));
    add(s.gguf_name, keep.back());
  }
  progress.finish();
  w.write(path);
}

}  // namespace qat
