#include "quant/quant_types.h"

#include <algorithm>
#include <cmath>

#include "base/error.h"
#include "base/fp16.h"

// The reference computes Q4_0 codes as trunc(x*id + 8.5f) with the product
// rounded to float first. -march=native lets the compiler fuse that into an
// FMA (one rounding), which changes codes near .5 boundaries: forbid it here.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace qat {
namespace {

int64_t blocks_of(int64_t n, const char* what) {
  QAT_CHECK(n >= 0 && n % kQuantBlock == 0, what, ": length ", n,
            " is not a non-negative multiple of the block size ", kQuantBlock);
  return n / kQuantBlock;
}

void check_finite(const float* x, int64_t block, const char* what) {
  for (int j = 0; j < kQuantBlock; ++j)
    QAT_CHECK(std::isfinite(x[j]), what, ": block ", block, " element ", j,
              " is not finite (", x[j], "); NaN/inf cannot be quantized");
}

// 1/d, or 0 for d == 0 (an all-zero block). May be +-inf when |d| is tiny;
// callers handle that case explicitly instead of converting inf to int (UB).
float inverse(float d) { return d != 0.0f ? 1.0f / d : 0.0f; }

constexpr int64_t kScaleChunk = 64;  // blocks per reference_scales call in quantize_row_*

}  // namespace

void reference_scales_q8_0(const float* x, float* d, int64_t n) {
  const int64_t nb = blocks_of(n, "reference_scales_q8_0");
  for (int64_t b = 0; b < nb; ++b, x += kQuantBlock) {
    check_finite(x, b, "quantize_row_q8_0");
    float amax = 0.0f;
    for (int j = 0; j < kQuantBlock; ++j) amax = std::fmax(amax, std::fabs(x[j]));
    d[b] = amax / 127.0f;
  }
}

void quantize_row_q8_0_scaled(const float* x, const float* d, BlockQ8_0* y, int64_t n) {
  const int64_t nb = blocks_of(n, "quantize_row_q8_0_scaled");
  for (int64_t b = 0; b < nb; ++b, x += kQuantBlock) {
    check_finite(x, b, "quantize_row_q8_0");
    QAT_CHECK(std::isfinite(d[b]), "quantize_row_q8_0_scaled: block ", b, " scale is not finite");
    const float id = inverse(d[b]);
    y[b].d_fp16 = f32_to_fp16(d[b]);
    // Round half away from zero (C roundf). Codes are computed with the fp32
    // d even though fp16(d) is stored, as the reference does. The clamp only
    // matters for scales smaller than the block's amax/127 (learned scales).
    for (int j = 0; j < kQuantBlock; ++j) {
      if (!std::isfinite(id)) {
        y[b].qs[j] = 0;  // x86 result of (int8)inf/NaN
        continue;
      }
      const float r = std::roundf(x[j] * id);
      y[b].qs[j] = int8_t(r > 127.0f ? 127.0f : (r < -127.0f ? -127.0f : r));
    }
  }
}

void quantize_row_q8_0(const float* x, BlockQ8_0* y, int64_t n) {
  const int64_t nb = blocks_of(n, "quantize_row_q8_0");
  float d[kScaleChunk];  // no allocation: activations are quantized through here per token
  for (int64_t b0 = 0; b0 < nb; b0 += kScaleChunk) {
    const int64_t len = std::min<int64_t>(kScaleChunk, nb - b0) * kQuantBlock;
    reference_scales_q8_0(x + b0 * kQuantBlock, d, len);
    quantize_row_q8_0_scaled(x + b0 * kQuantBlock, d, y + b0, len);
  }
}

void dequantize_row_q8_0(const BlockQ8_0* x, float* y, int64_t n) {
  const int64_t nb = blocks_of(n, "dequantize_row_q8_0");
  for (int64_t b = 0; b < nb; ++b, y += kQuantBlock) {
    const float d = fp16_to_f32(x[b].d_fp16);
    for (int j = 0; j < kQuantBlock; ++j) y[j] = float(x[b].qs[j]) * d;
  }
}

