// Matrix products of Q8_0 / Q4_0 weights with activations quantized on the
// fly to Q8_0 (W8A8 / W4A8): each block's dot product is exact integer math,
// and only the per-block scale products are summed in float.
#pragma once
#include <cstdint>
#include <vector>

#include "formats/tensor_type.h"
#include "quant/quant_types.h"

namespace qat {

// Quantizes x (n, cols) FP32 to n * cols/32 Q8_0 blocks, row after row, with
// the reference quantize_row_q8_0 (so there is one definition of rounding).
// cols must be a multiple of 32; throws qat::Error on NaN/inf like the reference.
void quantize_activations_q8_0(const float* x, int64_t n, int64_t cols, std::vector<BlockQ8_0>& out);

// Dot product of n_blocks weight blocks with n_blocks activation blocks:
// sum over blocks of (integer dot of the codes) * d_w * d_a.
// The _ref versions are scalar, summing in block order; the others use AVX2
// where available and differ from _ref only by float summation order.
// Every int8 code (-128..127) is handled exactly on both sides.
float vec_dot_q8_0_q8_0_ref(const BlockQ8_0* w, const BlockQ8_0* a, int64_t n_blocks);
float vec_dot_q4_0_q8_0_ref(const BlockQ4_0* w, const BlockQ8_0* a, int64_t n_blocks);
float vec_dot_q8_0_q8_0(const BlockQ8_0* w, const BlockQ8_0* a, int64_t n_blocks);
float vec_dot_q4_0_q8_0(const BlockQ4_0* w, const BlockQ8_0* a, int64_t n_blocks);

// y (n, rows) = x (n, cols) times the transpose of w (rows, cols), where w is
// rows * cols/32 blocks of wtype (Q8_0 or Q4_0), row-major. x is quantized to
// Q8_0 once; y[t*rows + r] = vec_dot(row r, token t). Threads over rows
// (OpenMP) for large products. cols must be a multiple of 32.
void matmul_quant(TensorType wtype, const void* w, int64_t rows, int64_t cols, const float* x, float* y,
                  int64_t n);

// Same, single-threaded, through the scalar _ref dots, for tests.
void matmul_quant_ref(TensorType wtype, const void* w, int64_t rows, int64_t cols, const float* x,
                      float* y, int64_t n);

}  // namespace qat
