// GGUF parsing entry points below GgufFile::open (not a public API): the
// fuzzer and the tests parse in-memory images without a temporary file.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "formats/gguf.h"

namespace qat {

// Bytes of one fixed-size value (numbers, BOOL); 0 for STRING, ARRAY and
// ids that are not GGUF value types.
size_t gguf_scalar_size(GgufType t);
bool gguf_known_type(uint32_t id);
// "uint32", "array of string", ...: what a value is, for error messages.
std::string gguf_describe(const GgufValue& v);

class GgufParser {
 public:
  // Validates the GGUF image [data, data + size) and fills `out`; `name` starts
  // every error message. Tensor data pointers point into `data`.
  static void parse(GgufFile& out, const std::string& name, const uint8_t* data, uint64_t size);
};

// Parses an in-memory GGUF image; `data` must outlive the result.
std::unique_ptr<GgufFile> parse_gguf_memory(const std::string& name, const uint8_t* data,
                                            uint64_t size);

}  // namespace qat
