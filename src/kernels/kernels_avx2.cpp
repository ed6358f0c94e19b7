// AVX2 + FMA + F16C level (compiled with those flags only; see kernel_table.h
// for why this file uses nothing but intrinsics and raw pointers).
#include "kernels/kernel_table.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include "kernels/quant_pack.h"

namespace qat {

uint16_t f32_to_fp16(float f);  // base/fp16.h (not included: its inline helpers must not be built with AVX2)

namespace {

inline void store_rows(float* y, __m256 v, int64_t nrows) {
  if (nrows >= kPackRows) return _mm256_storeu_ps(y, v);
  alignas(32) float tmp[8];
  _mm256_store_ps(tmp, v);
  for (int64_t j = 0; j < nrows; ++j) y[j] = tmp[j];
}

// Decode streams each weight byte once from DRAM; the hardware prefetcher
// alone leaves this core short of the memory bandwidth, so ask for the bytes
// a few KiB ahead of the one being read (one request per cache line).
// Measured on the 262144 x 640 output projection (bench_quant_matmul): Q8_0
// 21-22 -> 16-19 ms, Q4_0 11-12 -> 9-11 ms on one core. The F32 kernels
// stream fast enough for the hardware prefetcher alone (no gain measured).
constexpr int64_t kPrefetchAhead = 4096;
inline void prefetch_block(const uint8_t* blk, int64_t bytes) {
  for (int64_t o = 0; o < bytes; o += 64) _mm_prefetch(reinterpret_cast<const char*>(blk + kPrefetchAhead + o), _MM_HINT_T0);
}

inline __m256i bcast4(const int8_t* p) {
  int32_t v;
  __builtin_memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

// ---- Q4_0 R8: 8 rows x NT tokens. Nibbles q in 0..15 are unsigned bytes, so
// maddubs(q, a) is exact (pair sums <= 2*15*127 = 3810) and the eight chunk
// products of a block add up in int16 without saturating (<= 30480); the -8
// offset comes back as 8 * sum(a) per block.
template <int NT>
void q4_tile(const uint8_t* gw, int64_t nb, const BlockQ8_0* x, const ActBlockInfo* xi, float* y, int64_t ldy,
             int64_t nrows) {
  const __m256i m4 = _mm256_set1_epi8(0x0f);
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = gw + b * 144;
    prefetch_block(blk, 144);
    const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk)));
    __m256i s16[NT];
    for (int t = 0; t < NT; ++t) s16[t] = _mm256_setzero_si256();
    for (int g = 0; g < 4; ++g) {
      const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 16 + 32 * g));
      const __m256i lo = _mm256_and_si256(raw, m4);
      const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), m4);
      for (int t = 0; t < NT; ++t) {
        const int8_t* aq = x[t * nb + b].qs;
        s16[t] = _mm256_add_epi16(s16[t], _mm256_maddubs_epi16(lo, bcast4(aq + 4 * g)));
        s16[t] = _mm256_add_epi16(s16[t], _mm256_maddubs_epi16(hi, bcast4(aq + 16 + 4 * g)));
      }
    }
    for (int t = 0; t < NT; ++t) {
      const __m256i corr = _mm256_slli_epi32(_mm256_set1_epi32(xi[t * nb + b].sum), 3);  // 8 * sum
      const __m256i s32 = _mm256_sub_epi32(_mm256_madd_epi16(s16[t], ones), corr);
      const __m256 scale = _mm256_mul_ps(dw, _mm256_set1_ps(xi[t * nb + b].d));
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s32), scale, acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) store_rows(y + t * ldy, acc[t], nrows);
}

// The 4-token Q4_0 tile written out with named registers: GCC keeps the
// template's __m256 arrays on the stack (they are split into registers only
// after the loops are unrolled), which costs a store and a load per block.
void q4_tile4(const uint8_t* gw, int64_t nb, const BlockQ8_0* x, const ActBlockInfo* xi, float* y, int64_t ldy,
              int64_t nrows) {
  const __m256i m4 = _mm256_set1_epi8(0x0f);
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
  const BlockQ8_0* x0 = x;
  const BlockQ8_0* x1 = x + nb;
  const BlockQ8_0* x2 = x + 2 * nb;
  const BlockQ8_0* x3 = x + 3 * nb;
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = gw + b * 144;
    prefetch_block(blk, 144);
    __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
    for (int g = 0; g < 4; ++g) {
      const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 16 + 32 * g));
      const __m256i lo = _mm256_and_si256(raw, m4);
      const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), m4);
#define QAT_Q4_STEP(s, xt)                                                                    \
  s = _mm256_add_epi16(s, _mm256_add_epi16(_mm256_maddubs_epi16(lo, bcast4(xt[b].qs + 4 * g)), \
                                           _mm256_maddubs_epi16(hi, bcast4(xt[b].qs + 16 + 4 * g))))
      QAT_Q4_STEP(s0, x0);
      QAT_Q4_STEP(s1, x1);
      QAT_Q4_STEP(s2, x2);
      QAT_Q4_STEP(s3, x3);
#undef QAT_Q4_STEP
    }
    const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk)));
#define QAT_Q4_TAIL(acc, s, t)                                                                        \
  acc = _mm256_fmadd_ps(                                                                            \
      _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_madd_epi16(s, ones),                               \
                                          _mm256_slli_epi32(_mm256_set1_epi32(xi[t * nb + b].sum), 3))), \
      _mm256_mul_ps(dw, _mm256_set1_ps(xi[t * nb + b].d)), acc)
    QAT_Q4_TAIL(acc0, s0, 0);
    QAT_Q4_TAIL(acc1, s1, 1);
    QAT_Q4_TAIL(acc2, s2, 2);
    QAT_Q4_TAIL(acc3, s3, 3);
