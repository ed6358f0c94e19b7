// Conversions between stored tensor bytes (F32/F16/BF16) and FP32.
#pragma once
#include <cstdint>
#include <vector>

#include "formats/tensor_type.h"
#include "model/weights.h"

namespace qat {

// n elements of `type` at src -> FP32.
void to_f32(TensorType type, const void* src, float* dst, int64_t n);
// FP32 -> n elements of `type` (round to nearest even).
void from_f32(TensorType type, const float* src, void* dst, int64_t n);
// A tensor converted to FP32 (copy).
std::vector<float> tensor_to_f32(const Tensor& t);
// An owned copy of `t` in `type` (or `t` itself when already of that type).
Tensor convert_tensor(const Tensor& t, TensorType type);
// Owned F32 tensor from values.
Tensor f32_tensor(std::vector<int64_t> shape, const std::vector<float>& values);

}  // namespace qat
