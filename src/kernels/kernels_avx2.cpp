// AVX2 + FMA + F16C level (compiled with those flags only; see kernel_table.h
// for why this file uses nothing but intrinsics and raw pointers).
#include "kernels/kernel_table.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include "kernels/avx2_helpers.h"
#include "kernels/quant_pack.h"

namespace qat {

namespace {

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
// pair sums <= 2*128*127 = 32512 do not saturate (dot_add_u8s8).
template <int NT>
void q8_tile(const uint8_t* gw, int64_t nb, const BlockQ8_0* x, const ActBlockInfo* xi, float* y, int64_t ldy,
             int64_t nrows) {
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
        s32[t] = dot_add_u8s8(s32[t], aw, a);
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
#define QAT_Q8_STEP(s, xt) s = dot_add_u8s8(s, aw, _mm256_sign_epi8(bcast4(xt[b].qs + 4 * c), w))
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
                 const uint8_t*, int64_t n, float* y, int64_t rows) {
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

// ---- C (m, n) = A (m, k) B (k, n), B's columns contiguous: row tiles of up
// to 4 rows x 16 columns (2 registers), p in order, A broadcast. Partial
// column blocks load and store through lane masks.
inline __m256i lane_mask(int64_t valid) {
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(int(valid < 8 ? valid : 8)), idx);
}

template <int MR>
void nn_tile(const float* a, int64_t a_rs, int64_t a_cs, const float* b, int64_t ldb, float* c, int64_t ldc, int64_t k,
             int64_t nvalid) {
  const __m256i m0 = lane_mask(nvalid), m1 = lane_mask(nvalid - 8);
  __m256 acc[MR][2];
  for (int r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
  for (int64_t p = 0; p < k; ++p) {
    const __m256 b0 = _mm256_maskload_ps(b + p * ldb, m0), b1 = _mm256_maskload_ps(b + p * ldb + 8, m1);
    for (int r = 0; r < MR; ++r) {
      const __m256 av = _mm256_broadcast_ss(a + r * a_rs + p * a_cs);
      acc[r][0] = _mm256_fmadd_ps(av, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(av, b1, acc[r][1]);
    }
  }
  for (int r = 0; r < MR; ++r) {
    _mm256_maskstore_ps(c + r * ldc, m0, acc[r][0]);
    _mm256_maskstore_ps(c + r * ldc + 8, m1, acc[r][1]);
  }
}

void gemm_nn_f32(const float* a, int64_t a_rs, int64_t a_cs, const float* b, int64_t ldb, float* c, int64_t ldc,
                 int64_t m, int64_t k, int64_t n) {
  for (int64_t i = 0; i < m; i += 4) {
    const int64_t mr = m - i < 4 ? m - i : 4;
    for (int64_t j = 0; j < n; j += 16) {
      const float* ai = a + i * a_rs;
      float* cij = c + i * ldc + j;
      const int64_t nv = n - j;
      switch (mr) {
        case 4: nn_tile<4>(ai, a_rs, a_cs, b + j, ldb, cij, ldc, k, nv); break;
        case 3: nn_tile<3>(ai, a_rs, a_cs, b + j, ldb, cij, ldc, k, nv); break;
        case 2: nn_tile<2>(ai, a_rs, a_cs, b + j, ldb, cij, ldc, k, nv); break;
        default: nn_tile<1>(ai, a_rs, a_cs, b + j, ldb, cij, ldc, k, nv); break;
      }
    }
  }
}

// ---- Activations to Q8_0, byte-identical to quantize_row_q8_0: the same
// float ops (amax, d = amax / 127, id = 1 / d, x * id without FMA), and C
// roundf's half-away-from-zero done exactly as trunc plus a sign step where
// the dropped fraction is >= 0.5.
// roundf(v * id) (half away from zero) as trunc(p + copysign(0.49999997, p)):
// equal for every float of magnitude below 128, and codes stay within +-127.5
// (the same identity the AVX-512 quantizer uses; tested against the scalar
// reference).
inline __m256i round_codes(__m256 v, __m256 id) {
  const __m256 p = _mm256_mul_ps(v, id);
  const __m256 half = _mm256_or_ps(_mm256_and_ps(p, _mm256_set1_ps(-0.0f)), _mm256_set1_ps(0.49999997f));
  return _mm256_cvttps_epi32(_mm256_add_ps(p, half));
}

// Lane i = the largest lane of m[i]: 8 horizontal maxima as one vector.
inline __m256 max_of_each(const __m256 m[8]) {
  const __m256 s01 = _mm256_max_ps(_mm256_unpacklo_ps(m[0], m[1]), _mm256_unpackhi_ps(m[0], m[1]));
  const __m256 s23 = _mm256_max_ps(_mm256_unpacklo_ps(m[2], m[3]), _mm256_unpackhi_ps(m[2], m[3]));
  const __m256 s45 = _mm256_max_ps(_mm256_unpacklo_ps(m[4], m[5]), _mm256_unpackhi_ps(m[4], m[5]));
  const __m256 s67 = _mm256_max_ps(_mm256_unpacklo_ps(m[6], m[7]), _mm256_unpackhi_ps(m[6], m[7]));
  // Per 128-bit half: [0 1 2 3] and [4 5 6 7], each the maximum of its half's lanes.
  const __m256 t03 = _mm256_max_ps(_mm256_shuffle_ps(s01, s23, 0x44), _mm256_shuffle_ps(s01, s23, 0xee));
  const __m256 t47 = _mm256_max_ps(_mm256_shuffle_ps(s45, s67, 0x44), _mm256_shuffle_ps(s45, s67, 0xee));
  return _mm256_max_ps(_mm256_permute2f128_ps(t03, t47, 0x20), _mm256_permute2f128_ps(t03, t47, 0x31));
}

// Eight blocks at a time: their scales d = amax / 127, 1 / d and fp16 bits
// are one vector operation each. Block by block, the two scalar divisions and
// the horizontal maximum were a latency chain of ~70 cycles a block.
bool quantize_act(const float* x, int64_t nb, BlockQ8_0* y, ActBlockInfo* info) {
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  const __m256 fmax = _mm256_set1_ps(3.40282347e38f);
  alignas(32) float ids[8], ds[8];
  alignas(16) uint16_t dh[8];
  for (int64_t b0 = 0; b0 < nb; b0 += 8, x += 8 * 32) {
    const int cnt = nb - b0 < 8 ? int(nb - b0) : 8;
    __m256 m[8], bad = _mm256_setzero_ps();
    for (int i = 0; i < 8; ++i) {
      m[i] = _mm256_setzero_ps();
      if (i >= cnt) continue;
      for (int k = 0; k < 4; ++k) {
        const __m256 a = _mm256_and_ps(_mm256_loadu_ps(x + 32 * i + 8 * k), abs_mask);
        bad = _mm256_or_ps(bad, _mm256_cmp_ps(a, fmax, _CMP_NLE_UQ));  // NaN or inf
        m[i] = _mm256_max_ps(m[i], a);
      }
    }
    if (_mm256_movemask_ps(bad)) return false;
    const __m256 d = _mm256_div_ps(max_of_each(m), _mm256_set1_ps(127.0f));
    const __m256 nonzero = _mm256_cmp_ps(d, _mm256_setzero_ps(), _CMP_NEQ_OQ);
    _mm256_store_ps(ids, _mm256_and_ps(nonzero, _mm256_div_ps(_mm256_set1_ps(1.0f), d)));
    // F16C's round-to-nearest-even conversion gives f32_to_fp16's bits for
    // every float but NaN (checked over all 2^32 inputs).
    const __m128i h = _mm256_cvtps_ph(d, _MM_FROUND_TO_NEAREST_INT);
    _mm_store_si128(reinterpret_cast<__m128i*>(dh), h);
    _mm256_store_ps(ds, _mm256_cvtph_ps(h));
    for (int i = 0; i < cnt; ++i) {
      BlockQ8_0& yb = y[b0 + i];
      ActBlockInfo& ib = info[b0 + i];
      yb.d_fp16 = dh[i];
      ib.d = ds[i];
      if (!(ids[i] <= 3.40282347e38f)) {  // 1/d overflowed: the reference writes zeros
        for (int k = 0; k < 32; ++k) yb.qs[k] = 0;
        ib.sum = ib.sum_lo = 0;
        continue;
      }
      const float* xb = x + 32 * i;
      const __m256 vid = _mm256_set1_ps(ids[i]);
      const __m256i i0 = round_codes(_mm256_loadu_ps(xb), vid), i1 = round_codes(_mm256_loadu_ps(xb + 8), vid);
      const __m256i i2 = round_codes(_mm256_loadu_ps(xb + 16), vid), i3 = round_codes(_mm256_loadu_ps(xb + 24), vid);
      // int32 -> int8 (values within -127..127, no saturation), then undo the
      // per-128-bit-lane interleave of the packs.
      const __m256i p16 = _mm256_packs_epi32(i0, i1), q16 = _mm256_packs_epi32(i2, i3);
      const __m256i p8 = _mm256_packs_epi16(p16, q16);
      const __m256i codes = _mm256_permutevar8x32_epi32(p8, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(yb.qs), codes);
      // Codes 0..15 are i0, i1; 16..31 are i2, i3. Both halves' sums reduced together.
      const __m256i lo = _mm256_add_epi32(i0, i1), hi = _mm256_add_epi32(i2, i3);
      __m256i sm = _mm256_hadd_epi32(lo, hi);  // lo pairs, hi pairs (per 128-bit half)
      sm = _mm256_hadd_epi32(sm, sm);          // lanes 0, 1: lo, hi quads (each half)
      const __m128i s2 = _mm_add_epi32(_mm256_castsi256_si128(sm), _mm256_extracti128_si256(sm, 1));
      ib.sum_lo = _mm_cvtsi128_si32(s2);
      ib.sum = ib.sum_lo + _mm_extract_epi32(s2, 1);
    }
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

const KernelTable kTable{CpuLevel::Avx2,     gemm_packed<false>, gemm_packed<true>,    gemm_float,
                         quantize_act,       dequant_group<false>, dequant_group<true>, avx2_unpack_compat,
                         avx2_dot_compat,    avx2_rows_compat,     gemm_nn_f32,         nullptr,
                         0};

}  // namespace

void avx2_dequant_q8_0(const uint8_t* group, int64_t nb, int64_t count, int64_t cols, float* out) {
  dequant_group<false>(group, nb, count, cols, out);
}
void avx2_dequant_q4_0(const uint8_t* group, int64_t nb, int64_t count, int64_t cols, float* out) {
  dequant_group<true>(group, nb, count, cols, out);
}

void avx2_gemm_q8_0(const uint8_t* w, int64_t nb, int64_t g0, int64_t g1, const BlockQ8_0* x, const ActBlockInfo* xi,
                    const uint8_t* tiles, int64_t n, float* y, int64_t rows) {
  gemm_packed<false>(w, nb, g0, g1, x, xi, tiles, n, y, rows);
}
void avx2_gemm_q4_0(const uint8_t* w, int64_t nb, int64_t g0, int64_t g1, const BlockQ8_0* x, const ActBlockInfo* xi,
                    const uint8_t* tiles, int64_t n, float* y, int64_t rows) {
  gemm_packed<true>(w, nb, g0, g1, x, xi, tiles, n, y, rows);
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