#undef QAT_Q4_TAIL
  }
  store_rows(y, acc0, nrows);
  store_rows(y + ldy, acc1, nrows);
  store_rows(y + 2 * ldy, acc2, nrows);
  store_rows(y + 3 * ldy, acc3, nrows);
}

// ---- Q8_0 R8: 8 rows x NT tokens. Sign trick: maddubs(|w|, sign(a, w)) = w*a
// exactly because activation codes stay in -127..127 (quantize_row_q8_0 maps
// amax to 127), so sign(a, w) never overflows and |w| <= 128 fits a byte;
// pair sums <= 2*128*127 = 32512 do not saturate.
template <int NT>
void q8_tile(const uint8_t* gw, int64_t nb, const BlockQ8_0* x, const ActBlockInfo* xi, float* y, int64_t ldy,
             int64_t nrows) {
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = gw + b * 272;
    prefetch_block(blk, 272);
    const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk)));
    __m256i s32[NT];
    for (int t = 0; t < NT; ++t) s32[t] = _mm256_setzero_si256();
    for (int c = 0; c < 8; ++c) {
      const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 16 + 32 * c));
      const __m256i aw = _mm256_abs_epi8(w);
      for (int t = 0; t < NT; ++t) {
        const __m256i a = _mm256_sign_epi8(bcast4(x[t * nb + b].qs + 4 * c), w);
        s32[t] = _mm256_add_epi32(s32[t], _mm256_madd_epi16(_mm256_maddubs_epi16(aw, a), ones));
      }
    }
    for (int t = 0; t < NT; ++t) {
      const __m256 scale = _mm256_mul_ps(dw, _mm256_set1_ps(xi[t * nb + b].d));
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s32[t]), scale, acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) store_rows(y + t * ldy, acc[t], nrows);
}

// The 4-token Q8_0 tile with named registers (see q4_tile4).
void q8_tile4(const uint8_t* gw, int64_t nb, const BlockQ8_0* x, const ActBlockInfo* xi, float* y, int64_t ldy,
              int64_t nrows) {
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
  const BlockQ8_0* x0 = x;
  const BlockQ8_0* x1 = x + nb;
  const BlockQ8_0* x2 = x + 2 * nb;
  const BlockQ8_0* x3 = x + 3 * nb;
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = gw + b * 272;
    prefetch_block(blk, 272);
    __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
    for (int c = 0; c < 8; ++c) {
      const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 16 + 32 * c));
      const __m256i aw = _mm256_abs_epi8(w);
#define QAT_Q8_STEP(s, xt) \
  s = _mm256_add_epi32(s, _mm256_madd_epi16(_mm256_maddubs_epi16(aw, _mm256_sign_epi8(bcast4(xt[b].qs + 4 * c), w)), ones))
      QAT_Q8_STEP(s0, x0);
      QAT_Q8_STEP(s1, x1);
      QAT_Q8_STEP(s2, x2);
      QAT_Q8_STEP(s3, x3);
#undef QAT_Q8_STEP
    }
    const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk)));
#define QAT_Q8_TAIL(acc, s, t) \
  acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_mul_ps(dw, _mm256_set1_ps(xi[t * nb + b].d)), acc)
    QAT_Q8_TAIL(acc0, s0, 0);
    QAT_Q8_TAIL(acc1, s1, 1);
    QAT_Q8_TAIL(acc2, s2, 2);
    QAT_Q8_TAIL(acc3, s3, 3);
#undef QAT_Q8_TAIL
  }
  store_rows(y, acc0, nrows);
  store_rows(y + ldy, acc1, nrows);
  store_rows(y + 2 * ldy, acc2, nrows);
  store_rows(y + 3 * ldy, acc3, nrows);
}

// Each group's weights (nb group-blocks, a few KB) stay in L1 while the
// tokens pass in tiles of 4.
template <bool kQ4>
void gemm_packed(const uint8_t* w, int64_t nb, int64_t g0, int64_t g1, const BlockQ8_0* x, const ActBlockInfo* xi,
                 int64_t n, float* y, int64_t rows) {
  const int64_t gbytes = (kQ4 ? 144 : 272) * nb;
  for (int64_t g = g0; g < g1; ++g) {
    const uint8_t* gw = w + g * gbytes;
    float* yg = y + g * kPackRows;
    const int64_t nrows = rows - g * kPackRows;
    int64_t t = 0;
    for (; t + 4 <= n; t += 4)
      (kQ4 ? q4_tile4 : q8_tile4)(gw, nb, x + t * nb, xi + t * nb, yg + t * rows, rows, nrows);
    switch (n - t) {
      case 3: (kQ4 ? q4_tile<3> : q8_tile<3>)(gw, nb, x + t * nb, xi + t * nb, yg + t * rows, rows, nrows); break;
      case 2: (kQ4 ? q4_tile<2> : q8_tile<2>)(gw, nb, x + t * nb, xi + t * nb, yg + t * rows, rows, nrows); break;
      case 1: (kQ4 ? q4_tile<1> : q8_tile<1>)(gw, nb, x + t * nb, xi + t * nb, yg + t * rows, rows, nrows); break;
      default: break;
    }
  }
}

