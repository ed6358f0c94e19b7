// Matrix products of llama.cpp compat weights (Q4_1, Q5_0, Q5_1, Q2_K .. Q6_K,
// IQ4_NL, IQ4_XS; quant/ggml_compat_types.h) read in place from the GGUF mapping.
// Each row is unpacked once per call into int8 codes and per-32 chunk scales
// and multiplied with every token's dynamic Q8_0 activations in integer
// arithmetic (W?A8), or dequantized to FP32 when activations stay FP32.
#pragma once
#include <cstdint>

#include "formats/tensor_type.h"

namespace qat {

// y (n, rows) = x (n, cols) times the transpose of w (rows * cols elements of
// type, row-major). cols must be a multiple of the type's block size.
void matmul_compat(TensorType type, const void* w, int64_t rows, int64_t cols, const float* x, float* y, int64_t n);

// Same with FP32 activations: each row dequantized by the reference, then
// FP32 dot products.
void matmul_compat_a16(TensorType type, const void* w, int64_t rows, int64_t cols, const float* x, float* y,
                       int64_t n);

// Reference: reference activation quantizer, reference unpack, scalar dots,
// single-threaded.
void matmul_compat_ref(TensorType type, const void* w, int64_t rows, int64_t cols, const float* x, float* y,
                       int64_t n);

}  // namespace qat
