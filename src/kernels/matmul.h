// Matrix products of a weight matrix (row-major [rows, cols]) with FP32
// activations: Y[t, r] = sum_c W[r, c] * X[t, c]. F32/F16/BF16 weights use FP32
// math; Q8_0/Q4_0 weights quantize the activations to Q8_0 blocks first
// (W8A8 / W4A8, kernels/quant_matmul.h), or with act == None multiply FP32
// activations by dequantized weight rows (W8A16 / W4A16,
// kernels/weight_only_matmul.h). llama.cpp's Q4_1 .. Q6_K, IQ4_NL, IQ4_XS (read, never
// written) go through kernels/compat_matmul.h the same two ways.
#pragma once
#include <cstdint>
#include <span>

#include "formats/tensor_type.h"
#include "kernels/quant_pack.h"
#include "quant/activation_quant.h"

namespace qat {

struct MatrixView {
  TensorType type;
  const void* data;
  int64_t rows, cols;  // (rows, cols), cols contiguous
  // Q8_0 / Q4_0: the same matrix repacked for the kernels (kernels/quant_pack.h);
  // null means pack on every call (slow, for one-off products).
  const PackedMatrix* packed = nullptr;
  // Q8_0 / Q4_0 only: activations quantized to Q8_0 (W8A8 / W4A8) or kept
  // in FP32 (W8A16 / W4A16). Ignored for float weights.
  ActivationQuant act = ActivationQuant::Q8_0;
};

// X: (n, cols) FP32, Y: (n, rows) FP32. Threads over rows (OpenMP); SIMD
// level from kernels/kernel_table.h.
void matmul(const MatrixView& w, const float* x, float* y, int64_t n);

// Products of one input with several matrices of its width (Q/K/V, gate/up):
// ys[i] (n, ws[i].rows) = x (n, cols) ws[i]^T, the values separate matmul
// calls give; the W8A8 / W4A8 matrices share one quantization of x.
void matmul_shared_input(std::span<const MatrixView> ws, const float* x, std::span<float* const> ys, int64_t n);

// Reference: plain scalar loops, one accumulator, for tests.
void matmul_ref(const MatrixView& w, const float* x, float* y, int64_t n);

// Copies row r of w to FP32 (embedding lookup); any type matmul takes.
void row_to_f32(const MatrixView& w, int64_t r, float* out);

}  // namespace qat