// ---- F32 / F16 / BF16 weights, FP32 activations.
inline __m256 load8(TensorType t, const void* row, int64_t c) {
  if (t == TensorType::F32) return _mm256_loadu_ps(static_cast<const float*>(row) + c);
  const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(row) + c));
  if (t == TensorType::F16) return _mm256_cvtph_ps(h);
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));  // BF16
}

inline float load1(TensorType t, const void* row, int64_t c) {
  if (t == TensorType::F32) return static_cast<const float*>(row)[c];
  const uint16_t h = static_cast<const uint16_t*>(row)[c];
  if (t == TensorType::F16) return _cvtsh_ss(h);
  const uint32_t u = uint32_t(h) << 16;
  float f;
  __builtin_memcpy(&f, &u, 4);
  return f;
}

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Prefill tile: 4 weight rows x 3 tokens = 12 accumulators, 7 loads per 12
// FMAs, so the FMA units rather than the load ports set the pace.
void tile_4x3(TensorType t, const uint8_t* w0, int64_t row_bytes, const float* x, int64_t cols, float* y,
              int64_t ldy) {
  __m256 acc[4][3];
  for (auto& r : acc)
    for (auto& a : r) a = _mm256_setzero_ps();
  const float* x0 = x;
  const float* x1 = x + cols;
  const float* x2 = x + 2 * cols;
  int64_t c = 0;
  for (; c + 8 <= cols; c += 8) {
    const __m256 a = _mm256_loadu_ps(x0 + c), b = _mm256_loadu_ps(x1 + c), d = _mm256_loadu_ps(x2 + c);
    for (int i = 0; i < 4; ++i) {
      const __m256 wv = load8(t, w0 + i * row_bytes, c);
      acc[i][0] = _mm256_fmadd_ps(wv, a, acc[i][0]);
      acc[i][1] = _mm256_fmadd_ps(wv, b, acc[i][1]);
      acc[i][2] = _mm256_fmadd_ps(wv, d, acc[i][2]);
    }
  }
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 3; ++j) {
      float s = hsum(acc[i][j]);
      const void* row = w0 + i * row_bytes;
      for (int64_t k = c; k < cols; ++k) s += load1(t, row, k) * x[j * cols + k];
      y[j * ldy + i] = s;
    }
}

// One token: four independent accumulators hide the FMA latency, which is
// what keeps single-token decode at memory speed.
float dot1(TensorType t, const void* row, const float* x, int64_t cols) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  int64_t c = 0;
  for (; c + 32 <= cols; c += 32) {
    a0 = _mm256_fmadd_ps(load8(t, row, c), _mm256_loadu_ps(x + c), a0);
    a1 = _mm256_fmadd_ps(load8(t, row, c + 8), _mm256_loadu_ps(x + c + 8), a1);
    a2 = _mm256_fmadd_ps(load8(t, row, c + 16), _mm256_loadu_ps(x + c + 16), a2);
    a3 = _mm256_fmadd_ps(load8(t, row, c + 24), _mm256_loadu_ps(x + c + 24), a3);
  }
  for (; c + 8 <= cols; c += 8) a0 = _mm256_fmadd_ps(load8(t, row, c), _mm256_loadu_ps(x + c), a0);
  float s = hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  for (; c < cols; ++c) s += load1(t, row, c) * x[c];
  return s;
}

// Rows [r0, r1) in blocks of 4; 3-token tiles while >= 3 tokens remain.
void gemm_float(TensorType type, const void* w, int64_t rows, int64_t cols, int64_t r0, int64_t r1,
                const float* x, int64_t n, float* y) {
  const int64_t row_bytes = cols * (type == TensorType::F32 ? 4 : 2);
  const auto* base = static_cast<const uint8_t*>(w);
  for (int64_t r = r0; r < r1; r += 4) {
    const int64_t nr = r1 - r < 4 ? r1 - r : 4;
    int64_t t = 0;
    if (nr == 4)
      for (; t + 3 <= n; t += 3) tile_4x3(type, base + r * row_bytes, row_bytes, x + t * cols, cols, y + t * rows + r, rows);
    for (; t < n; ++t)
      for (int64_t i = r; i < r + nr; ++i) y[t * rows + i] = dot1(type, base + i * row_bytes, x + t * cols, cols);
  }
}

// ---- Activations to Q8_0, byte-identical to quantize_row_q8_0: the same
// float ops (amax, d = amax / 127, id = 1 / d, x * id without FMA), and C
// roundf's half-away-from-zero done exactly as trunc plus a sign step where
// the dropped fraction is >= 0.5.
inline __m256i round_codes(__m256 v, __m256 id) {
  const __m256 p = _mm256_mul_ps(v, id);
  const __m256 t = _mm256_round_ps(p, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m256 sign = _mm256_and_ps(p, _mm256_set1_ps(-0.0f));
  const __m256 frac = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), _mm256_sub_ps(p, t));
  const __m256 step = _mm256_and_ps(_mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ),
                                    _mm256_or_ps(sign, _mm256_set1_ps(1.0f)));
  return _mm256_cvttps_epi32(_mm256_add_ps(t, step));
}

