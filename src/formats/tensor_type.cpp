#include "formats/tensor_type.h"

#include <algorithm>
#include <cctype>

#include "base/checked_math.h"
#include "base/error.h"

namespace qat {

namespace {
// Geometry of ggml's types (ggml.c type_traits / gguf-py GGML_QUANT_SIZES).
constexpr TensorTypeInfo kTypes[] = {
    {0, "F32", 1, 4},         {1, "F16", 1, 2},         {2, "Q4_0", 32, 18},
    {3, "Q4_1", 32, 20},      {6, "Q5_0", 32, 22},      {7, "Q5_1", 32, 24},
    {8, "Q8_0", 32, 34},      {9, "Q8_1", 32, 36},      {10, "Q2_K", 256, 84},
    {11, "Q3_K", 256, 110},   {12, "Q4_K", 256, 144},   {13, "Q5_K", 256, 176},
    {14, "Q6_K", 256, 210},   {15, "Q8_K", 256, 292},   {16, "IQ2_XXS", 256, 66},
    {17, "IQ2_XS", 256, 74},  {18, "IQ3_XXS", 256, 98}, {19, "IQ1_S", 256, 50},
    {20, "IQ4_NL", 32, 18},   {21, "IQ3_S", 256, 110},  {22, "IQ2_S", 256, 82},
    {23, "IQ4_XS", 256, 136}, {24, "I8", 1, 1},         {25, "I16", 1, 2},
    {26, "I32", 1, 4},        {27, "I64", 1, 8},        {28, "F64", 1, 8},
    {29, "IQ1_M", 256, 56},   {30, "BF16", 1, 2},       {34, "TQ1_0", 256, 54},
    {35, "TQ2_0", 256, 66},   {39, "MXFP4", 32, 17},    {40, "NVFP4", 64, 36},
    {41, "Q1_0", 128, 18},    {42, "Q2_0", 64, 18},  // newer llama.cpp (d32676d): sized and named, not computed
};
}  // namespace

const TensorTypeInfo* tensor_type_info(uint32_t id) {
  for (const auto& t : kTypes)
    if (t.id == id) return &t;
  return nullptr;
}

const TensorTypeInfo& tensor_type_info(TensorType t) { return *tensor_type_info(uint32_t(t)); }

const char* tensor_type_name(TensorType t) { return tensor_type_info(t).name; }

TensorType parse_tensor_type(const std::string& name) {
  std::string up = name;
  std::transform(up.begin(), up.end(), up.begin(), [](unsigned char c) { return std::toupper(c); });
  for (TensorType t : {TensorType::F32, TensorType::F16, TensorType::BF16, TensorType::Q8_0,
                       TensorType::Q4_0})
    if (up == tensor_type_name(t)) return t;
  fail("unknown tensor type '", name, "' (expected f32, f16, bf16, q8_0 or q4_0)");
}

uint64_t tensor_bytes(uint32_t type_id, uint64_t n_elements) {
  const TensorTypeInfo* info = tensor_type_info(type_id);
  QAT_CHECK(info, "unknown tensor type id ", type_id);
  QAT_CHECK(n_elements % info->block_size == 0, n_elements, " elements is not a multiple of ",
            info->name, "'s block size ", info->block_size);
  return checked_mul(n_elements / info->block_size, info->block_bytes, "tensor bytes");
}

}  // namespace qat
