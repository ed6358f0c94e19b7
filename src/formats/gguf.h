// GGUF v3 (llama.cpp's model file): a hardened mmap reader and a writer.
//
// Layout: magic "GGUF", u32 version, u64 n_tensors, u64 n_kv, KV pairs,
// tensor infos (name, n_dims, dims[], u32 type, u64 offset), padding to
// general.alignment (default 32), tensor data. All little endian.
//
// The reader checks every length before reading it, caps counts and string
// lengths, uses overflow-checked sizes, rejects duplicate keys/names, unknown
// value and tensor types, misaligned / out-of-range / overlapping tensor data.
// Every error is a qat::Error whose message starts with the file path.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/mapped_file.h"

namespace qat {

enum class GgufType : uint32_t {
  UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6,
  BOOL = 7, STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12,
};
const char* gguf_type_name(GgufType t);

// One metadata value. Scalars live in `num` / `str`; arrays keep their element
// type and either raw little-endian element bytes (numeric/bool) or strings.
struct GgufValue {
  GgufType type = GgufType::UINT32;
  GgufType elem_type = GgufType::UINT32;  // arrays only
  union {
    uint64_t u;
    int64_t i;
    double f;
  } num{};
  std::string str;                  // STRING
  std::vector<uint8_t> raw;         // numeric ARRAY elements, packed
  std::vector<std::string> strs;    // STRING ARRAY elements

  // Constructors for writing.
  static GgufValue u32(uint32_t v);
  static GgufValue i32(int32_t v);
  static GgufValue u64(uint64_t v);
  static GgufValue f32(float v);
  static GgufValue boolean(bool v);
  static GgufValue string(std::string v);
  static GgufValue string_array(std::vector<std::string> v);
  static GgufValue f32_array(const std::vector<float>& v);
  static GgufValue i32_array(const std::vector<int32_t>& v);
  static GgufValue u32_array(const std::vector<uint32_t>& v);
  static GgufValue bool_array(const std::vector<bool>& v);

  size_t array_size() const;  // elements of an ARRAY
  bool is_integer() const;    // any integer scalar type (or BOOL)
  bool is_float() const;      // FLOAT32 / FLOAT64
};

struct GgufTensorInfo {
  std::string name;
  std::vector<uint64_t> dims;  // ggml order: dims[0] is the contiguous (fastest) axis
  uint32_t type = 0;           // ggml type id (formats/tensor_type.h)
  uint64_t offset = 0;         // relative to the start of the data section
  uint64_t n_elements = 0;
  uint64_t n_bytes = 0;
  const uint8_t* data = nullptr;  // into the map (reader only)
};

class GgufFile {
 public:
  // Opens, maps and validates. Throws qat::Error("<path>: <problem>").
  static std::unique_ptr<GgufFile> open(const std::string& path);

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t file_size() const;

  // Metadata, in file order.
  const std::vector<std::pair<std::string, GgufValue>>& kv() const { return kv_; }
  const GgufValue* find(const std::string& key) const;
  // Typed getters: throw "<path>: key K: expected T, found U" on type mismatch,
  // "<path>: missing key K" when absent and no default is given.
  std::string get_string(const std::string& key) const;
  std::optional<std::string> get_string_opt(const std::string& key) const;
  uint64_t get_uint(const std::string& key) const;  // any non-negative integer type
  std::optional<uint64_t> get_uint_opt(const std::string& key) const;
  double get_float(const std::string& key) const;  // FLOAT32/64 (or integer)
  std::optional<double> get_float_opt(const std::string& key) const;
  bool get_bool_opt(const std::string& key, bool fallback) const;
  const GgufValue& get_array(const std::string& key, GgufType elem_type) const;

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* find_tensor(const std::string& name) const;

 private:
  std::string path_;
  std::unique_ptr<MappedFile> map_;
  uint64_t file_size_ = 0;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::map<std::string, size_t> kv_index_;
  std::vector<GgufTensorInfo> tensors_;
  std::map<std::string, size_t> tensor_index_;
  friend class GgufParser;
};

// Writer: collect metadata and tensors, then write() atomically
// (temp file + fsync + rename). Tensor data is copied from the given pointer
// at write() time, so it must stay valid until then.
class GgufWriter {
 public:
  // A tensor whose bytes are made at write() time: it calls `sink` with
  // consecutive chunks that must add up to exactly n_bytes. Lets a converting
  // writer (quantize) hold one chunk in memory instead of every tensor.
  using ByteSink = std::function<void(const void* data, uint64_t n)>;
  using TensorProducer = std::function<void(const ByteSink& sink)>;

  void set(const std::string& key, GgufValue value);  // replaces an existing key in place
  // dims in ggml order (dims[0] contiguous). n_bytes must match type and dims.
  void add_tensor(const std::string& name, std::vector<uint64_t> dims, uint32_t type,
                  const void* data, uint64_t n_bytes);
  void add_tensor(const std::string& name, std::vector<uint64_t> dims, uint32_t type,
                  uint64_t n_bytes, TensorProducer produce);
  // progress_label names the progress bar shown for large files.
  void write(const std::string& path, bool show_progress = true,
             const std::string& progress_label = "writing") const;
  uint64_t alignment = 32;

 private:
  struct PendingTensor {
    std::string name;
    std::vector<uint64_t> dims;
    uint32_t type;
    const void* data;
    uint64_t n_bytes;
    TensorProducer produce;  // set instead of data for lazily made tensors
  };
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::vector<PendingTensor> tensors_;
};

}  // namespace qat