bool quantize_act(const float* x, int64_t nb, BlockQ8_0* y, ActBlockInfo* info) {
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  const __m256 fmax = _mm256_set1_ps(3.40282347e38f);
  for (int64_t b = 0; b < nb; ++b, x += 32) {
    __m256 v[4], bad = _mm256_setzero_ps(), amax = _mm256_setzero_ps();
    for (int i = 0; i < 4; ++i) {
      v[i] = _mm256_loadu_ps(x + 8 * i);
      const __m256 a = _mm256_and_ps(v[i], abs_mask);
      bad = _mm256_or_ps(bad, _mm256_cmp_ps(a, fmax, _CMP_NLE_UQ));  // NaN or inf
      amax = _mm256_max_ps(amax, a);
    }
    if (_mm256_movemask_ps(bad)) return false;
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    const float d = _mm_cvtss_f32(m) / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[b].d_fp16 = f32_to_fp16(d);
    info[b].d = _cvtsh_ss(y[b].d_fp16);
    if (!(id <= 3.40282347e38f)) {  // 1/d overflowed: the reference writes zeros
      for (int k = 0; k < 32; ++k) y[b].qs[k] = 0;
      info[b].sum = 0;
      continue;
    }
    const __m256 vid = _mm256_set1_ps(id);
    const __m256i i0 = round_codes(v[0], vid), i1 = round_codes(v[1], vid);
    const __m256i i2 = round_codes(v[2], vid), i3 = round_codes(v[3], vid);
    // int32 -> int8 (values within -127..127, no saturation), then undo the
    // per-128-bit-lane interleave of the packs.
    const __m256i p16 = _mm256_packs_epi32(i0, i1), q16 = _mm256_packs_epi32(i2, i3);
    const __m256i p8 = _mm256_packs_epi16(p16, q16);
    const __m256i codes = _mm256_permutevar8x32_epi32(p8, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[b].qs), codes);
    __m256i s = _mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3));
    __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
    s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4e));
    s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xb1));
    info[b].sum = _mm_cvtsi128_si32(s4);
  }
  return true;
}

// ---- Weight-only dequantization of one packed row group. A 32-byte load
// of the codes holds the same 4 bytes of all 8 rows; a 4 x 8 transpose of
// dwords gathers each row's bytes (rows i and i + 4 share a register, one
// per 128-bit lane). Codes to int32 to float, times the F16C-converted
// scale: exactly float(code) * d, as dequantize_row_* computes it.
inline void transpose_rows(const __m256i v[4], __m256i r[4]) {
  const __m256i t0 = _mm256_unpacklo_epi32(v[0], v[1]), t1 = _mm256_unpacklo_epi32(v[2], v[3]);
  const __m256i t2 = _mm256_unpackhi_epi32(v[0], v[1]), t3 = _mm256_unpackhi_epi32(v[2], v[3]);
  r[0] = _mm256_unpacklo_epi64(t0, t1);  // rows 0 | 4
  r[1] = _mm256_unpackhi_epi64(t0, t1);  // rows 1 | 5
  r[2] = _mm256_unpacklo_epi64(t2, t3);  // rows 2 | 6
  r[3] = _mm256_unpackhi_epi64(t2, t3);  // rows 3 | 7
}

// 16 signed byte codes -> 16 floats times d.
inline void store_codes16(float* o, __m128i codes, __m256 d) {
  _mm256_storeu_ps(o, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(codes)), d));
  _mm256_storeu_ps(o + 8, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(codes, 8))), d));
}

template <bool kQ4>
void dequant_group(const uint8_t* group, int64_t nb, int64_t count, int64_t cols, float* out) {
  constexpr int64_t kGroupBlock = kQ4 ? 144 : 272;
  const __m128i low4 = _mm_set1_epi8(0x0f), eight = _mm_set1_epi8(8);
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = group + b * kGroupBlock;
    const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk)));
    const uint8_t* qs = blk + 2 * kPackRows;
    for (int half = 0; half < (kQ4 ? 1 : 2); ++half) {  // Q8_0: codes 0..15, then 16..31
      __m256i v[4], r[4];
      for (int c = 0; c < 4; ++c) v[c] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + (4 * half + c) * 32));
      transpose_rows(v, r);
      for (int i = 0; i < 4; ++i)
        for (int lane = 0; lane < 2; ++lane) {
          const int64_t j = i + 4 * lane;
          if (j >= count) continue;
          const __m128i bytes = lane ? _mm256_extracti128_si256(r[i], 1) : _mm256_castsi256_si128(r[i]);
          const __m256 dj = _mm256_permutevar8x32_ps(d, _mm256_set1_epi32(int(j)));
          float* o = out + j * cols + b * 32;
          if (kQ4) {  // byte k: element k (low nibble), element 16 + k (high); value q - 8
            store_codes16(o, _mm_sub_epi8(_mm_and_si128(bytes, low4), eight), dj);
            store_codes16(o + 16, _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(bytes, 4), low4), eight), dj);
          } else {
            store_codes16(o + 16 * half, bytes, dj);
          }
        }
    }
  }
}

// ---- llama.cpp compat types (quant/ggml_compat_types.h). Q6_K and Q4_K, the
// types llama-quantize writes most, are unpacked with vector code; the others
// through the reference. The dot product uses the sign trick like Q8_0
// (codes are within -32..31, never -128), then madd by the integer
// sub-scales: pair sums <= 2 * 32 * 127 and |sc| <= 128 keep int32 exact.

