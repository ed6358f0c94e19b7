// The AVX-512 VNNI prompt tile of llama.cpp's compat types (Q4_1 .. Q6_K,
// IQ4_NL, IQ4_XS; kernels_compat_prompt_avx512.cpp), for the AVX-512 level's
// CompatRowsFn (kernels_avx512.cpp). Declared here so no generic file sees
// its body.
#pragma once
#include <cstdint>

#include "formats/tensor_type.h"
#include "quant/quant_types.h"

namespace qat {

struct ActBlockInfo;

// Rows [r0, r1) of a compat matrix (row_bytes apart, cols per row) times
// n >= 3 tokens: y[t * rows + r], as CompatRowsFn. scratch as for
// CompatRowsFn (compat_rows_scratch_bytes(cols, n)). False, computing
// nothing, for n < 3 or a type it does not handle.
bool avx512_compat_prompt_rows(TensorType type, const uint8_t* w, uint64_t row_bytes, int64_t r0, int64_t r1,
                               int64_t cols, const BlockQ8_0* x, const ActBlockInfo* xi, int64_t n, float* y,
                               int64_t rows, uint8_t* scratch);

}  // namespace qat
