// AArch64 NEON + dot product (SDOT) level, compiled with
// -march=armv8.2-a+dotprod (see kernel_table.h for why this file uses nothing
// but intrinsics and raw pointers).
#include "kernels/kernel_table.h"

#if defined(__aarch64__)
#include <arm_neon.h>

#include "kernels/quant_pack.h"

namespace qat {

namespace {

inline void store_rows(float* y, float32x4_t lo, float32x4_t hi, int64_t nrows) {
  if (nrows >= kPackRows) {
    vst1q_f32(y, lo);
    vst1q_f32(y + 4, hi);
    return;
  }
  float tmp[8];
  vst1q_f32(tmp, lo);
  vst1q_f32(tmp + 4, hi);
  for (int64_t j = 0; j < nrows; ++j) y[j] = tmp[j];
}

inline float32x4_t load_scales(const uint8_t* p) {
  return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(reinterpret_cast<const uint16_t*>(p))));
}

inline float half_to_float(uint16_t h) {
  return vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(h))), 0);
}

// SDOT by lane: lane i of `a` holds activation codes 4i..4i+3 of the block,
// broadcast against the same 4 columns of 4 rows in w. Lanes must be
// constants, hence the macro-unrolled chunks.
#define QAT_DOT(acc, w, a, lane) acc = vdotq_laneq_s32(acc, w, a, lane)

// ---- Q8_0 R8: chunk c = codes 4c..4c+3 of rows 0-3 (16 B) then rows 4-7.
template <int NT>
void q8_tile(const uint8_t* gw, int64_t nb, const BlockQ8_0* x, float* y, int64_t ldy, int64_t nrows) {
  float32x4_t acc_lo[NT], acc_hi[NT];
  for (int t = 0; t < NT; ++t) acc_lo[t] = acc_hi[t] = vdupq_n_f32(0.0f);
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = gw + b * 272;
    const float32x4_t d_lo = load_scales(blk), d_hi = load_scales(blk + 8);
    const int8_t* q = reinterpret_cast<const int8_t*>(blk + 16);
    for (int t = 0; t < NT; ++t) {
      const int8x16_t a0 = vld1q_s8(x[t * nb + b].qs), a1 = vld1q_s8(x[t * nb + b].qs + 16);
      int32x4_t lo = vdupq_n_s32(0), hi = vdupq_n_s32(0);
      QAT_DOT(lo, vld1q_s8(q + 0), a0, 0);   QAT_DOT(hi, vld1q_s8(q + 16), a0, 0);
      QAT_DOT(lo, vld1q_s8(q + 32), a0, 1);  QAT_DOT(hi, vld1q_s8(q + 48), a0, 1);
      QAT_DOT(lo, vld1q_s8(q + 64), a0, 2);  QAT_DOT(hi, vld1q_s8(q + 80), a0, 2);
      QAT_DOT(lo, vld1q_s8(q + 96), a0, 3);  QAT_DOT(hi, vld1q_s8(q + 112), a0, 3);
      QAT_DOT(lo, vld1q_s8(q + 128), a1, 0); QAT_DOT(hi, vld1q_s8(q + 144), a1, 0);
      QAT_DOT(lo, vld1q_s8(q + 160), a1, 1); QAT_DOT(hi, vld1q_s8(q + 176), a1, 1);
      QAT_DOT(lo, vld1q_s8(q + 192), a1, 2); QAT_DOT(hi, vld1q_s8(q + 208), a1, 2);
      QAT_DOT(lo, vld1q_s8(q + 224), a1, 3); QAT_DOT(hi, vld1q_s8(q + 240), a1, 3);
      const float da = half_to_float(x[t * nb + b].d_fp16);
      acc_lo[t] = vfmaq_f32(acc_lo[t], vcvtq_f32_s32(lo), vmulq_n_f32(d_lo, da));
      acc_hi[t] = vfmaq_f32(acc_hi[t], vcvtq_f32_s32(hi), vmulq_n_f32(d_hi, da));
    }
  }
  for (int t = 0; t < NT; ++t) store_rows(y + t * ldy, acc_lo[t], acc_hi[t], nrows);
}