// Q4_K / Q5_K's 6-bit scale and min of sub-block j (ggml's get_scale_min_k4).
inline void scale_min_k4(int j, const uint8_t* q, int& sc, int& mn) {
  if (j < 4) {
    sc = q[j] & 63;
    mn = q[j + 4] & 63;
  } else {
    sc = (q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4);
    mn = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

inline float fp16_bits_to_f32(uint16_t h) { return _cvtsh_ss(h); }

inline void store32(int8_t* p, __m256i v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
inline __m256i load32(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

void unpack_q6_k(const BlockQ6_K* blocks, int64_t nb, int8_t* codes, CompatChunk* chunks) {
  const __m256i m4 = _mm256_set1_epi8(0x0f), m30 = _mm256_set1_epi8(0x30), k32 = _mm256_set1_epi8(32);
  for (int64_t i = 0; i < nb; ++i) {
    const BlockQ6_K& b = blocks[i];
    prefetch_block(reinterpret_cast<const uint8_t*>(&b), sizeof(BlockQ6_K));  // decode streams rows from DRAM
    for (int h = 0; h < 2; ++h, codes += 128) {
      const __m256i ql0 = load32(b.ql + 64 * h), ql1 = load32(b.ql + 64 * h + 32), qh = load32(b.qh + 32 * h);
      // Element 32 k + l of this half: 4 bits from ql, bits 2k..2k+1 of qh[l] on top.
      const __m256i h0 = _mm256_and_si256(_mm256_slli_epi16(qh, 4), m30);
      const __m256i h1 = _mm256_and_si256(_mm256_slli_epi16(qh, 2), m30);
      const __m256i h2 = _mm256_and_si256(qh, m30);
      const __m256i h3 = _mm256_and_si256(_mm256_srli_epi16(qh, 2), m30);
      store32(codes, _mm256_sub_epi8(_mm256_or_si256(_mm256_and_si256(ql0, m4), h0), k32));
      store32(codes + 32, _mm256_sub_epi8(_mm256_or_si256(_mm256_and_si256(ql1, m4), h1), k32));
      store32(codes + 64, _mm256_sub_epi8(_mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4), h2), k32));
      store32(codes + 96, _mm256_sub_epi8(_mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4), h3), k32));
    }
    const float d = fp16_bits_to_f32(b.d_fp16);
    for (int c = 0; c < 8; ++c) {
      chunks[8 * i + c].sc[0] = b.scales[2 * c];
      chunks[8 * i + c].sc[1] = b.scales[2 * c + 1];
      chunks[8 * i + c].s = d;
      chunks[8 * i + c].m = 0.0f;
    }
  }
}

void unpack_q4_k(const BlockQ4_K* blocks, int64_t nb, int8_t* codes, CompatChunk* chunks) {
  const __m256i m4 = _mm256_set1_epi8(0x0f);
  for (int64_t i = 0; i < nb; ++i) {
    const BlockQ4_K& b = blocks[i];
    prefetch_block(reinterpret_cast<const uint8_t*>(&b), sizeof(BlockQ4_K));
    for (int g = 0; g < 4; ++g, codes += 64) {
      const __m256i raw = load32(b.qs + 32 * g);
      store32(codes, _mm256_and_si256(raw, m4));
      store32(codes + 32, _mm256_and_si256(_mm256_srli_epi16(raw, 4), m4));
    }
    const float d = fp16_bits_to_f32(b.d_fp16), dmin = fp16_bits_to_f32(b.dmin_fp16);
    for (int s = 0; s < 8; ++s) {
      int sc, mn;
      scale_min_k4(s, b.scales, sc, mn);
      chunks[8 * i + s].sc[0] = chunks[8 * i + s].sc[1] = 1;
      chunks[8 * i + s].s = d * float(sc);
      chunks[8 * i + s].m = -(dmin * float(mn));
    }
  }
}

void unpack_compat(TensorType type, const void* blocks, int64_t n, int8_t* codes, CompatChunk* chunks) {
  if (type == TensorType::Q6_K && n % 256 == 0)
    return unpack_q6_k(static_cast<const BlockQ6_K*>(blocks), n / 256, codes, chunks);
  if (type == TensorType::Q4_K && n % 256 == 0)
    return unpack_q4_k(static_cast<const BlockQ4_K*>(blocks), n / 256, codes, chunks);
  unpack_row_compat(type, blocks, n, codes, chunks);  // the reference (also reports bad lengths)
}

// The madd multiplier of one chunk: int16 lanes 0..7 = sc[0], 8..15 = sc[1]
// (a broadcast of the pair and one byte shuffle).
inline __m256i chunk_scales(const CompatChunk& c) {
  int32_t pair;
  __builtin_memcpy(&pair, c.sc, 4);
  const __m256i lanes = _mm256_setr_epi8(0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1,  //
                                         2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3);
  return _mm256_shuffle_epi8(_mm256_set1_epi32(pair), lanes);
}

// NT tokens per pass share the loaded codes and sub-scales. The m term
// (Q4_1, Q5_1 and K-quant mins) is skipped for chunks without one (Q6_K, Q5_0).
template <int NT>
void dot_compat_tokens(const int8_t* codes, const CompatChunk* chunks, int64_t nb, const BlockQ8_0* x,
                       const ActBlockInfo* xi, float* y, int64_t y_stride) {
  __m256 acc[NT];
  float mt[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps(), mt[t] = 0;
  for (int64_t b = 0; b < nb; ++b) {
    const __m256i w = load32(codes + 32 * b);
    const __m256i aw = _mm256_sign_epi8(w, w);
    const CompatChunk& c = chunks[b];
    const __m256i sc = chunk_scales(c);
    for (int t = 0; t < NT; ++t) {
      const BlockQ8_0& a = x[t * nb + b];
      const ActBlockInfo& ai = xi[t * nb + b];
      const __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(aw, _mm256_sign_epi8(load32(a.qs), w)), sc);
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(ai.d * c.s), acc[t]);
    }
    if (c.m != 0.0f)
      for (int t = 0; t < NT; ++t) mt[t] += xi[t * nb + b].d * (c.m * float(xi[t * nb + b].sum));
  }
  for (int t = 0; t < NT; ++t) y[t * y_stride] = hsum(acc[t]) + mt[t];
}

