#include "kernels/matmul.h"

#include <algorithm>

#include "base/error.h"
#include "base/fp16.h"
#include "kernels/compat_matmul.h"
#include "kernels/kernel_table.h"
#include "kernels/parallel_team.h"
#include "kernels/quant_matmul.h"
#include "kernels/weight_only_matmul.h"
#include "quant/ggml_compat_types.h"
#include "quant/quant_types.h"

namespace qat {

namespace {

inline float load_scalar(TensorType t, const void* row, int64_t c) {
  switch (t) {
    case TensorType::F32: return static_cast<const float*>(row)[c];
    case TensorType::F16: return fp16_to_f32(static_cast<const uint16_t*>(row)[c]);
    case TensorType::BF16: return bf16_to_f32(static_cast<const uint16_t*>(row)[c]);
    default: fail("matmul: unsupported weight type ", tensor_type_name(t));
  }
}

size_t element_bytes(TensorType t) { return t == TensorType::F32 ? 4 : 2; }

}  // namespace

void matmul_ref(const MatrixView& w, const float* x, float* y, int64_t n) {
  const size_t eb = element_bytes(w.type);
  for (int64_t t = 0; t < n; ++t)
    for (int64_t r = 0; r < w.rows; ++r) {
      const void* row = static_cast<const uint8_t*>(w.data) + size_t(r) * size_t(w.cols) * eb;
      float s = 0;
      for (int64_t c = 0; c < w.cols; ++c) s += load_scalar(w.type, row, c) * x[t * w.cols + c];
      y[t * w.rows + r] = s;
    }
}

void matmul(const MatrixView& w, const float* x, float* y, int64_t n) {
  if ((w.type == TensorType::Q8_0 || w.type == TensorType::Q4_0) && w.act == ActivationQuant::None) {
    if (w.packed) return matmul_packed_a16(*w.packed, x, y, n);  // W8A16 / W4A16
    return matmul_quant_a16(w.type, w.data, w.rows, w.cols, x, y, n);
  }
  if (is_compat_type(w.type))  // llama.cpp's Q4_1 .. Q6_K, IQ*, TQ*, read in place
    return w.act == ActivationQuant::None ? matmul_compat_a16(w.type, w.data, w.rows, w.cols, x, y, n)
                                          : matmul_compat(w.type, w.data, w.rows, w.cols, x, y, n);
  if (w.type == TensorType::Q8_0 || w.type == TensorType::Q4_0) {  // W8A8 / W4A8
    if (w.packed) return matmul_packed(*w.packed, x, y, n);
    return matmul_quant(w.type, w.data, w.rows, w.cols, x, y, n);
  }
  QAT_CHECK(w.type == TensorType::F32 || w.type == TensorType::F16 || w.type == TensorType::BF16,
            "matmul: unsupported weight type ", tensor_type_name(w.type));
  const FloatGemmFn gemm = kernels().gemm_float;
  const int64_t rows = w.rows;
  // Small products are not worth waking the thread pool: a barrier costs
  // microseconds, and far more when another process holds a core.
  const bool parallel = rows * w.cols * n >= (1 << 18);
  parallel_team(parallel, [&](int64_t id, int64_t nt) {
    // Contiguous row ranges in multiples of 4 (the kernels' row tile).
    const int64_t blocks = (rows + 3) / 4;
    const int64_t r0 = blocks * id / nt * 4, r1 = std::min(rows, blocks * (id + 1) / nt * 4);
    if (r1 > r0) gemm(w.type, w.data, rows, w.cols, r0, r1, x, n, y);
  });
}

void matmul_shared_input(std::span<const MatrixView> ws, const float* x, std::span<float* const> ys, int64_t n) {
  QAT_CHECK(ws.size() == ys.size(), "matmul_shared_input: ", ws.size(), " matrices but ", ys.size(), " outputs");
  KernelActivations a{};
  bool have = false;  // `a` holds x quantized (this thread's scratch, until another product quantizes)
  for (size_t i = 0; i < ws.size(); ++i) {
    const MatrixView& w = ws[i];
    QAT_CHECK(w.cols == ws[0].cols, "matmul_shared_input: widths ", ws[0].cols, " and ", w.cols, " differ");
    const bool a8 = (w.type == TensorType::Q8_0 || w.type == TensorType::Q4_0) && w.packed &&
                    w.act == ActivationQuant::Q8_0 && w.rows > 0 && n > 0;
    if (!a8) {
      matmul(w, x, ys[i], n);
      have = false;
      continue;
    }
    if (!have) a = quantize_activations_for_kernels(x, n, w.cols), have = true;
    matmul_packed_quantized(*w.packed, a, ys[i], n);
  }
}

void row_to_f32(const MatrixView& w, int64_t r, float* out) {
  QAT_CHECK(r >= 0 && r < w.rows, "row ", r, " out of range [0, ", w.rows, ")");
  const uint64_t row_bytes = tensor_bytes(uint32_t(w.type), uint64_t(w.cols));
  const uint8_t* row_q = static_cast<const uint8_t*>(w.data) + size_t(r) * row_bytes;
  if (w.type == TensorType::Q8_0)
    return dequantize_row_q8_0(reinterpret_cast<const BlockQ8_0*>(row_q), out, w.cols);
  if (w.type == TensorType::Q4_0)
    return dequantize_row_q4_0(reinterpret_cast<const BlockQ4_0*>(row_q), out, w.cols);
  if (is_compat_type(w.type)) return dequantize_row_compat(w.type, row_q, out, w.cols);
  const void* row = static_cast<const uint8_t*>(w.data) + size_t(r) * size_t(w.cols) * element_bytes(w.type);
  for (int64_t c = 0; c < w.cols; ++c) out[c] = load_scalar(w.type, row, c);
}

}  // namespace qat
