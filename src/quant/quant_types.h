// GGUF block quantization: the ONE reference quantize/dequantize routine per
// type (DESIGN.md invariant 1). Byte-identical to GGUF as written by
// llama.cpp and the PyPI `gguf` package; every other path (SIMD kernels, the
// QAT fake quantizer) must agree with these bit for bit.
#pragma once
#include <cstdint>

namespace qat {

constexpr int64_t kQuantBlock = 32;  // elements per block for Q8_0 and Q4_0

// Q8_0: 32 int8 codes and one fp16 scale; value = qs[j] * d. 8.5 bits/weight.
struct BlockQ8_0 {
  uint16_t d_fp16;
  int8_t qs[32];
};
static_assert(sizeof(BlockQ8_0) == 34, "Q8_0 block must match GGUF's 34-byte layout");

// Q4_0: 32 unsigned 4-bit codes and one fp16 scale; value = (q - 8) * d.
// Element j sits in the low nibble of qs[j], element j+16 in the high nibble.
struct BlockQ4_0 {
  uint16_t d_fp16;
  uint8_t qs[16];
};
static_assert(sizeof(BlockQ4_0) == 18, "Q4_0 block must match GGUF's 18-byte layout");

// All routines take n elements, n a multiple of 32 (qat::Error otherwise).
// Quantizers reject NaN/inf input with a qat::Error naming the block, because
// the reference formula has no defined result for them (float->int of NaN is UB).
//
// Documented corner cases (all match gguf-py / llama.cpp on x86):
//  * A block whose scale d overflows fp16 (|x| > ~8.3e6 for Q8_0, ~5.2e5 for
//    Q4_0) stores an infinite scale, so its dequantized values are inf/NaN.
//  * A block so tiny that 1/d overflows float (all |x| below ~3.7e-37 for Q8_0,
//    ~2.3e-38 for Q4_0) stores code 0 everywhere; its fp16 scale is +-0, so it
//    dequantizes to +-0 either way.
//  * -0.0 quantizes like +0.0 (code 0 / code 8); an all-zero Q4_0 block whose
//    first element is -0.0 gets scale -0 and dequantizes to -0.0.
void quantize_row_q8_0(const float* x, BlockQ8_0* y, int64_t n);
void dequantize_row_q8_0(const BlockQ8_0* x, float* y, int64_t n);
void quantize_row_q4_0(const float* x, BlockQ4_0* y, int64_t n);
void dequantize_row_q4_0(const BlockQ4_0* x, float* y, int64_t n);

// The same quantizers split in two steps, for QAT (learned scales) and for
// importing models trained on a Q4_0/Q8_0 grid elsewhere: the reference
// scale of each block (fp32, before fp16 rounding; n/32 values), and
// quantization with caller-given per-block scales. The codes are computed
// with the fp32 scale and the scale is stored as fp16, exactly as the
// reference does, so quantize_row_X(x) == quantize_row_X_scaled(x,
// reference_scales_X(x)) byte for byte (it is implemented that way). Codes
// are clamped to the type's range (Q8_0 -127..127, Q4_0 0..15) for scales
// smaller than the reference one. Non-finite scales are an error.
void reference_scales_q8_0(const float* x, float* d, int64_t n);
void reference_scales_q4_0(const float* x, float* d, int64_t n);
void quantize_row_q8_0_scaled(const float* x, const float* d, BlockQ8_0* y, int64_t n);
void quantize_row_q4_0_scaled(const float* x, const float* d, BlockQ4_0* y, int64_t n);

// QAT fake quantization: y = dequantize(quantize(x)) through the routines
// above, block by block, so the training-time simulation cannot drift from
// the exported file. x and y may alias.
void fake_quant_q8_0(const float* x, float* y, int64_t n);
void fake_quant_q4_0(const float* x, float* y, int64_t n);

}  // namespace qat