// ---- Q4_0 R8: 32 B per g = bytes 4g..4g+3 of rows 0-3, then rows 4-7; low
// nibbles are codes 4g.., high nibbles codes 16+4g... Unpacked once per
// block to signed codes (q - 8), then reused for every token of the tile.
template <int NT>
void q4_tile(const uint8_t* gw, int64_t nb, const BlockQ8_0* x, float* y, int64_t ldy, int64_t nrows) {
  const uint8x16_t m4 = vdupq_n_u8(0x0f);
  const int8x16_t eight = vdupq_n_s8(8);
  float32x4_t acc_lo[NT], acc_hi[NT];
  for (int t = 0; t < NT; ++t) acc_lo[t] = acc_hi[t] = vdupq_n_f32(0.0f);
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = gw + b * 144;
    const float32x4_t d_lo = load_scales(blk), d_hi = load_scales(blk + 8);
    int8x16_t wl[8], wh[8];  // [g * 2 + half]: low-nibble / high-nibble codes
    for (int i = 0; i < 8; ++i) {
      const uint8x16_t raw = vld1q_u8(blk + 16 + 16 * i);
      wl[i] = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(raw, m4)), eight);
      wh[i] = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(raw, 4)), eight);
    }
    for (int t = 0; t < NT; ++t) {
      const int8x16_t a0 = vld1q_s8(x[t * nb + b].qs), a1 = vld1q_s8(x[t * nb + b].qs + 16);
      int32x4_t lo = vdupq_n_s32(0), hi = vdupq_n_s32(0);
      QAT_DOT(lo, wl[0], a0, 0); QAT_DOT(hi, wl[1], a0, 0);
      QAT_DOT(lo, wl[2], a0, 1); QAT_DOT(hi, wl[3], a0, 1);
      QAT_DOT(lo, wl[4], a0, 2); QAT_DOT(hi, wl[5], a0, 2);
      QAT_DOT(lo, wl[6], a0, 3); QAT_DOT(hi, wl[7], a0, 3);
      QAT_DOT(lo, wh[0], a1, 0); QAT_DOT(hi, wh[1], a1, 0);
      QAT_DOT(lo, wh[2], a1, 1); QAT_DOT(hi, wh[3], a1, 1);
      QAT_DOT(lo, wh[4], a1, 2); QAT_DOT(hi, wh[5], a1, 2);
      QAT_DOT(lo, wh[6], a1, 3); QAT_DOT(hi, wh[7], a1, 3);
      const float da = half_to_float(x[t * nb + b].d_fp16);
      acc_lo[t] = vfmaq_f32(acc_lo[t], vcvtq_f32_s32(lo), vmulq_n_f32(d_lo, da));
      acc_hi[t] = vfmaq_f32(acc_hi[t], vcvtq_f32_s32(hi), vmulq_n_f32(d_hi, da));
    }
  }
  for (int t = 0; t < NT; ++t) store_rows(y + t * ldy, acc_lo[t], acc_hi[t], nrows);
}
#undef QAT_DOT

template <bool kQ4>
void gemm_packed(const uint8_t* w, int64_t nb, int64_t g0, int64_t g1, const BlockQ8_0* x, const ActBlockInfo*,
                 const uint8_t*, int64_t n, float* y, int64_t rows) {
  const int64_t gbytes = (kQ4 ? 144 : 272) * nb;
  for (int64_t g = g0; g < g1; ++g) {
    const uint8_t* gw = w + g * gbytes;
    float* yg = y + g * kPackRows;
    const int64_t nrows = rows - g * kPackRows;
    int64_t t = 0;
    for (; t + 4 <= n; t += 4) (kQ4 ? q4_tile<4> : q8_tile<4>)(gw, nb, x + t * nb, yg + t * rows, rows, nrows);
    for (; t < n; ++t) (kQ4 ? q4_tile<1> : q8_tile<1>)(gw, nb, x + t * nb, yg + t * rows, rows, nrows);
  }
}

// ---- F32 / F16 / BF16 weights, FP32 activations: 4 accumulators per dot.
inline float32x4_t load4(TensorType t, const void* row, int64_t c) {
  if (t == TensorType::F32) return vld1q_f32(static_cast<const float*>(row) + c);
  const uint16x4_t h = vld1_u16(static_cast<const uint16_t*>(row) + c);
  if (t == TensorType::F16) return vcvt_f32_f16(vreinterpret_f16_u16(h));
  return vreinterpretq_f32_u32(vshll_n_u16(h, 16));  // BF16
}

inline float load1(TensorType t, const void* row, int64_t c) {
  if (t == TensorType::F32) return static_cast<const float*>(row)[c];
  const uint16_t h = static_cast<const uint16_t*>(row)[c];
  if (t == TensorType::F16) return half_to_float(h);
  const uint32_t u = uint32_t(h) << 16;
  float f;
  __builtin_memcpy(&f, &u, 4);
  return f;
}

void gemm_float(TensorType type, const void* w, int64_t rows, int64_t cols, int64_t r0, int64_t r1,
                const float* x, int64_t n, float* y) {
  const int64_t row_bytes = cols * (type == TensorType::F32 ? 4 : 2);
  const auto* base = static_cast<const uint8_t*>(w);
  for (int64_t r = r0; r < r1; ++r) {
    const void* row = base + r * row_bytes;
    for (int64_t t = 0; t < n; ++t) {
      const float* xt = x + t * cols;
      float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0, a2 = a0, a3 = a0;
      int64_t c = 0;
      for (; c + 16 <= cols; c += 16) {
        a0 = vfmaq_f32(a0, load4(type, row, c), vld1q_f32(xt + c));
        a1 = vfmaq_f32(a1, load4(type, row, c + 4), vld1q_f32(xt + c + 4));
        a2 = vfmaq_f32(a2, load4(type, row, c + 8), vld1q_f32(xt + c + 8));
        a3 = vfmaq_f32(a3, load4(type, row, c + 12), vld1q_f32(xt + c + 12));
      }
      for (; c + 4 <= cols; c += 4) a0 = vfmaq_f32(a0, load4(type, row, c), vld1q_f32(xt + c));
      float s = vaddvq_f32(vaddq_f32(vaddq_f32(a0, a1), vaddq_f32(a2, a3)));
      for (; c < cols; ++c) s += load1(type, row, c) * xt[c];
      y[t * rows + r] = s;
    }
  }
}

