// The one dispatch mechanism: a table of kernel entry points per CPU level
// (base/cpu_features.h). kernels() returns the table of the active level;
// each level's table lives in its own file compiled with that level's ISA
// flags (kernels_scalar.cpp, kernels_avx2.cpp, kernels_avx512.cpp,
// kernels_neon.cpp). ISA files contain only intrinsics and plain loops over
// raw pointers: an inline std:: template instantiated there could be picked by
// the linker for generic code and execute an instruction the CPU lacks.
#pragma once
#include <cstdint>

#include "base/cpu_features.h"
#include "formats/tensor_type.h"
#include "quant/ggml_compat_types.h"
#include "quant/quant_types.h"

namespace qat {

// Per activation block, what every row group needs again: the sum of its 32
// codes (kernels that offset the weights to unsigned subtract it), its fp16
// scale as a float, and the sum of codes 0..15 (Q2_K's two mins per block).
struct ActBlockInfo {
  int32_t sum;
  float d;
  int32_t sum_lo;
};

// Packed Q8_0 / Q4_0 weights (kernels/quant_pack.h) times Q8_0 activations.
// For row groups [g0, g1) and all n tokens: y[t * rows + r] = dot(row r, x_t),
// r = 8 g + j < rows. x and xi hold n * nb blocks (token-major); tiles is the
// level's pack_act_tiles of them (null for a level without one).
using PackedGemmFn = void (*)(const uint8_t* w, int64_t nb, int64_t g0, int64_t g1, const BlockQ8_0* x,
                              const ActBlockInfo* xi, const uint8_t* tiles, int64_t n, float* y, int64_t rows);

// The n tokens' activation blocks rearranged into the layout a level's prompt
// tile reads, n * nb * KernelTable::act_tile_block_bytes bytes at out (a
// level may leave out untouched for token counts its tile never sees). Done
// once per quantized input, not once per matrix that reads it (Q, K and V
// share one). Levels whose kernels read x and xi directly have none.
using PackActTilesFn = void (*)(const BlockQ8_0* x, const ActBlockInfo* xi, int64_t n, int64_t nb, uint8_t* out);

// F32 / F16 / BF16 weights (rows, cols) times FP32 activations, rows [r0, r1):
// y[t * rows + r] = sum_c W[r, c] * x[t * cols + c].
using FloatGemmFn = void (*)(TensorType type, const void* w, int64_t rows, int64_t cols, int64_t r0,
                             int64_t r1, const float* x, int64_t n, float* y);

// Activations (nb blocks of 32 floats) to Q8_0 blocks byte-identical to the
// reference quantize_row_q8_0, plus each block's ActBlockInfo. On a NaN or
// inf input it either throws the reference's qat::Error or returns false,
// leaving the output unspecified (the caller then lets the reference report it).
using QuantizeActFn = bool (*)(const float* x, int64_t nb, BlockQ8_0* y, ActBlockInfo* info);

// One packed row group (kernels/quant_pack.h; `group` is its first of nb
// group-blocks) to FP32 rows j in [0, count): out[j * cols + k] =
// float(code) * fp16_to_f32(d), the values dequantize_row_q8_0 / _q4_0 give,
// bit for bit. For weight-only products (kernels/weight_only_matmul.h).
using DequantGroupFn = void (*)(const uint8_t* group, int64_t nb, int64_t count, int64_t cols, float* out);

// Compat weights (quant/ggml_compat_types.h): a row of llama.cpp blocks
// (Q4_1 .. Q6_K, IQ4_NL, IQ4_XS) to n int8 codes and n / 32 CompatChunks, as
// unpack_row_compat does (same bytes).
using CompatUnpackFn = void (*)(TensorType type, const void* blocks, int64_t n, int8_t* codes,
                                CompatChunk* chunks);

// One unpacked compat row (nb chunks of 32) times n tokens of Q8_0
// activations (nb blocks each): y[t * y_stride] = sum over chunks b of
// d_a * (s * (sc0 * dot(codes 0..15) + sc1 * dot(codes 16..31)) +
//        m * (mn0 * sum(a 0..15) + mn1 * sum(a 16..31))).
using CompatDotFn = void (*)(const int8_t* codes, const CompatChunk* chunks, int64_t nb, const BlockQ8_0* x,
                             const ActBlockInfo* xi, int64_t n, float* y, int64_t y_stride);

// Rows [r0, r1) of a compat matrix (row_bytes apart) times n tokens:
// y[t * rows + r] as CompatDotFn gives for the row's unpacked form. Levels may
// fuse unpacking into the product (decode) or regroup 8 or 16 rows into a
// tile (prompts); scratch is the caller's, compat_rows_scratch_bytes(cols, n)
// bytes.
using CompatRowsFn = void (*)(TensorType type, const uint8_t* w, uint64_t row_bytes, int64_t r0, int64_t r1,
                              int64_t cols, const BlockQ8_0* x, const ActBlockInfo* xi, int64_t n, float* y,
                              int64_t rows, uint8_t* scratch);
// Bytes per token and block of the AVX-512 prompt tile's repacked
// activations (kernels_compat_prompt_avx512.cpp): 32 codes and 5 scalars.
constexpr int64_t kCompatPromptActBytes = 32 + 5 * 4;
// The largest level's need: the AVX-512 prompt tile's repacked activations
// for n tokens, then 16 rows of codes twice (unpacked, then interleaved),
// their chunks and 5 per-chunk arrays of 16 row values (s, m, m_hi and two
// sub-scales), with room to align each part to 64 bytes. (The AVX2 tile
// takes the same for 8 rows; the decode kernels 3.25 * cols + 64 for 2 tokens.)
inline int64_t compat_rows_scratch_bytes(int64_t cols, int64_t n) {
  const int64_t nb = cols / 32;
  return n * nb * kCompatPromptActBytes + 32 * cols + 16 * nb * int64_t(sizeof(CompatChunk)) + 5 * 16 * nb * 4 +
         9 * 64;
}

// Small FP32 product with B's columns contiguous and A strided either way
// (attention's scores K Q^T and outputs P V, model/attention.cpp):
// c[i * ldc + j] = sum over p in [0, k) of a[i * a_rs + p * a_cs] * b[p * ldb + j],
// for i < m, j < n; c is overwritten. Each sum runs over p in order, one
// accumulator per (i, j).
using GemmNNFn = void (*)(const float* a, int64_t a_rs, int64_t a_cs, const float* b, int64_t ldb, float* c,
                          int64_t ldc, int64_t m, int64_t k, int64_t n);

struct KernelTable {
  CpuLevel level;
  PackedGemmFn gemm_q8_0;
  PackedGemmFn gemm_q4_0;
  FloatGemmFn gemm_float;
  QuantizeActFn quantize_act;
  DequantGroupFn dequant_q8_0;
  DequantGroupFn dequant_q4_0;
  CompatUnpackFn unpack_compat;
  CompatDotFn dot_compat;
  CompatRowsFn rows_compat;
  GemmNNFn gemm_nn_f32;
  PackActTilesFn pack_act_tiles;  // null: gemm_q8_0 / gemm_q4_0 read x and xi only
  int64_t act_tile_block_bytes;   // pack_act_tiles's bytes per token and block
};

// The scalar QuantizeActFn: the reference quantizer, then the block info.
bool quantize_act_ref(const float* x, int64_t nb, BlockQ8_0* y, ActBlockInfo* info);
// The scalar DequantGroupFns (plain loops; also used by the NEON level).
void dequant_group_q8_0_ref(const uint8_t* group, int64_t nb, int64_t count, int64_t cols, float* out);
void dequant_group_q4_0_ref(const uint8_t* group, int64_t nb, int64_t count, int64_t cols, float* out);

// The scalar GemmNNFn: the reference every level is tested against.
void gemm_nn_f32_ref(const float* a, int64_t a_rs, int64_t a_cs, const float* b, int64_t ldb, float* c,
                     int64_t ldc, int64_t m, int64_t k, int64_t n);

// The scalar compat dot (chunks summed in order, one float expression each).
void dot_compat_ref(const int8_t* codes, const CompatChunk* chunks, int64_t nb, const BlockQ8_0* x,
                    const ActBlockInfo* xi, int64_t n, float* y, int64_t y_stride);

// The generic CompatRowsFn: the level's unpack, then its dot, row by row.
void rows_compat_unfused(const KernelTable& k, TensorType type, const uint8_t* w, uint64_t row_bytes, int64_t r0,
                         int64_t r1, int64_t cols, const BlockQ8_0* x, const ActBlockInfo* xi, int64_t n, float* y,
                         int64_t rows, uint8_t* scratch);

// The table of the active level (follows set_cpu_level / QAT_CPU_LEVEL).
const KernelTable& kernels();
// A level's table, or nullptr when this build has no kernels for it (e.g.
// NEON on x86). Whether the CPU runs them is cpu_supports(level).
const KernelTable* kernels_for(CpuLevel level);

// Per-level tables, defined in the ISA files (nullptr-returning stubs where
// the architecture does not apply).
const KernelTable* scalar_kernels();
const KernelTable* avx2_kernels();
const KernelTable* avx512_kernels();
const KernelTable* neon_kernels();
// AVX2 kernels the AVX-512 table shares (x86-64 only).
void avx2_gemm_q8_0(const uint8_t* w, int64_t nb, int64_t g0, int64_t g1, const BlockQ8_0* x, const ActBlockInfo* xi,
                    const uint8_t* tiles, int64_t n, float* y, int64_t rows);
void avx2_gemm_q4_0(const uint8_t* w, int64_t nb, int64_t g0, int64_t g1, const BlockQ8_0* x, const ActBlockInfo* xi,
                    const uint8_t* tiles, int64_t n, float* y, int64_t rows);
void avx2_gemm_float(TensorType type, const void* w, int64_t rows, int64_t cols, int64_t r0, int64_t r1,
                     const float* x, int64_t n, float* y);
void avx2_dequant_q8_0(const uint8_t* group, int64_t nb, int64_t count, int64_t cols, float* out);
void avx2_dequant_q4_0(const uint8_t* group, int64_t nb, int64_t count, int64_t cols, float* out);
void avx2_unpack_compat(TensorType type, const void* blocks, int64_t n, int8_t* codes, CompatChunk* chunks);
void avx2_dot_compat(const int8_t* codes, const CompatChunk* chunks, int64_t nb, const BlockQ8_0* x,
                     const ActBlockInfo* xi, int64_t n, float* y, int64_t y_stride);
void avx2_rows_compat(TensorType type, const uint8_t* w, uint64_t row_bytes, int64_t r0, int64_t r1, int64_t cols,
                      const BlockQ8_0* x, const ActBlockInfo* xi, int64_t n, float* y, int64_t rows, uint8_t* scratch);
// The NEON level's compat unpack and dot (kernels_compat_neon.cpp; AArch64 only).
void neon_unpack_compat(TensorType type, const void* blocks, int64_t n, int8_t* codes, CompatChunk* chunks);
void neon_dot_compat(const int8_t* codes, const CompatChunk* chunks, int64_t nb, const BlockQ8_0* x,
                     const ActBlockInfo* xi, int64_t n, float* y, int64_t y_stride);

}  // namespace qat
