// Matrix products of Q8_0 / Q4_0 weights with activations quantized on the
// fly to Q8_0 (W8A8 / W4A8, as llama.cpp does): each block's dot product is
// exact integer math, and only the per-block scale products are summed in
// float. The fast path reads weights repacked at load time
// (kernels/quant_pack.h) through the active level's kernels (kernel_table.h).
#pragma once
#include <cstdint>
#include <vector>

#include "formats/tensor_type.h"
#include "kernels/kernel_table.h"
#include "kernels/quant_pack.h"
#include "quant/quant_types.h"

namespace qat {

// Quantizes x (n, cols) FP32 to n * cols/32 Q8_0 blocks, row after row, with
// the reference quantize_row_q8_0 (so there is one definition of rounding).
// Codes stay within -127..127 (amax maps to 127), which the SIMD kernels'
// sign trick relies on. cols must be a multiple of 32; throws qat::Error on
// NaN/inf like the reference.
void quantize_activations_q8_0(const float* x, int64_t n, int64_t cols, std::vector<BlockQ8_0>& out);

// x (n, cols) quantized to Q8_0 blocks through the active level's kernels,
// with each block's ActBlockInfo (token-major, cols / 32 blocks per token).
// The storage belongs to the calling thread and is reused by its next call.
struct KernelActivations {
  const BlockQ8_0* blocks;
  const ActBlockInfo* info;
  const uint8_t* tiles;  // the level's tile layout of them (KernelTable::pack_act_tiles), or null
};
KernelActivations quantize_activations_for_kernels(const float* x, int64_t n, int64_t cols);

// Scalar dot product of n_blocks GGUF-layout weight blocks with n_blocks
// activation blocks: sum over blocks, in order, of (integer dot of the codes)
// * d_w * d_a. The reference every kernel is tested against.
float vec_dot_q8_0_q8_0_ref(const BlockQ8_0* w, const BlockQ8_0* a, int64_t n_blocks);
float vec_dot_q4_0_q8_0_ref(const BlockQ4_0* w, const BlockQ8_0* a, int64_t n_blocks);

// y (n, rows) = x (n, cols) times the transpose of packed weights, through the
// active level's kernels; threads over row groups (OpenMP) for large products.
void matmul_packed(const PackedMatrix& w, const float* x, float* y, int64_t n);
// The same with x already quantized (quantize_activations_for_kernels, n rows
// of w.cols), for several matrices that share one input.
void matmul_packed_quantized(const PackedMatrix& w, const KernelActivations& a, float* y, int64_t n);

// Same from GGUF-layout weights (rows * cols/32 blocks of wtype, row-major):
// packs into a temporary first, so callers that multiply by the same matrix
// more than once should pack it once with make_packed_matrix.
void matmul_quant(TensorType wtype, const void* w, int64_t rows, int64_t cols, const float* x, float* y,
                  int64_t n);

// Reference: GGUF layout, scalar _ref dots, single-threaded.
void matmul_quant_ref(TensorType wtype, const void* w, int64_t rows, int64_t cols, const float* x,
                      float* y, int64_t n);

}  // namespace qat