void reference_scales_q4_0(const float* x, float* d, int64_t n) {
  const int64_t nb = blocks_of(n, "reference_scales_q4_0");
  for (int64_t b = 0; b < nb; ++b, x += kQuantBlock) {
    check_finite(x, b, "quantize_row_q4_0");
    // The signed value of largest magnitude, first one on ties: mapping it to
    // code 0 (-8) uses the asymmetric code's extra negative level.
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < kQuantBlock; ++j) {
      if (amax < std::fabs(x[j])) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    }
    // An all-zero block keeps the first element (so -0.0 gives scale -0), as
    // gguf-py's argmax does; ggml's loop would keep +0. Same codes either way.
    if (amax == 0.0f) max = x[0];
    d[b] = max / -8.0f;
  }
}

void quantize_row_q4_0_scaled(const float* x, const float* d, BlockQ4_0* y, int64_t n) {
  const int64_t nb = blocks_of(n, "quantize_row_q4_0_scaled");
  for (int64_t b = 0; b < nb; ++b, x += kQuantBlock) {
    check_finite(x, b, "quantize_row_q4_0");
    QAT_CHECK(std::isfinite(d[b]), "quantize_row_q4_0_scaled: block ", b, " scale is not finite");
    const float id = inverse(d[b]);
    y[b].d_fp16 = f32_to_fp16(d[b]);
    uint8_t q[32];
    for (int j = 0; j < kQuantBlock; ++j) {
      if (!std::isfinite(id)) {
        q[j] = 0;  // x86 result of (int8)inf/NaN, then min(15, .)
        continue;
      }
      // With the reference scale |x*id| <= 8 (+ rounding), so v lies in
      // [0.5, 16.5] and trunc + min(15) is the reference's rounding; the
      // clamps below only act for learned scales smaller than that.
      const float v = x[j] * id + 8.5f;
      q[j] = v < 0.0f ? 0 : (v >= 15.0f ? 15 : uint8_t(int(v)));
    }
    for (int j = 0; j < 16; ++j) y[b].qs[j] = uint8_t(q[j] | (q[j + 16] << 4));
  }
}

void quantize_row_q4_0(const float* x, BlockQ4_0* y, int64_t n) {
  const int64_t nb = blocks_of(n, "quantize_row_q4_0");
  float d[kScaleChunk];  // no allocation: activations are quantized through here per token
  for (int64_t b0 = 0; b0 < nb; b0 += kScaleChunk) {
    const int64_t len = std::min<int64_t>(kScaleChunk, nb - b0) * kQuantBlock;
    reference_scales_q4_0(x + b0 * kQuantBlock, d, len);
    quantize_row_q4_0_scaled(x + b0 * kQuantBlock, d, y + b0, len);
  }
}

void dequantize_row_q4_0(const BlockQ4_0* x, float* y, int64_t n) {
  const int64_t nb = blocks_of(n, "dequantize_row_q4_0");
  for (int64_t b = 0; b < nb; ++b, y += kQuantBlock) {
    const float d = fp16_to_f32(x[b].d_fp16);
    for (int j = 0; j < 16; ++j) {
      y[j] = float(int(x[b].qs[j] & 0x0f) - 8) * d;
      y[j + 16] = float(int(x[b].qs[j] >> 4) - 8) * d;
    }
  }
}

void fake_quant_q8_0(const float* x, float* y, int64_t n) {
  const int64_t nb = blocks_of(n, "fake_quant_q8_0");
  for (int64_t b = 0; b < nb; ++b) {
    check_finite(x + b * kQuantBlock, b, "fake_quant_q8_0");  // report the real block index
    BlockQ8_0 blk;
    quantize_row_q8_0(x + b * kQuantBlock, &blk, kQuantBlock);
    dequantize_row_q8_0(&blk, y + b * kQuantBlock, kQuantBlock);
  }
}

void fake_quant_q4_0(const float* x, float* y, int64_t n) {
  const int64_t nb = blocks_of(n, "fake_quant_q4_0");
  for (int64_t b = 0; b < nb; ++b) {
    check_finite(x + b * kQuantBlock, b, "fake_quant_q4_0");  // report the real block index
    BlockQ4_0 blk;
    quantize_row_q4_0(x + b * kQuantBlock, &blk, kQuantBlock);
    dequantize_row_q4_0(&blk, y + b * kQuantBlock, kQuantBlock);
  }
}

}  // namespace qat
