// safetensors: u64 little-endian header length N, N bytes of UTF-8 JSON
// {"name": {"dtype": "F32", "shape": [..], "data_offsets": [b, e]}, ...,
//  "__metadata__": {"k": "v"}}, then the data. The reader maps the file and
// requires: valid UTF-8 JSON with no duplicate keys, known dtypes, shapes
// whose byte size equals e - b, offsets that tile the data section exactly
// (contiguous, no holes, no overlap) and end at the end of the file.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/mapped_file.h"

namespace qat {

enum class StDtype { F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL };
const char* st_dtype_name(StDtype d);
size_t st_dtype_size(StDtype d);

struct StTensor {
  std::string name;
  StDtype dtype = StDtype::F32;
  std::vector<uint64_t> shape;  // row-major (torch order): shape.back() is contiguous
  uint64_t n_elements = 0;
  uint64_t n_bytes = 0;
  const uint8_t* data = nullptr;  // into the map
};

class SafetensorsFile {
 public:
  static std::unique_ptr<SafetensorsFile> open(const std::string& path);
  const std::string& path() const { return path_; }
  const std::vector<StTensor>& tensors() const { return tensors_; }
  const StTensor* find(const std::string& name) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  std::string path_;
  std::unique_ptr<MappedFile> map_;
  std::vector<StTensor> tensors_;
  std::map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
  friend class StParser;
};

struct StWriteTensor {
  std::string name;
  StDtype dtype;
  std::vector<uint64_t> shape;
  const void* data;  // n_elements * dtype size bytes, valid until write returns
};

// Writes one safetensors file atomically. Tensors are stored in the given order.
void write_safetensors(const std::string& path, const std::vector<StWriteTensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace qat
