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
#include "quant/quant_types.h"

namespace qat {

// Packed Q8_0 / Q4_0 weights (kernels/quant_pack.h) times Q8_0 activations.
// For row groups [g0, g1) and all n tokens: y[t * rows + r] = dot(row r, x_t),
// r = 8 g + j < rows. x holds n * nb blocks (token-major); xsum[t * nb + b] is
// the sum of block (t, b)'s 32 codes (kernels that offset the weights to
// unsigned need it).
using PackedGemmFn = void (*)(const uint8_t* w, int64_t nb, int64_t g0, int64_t g1, const BlockQ8_0* x,
                              const int32_t* xsum, int64_t n, float* y, int64_t rows);

// F32 / F16 / BF16 weights (rows, cols) times FP32 activations, rows [r0, r1):
// y[t * rows + r] = sum_c W[r, c] * x[t * cols + c].
using FloatGemmFn = void (*)(TensorType type, const void* w, int64_t rows, int64_t cols, int64_t r0,
                             int64_t r1, const float* x, int64_t n, float* y);

struct KernelTable {
  CpuLevel level;
  PackedGemmFn gemm_q8_0;
  PackedGemmFn gemm_q4_0;
  FloatGemmFn gemm_float;
};

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
// The AVX2 FP32-activation kernel, shared by the AVX-512 table (x86-64 only).
void avx2_gemm_float(TensorType type, const void* w, int64_t rows, int64_t cols, int64_t r0, int64_t r1,
                     const float* x, int64_t n, float* y);

}  // namespace qat