void dot_compat(const int8_t* codes, const CompatChunk* chunks, int64_t nb, const BlockQ8_0* x,
                const ActBlockInfo* xi, int64_t n, float* y, int64_t y_stride) {
  int64_t t = 0;
  for (; t + 4 <= n; t += 4) dot_compat_tokens<4>(codes, chunks, nb, x + t * nb, xi + t * nb, y + t * y_stride, y_stride);
  for (; t < n; ++t) dot_compat_tokens<1>(codes, chunks, nb, x + t * nb, xi + t * nb, y + t * y_stride, y_stride);
}

// Q6_K rows times NT tokens without the unpacked copy: codes are built in
// registers and used at once (decode and short prompts, where the row is read
// once and the unpack's stores and reloads would cost as much as the dot).
// Same sums as unpack + dot_compat: per chunk, the codes times the sub-scales
// in int32, then float(that) * (d_a * d) accumulated.
template <int NT>
void q6_k_row_fused(const BlockQ6_K* row, int64_t nsb, const BlockQ8_0* x, const ActBlockInfo* xi, int64_t nb,
                    float* y, int64_t y_stride) {
  const __m256i m4 = _mm256_set1_epi8(0x0f), m30 = _mm256_set1_epi8(0x30), k32 = _mm256_set1_epi8(32);
  // Chunk c's madd multiplier from the 16 sub-scales widened to int16: int16
  // lanes 0..7 take scale 2c, lanes 8..15 scale 2c+1 (bytes 4c..4c+3 of the
  // widened scales, in the 128-bit half that holds them).
  __m256 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t i = 0; i < nsb; ++i) {
    const BlockQ6_K& b = row[i];
    prefetch_block(reinterpret_cast<const uint8_t*>(&b), sizeof(BlockQ6_K));
    const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales)));
    const __m256i lo_half = _mm256_permute2x128_si256(sc16, sc16, 0x00);  // scales 0..7 in both halves
    const __m256i hi_half = _mm256_permute2x128_si256(sc16, sc16, 0x11);  // scales 8..15
    const float d = fp16_bits_to_f32(b.d_fp16);
    for (int h = 0; h < 2; ++h) {
      const __m256i ql0 = load32(b.ql + 64 * h), ql1 = load32(b.ql + 64 * h + 32), qh = load32(b.qh + 32 * h);
      __m256i w[4];
      w[0] = _mm256_sub_epi8(_mm256_or_si256(_mm256_and_si256(ql0, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 4), m30)), k32);
      w[1] = _mm256_sub_epi8(_mm256_or_si256(_mm256_and_si256(ql1, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 2), m30)), k32);
      w[2] = _mm256_sub_epi8(
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4), _mm256_and_si256(qh, m30)), k32);
      w[3] = _mm256_sub_epi8(_mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4),
                                             _mm256_and_si256(_mm256_srli_epi16(qh, 2), m30)),
                             k32);
      const __m256i half = h == 0 ? lo_half : hi_half;
      for (int k = 0; k < 4; ++k) {
        // Sub-scales 2k' and 2k'+1 of this half (k' = k): bytes 4k, 4k+1 in
        // the low 128 bits, 4k+2, 4k+3 in the high.
        const int lo = 4 * k, hi = 4 * k + 2;
        const __m256i pick = _mm256_setr_epi8(lo, lo + 1, lo, lo + 1, lo, lo + 1, lo, lo + 1, lo, lo + 1, lo, lo + 1, lo,
                                              lo + 1, lo, lo + 1, hi, hi + 1, hi, hi + 1, hi, hi + 1, hi, hi + 1, hi,
                                              hi + 1, hi, hi + 1, hi, hi + 1, hi, hi + 1);
        const __m256i sc = _mm256_shuffle_epi8(half, pick);
        const __m256i aw = _mm256_sign_epi8(w[k], w[k]);
        const int64_t blk = 8 * i + 4 * h + k;
        for (int t = 0; t < NT; ++t) {
          const __m256i p =
              _mm256_madd_epi16(_mm256_maddubs_epi16(aw, _mm256_sign_epi8(load32(x[t * nb + blk].qs), w[k])), sc);
          acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(xi[t * nb + blk].d * d), acc[t]);
        }
      }
    }
  }
  for (int t = 0; t < NT; ++t) y[t * y_stride] = hsum(acc[t]);
}

