// The AVX-512 VNNI decode kernels of llama.cpp's Q4_K, Q5_K and Q6_K
// (kernels_compat_decode_avx512.cpp), for the AVX-512 level's CompatRowsFn
// (kernels_avx512.cpp). Declared here so no generic file sees their bodies.
#pragma once
#include <cstdint>

#include "formats/tensor_type.h"
#include "quant/quant_types.h"

namespace qat {

struct ActBlockInfo;

// Rows [r0, r1) of a Q4_K, Q5_K or Q6_K matrix (row_bytes apart, nb blocks of 32
// per row) times n = 1 or 2 tokens: y[t * rows + r], as CompatRowsFn. scratch
// as for CompatRowsFn (compat_rows_scratch_bytes). False, computing nothing,
// for any other type or n.
bool avx512_compat_decode_rows(TensorType type, const uint8_t* w, uint64_t row_bytes, int64_t r0, int64_t r1,
                               int64_t nb, const BlockQ8_0* x, const ActBlockInfo* xi, int64_t n, float* y,
                               int64_t rows, uint8_t* scratch);

}  // namespace qat
