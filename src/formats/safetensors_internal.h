// safetensors parsing below SafetensorsFile::open (not a public API): the
// fuzzer and the tests parse in-memory images without a temporary file.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "formats/safetensors.h"

namespace qat {

class StParser {
 public:
  // Validates [data, data + size) and fills `out`; `name` starts every error
  // message. Tensor data pointers point into `data`.
  static void parse(SafetensorsFile& out, const std::string& name, const uint8_t* data,
                    uint64_t size);
};

// Parses an in-memory safetensors image; `data` must outlive the result.
std::unique_ptr<SafetensorsFile> parse_safetensors_memory(const std::string& name,
                                                          const uint8_t* data, uint64_t size);

// The dtype with this safetensors name ("F32", "BF16", ...), or false.
bool st_parse_dtype(const std::string& name, StDtype* out);

}  // namespace qat
