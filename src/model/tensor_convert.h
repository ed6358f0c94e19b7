// Conversions between stored tensor bytes (F32/F16/BF16) and FP32.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "formats/tensor_type.h"
#include "model/weights.h"
#include "quant/grid_import.h"

namespace qat {

// n elements of `type` at src -> FP32.
void to_f32(TensorType type, const void* src, float* dst, int64_t n);
// FP32 -> n elements of `type`: F16/BF16 round to nearest even; Q8_0/Q4_0
// through the reference quantizers (n a multiple of 32).
void from_f32(TensorType type, const float* src, void* dst, int64_t n);
// A tensor converted to FP32 (copy).
std::vector<float> tensor_to_f32(const Tensor& t);
// An owned copy of `t` in `type` (or `t` itself when already of that type).
Tensor convert_tensor(const Tensor& t, TensorType type);
// Streams `t` converted to `type` to `sink` in order, a few MiB at a time,
// row by row (rows converted in parallel): memory stays at one chunk however
// big the tensor. The row length must suit `type` (a multiple of 32 for Q8_0
// / Q4_0). A tensor already of `type` is passed through unchanged.
// release_input: drop the input's pages after each chunk (base/mapped_file.h
// release_mapped_pages) -- only for views into a read-only file map.
// keep_grid: when given and the conversion is F32/F16/BF16 to Q8_0/Q4_0,
// blocks already on a grid keep it (quant/grid_import.h) and the per-block
// counts are added to *keep_grid; otherwise the reference quantizers.
void stream_converted(const Tensor& t, TensorType type,
                      const std::function<void(const void*, uint64_t)>& sink, bool release_input = false,
                      GridStats* keep_grid = nullptr);
// Owned F32 tensor from values.
Tensor f32_tensor(std::vector<int64_t> shape, const std::vector<float>& values);

}  // namespace qat
