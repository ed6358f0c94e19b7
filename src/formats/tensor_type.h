// The ggml tensor type ids as GGUF stores them, with block geometry, so any
// GGUF can be sized and validated even when we cannot compute with its type.
#pragma once
#include <cstdint>
#include <string>

namespace qat {

enum class TensorType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,  // Q4_1 .. Q6_K, IQ*, TQ*: read from llama.cpp files, never written (quant/ggml_compat_types.h)
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  IQ2_XXS = 16,
  IQ2_XS = 17,
  IQ3_XXS = 18,
  IQ1_S = 19,
  IQ4_NL = 20,
  IQ3_S = 21,
  IQ2_S = 22,
  IQ4_XS = 23,
  IQ1_M = 29,
  BF16 = 30,
  TQ1_0 = 34,
  TQ2_0 = 35,
};

struct TensorTypeInfo {
  uint32_t id;
  const char* name;      // "F32", "Q4_0", ... as llama.cpp prints them
  uint32_t block_size;   // elements per block
  uint32_t block_bytes;  // bytes per block
};

// nullptr when the id is not a ggml type we know the geometry of.
const TensorTypeInfo* tensor_type_info(uint32_t id);
const TensorTypeInfo& tensor_type_info(TensorType t);
const char* tensor_type_name(TensorType t);
// Parses "f32", "F16", "bf16", "q8_0", ... ; throws on anything else.
TensorType parse_tensor_type(const std::string& name);
// Bytes for n elements (n must be a multiple of the block size); checked.
uint64_t tensor_bytes(uint32_t type_id, uint64_t n_elements);

}  // namespace qat
