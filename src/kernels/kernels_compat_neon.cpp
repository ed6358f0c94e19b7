// AArch64 NEON + dot product kernels for llama.cpp's compat types (Q4_1 ..
// Q6_K, IQ4_NL, IQ4_XS; quant/ggml_compat_types.h), compiled with the NEON
// flags like kernels_neon.cpp, whose table points here (neon_*_compat).
// Same rules as every ISA file: intrinsics and raw pointers only
// (kernel_table.h).
//
// - Unpack: Q4_K, Q5_K and Q6_K (what llama-quantize's Q4_K_M / Q5_K_M
//   write, and the Q6_K tied embedding of its Q4_0 and Q8_0 files) build 16
//   codes per instruction group; the other types use the reference unpack.
// - Dot: one row's codes times up to 4 tokens per pass, SDOT over each half
//   chunk of 16 codes, the sub-scales as int32 multipliers, one float FMA per
//   chunk and token (4 lanes summed at the end), the mins' term in scalar
//   float as the reference has it.
// Correctness only is tested (under qemu-aarch64, against the scalar
// reference); the speed on a real ARM core is not measured.
#include "kernels/kernel_table.h"

#if defined(__aarch64__)
#include <arm_neon.h>

namespace qat {
namespace {

inline float half_to_float(uint16_t h) { return vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(h))), 0); }

// Q6_K: element 128 h + 32 k + l takes 4 bits of ql[64 h + 32 (k % 2) + l]
// (low nibble for k < 2, else high) and bits 2k, 2k + 1 of qh[32 h + l] at
// bits 4, 5; minus 32. Sub-scales are the block's int8 scales, one per 16.
void unpack_q6_k(const BlockQ6_K* blocks, int64_t nsb, int8_t* codes, CompatChunk* chunks) {
  const uint8x16_t m4 = vdupq_n_u8(0x0f), m30 = vdupq_n_u8(0x30);
  const int8x16_t k32 = vdupq_n_s8(32);
  for (int64_t i = 0; i < nsb; ++i, codes += 256) {
    const BlockQ6_K& b = blocks[i];
    for (int h = 0; h < 2; ++h)
      for (int p = 0; p < 2; ++p) {
        const uint8x16_t ql0 = vld1q_u8(b.ql + 64 * h + 16 * p), ql1 = vld1q_u8(b.ql + 64 * h + 32 + 16 * p);
        const uint8x16_t qh = vld1q_u8(b.qh + 32 * h + 16 * p);
        const uint8x16_t w0 = vorrq_u8(vandq_u8(ql0, m4), vandq_u8(vshlq_n_u8(qh, 4), m30));
        const uint8x16_t w1 = vorrq_u8(vandq_u8(ql1, m4), vandq_u8(vshlq_n_u8(qh, 2), m30));
        const uint8x16_t w2 = vorrq_u8(vshrq_n_u8(ql0, 4), vandq_u8(qh, m30));
        const uint8x16_t w3 = vorrq_u8(vshrq_n_u8(ql1, 4), vandq_u8(vshrq_n_u8(qh, 2), m30));
        int8_t* out = codes + 128 * h + 16 * p;
        vst1q_s8(out, vsubq_s8(vreinterpretq_s8_u8(w0), k32));
        vst1q_s8(out + 32, vsubq_s8(vreinterpretq_s8_u8(w1), k32));
        vst1q_s8(out + 64, vsubq_s8(vreinterpretq_s8_u8(w2), k32));
        vst1q_s8(out + 96, vsubq_s8(vreinterpretq_s8_u8(w3), k32));
      }
    const float d = half_to_float(b.d_fp16);
    for (int c = 0; c < 8; ++c)
      chunks[8 * i + c] = CompatChunk{{b.scales[2 * c], b.scales[2 * c + 1]}, {1, 1}, d, 0.0f};
  }
}

// Q4_K / Q5_K (kQ5): sub-block 2g = low nibbles of qs[32 g .. 32 g + 31],
// 2g + 1 = their high nibbles; Q5_K's element l of sub-block s takes bit s
// of qh[l] as bit 4. The 6-bit scales and mins as ggml's get_scale_min_k4.
template <bool kQ5>
void unpack_k(const uint8_t* blocks, int64_t nsb, int8_t* codes, CompatChunk* chunks) {
  constexpr int64_t kBytes = kQ5 ? sizeof(BlockQ5_K) : sizeof(BlockQ4_K);
  const uint8x16_t m4 = vdupq_n_u8(0x0f), b4 = vdupq_n_u8(0x10);
  for (int64_t i = 0; i < nsb; ++i, codes += 256) {
    const uint8_t* blk = blocks + i * kBytes;
    uint16_t d16, dmin16;
    __builtin_memcpy(&d16, blk, 2);
    __builtin_memcpy(&dmin16, blk + 2, 2);
    const uint8_t* scales = blk + 4;
    const uint8_t* qh = kQ5 ? blk + 16 : nullptr;
    const uint8_t* qs = blk + (kQ5 ? 48 : 16);
    for (int g = 0; g < 4; ++g)
      for (int p = 0; p < 2; ++p) {
        const uint8x16_t raw = vld1q_u8(qs + 32 * g + 16 * p);
        uint8x16_t lo = vandq_u8(raw, m4), hi = vshrq_n_u8(raw, 4);
        if constexpr (kQ5) {
          // ((h >> s) & 1) << 4 == (h << (4 - s)) & 0x10 (a negative count shifts right).
          const uint8x16_t h = vld1q_u8(qh + 16 * p);
          lo = vorrq_u8(lo, vandq_u8(vshlq_u8(h, vdupq_n_s8(int8_t(4 - 2 * g))), b4));
          hi = vorrq_u8(hi, vandq_u8(vshlq_u8(h, vdupq_n_s8(int8_t(3 - 2 * g))), b4));
        }
        vst1q_s8(codes + 64 * g + 16 * p, vreinterpretq_s8_u8(lo));
        vst1q_s8(codes + 64 * g + 32 + 16 * p, vreinterpretq_s8_u8(hi));
      }
    const float d = half_to_float(d16), dmin = half_to_float(dmin16);
    for (int s = 0; s < 8; ++s) {
      int sc, mn;
      if (s < 4) {
        sc = scales[s] & 63;
        mn = scales[s + 4] & 63;
      } else {
        sc = (scales[s + 4] & 0x0f) | ((scales[s - 4] >> 6) << 4);
        mn = (scales[s + 4] >> 4) | ((scales[s] >> 6) << 4);
      }
      chunks[8 * i + s] = CompatChunk{{1, 1}, {1, 1}, d * float(sc), -(dmin * float(mn))};
    }
  }
}

