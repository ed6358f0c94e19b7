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
#include "quant/ggml_compat_types.h"

namespace qat {

namespace {
uint64_t packed_slice_stride(TensorType type, int64_t rows, int64_t cols) {
  return (uint64_t(packed_bytes(type, rows, cols)) + 63) / 64 * 64;
}

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
    if (stored_as_f32(s.role))
      QAT_CHECK(t.type == TensorType::F32, source_path, ": internal: norm, scalar or head '", s.gguf_name, "' not F32");
    else
      QAT_CHECK(t.type == TensorType::F32 || t.type == TensorType::F16 || t.type == TensorType::BF16 ||
                    t.type == TensorType::Q8_0 || t.type == TensorType::Q4_0 || is_compat_type(t.type),
                source_path, ": tensor '", s.gguf_name, "' has type ", tensor_type_name(t.type),
                ", which this build cannot compute with (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, "
                "Q5_K, Q6_K, IQ4_NL, IQ4_XS)");
  }
}

void Model::prepare_matrices_for_kernels() {
  // Matrices, and the embedding when it doubles as the output projection;
  // each with the bytes of its copy (repacked for Q8_0 / Q4_0, as is else).
  struct Item {
    Tensor* t;
    uint64_t bytes;
  };
  std::vector<Item> todo;
  uint64_t arena_bytes = 0;
  for (const TensorSlot& s : tensor_slots(config, weights)) {
    Tensor& t = *s.tensor;
    const bool multiplied = s.role == TensorRole::Matrix || (&t == &weights.embed && config.tie_word_embeddings);
    if (!t.present() || !multiplied || t.packed || !t.packed_slices.empty() || t.resident) continue;
    const bool quant = t.type == TensorType::Q8_0 || t.type == TensorType::Q4_0;
    if (!quant && t.owned) continue;  // already in our own memory
    // 3-D expert tensors are packed slice by slice (each slice a matrix,
    // 64-byte aligned).
    const int64_t slices = t.shape.size() == 3 ? t.shape[0] : 1;
    const uint64_t n = quant ? uint64_t(slices) * packed_slice_stride(t.type, t.rows() / slices, t.cols()) : t.nbytes();
    todo.push_back({&t, n});
    arena_bytes += (n + 63) / 64 * 64;  // each copy starts 64-byte aligned
  }
  if (todo.empty()) return;
  // The copies are new memory (the mapped originals are dropped as they go):
  // refuse up front rather than be killed halfway.
  const MemoryInfo mem = read_memory_info();
  if (mem.known && arena_bytes > mem.available + mem.swap_free)
    throw Error(cat(source_path, ": loading the weight matrices (repacked, in huge pages) needs ",
                    format_bytes(arena_bytes), " of memory but only ", format_bytes(mem.available + mem.swap_free),
                    " is available"),
                "close other programs, or use a smaller quantization (`qat quantize MODEL OUT.gguf q4_0`)");
  // One arena for all of them: huge pages are 2 MiB, so a buffer per matrix
  // would leave a partly used huge page behind each (measured +133 MiB RSS
  // on a 1B model); packed back to back only the arena's end is partial.
  const std::shared_ptr<uint8_t> arena = allocate_large(size_t(arena_bytes));
  uint64_t at = 0;
  for (const Item& item : todo) {
    Tensor& t = *item.t;
    std::shared_ptr<uint8_t> slice(arena, arena.get() + at);  // shares the arena's lifetime
    at += (item.bytes + 63) / 64 * 64;
    if (t.type == TensorType::Q8_0 || t.type == TensorType::Q4_0) {
      // The packed copy replaces the mapped original in resident memory (its
      // pages are dropped as they are packed and fault back in if a writer or
      // an embedding lookup reads them). Owned tensors keep their bytes.
      if (t.shape.size() == 3) {
        const int64_t E = t.shape[0], R = t.shape[1], C = t.shape[2];
        const uint64_t src_bytes = tensor_bytes(uint32_t(t.type), uint64_t(R * C));
        const uint64_t dst_bytes = packed_slice_stride(t.type, R, C);
        for (int64_t e = 0; e < E; ++e)
          t.packed_slices.push_back(make_packed_matrix_in(std::shared_ptr<uint8_t>(slice, slice.get() + e * dst_bytes),
                                                          t.type, t.data + e * src_bytes, R, C,
                                                          /*release_source=*/!t.owned));
        continue;
      }
      t.packed = std::make_shared<const PackedMatrix>(
          make_packed_matrix_in(slice, t.type, t.data, t.rows(), t.cols(), /*release_source=*/!t.owned));
      continue;
    }
    // Float matrices: copied as they are, slab by slab, each slab's mapped
    // pages released once copied.
    const size_t slab = size_t(4) << 20;
    for (size_t o = 0; o < item.bytes; o += slab) {
      const size_t len = std::min<size_t>(slab, item.bytes - o);
      std::memcpy(slice.get() + o, t.data + o, len);
      release_mapped_pages(t.data + o, len);
    }
    t.resident = slice;
    t.data = t.resident.get();
  }
}

std::unique_ptr<Model> load_model(const std::string& path) {
  struct stat st {};
  QAT_CHECK(::stat(path.c_str(), &st) == 0, path, ": no such file or directory");
  if (S_ISDIR(st.st_mode)) return load_hf_model(path);
  return load_gguf_model(path);
}

}  // namespace qat
