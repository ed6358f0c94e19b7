#include "model/model.h"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/error.h"
#include "base/large_alloc.h"
#include "base/mapped_file.h"
#include "base/memory_info.h"
#include "base/fp16.h"

namespace qat {

namespace {
float round_to_storage(float v, TensorType t) {
  if (t == TensorType::BF16) return bf16_to_f32(f32_to_bf16(v));
  if (t == TensorType::F16) return fp16_to_f32(f32_to_fp16(v));
  return v;
}
}  // namespace

float Model::embed_scale() const {
  return round_to_storage(std::sqrt(float(config.hidden_size)), weights.embed.type);
}

float Model::ple_embed_scale() const {
  return round_to_storage(std::sqrt(float(config.hidden_size_per_layer_input)), weights.ple_embed.type);
}

void Model::finalize() {
  specs = config.layers();
  for (const TensorSlot& s : tensor_slots(config, weights)) {
    const Tensor& t = *s.tensor;
    if (!t.present()) {
      QAT_CHECK(s.optional, source_path, ": missing tensor '", s.gguf_name, "' (", s.hf_name, ")");
      continue;
    }
    QAT_CHECK(t.shape == s.shape, source_path, ": tensor '", s.gguf_name, "' has the wrong shape");
    if (s.role == TensorRole::Norm || s.role == TensorRole::Scalar)
      QAT_CHECK(t.type == TensorType::F32, source_path, ": internal: norm '", s.gguf_name, "' not F32");
    else
      QAT_CHECK(t.type == TensorType::F32 || t.type == TensorType::F16 || t.type == TensorType::BF16 ||
                    t.type == TensorType::Q8_0 || t.type == TensorType::Q4_0,
                source_path, ": tensor '", s.gguf_name, "' has type ", tensor_type_name(t.type),
                ", which this build cannot compute with (F32, F16, BF16, Q8_0, Q4_0)");
  }
}

void Model::prepare_matrices_for_kernels() {
  // Matrices, and the embedding when it doubles as the output projection.
  std::vector<Tensor*> todo;
  uint64_t bytes = 0;
  for (const TensorSlot& s : tensor_slots(config, weights)) {
    Tensor& t = *s.tensor;
    const bool multiplied = s.role == TensorRole::Matrix || (&t == &weights.embed && config.tie_word_embeddings);
    if (!t.present() || !multiplied || t.packed || t.resident) continue;
    if (t.type == TensorType::Q8_0 || t.type == TensorType::Q4_0) {
      todo.push_back(&t);
      bytes += uint64_t(packed_bytes(t.type, t.rows(), t.cols()));
    } else if (!t.owned) {
      todo.push_back(&t);
      bytes += t.nbytes();
    }
  }
  // The copies are new memory (the mapped originals are dropped as they go):
  // refuse up front rather than be killed halfway.
  const MemoryInfo mem = read_memory_info();
  if (mem.known && bytes > mem.available + mem.swap_free)
    throw Error(cat(source_path, ": loading the weight matrices (repacked, in huge pages) needs ", format_bytes(bytes),
                    " of memory but only ", format_bytes(mem.available + mem.swap_free), " is available"),
                "close other programs, or use a smaller quantization (`qat quantize MODEL OUT.gguf q4_0`)");
  // One arena for all of them: huge pages are 2 MiB, so a buffer per matrix
  // would leave a partly used huge page behind each (measured +138 MiB RSS
  // on a 1B model); packed back to back only the arena's end is partial.
  auto offset_of = [](uint64_t b) { return (b + 63) / 64 * 64; };
  uint64_t arena_bytes = 0;
  for (Tensor* tp : todo) {
    const Tensor& t = *tp;
    const bool quant = t.type == TensorType::Q8_0 || t.type == TensorType::Q4_0;
    arena_bytes += offset_of(quant ? uint64_t(packed_bytes(t.type, t.rows(), t.cols())) : t.nbytes());
  }
  if (todo.empty()) return;
  const std::shared_ptr<uint8_t> arena = allocate_large(size_t(arena_bytes));
  uint64_t at = 0;
  for (Tensor* tp : todo) {
    Tensor& t = *tp;
    const bool quant = t.type == TensorType::Q8_0 || t.type == TensorType::Q4_0;
    const uint64_t n = quant ? uint64_t(packed_bytes(t.type, t.rows(), t.cols())) : t.nbytes();
    std::shared_ptr<uint8_t> slice(arena, arena.get() + at);  // shares the arena's lifetime
    at += offset_of(n);
    if (!quant) {
      // Float matrices: copied as they are, slab by slab, each slab's mapped
      // pages released once copied.
      const size_t slab = size_t(4) << 20;
      for (size_t o = 0; o < n; o += slab) {
        const size_t len = std::min<size_t>(slab, n - o);
        std::memcpy(slice.get() + o, t.data + o, len);
        release_mapped_pages(t.data + o, len);
      }
      t.resident = slice;
      t.data = t.resident.get();
      continue;
    }
    // The packed copy replaces the mapped original in resident memory (its
    // pages are dropped as they are packed and fault back in if a writer or
    // an embedding lookup reads them). Owned tensors keep their bytes.
    t.packed = std::make_shared<const PackedMatrix>(
        make_packed_matrix_in(slice, t.type, t.data, t.rows(), t.cols(), /*release_source=*/!t.owned));
  }
}

std::unique_ptr<Model> load_model(const std::string& path) {
  struct stat st {};
  QAT_CHECK(::stat(path.c_str(), &st) == 0, path, ": no such file or directory");
  if (S_ISDIR(st.st_mode)) return load_hf_model(path);
  return load_gguf_model(path);
}

}  // namespace qat
