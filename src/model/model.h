// A loaded model: config, per-layer specs, weights (mostly views into mapped
// files) and its tokenizer. Loaders live in load_*.cpp, writers in save_*.cpp.
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/config.h"
#include "model/weights.h"
#include "quant/grid_import.h"
#include "tokenizer/tokenizer.h"

namespace qat {

struct Model {
  ModelConfig config;
  std::vector<LayerSpec> specs;
  ModelWeights weights;
  std::unique_ptr<Tokenizer> tokenizer;        // null when the file has none
  std::vector<std::shared_ptr<void>> sources;  // mapped files the weights point into
  std::string source_path;
  std::string name;  // general.name of a GGUF input, kept when saving (else the file stem)
  std::optional<uint32_t> file_type;  // general.file_type of a GGUF input (llama.cpp's LLAMA_FTYPE_*)

  // sqrt(hidden) and sqrt(ple_dim), rounded to the embedding's storage type as
  // HF does ("normalizer" cast to the weight dtype before the multiply).
  float embed_scale() const;
  float ple_embed_scale() const;

  // Resolves specs, checks every tensor's presence, shape and type.
  void finalize();
  // Every matrix the forward pass multiplies by (and a tied embedding): Q8_0 /
  // Q4_0 repacked into Tensor::packed, F32 / F16 / BF16 of a mapped file
  // copied into huge pages (Tensor::resident). The mapped pages are released
  // as they are copied; fails up front if the copies do not fit in memory.
  // Idempotent. Call it before computing with a loaded model (run, bench,
  // eval); without it the kernels still work, repacking on every product.
  // Loaders do not call it, so info / convert / quantize never copy weights.
  void prepare_matrices_for_kernels();
};

// Opens a GGUF file or a HF checkpoint directory (decided by what the path is).
std::unique_ptr<Model> load_model(const std::string& path);
std::unique_ptr<Model> load_gguf_model(const std::string& path);
std::unique_ptr<Model> load_hf_model(const std::string& dir);

// Random weights for tests and benchmarks: matrices and embeddings uniform
// with std 1/sqrt(row width), norms and layer scalars
// 1 + N(0, 0.1) so every norm weight matters. Deterministic for a seed.
std::unique_ptr<Model> init_random_model(const ModelConfig& config, uint64_t seed,
                                         TensorType matrix_type = TensorType::F32);

// Writers (atomic). `type` is the storage type of matrices and embeddings;
// norms and scalars stay F32.
void save_gguf_model(const Model& model, const std::string& path, TensorType type);
// GGUF with a storage type per tensor (norms and scalars must get F32).
// Tensors are converted while the file is written, a few MiB at a time, and
// the input's mapped pages are released after each tensor, so memory stays
// near one chunk (see stream_converted). file_type is general.file_type
// (llama.cpp's LLAMA_FTYPE_*: see gguf_file_type()).
// keep_grid: matrices quantized from F32/F16/BF16 to Q8_0/Q4_0 keep a grid
// their values already lie on (QAT-trained elsewhere or with learned scales;
// quant/grid_import.h) instead of the reference scales; grid_report, when
// set, is called after each such tensor with its block counts.
using TensorTypeChooser = std::function<TensorType(const TensorSlot&)>;
using GridReport = std::function<void(const std::string& gguf_name, TensorType to, const GridStats&)>;
void save_gguf_model(const Model& model, const std::string& path, const TensorTypeChooser& type_of,
                     uint32_t file_type, const std::string& progress_label = "writing",
                     bool keep_grid = false, const GridReport& grid_report = {});
// llama.cpp's general.file_type for a model "mostly" of `type`:
// F32 0, F16 1, Q4_0 2, Q8_0 7, BF16 32.
uint32_t gguf_file_type(TensorType type);
// llama.cpp's name for a general.file_type value, as llama-bench prints it
// ("Q4_K - Medium"); empty for a value it does not name.
std::string gguf_file_type_name(uint32_t file_type);
// HF output is split into model-0000k-of-0000n.safetensors shards of at most
// max_shard_bytes (a larger tensor gets a shard of its own) plus
// model.safetensors.index.json when it does not fit in one file.
void save_hf_model(const Model& model, const std::string& dir, TensorType type,
                   uint64_t max_shard_bytes = uint64_t(4) << 30);

}  // namespace qat
