// Weight-only quantization (W8A16 / W4A16): Q8_0 / Q4_0 weights times FP32
// activations. Weight rows are dequantized to exactly the values the
// reference dequantize_row_* gives (the GGUF-layout path calls it; the packed
// path runs the level's DequantGroupFn from kernel_table.h, which computes the
// same float(code) * d and is tested bit-identical to it) into a small
// per-thread FP32 buffer, 8 rows at a time, which the active level's float
// GEMM (the one F32 matrices use) multiplies with the FP32 input. The result is the
// FP32 product of the dequantized matrix: the same arithmetic as multiplying
// an F32 copy of it, without that copy.
//
// Chosen per model by ModelConfig::activation_quant (quant/activation_quant.h)
// through MatrixView::act (kernels/matmul.h).
#pragma once
#include <cstdint>

#include "formats/tensor_type.h"
#include "kernels/quant_pack.h"

namespace qat {

// y (n, rows) = x (n, cols) times the transpose of the packed weights;
// threads over row groups (OpenMP) for large products.
void matmul_packed_a16(const PackedMatrix& w, const float* x, float* y, int64_t n);

// Rows [8 g, min(8 g + 8, rows)) of packed weights to FP32, row-major with
// row stride cols, through the active level's kernel: exactly what
// dequantize_row_q8_0 / dequantize_row_q4_0 give for those rows.
void dequantize_packed_group(const PackedMatrix& w, int64_t g, float* out);

// Same from GGUF-layout weights (rows * cols/32 blocks of wtype, row-major).
void matmul_quant_a16(TensorType wtype, const void* w, int64_t rows, int64_t cols, const float* x, float* y,
                      int64_t n);

// Reference: each row dequantized with dequantize_row_*, then multiplied by
// matmul_ref, single-threaded. It equals matmul_ref of the dequantized F32
// matrix bit for bit.
void matmul_quant_a16_ref(TensorType wtype, const void* w, int64_t rows, int64_t cols, const float* x,
                          float* y, int64_t n);

}  // namespace qat