void unpack_compat(TensorType type, const void* blocks, int64_t n, int8_t* codes, CompatChunk* chunks) {
  if (n % 256 == 0) {
    const auto* b = static_cast<const uint8_t*>(blocks);
    if (type == TensorType::Q6_K) return unpack_q6_k(static_cast<const BlockQ6_K*>(blocks), n / 256, codes, chunks);
    if (type == TensorType::Q4_K) return unpack_k<false>(b, n / 256, codes, chunks);
    if (type == TensorType::Q5_K) return unpack_k<true>(b, n / 256, codes, chunks);
  }
  unpack_row_compat(type, blocks, n, codes, chunks);  // the reference (also reports bad lengths)
}

// NT tokens per pass share each chunk's loaded codes and sub-scales.
template <int NT>
void dot_tokens(const int8_t* codes, const CompatChunk* chunks, int64_t nb, const BlockQ8_0* x,
                const ActBlockInfo* xi, float* y, int64_t y_stride) {
  float32x4_t acc[NT];
  float mt[NT];
  for (int t = 0; t < NT; ++t) acc[t] = vdupq_n_f32(0.0f), mt[t] = 0.0f;
  const int32x4_t zero = vdupq_n_s32(0);
  for (int64_t b = 0; b < nb; ++b) {
    const int8x16_t w0 = vld1q_s8(codes + 32 * b), w1 = vld1q_s8(codes + 32 * b + 16);
    const CompatChunk& c = chunks[b];
    for (int t = 0; t < NT; ++t) {
      const BlockQ8_0& a = x[t * nb + b];
      const ActBlockInfo& ai = xi[t * nb + b];
      const int32x4_t lo = vdotq_s32(zero, w0, vld1q_s8(a.qs)), hi = vdotq_s32(zero, w1, vld1q_s8(a.qs + 16));
      const int32x4_t isum = vmlaq_n_s32(vmulq_n_s32(lo, c.sc[0]), hi, c.sc[1]);  // |.| <= 2 * 4 * 127 * 127 * 128
      acc[t] = vfmaq_n_f32(acc[t], vcvtq_f32_s32(isum), ai.d * c.s);
    }
    if (c.m != 0.0f)
      for (int t = 0; t < NT; ++t) {
        const ActBlockInfo& ai = xi[t * nb + b];
        const int32_t msum = c.mn[0] * ai.sum_lo + c.mn[1] * (ai.sum - ai.sum_lo);
        mt[t] += ai.d * (c.m * float(msum));
      }
  }
  for (int t = 0; t < NT; ++t) y[t * y_stride] = vaddvq_f32(acc[t]) + mt[t];
}

void dot_compat(const int8_t* codes, const CompatChunk* chunks, int64_t nb, const BlockQ8_0* x,
                const ActBlockInfo* xi, int64_t n, float* y, int64_t y_stride) {
  int64_t t = 0;
  for (; t + 4 <= n; t += 4) dot_tokens<4>(codes, chunks, nb, x + t * nb, xi + t * nb, y + t * y_stride, y_stride);
  for (; t + 2 <= n; t += 2) dot_tokens<2>(codes, chunks, nb, x + t * nb, xi + t * nb, y + t * y_stride, y_stride);
  for (; t < n; ++t) dot_tokens<1>(codes, chunks, nb, x + t * nb, xi + t * nb, y + t * y_stride, y_stride);
}

}  // namespace

void neon_unpack_compat(TensorType type, const void* blocks, int64_t n, int8_t* codes, CompatChunk* chunks) {
  unpack_compat(type, blocks, n, codes, chunks);
}
void neon_dot_compat(const int8_t* codes, const CompatChunk* chunks, int64_t nb, const BlockQ8_0* x,
                     const ActBlockInfo* xi, int64_t n, float* y, int64_t y_stride) {
  dot_compat(codes, chunks, nb, x, xi, n, y, y_stride);
}

}  // namespace qat
#endif
