// GGUF file <-> Model, tensor names and layouts as llama.cpp's gemma3 /
// gemma4 loaders expect them (see gguf_config.h for the metadata).
#include <cstdint>
#include <filesystem>
#include <map>
#include <set>

#include "base/error.h"
#include "formats/gguf.h"
#include "model/gguf_config.h"
#include "model/model.h"
#include "model/tensor_convert.h"
#include "quant/ggml_compat_types.h"

namespace qat {

namespace {

std::string dims_str(const std::vector<uint64_t>& d) {
  std::string s;
  for (auto x : d) s += (s.empty() ? "" : ", ") + std::to_string(x);
  return "[" + s + "]";
}

}  // namespace

uint32_t gguf_file_type(TensorType t) {
  switch (t) {
    case TensorType::F32: return 0;   // LLAMA_FTYPE_ALL_F32
    case TensorType::F16: return 1;   // LLAMA_FTYPE_MOSTLY_F16
    case TensorType::Q4_0: return 2;  // LLAMA_FTYPE_MOSTLY_Q4_0
    case TensorType::Q8_0: return 7;  // LLAMA_FTYPE_MOSTLY_Q8_0
    case TensorType::BF16: return 32; // LLAMA_FTYPE_MOSTLY_BF16
    default: break;                   // types we read but never write
  }
  fail("GGUF output type ", tensor_type_name(t), " has no llama.cpp file type");
}

std::string gguf_file_type_name(uint32_t file_type) {
  // LLAMA_FTYPE_* (llama.h) and the names llama.cpp gives them.
  static const std::map<uint32_t, std::string> names = {
      {0, "all F32"},
      {1, "F16"},
      {2, "Q4_0"},
      {3, "Q4_1"},
      {7, "Q8_0"},
      {8, "Q5_0"},
      {9, "Q5_1"},
      {10, "Q2_K - Medium"},
      {11, "Q3_K - Small"},
      {12, "Q3_K - Medium"},
      {13, "Q3_K - Large"},
      {14, "Q4_K - Small"},
      {15, "Q4_K - Medium"},
      {16, "Q5_K - Small"},
      {17, "Q5_K - Medium"},
      {18, "Q6_K"},
      {19, "IQ2_XXS - 2.0625 bpw"},
      {20, "IQ2_XS - 2.3125 bpw"},
      {21, "Q2_K - Small"},
      {22, "IQ3_XS - 3.3 bpw"},
      {23, "IQ3_XXS - 3.0625 bpw"},
      {24, "IQ1_S - 1.5625 bpw"},
      {25, "IQ4_NL - 4.5 bpw"},
      {26, "IQ3_S - 3.4375 bpw"},
      {27, "IQ3_S mix - 3.66 bpw"},
      {28, "IQ2_S - 2.5 bpw"},
      {29, "IQ2_M - 2.7 bpw"},
      {30, "IQ4_XS - 4.25 bpw"},
      {31, "IQ1_M - 1.75 bpw"},
      {32, "BF16"},
      {36, "TQ1_0 - 1.69 bpw ternary"},
      {37, "TQ2_0 - 2.06 bpw ternary"},
  };
  const auto it = names.find(file_type);
  return it == names.end() ? std::string() : it->second;
}

std::unique_ptr<Model> load_gguf_model(const std::string& path) {
  auto model = std::make_unique<Model>();
  model->source_path = path;
  std::shared_ptr<GgufFile> f = GgufFile::open(path);
  model->sources.push_back(f);
  model->config = config_from_gguf(*f);
  model->name = f->get_string_opt("general.name").value_or("");
  if (const auto ft = f->get_uint_opt("general.file_type"); ft && *ft <= UINT32_MAX) model->file_type = uint32_t(*ft);
  std::set<std::string> used = {"rope_freqs.weight"};  // read into the config
  for (const TensorSlot& slot : tensor_slots(model->config, model->weights)) {
    const GgufTensorInfo* t = f->find_tensor(slot.gguf_name);
    if (!t) {
      if (slot.role == TensorRole::Scalar) {  // llama.cpp: absent layer_output_scale, ffn_down_exps.scale = 1
        int64_t n = 1;
        for (int64_t d : slot.shape) n *= d;
        *slot.tensor = f32_tensor(slot.shape, std::vector<float>(size_t(n), 1.0f));
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
    const bool small = stored_as_f32(slot.role);
    const bool quantized = t->type == 2 || t->type == 8 || (info && is_compat_type(TensorType(t->type)));
    const bool supported = t->type == 0 || t->type == 1 || t->type == 30 || (!small && quantized);
    QAT_CHECK(supported, path, ": tensor '", slot.gguf_name, "' has type ", info ? info->name : "?",
              ", which this build cannot compute with (F32, F16, BF16; for matrices also Q8_0, Q4_0 and "
              "llama.cpp's Q4_1, Q5_0, Q5_1, Q2_K .. Q6_K, IQ4_NL, IQ4_XS)");
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
  auto type_of = [type](const TensorSlot& s) {
    const bool small = stored_as_f32(s.role);
    return small ? TensorType::F32 : type;
  };
  save_gguf_model(model, path, type_of, gguf_file_type(type), "convert");
}

void save_gguf_model(const Model& model, const std::string& path, const TensorTypeChooser& type_of,
                     uint32_t file_type, const std::string& progress_label, bool keep_grid,
                     const GridReport& grid_report) {
  const ModelConfig& c = model.config;
  GgufWriter w;
  std::string name = model.name.empty() ? std::filesystem::path(model.source_path).stem().string() : model.name;
  if (name.empty() || name[0] == '<') name = std::string(family_name(c.family)) + " model";
  write_gguf_config(w, c, name, file_type);
  if (model.tokenizer) {
    QAT_CHECK(model.tokenizer->vocab_size() <= c.vocab_size, path, ": tokenizer has ",
              model.tokenizer->vocab_size(), " tokens, more than the ", c.vocab_size, " embedding rows");
    // llama.cpp needs one token per embedding row: pad like its converter.
    model.tokenizer->write_gguf_padded(w, c.vocab_size);
  }

  std::vector<Tensor> keep;  // tensors made here must outlive w.write()
  if (c.family == Family::Gemma4 && c.has_global_layer()) {
    // Proportional RoPE for llama.cpp: frequency factor 1 on rotated pairs,
    // 1e30 (no rotation) on the rest; first tensor, as the converter writes it.
    // Only global layers read it, and llama.cpp refuses a file with a tensor
    // no layer reads (a model cut to its first sliding layers by `qat init
    // --layers`).
    const int G = c.global_head_dim > 0 ? c.global_head_dim : c.head_dim;
    const int rotated = int(c.rope_global_partial * float(G) / 2.0f);
    std::vector<float> f(size_t(G / 2), 1e30f);
    for (int i = 0; i < rotated; ++i) f[size_t(i)] = 1.0f;
    keep.push_back(f32_tensor({G / 2}, f));
    w.add_tensor("rope_freqs.weight", {uint64_t(G / 2)}, uint32_t(TensorType::F32), keep.back().data,
                 keep.back().nbytes());
  }
  ModelWeights& weights = const_cast<ModelWeights&>(model.weights);  // slots are only read
  for (const TensorSlot& s : tensor_slots(c, weights)) {
    if (!s.tensor->present()) continue;
    const TensorType to = type_of(s);
    const bool small = stored_as_f32(s.role);
    QAT_CHECK(!small || to == TensorType::F32, path, ": internal: norm/scalar '", s.gguf_name,
              "' must be written as F32, not ", tensor_type_name(to));
    const Tensor* t = s.tensor;
    std::vector<uint64_t> dims(t->shape.rbegin(), t->shape.rend());
    const uint64_t n_bytes = tensor_bytes(uint32_t(to), uint64_t(t->numel()));
    const std::string tensor_name = s.gguf_name;
    const bool grid = keep_grid && keep_grid_supported(to, t->type);
    w.add_tensor(s.gguf_name, dims, uint32_t(to), n_bytes,
                 [t, to, tensor_name, path, grid, &grid_report](const GgufWriter::ByteSink& sink) {
      // Views point into read-only file maps (owned tensors never do): their
      // pages can go once written, so a big input does not stay resident.
      // Not so for matrices prepare_matrices_for_kernels copied into its
      // arena (`resident`): anonymous memory dropped that way reads back as
      // zeros, which zeroed a prepared model saved to another file.
      GridStats stats;
      try {
        const bool file_view = !t->owned && !t->resident;
        stream_converted(*t, to, sink, /*release_input=*/file_view, grid ? &stats : nullptr);
      } catch (const Error& e) {
        fail(path, ": tensor '", tensor_name, "' to ", tensor_type_name(to), ": ", e.what());
      }
      if (grid && grid_report) grid_report(tensor_name, to, stats);
    });
  }
  w.write(path, true, progress_label);
}

}  // namespace qat