// ---- C (m, n) = A (m, k) B (k, n), B's columns contiguous: tiles of up to
// 4 rows x 16 columns (4 registers), p in order, A broadcast; the last
// columns (fewer than 16) by the scalar reference, p in the same order.
template <int MR>
void nn_tile(const float* a, int64_t a_rs, int64_t a_cs, const float* b, int64_t ldb, float* c, int64_t ldc,
             int64_t k) {
  // The r loops are unrolled before register allocation: without the
  // pragmas GCC 12 kept acc in memory for MR > 1 and loaded and stored it
  // at every p step.
  float32x4_t acc[MR][4];
#pragma GCC unroll 4
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int q = 0; q < 4; ++q) acc[r][q] = vdupq_n_f32(0.0f);
  for (int64_t p = 0; p < k; ++p) {
    const float* bp = b + p * ldb;
    const float32x4_t b0 = vld1q_f32(bp), b1 = vld1q_f32(bp + 4), b2 = vld1q_f32(bp + 8), b3 = vld1q_f32(bp + 12);
#pragma GCC unroll 4
    for (int r = 0; r < MR; ++r) {
      const float av = a[r * a_rs + p * a_cs];
      acc[r][0] = vfmaq_n_f32(acc[r][0], b0, av);
      acc[r][1] = vfmaq_n_f32(acc[r][1], b1, av);
      acc[r][2] = vfmaq_n_f32(acc[r][2], b2, av);
      acc[r][3] = vfmaq_n_f32(acc[r][3], b3, av);
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int q = 0; q < 4; ++q) vst1q_f32(c + r * ldc + 4 * q, acc[r][q]);
}

void gemm_nn_f32(const float* a, int64_t a_rs, int64_t a_cs, const float* b, int64_t ldb, float* c, int64_t ldc,
                 int64_t m, int64_t k, int64_t n) {
  const int64_t n16 = n / 16 * 16;
  for (int64_t i = 0; i < m; i += 4) {
    const float* ai = a + i * a_rs;
    float* ci = c + i * ldc;
    const int64_t mr = m - i < 4 ? m - i : 4;
    for (int64_t j = 0; j < n16; j += 16) {
      switch (mr) {
        case 4: nn_tile<4>(ai, a_rs, a_cs, b + j, ldb, ci + j, ldc, k); break;
        case 3: nn_tile<3>(ai, a_rs, a_cs, b + j, ldb, ci + j, ldc, k); break;
        case 2: nn_tile<2>(ai, a_rs, a_cs, b + j, ldb, ci + j, ldc, k); break;
        default: nn_tile<1>(ai, a_rs, a_cs, b + j, ldb, ci + j, ldc, k); break;
      }
    }
    if (n16 < n) gemm_nn_f32_ref(ai, a_rs, a_cs, b + n16, ldb, ci + n16, ldc, mr, k, n - n16);
  }
}

void rows_compat(TensorType type, const uint8_t* w, uint64_t row_bytes, int64_t r0, int64_t r1, int64_t cols,
                 const BlockQ8_0* x, const ActBlockInfo* xi, int64_t n, float* y, int64_t rows, uint8_t* scratch);

// Weight-only dequantization uses the scalar loops. The llama.cpp compat
// types unpack (vector Q4_K, Q5_K, Q6_K) and multiply with SDOT in
// kernels_compat_neon.cpp, a row at a time (rows_compat_unfused).
const KernelTable kTable{CpuLevel::NeonDot,     gemm_packed<false>,     gemm_packed<true>,
                         gemm_float,            quantize_act_ref,       dequant_group_q8_0_ref,
                         dequant_group_q4_0_ref, neon_unpack_compat,    neon_dot_compat,
                         rows_compat,           gemm_nn_f32,            nullptr,
                         0};

void rows_compat(TensorType type, const uint8_t* w, uint64_t row_bytes, int64_t r0, int64_t r1, int64_t cols,
                 const BlockQ8_0* x, const ActBlockInfo* xi, int64_t n, float* y, int64_t rows, uint8_t* scratch) {
  rows_compat_unfused(kTable, type, w, row_bytes, r0, r1, cols, x, xi, n, y, rows, scratch);
}

}  // namespace

const KernelTable* neon_kernels() { return &kTable; }

}  // namespace qat

#else
namespace qat {
const KernelTable* neon_kernels() { return nullptr; }
}  // namespace qat
#endif