// Q4_K rows times NT tokens, fused the same way: nibbles are unsigned, so
// maddubs takes them as they are; the mins come back through the activation
// sums (value = (d sc) q - dmin mn).
template <int NT>
void q4_k_row_fused(const BlockQ4_K* row, int64_t nsb, const BlockQ8_0* x, const ActBlockInfo* xi, int64_t nb,
                    float* y, int64_t y_stride) {
  const __m256i m4 = _mm256_set1_epi8(0x0f), ones = _mm256_set1_epi16(1);
  __m256 acc[NT];
  float mt[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps(), mt[t] = 0;
  for (int64_t i = 0; i < nsb; ++i) {
    const BlockQ4_K& b = row[i];
    prefetch_block(reinterpret_cast<const uint8_t*>(&b), sizeof(BlockQ4_K));
    const float d = fp16_bits_to_f32(b.d_fp16), dmin = fp16_bits_to_f32(b.dmin_fp16);
    for (int g = 0; g < 4; ++g) {
      const __m256i raw = load32(b.qs + 32 * g);
      const __m256i q[2] = {_mm256_and_si256(raw, m4), _mm256_and_si256(_mm256_srli_epi16(raw, 4), m4)};
      for (int j = 0; j < 2; ++j) {
        int sc, mn;
        scale_min_k4(2 * g + j, b.scales, sc, mn);
        const float s = d * float(sc), m = -(dmin * float(mn));
        const int64_t blk = 8 * i + 2 * g + j;
        for (int t = 0; t < NT; ++t) {
          const ActBlockInfo& ai = xi[t * nb + blk];
          const __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(q[j], load32(x[t * nb + blk].qs)), ones);
          acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(ai.d * s), acc[t]);
          mt[t] += ai.d * (m * float(ai.sum));
        }
      }
    }
  }
  for (int t = 0; t < NT; ++t) y[t * y_stride] = hsum(acc[t]) + mt[t];
}

// ---- Prompts: 8 rows regrouped into a tile, as quant_pack.h lays out Q8_0:
// per chunk, 8 groups of 32 bytes, each holding 4 codes of all 8 rows, so one
// integer lane per row and one float stage per chunk for 8 rows at once.
// Per chunk, the rows' sub-scales (int32) and s, m (float) side by side.
struct CompatTile {
  uint8_t* codes;  // nb * 256
  int32_t *sc0, *sc1;
  float *s, *m;    // nb * 8 each
};

inline uint8_t* align64(uint8_t* p) { return reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(p) + 63) & ~uintptr_t(63)); }

// Unpacks rows [r, r + 8) and interleaves them into the tile.
void build_tile(TensorType type, const uint8_t* w, uint64_t row_bytes, int64_t r, int64_t cols, uint8_t* scratch,
                CompatTile& tile) {
  const int64_t nb = cols / 32;
  auto* chunks = reinterpret_cast<CompatChunk*>(align64(scratch));
  int8_t* rows8 = reinterpret_cast<int8_t*>(align64(reinterpret_cast<uint8_t*>(chunks + 8 * nb)));
  tile.codes = align64(reinterpret_cast<uint8_t*>(rows8 + 8 * cols));
  tile.sc0 = reinterpret_cast<int32_t*>(align64(tile.codes + 8 * cols));
  tile.sc1 = reinterpret_cast<int32_t*>(align64(reinterpret_cast<uint8_t*>(tile.sc0 + 8 * nb)));
  tile.s = reinterpret_cast<float*>(align64(reinterpret_cast<uint8_t*>(tile.sc1 + 8 * nb)));
  tile.m = reinterpret_cast<float*>(align64(reinterpret_cast<uint8_t*>(tile.s + 8 * nb)));
  for (int j = 0; j < 8; ++j)
    unpack_compat(type, w + uint64_t(r + j) * row_bytes, cols, rows8 + j * cols, chunks + j * nb);
  for (int64_t b = 0; b < nb; ++b) {
    for (int q = 0; q < 8; ++q)
      for (int j = 0; j < 8; ++j)
        __builtin_memcpy(tile.codes + b * 256 + q * 32 + j * 4, rows8 + j * cols + b * 32 + q * 4, 4);
    for (int j = 0; j < 8; ++j) {
      const CompatChunk& c = chunks[j * nb + b];
      tile.sc0[b * 8 + j] = c.sc[0];
      tile.sc1[b * 8 + j] = c.sc[1];
      tile.s[b * 8 + j] = c.s;
      tile.m[b * 8 + j] = c.m;
    }
  }
}

// The tile times NT tokens: codes are signed (sign trick; never -128), and
// four groups' pair sums stay within int16 (4 * 2 * 32 * 127 = 32512).
template <int NT>
void tile_tokens(const CompatTile& tile, int64_t nb, const BlockQ8_0* x, const ActBlockInfo* xi, float* y,
                 int64_t ldy, int64_t nrows) {
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* tb = tile.codes + b * 256;
    __m256i isum[NT];
    for (int t = 0; t < NT; ++t) isum[t] = _mm256_setzero_si256();
    for (int hf = 0; hf < 2; ++hf) {
      __m256i s16[NT];
      for (int t = 0; t < NT; ++t) s16[t] = _mm256_setzero_si256();
      for (int q = 4 * hf; q < 4 * hf + 4; ++q) {
        const __m256i w = load32(tb + 32 * q);
        const __m256i aw = _mm256_sign_epi8(w, w);
        for (int t = 0; t < NT; ++t)
          s16[t] = _mm256_add_epi16(s16[t], _mm256_maddubs_epi16(aw, _mm256_sign_epi8(bcast4(x[t * nb + b].qs + 4 * q), w)));
      }
      // Sub-scales are 1 except for Q6_K: a multiply by 1 costs less than a
      // branch (and keeps register pressure down).
      const __m256i sc = _mm256_load_si256(reinterpret_cast<const __m256i*>((hf == 0 ? tile.sc0 : tile.sc1) + 8 * b));
      for (int t = 0; t < NT; ++t)
        isum[t] = _mm256_add_epi32(isum[t], _mm256_mullo_epi32(_mm256_madd_epi16(s16[t], ones), sc));
    }
    const __m256 sv = _mm256_load_ps(tile.s + 8 * b), mv = _mm256_load_ps(tile.m + 8 * b);
    for (int t = 0; t < NT; ++t) {
      const ActBlockInfo& ai = xi[t * nb + b];
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[t]), _mm256_mul_ps(sv, _mm256_set1_ps(ai.d)), acc[t]);
      acc[t] = _mm256_fmadd_ps(mv, _mm256_set1_ps(ai.d * float(ai.sum)), acc[t]);  // m = 0 without mins
    }
  }
  for (int t = 0; t < NT; ++t) store_rows(y + t * ldy, acc[t], nrows);
}

