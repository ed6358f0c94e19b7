#include "model/tensor_convert.h"

#include <algorithm>
#include <cstring>

#include "base/error.h"
#include "base/mapped_file.h"
#include "base/fp16.h"
#include "quant/ggml_compat_types.h"
#include "quant/quant_types.h"

namespace qat {

void to_f32(TensorType type, const void* src, float* dst, int64_t n) {
  switch (type) {
    case TensorType::F32: std::memcpy(dst, src, size_t(n) * 4); return;
    case TensorType::F16: {
      const auto* s = static_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = fp16_to_f32(s[i]);
      return;
    }
    case TensorType::BF16: {
      const auto* s = static_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(s[i]);
      return;
    }
    case TensorType::Q8_0: return dequantize_row_q8_0(static_cast<const BlockQ8_0*>(src), dst, n);
    case TensorType::Q4_0: return dequantize_row_q4_0(static_cast<const BlockQ4_0*>(src), dst, n);
    default:
      if (is_compat_type(type)) return dequantize_row_compat(type, src, dst, n);
      fail("cannot convert ", tensor_type_name(type), " to F32");
  }
}

void from_f32(TensorType type, const float* src, void* dst, int64_t n) {
  switch (type) {
    case TensorType::F32: std::memcpy(dst, src, size_t(n) * 4); return;
    case TensorType::F16: {
      auto* d = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) d[i] = f32_to_fp16(src[i]);
      return;
    }
    case TensorType::BF16: {
      auto* d = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) d[i] = f32_to_bf16(src[i]);
      return;
    }
    case TensorType::Q8_0: return quantize_row_q8_0(src, static_cast<BlockQ8_0*>(dst), n);
    case TensorType::Q4_0: return quantize_row_q4_0(src, static_cast<BlockQ4_0*>(dst), n);
    default: fail("cannot convert F32 to ", tensor_type_name(type));
  }
}

std::vector<float> tensor_to_f32(const Tensor& t) {
  std::vector<float> out(size_t(t.numel()));
  to_f32(t.type, t.data, out.data(), t.numel());
  return out;
}

Tensor convert_tensor(const Tensor& t, TensorType type) {
  if (t.type == type) return t;
  Tensor out = Tensor::zeros(type, t.shape);
  if (t.type == TensorType::F32) {
    from_f32(type, reinterpret_cast<const float*>(t.data), out.owned->data(), t.numel());
  } else {
    std::vector<float> tmp = tensor_to_f32(t);
    from_f32(type, tmp.data(), out.owned->data(), t.numel());
  }
  return out;
}

void stream_converted(const Tensor& t, TensorType type,
                      const std::function<void(const void*, uint64_t)>& sink, bool release_input,
                      GridStats* keep_grid) {
  constexpr uint64_t kChunk = uint64_t(4) << 20;
  if (t.type == type) {
    for (uint64_t at = 0, n = t.nbytes(); at < n; at += kChunk) {
      sink(t.data + at, std::min(kChunk, n - at));
      if (release_input) release_mapped_pages(t.data + at, std::min(kChunk, n - at));
    }
    return;
  }
  const int64_t rows = t.rows(), cols = t.cols();
  const uint64_t in_row = tensor_bytes(uint32_t(t.type), uint64_t(cols));
  const uint64_t out_row = tensor_bytes(uint32_t(type), uint64_t(cols));
  // Rows per chunk: about 4 MiB of output, at least one row.
  const int64_t chunk_rows = std::max<int64_t>(1, int64_t(kChunk / out_row));
  std::vector<uint8_t> out(size_t(std::min(chunk_rows, rows) * int64_t(out_row)));
  const bool grid = keep_grid && keep_grid_supported(type, t.type);
  for (int64_t r0 = 0; r0 < rows; r0 += chunk_rows) {
    const int64_t nr = std::min(chunk_rows, rows - r0);
    bool failed = false;
    std::string error;
#pragma omp parallel
    {
      std::vector<float> row(static_cast<size_t>(cols));
      GridStats stats;
#pragma omp for schedule(static)
      for (int64_t r = 0; r < nr; ++r) {
        try {
          const uint8_t* src = t.data + uint64_t(r0 + r) * in_row;
          uint8_t* dst = out.data() + uint64_t(r) * out_row;
          if (grid) {
            const float* x = reinterpret_cast<const float*>(src);
            if (t.type != TensorType::F32) to_f32(t.type, src, row.data(), cols), x = row.data();
            stats += quantize_row_keep_grid(type, t.type, x, dst, cols);
          } else if (t.type == TensorType::F32) {
            from_f32(type, reinterpret_cast<const float*>(src), dst, cols);
          } else {
            to_f32(t.type, src, row.data(), cols);
            from_f32(type, row.data(), dst, cols);
          }
        } catch (const Error& e) {  // exceptions must not leave an OpenMP region
#pragma omp critical
          if (!failed) failed = true, error = cat("row ", r0 + r, ": ", e.what());
        }
      }
      if (grid) {
#pragma omp critical
        *keep_grid += stats;
      }
    }
    if (failed) fail(error);
    sink(out.data(), uint64_t(nr) * out_row);
    if (release_input) release_mapped_pages(t.data + uint64_t(r0) * in_row, uint64_t(nr) * in_row);
  }
}

Tensor f32_tensor(std::vector<int64_t> shape, const std::vector<float>& values) {
  Tensor t = Tensor::zeros(TensorType::F32, std::move(shape));
  QAT_CHECK(int64_t(values.size()) == t.numel(), "internal: f32_tensor size mismatch");
  std::memcpy(t.owned->data(), values.data(), values.size() * 4);
  return t;
}

}  // namespace qat
