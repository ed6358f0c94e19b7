// Model -> HF checkpoint directory (config.json, safetensors shards + index,
// tokenizer files). Built in "<dir>.tmp-<pid>" and renamed into place, so a
// failure never leaves a half-written checkpoint.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/atomic_file.h"
#include "base/error.h"
#include "base/progress.h"
#include "formats/safetensors.h"
#include "model/hf_config.h"
#include "model/model.h"
#include "model/tensor_convert.h"

namespace qat {

namespace {

StDtype st_dtype(TensorType t) {
  switch (t) {
    case TensorType::F32: return StDtype::F32;
    case TensorType::F16: return StDtype::F16;
    case TensorType::BF16: return StDtype::BF16;
    default: fail("HF safetensors output supports f32, f16 and bf16, not ", tensor_type_name(t));
  }
}

}  // namespace

void save_hf_model(const Model& model, const std::string& dir, TensorType type, uint64_t max_shard_bytes) {
  namespace fs = std::filesystem;
  const StDtype out_dtype = st_dtype(type);
  std::error_code ec;
  if (fs::exists(dir, ec))
    QAT_CHECK(fs::is_directory(dir, ec) && fs::is_empty(dir, ec), dir,
              ": output exists and is not an empty directory (refusing to overwrite)");
  const std::string tmp = dir + ".tmp-" + std::to_string(::getpid());
  fs::remove_all(tmp, ec);
  QAT_CHECK(fs::create_directories(tmp, ec), tmp, ": cannot create directory: ", ec.message());
  struct Cleanup {
    std::string path;
    bool keep = false;
    ~Cleanup() {
      std::error_code e;
      if (!keep) fs::remove_all(path, e);
    }
  } cleanup{tmp};

  write_file_atomic(tmp + "/config.json", hf_config_json(model.config));

  // Convert every tensor to its output form first (norms back to HF's w).
  ModelWeights& w = const_cast<ModelWeights&>(model.weights);  // slots only read
  std::vector<Tensor> converted;
  std::vector<StWriteTensor> all;
  const auto slots = tensor_slots(model.config, w);
  converted.reserve(slots.size());
  Progress convert_progress("convert", slots.size(), "tensors");
  for (const TensorSlot& s : slots) {
    convert_progress.add();
    if (!s.tensor->present()) continue;
    if (stored_as_f32(s.role)) {
      std::vector<float> v = tensor_to_f32(*s.tensor);
      if (s.role == TensorRole::Norm && model.config.norm_adds_one())
        for (float& x : v) x -= 1.0f;
      converted.push_back(f32_tensor(s.shape, v));
      // Norms follow the checkpoint dtype, as save_pretrained does.
      converted.back() = convert_tensor(converted.back(), type);
    } else {
      converted.push_back(convert_tensor(*s.tensor, type));
    }
    std::vector<uint64_t> shape(s.shape.begin(), s.shape.end());
    all.push_back({s.hf_name, out_dtype, shape, converted.back().data});
  }

  convert_progress.finish();
  // Shard by size.
  std::vector<std::vector<StWriteTensor>> shards(1);
  uint64_t bytes = 0, total = 0;
  for (size_t i = 0; i < all.size(); ++i) {
    const uint64_t n = converted[i].nbytes();
    if (bytes > 0 && bytes + n > max_shard_bytes) {
      shards.emplace_back();
      bytes = 0;
    }
    shards.back().push_back(all[i]);
    bytes += n;
    total += n;
  }
  Progress progress("save", shards.size(), "shards");
  if (shards.size() == 1) {
    write_safetensors(tmp + "/model.safetensors", shards[0], {{"format", "pt"}});
  } else {
    nlohmann::json index;
    index["metadata"] = {{"total_size", total}};
    nlohmann::json map = nlohmann::json::object();
    for (size_t k = 0; k < shards.size(); ++k) {
      char name[64];
      std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", k + 1, shards.size());
      write_safetensors(tmp + "/" + name, shards[k], {{"format", "pt"}});
      for (const auto& t : shards[k]) map[t.name] = name;
      progress.add();
    }
    index["weight_map"] = map;
    write_file_atomic(tmp + "/model.safetensors.index.json", index.dump(2) + "\n");
  }
  progress.finish();
  if (model.tokenizer) model.tokenizer->write_hf(tmp);

  if (fs::exists(dir, ec)) fs::remove(dir, ec);  // empty directory checked above
  fs::rename(tmp, dir, ec);
  QAT_CHECK(!ec, dir, ": cannot move ", tmp, " into place: ", ec.message());
  cleanup.keep = true;
}

}  // namespace qat