void rows_compat(TensorType type, const uint8_t* w, uint64_t row_bytes, int64_t r0, int64_t r1, int64_t cols,
                 const BlockQ8_0* x, const ActBlockInfo* xi, int64_t n, float* y, int64_t rows, uint8_t* scratch) {
  const int64_t nb = cols / 32;
  if (type == TensorType::Q6_K && cols % 256 == 0 && n <= 2) {
    for (int64_t r = r0; r < r1; ++r) {
      const auto* row = reinterpret_cast<const BlockQ6_K*>(w + uint64_t(r) * row_bytes);
      if (n == 2)
        q6_k_row_fused<2>(row, cols / 256, x, xi, nb, y + r, rows);
      else if (n == 1)
        q6_k_row_fused<1>(row, cols / 256, x, xi, nb, y + r, rows);
    }
    return;
  }
  if (type == TensorType::Q4_K && cols % 256 == 0 && n <= 2) {
    for (int64_t r = r0; r < r1; ++r) {
      const auto* row = reinterpret_cast<const BlockQ4_K*>(w + uint64_t(r) * row_bytes);
      if (n == 2)
        q4_k_row_fused<2>(row, cols / 256, x, xi, nb, y + r, rows);
      else if (n == 1)
        q4_k_row_fused<1>(row, cols / 256, x, xi, nb, y + r, rows);
    }
    return;
  }
  int64_t r = r0;
  if (n >= 3) {
    CompatTile tile;
    for (; r + 8 <= r1; r += 8) {
      build_tile(type, w, row_bytes, r, cols, scratch, tile);
      int64_t t = 0;
      for (; t + 4 <= n; t += 4) tile_tokens<4>(tile, nb, x + t * nb, xi + t * nb, y + t * rows + r, rows, 8);
      for (; t < n; ++t) tile_tokens<1>(tile, nb, x + t * nb, xi + t * nb, y + t * rows + r, rows, 8);
    }
  }
  // Decode of the other types, and rows left over from whole tiles.
  auto* chunks = reinterpret_cast<CompatChunk*>(align64(scratch));
  auto* codes = reinterpret_cast<int8_t*>(chunks + nb);
  for (; r < r1; ++r) {
    unpack_compat(type, w + uint64_t(r) * row_bytes, cols, codes, chunks);
    dot_compat(codes, chunks, nb, x, xi, n, y + r, rows);
  }
}

const KernelTable kTable{CpuLevel::Avx2,     gemm_packed<false>, gemm_packed<true>,    gemm_float,
                         quantize_act,       dequant_group<false>, dequant_group<true>, unpack_compat,
                         dot_compat,         rows_compat};

}  // namespace

void avx2_dequant_q8_0(const uint8_t* group, int64_t nb, int64_t count, int64_t cols, float* out) {
  dequant_group<false>(group, nb, count, cols, out);
}
void avx2_dequant_q4_0(const uint8_t* group, int64_t nb, int64_t count, int64_t cols, float* out) {
  dequant_group<true>(group, nb, count, cols, out);
}

bool avx2_quantize_act(const float* x, int64_t nb, BlockQ8_0* y, ActBlockInfo* info) {
  return quantize_act(x, nb, y, info);
}

void avx2_unpack_compat(TensorType type, const void* blocks, int64_t n, int8_t* codes, CompatChunk* chunks) {
  unpack_compat(type, blocks, n, codes, chunks);
}
void avx2_dot_compat(const int8_t* codes, const CompatChunk* chunks, int64_t nb, const BlockQ8_0* x,
                     const ActBlockInfo* xi, int64_t n, float* y, int64_t y_stride) {
  dot_compat(codes, chunks, nb, x, xi, n, y, y_stride);
}

void avx2_rows_compat(TensorType type, const uint8_t* w, uint64_t row_bytes, int64_t r0, int64_t r1, int64_t cols,
                      const BlockQ8_0* x, const ActBlockInfo* xi, int64_t n, float* y, int64_t rows, uint8_t* scratch) {
  rows_compat(type, w, row_bytes, r0, r1, cols, x, xi, n, y, rows, scratch);
}

void avx2_gemm_float(TensorType type, const void* w, int64_t rows, int64_t cols, int64_t r0, int64_t r1,
                     const float* x, int64_t n, float* y) {
  gemm_float(type, w, rows, cols, r0, r1, x, n, y);
}

const KernelTable* avx2_kernels() { return &kTable; }

}  // namespace qat

#else
namespace qat {
const KernelTable* avx2_kernels() { return nullptr; }
}  // namespace qat
#endif
