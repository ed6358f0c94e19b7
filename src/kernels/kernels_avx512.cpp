// AVX-512 (F/BW/VL) + VNNI level (compiled with those flags only; see
// kernel_table.h for why this file uses nothing but intrinsics and raw
// pointers). In the prompt tiles two 8-row groups fill one 512-bit
// register: lanes 0-7 are group g's rows, lanes 8-15 group g+1's, which are
// the next 8 rows of y; the one-token decode kernels (q4_decode_group,
// q8_decode_group) hold two chunks of one group instead.
//
// vpdpbusd multiplies unsigned by signed bytes and sums four products into an
// int32 lane without intermediate saturation, so both weight types become
// unsigned with an offset that comes back through the activation block sums:
//   Q4_0: nibble q in 0..15:        sum (q - 8) a   = sum q a   - 8 sum a
//   Q8_0: w ^ 0x80 = w + 128 in 0..255: sum w a = sum (w+128) a - 128 sum a
// Both exact for every code.
#include "kernels/kernel_table.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include "kernels/avx2_helpers.h"
#include "kernels/avx512_helpers.h"
#include "kernels/compat_decode_avx512.h"
#include "kernels/compat_prompt_avx512.h"
#include "kernels/quant_pack.h"

namespace qat {

namespace {

// 32 bytes of group A and 32 of group B side by side.
inline __m512i load_pair(const uint8_t* a, const uint8_t* b) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a))),
                            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b)), 1);
}

inline __m512 load_scales(const uint8_t* a, const uint8_t* b) {
  const __m256i h = _mm256_inserti128_si256(
      _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a))),
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(b)), 1);
  return _mm512_cvtph_ps(h);
}

// A tile's activations, block-major so that one pointer and constant
// offsets reach every token (NT token pointers did not fit the general
// registers; GCC spilled them): for block b, token t of the tile,
//   qs[b][t][32]          the Q8_0 codes,
//   init8[b][t], init4[b][t]  where the token's integer sum starts for Q8_0
//                         and Q4_0 weights (see below),
//   d[b][t]               the block's scale.
// Tiles follow each other in the order for_each_token_tile gives.
//
// Integer block sums become floats by the 1.5 * 2^23 start (kMagicBits,
// avx512_helpers.h; here |s| <= 32 * 128 * 127 < 2^19). The start also
// carries the offset correction (8 or 128 times the activation block's sum),
// which the unsigned weight codes add back. On AMD Zen 4 a conversion, a float multiply and a broadcast from a
// general register each take a slot of the two pipes that run vpdpbusd;
// integer adds, float subtractions and broadcasts from memory do not.
constexpr int64_t kActBytes = 32 + 3 * 4;  // per token and block

// Products of at most this many tokens (decode) run the AVX2 kernels, which
// read x and xi; the packed tiles are neither made nor read for them.
constexpr int64_t kDecodeMaxTokens = 2;

template <int NT>
void pack_tile(const BlockQ8_0* x, const ActBlockInfo* xi, int64_t nb, uint8_t* out) {
  int8_t* qs = reinterpret_cast<int8_t*>(out);
  int32_t* init8 = reinterpret_cast<int32_t*>(out + nb * NT * 32);
  int32_t* init4 = init8 + nb * NT;
  float* d = reinterpret_cast<float*>(init4 + nb * NT);
  for (int64_t b = 0; b < nb; ++b)
    for (int t = 0; t < NT; ++t) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(qs + (b * NT + t) * 32),
                          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[t * nb + b].qs)));
      init8[b * NT + t] = kMagicBits - 128 * xi[t * nb + b].sum;
      init4[b * NT + t] = kMagicBits - 8 * xi[t * nb + b].sum;
      d[b * NT + t] = xi[t * nb + b].d;
    }
}

// Token tiles as for_each_token_tile (avx512_helpers.h) gives them: token
// t's tile starts t * nb * kActBytes bytes into pack_act_tiles's output.
void pack_act_tiles(const BlockQ8_0* x, const ActBlockInfo* xi, int64_t n, int64_t nb, uint8_t* out) {
  if (n <= kDecodeMaxTokens) return;
  for_each_token_tile(n, [&](auto nt, int64_t t) {
    pack_tile<decltype(nt)::value>(x + t * nb, xi + t * nb, nb, out + t * nb * kActBytes);
  });
}

// ga, gb: the two groups' weights (gb == ga for a lone last group, whose
// upper lanes are then not stored). acts: pack_tile's NT tokens.
// nrows: rows of y left from ga's first row.
template <bool kQ4, int NT>
void tile(const uint8_t* ga, const uint8_t* gb, int64_t nb, const uint8_t* acts, float* y, int64_t ldy,
          int64_t nrows) {
  constexpr int64_t kBlk = kQ4 ? 144 : 272;
  const __m512i m4 = _mm512_set1_epi8(0x0f);
  const __m512i flip = _mm512_set1_epi8(char(0x80));
  const __m512 magic = _mm512_set1_ps(kMagic);
  const int8_t* qs = reinterpret_cast<const int8_t*>(acts);
  const int32_t* init = reinterpret_cast<const int32_t*>(acts + nb * NT * 32) + (kQ4 ? nb * NT : 0);
  const float* d = reinterpret_cast<const float*>(acts + nb * NT * 32) + 2 * nb * NT;
  __m512 acc[NT];
#pragma GCC unroll 8
  for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b, qs += NT * 32, init += NT, d += NT) {
    const uint8_t* ba = ga + b * kBlk;
    const uint8_t* bb = gb + b * kBlk;
    const __m512 dw = load_scales(ba, bb);
    __m512i s[NT];
#pragma GCC unroll 8
    for (int t = 0; t < NT; ++t) s[t] = _mm512_set1_epi32(init[t]);
    if (kQ4) {
      for (int g = 0; g < 4; ++g) {
        const __m512i raw = load_pair(ba + 16 + 32 * g, bb + 16 + 32 * g);
        const __m512i lo = _mm512_and_si512(raw, m4);
        const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(raw, 4), m4);
#pragma GCC unroll 8
        for (int t = 0; t < NT; ++t) {
          s[t] = dpbusd_bcast(s[t], lo, qs + t * 32 + 4 * g);
          s[t] = dpbusd_bcast(s[t], hi, qs + t * 32 + 16 + 4 * g);
        }
      }
    } else {
      for (int c = 0; c < 8; ++c) {
        const __m512i w = _mm512_xor_si512(load_pair(ba + 16 + 32 * c, bb + 16 + 32 * c), flip);
#pragma GCC unroll 8
        for (int t = 0; t < NT; ++t) s[t] = dpbusd_bcast(s[t], w, qs + t * 32 + 4 * c);
      }
    }
#pragma GCC unroll 8
    for (int t = 0; t < NT; ++t) {
      const __m512 scale = _mm512_mul_ps(dw, _mm512_set1_ps(d[t]));
      acc[t] = _mm512_fmadd_ps(_mm512_sub_ps(_mm512_castsi512_ps(s[t]), magic), scale, acc[t]);
    }
  }
  const int lanes = nrows >= 16 ? 16 : int(nrows);
  const __mmask16 mask = __mmask16((1u << lanes) - 1u);
#pragma GCC unroll 8
  for (int t = 0; t < NT; ++t) _mm512_mask_storeu_ps(y + t * ldy, mask, acc[t]);
}

// acc (the group's 8 rows) += d_w * d_a * (s's lanes i and i + 8 added,
// less the unsigned codes' offset): the AVX2 decode tiles' float steps.
inline __m256 add_block(__m256 acc, __m512i s, int32_t offset, const uint8_t* blk, float d) {
  const __m256i s8 = _mm256_sub_epi32(_mm256_add_epi32(_mm512_castsi512_si256(s), _mm512_extracti64x4_epi64(s, 1)),
                                      _mm256_set1_epi32(offset));
  const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk)));
  return _mm256_fmadd_ps(_mm256_cvtepi32_ps(s8), _mm256_mul_ps(dw, _mm256_set1_ps(d)), acc);
}

// One token's Q4_0 product, one 8-row group at a time (one stream with the
// AVX2 kernels' software prefetch), two of a block's four 32-byte chunks per
// 512-bit register: lanes 0-7 are chunk c's rows, lanes 8-15 chunk c + 1's,
// and vpermd gives each half its four activation bytes. Lanes i and i + 8
// are added before a block's integer sum becomes a float, so each row's
// result is the AVX2 kernel's (q4_tile<1>) bit for bit, with about half its
// instructions per weight byte; decode is streaming, and fewer instructions
// per byte keep more of the weight stream in flight (BM_DecodeSequence).
void q4_decode_group(const uint8_t* gw, int64_t nb, const BlockQ8_0* x, const ActBlockInfo* xi, float* y,
                     int64_t nrows) {
  const __m512i m4 = _mm512_set1_epi8(0x0f);
  // Low nibbles of chunks 0 and 1 take activation dwords 0 and 1 (elements
  // 0-7), their high nibbles dwords 4 and 5 (elements 16-23); chunks 2, 3
  // likewise dwords 2, 3 and 6, 7.
  const __m512i lo01 = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
  const __m512i hi01 = _mm512_add_epi32(lo01, _mm512_set1_epi32(4));
  const __m512i lo23 = _mm512_add_epi32(lo01, _mm512_set1_epi32(2));
  const __m512i hi23 = _mm512_add_epi32(lo01, _mm512_set1_epi32(6));
  __m256 acc = _mm256_setzero_ps();
  // The software prefetch distance: 8 KiB for rows of 1024 or more, else
  // the AVX2 kernels' 4 KiB. On the Intel Xeon (stop 30, two threads) 8 KiB
  // took the 1B products (BM_DecodeSequence, 8 alternating rounds) from 24.1
  // to 22.4 ms a token and 1B decode from 39.7 to 42.2-43.0 t/s, but 270M
  // decode (its 640-wide rows, 262144 x 640 output) from 147.9-151.9 to
  // 143.6-145.5; one thread was unchanged either way. 12 and 16 KiB were no
  // better. Q8_0's kernel below lost 5 % on one thread at 8 KiB.
  const int64_t ahead = nb >= 32 ? 8192 : 4096;
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = gw + b * 144;
    prefetch_block(blk, 144, ahead);
    const __m512i a = _mm512_zextsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs)));
    const __m512i c01 = _mm512_loadu_si512(blk + 16), c23 = _mm512_loadu_si512(blk + 80);
    __m512i s = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_and_si512(c01, m4), _mm512_permutexvar_epi32(lo01, a));
    __m512i t = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_and_si512(c23, m4), _mm512_permutexvar_epi32(lo23, a));
    s = _mm512_dpbusd_epi32(s, _mm512_and_si512(_mm512_srli_epi16(c01, 4), m4), _mm512_permutexvar_epi32(hi01, a));
    t = _mm512_dpbusd_epi32(t, _mm512_and_si512(_mm512_srli_epi16(c23, 4), m4), _mm512_permutexvar_epi32(hi23, a));
    acc = add_block(acc, _mm512_add_epi32(s, t), 8 * xi[b].sum, blk, xi[b].d);
  }
  store_rows(y, acc, nrows);
}

// The same for Q8_0 (kept apart from q4_decode_group: one template for both,
// tried in stop 29's review, made Q4_0 decode 2-6 % slower in BM_DecodeSequence
// on one thread, four alternating runs). Four 64-byte loads hold a block's eight chunks, each
// pair's activation dwords c and c + 1 again by vpermd; codes w ^ 0x80 =
// w + 128 are unsigned and 128 * sum(a) comes off (as the prompt tile does).
void q8_decode_group(const uint8_t* gw, int64_t nb, const BlockQ8_0* x, const ActBlockInfo* xi, float* y,
                     int64_t nrows) {
  const __m512i flip = _mm512_set1_epi8(char(0x80));
  const __m512i p01 = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
  const __m512i p23 = _mm512_add_epi32(p01, _mm512_set1_epi32(2));
  const __m512i p45 = _mm512_add_epi32(p01, _mm512_set1_epi32(4));
  const __m512i p67 = _mm512_add_epi32(p01, _mm512_set1_epi32(6));
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = gw + b * 272;
    prefetch_block(blk, 272);
    const __m512i a = _mm512_zextsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs)));
    auto codes = [&](int c) { return _mm512_xor_si512(_mm512_loadu_si512(blk + 16 + 32 * c), flip); };
    __m512i s = _mm512_dpbusd_epi32(_mm512_setzero_si512(), codes(0), _mm512_permutexvar_epi32(p01, a));
    __m512i t = _mm512_dpbusd_epi32(_mm512_setzero_si512(), codes(2), _mm512_permutexvar_epi32(p23, a));
    s = _mm512_dpbusd_epi32(s, codes(4), _mm512_permutexvar_epi32(p45, a));
    t = _mm512_dpbusd_epi32(t, codes(6), _mm512_permutexvar_epi32(p67, a));
    acc = add_block(acc, _mm512_add_epi32(s, t), 128 * xi[b].sum, blk, xi[b].d);
  }
  store_rows(y, acc, nrows);
}

template <bool kQ4>
void gemm_packed(const uint8_t* w, int64_t nb, int64_t g0, int64_t g1, const BlockQ8_0* x, const ActBlockInfo* xi,
                 const uint8_t* tiles, int64_t n, float* y, int64_t rows) {
  // Decode streams the weights from DRAM once per token, one 8-row group at
  // a time: this tile (two groups side by side) streamed the 262144 x 640
  // output projection half as fast as the AVX2 kernel on an AMD EPYC
  // (bench_quant_matmul, one thread: Q8_0 15.0 vs 7.0 ms, Q4_0 8.0 vs 3.9 ms;
  // stop-20 tile, 1B decode Q8_0 17.3 vs 26.7 t/s), although it wins 1.3-1.5x
  // on cache-resident matrices and prompts 1.4-2.5x. One token runs the
  // one-group 512-bit kernels above; two run the AVX2 kernels. On an Intel
  // Xeon (stop 29, BM_DecodeSequence, 1B shapes) the 512-bit one-token
  // kernels took Q4_0 from 47.4 to 40.5-41.3 ms a token on one thread and
  // from 26.9-27.8 to 24.3-25.4 ms on two; Q8_0 2-9 % (not measured on AMD).
  if (n == 1) {
    for (int64_t g = g0; g < g1; ++g)
      (kQ4 ? q4_decode_group : q8_decode_group)(w + g * (kQ4 ? 144 : 272) * nb, nb, x, xi, y + g * kPackRows,
                                                rows - g * kPackRows);
    return;
  }
  if (n <= kDecodeMaxTokens) return (kQ4 ? avx2_gemm_q4_0 : avx2_gemm_q8_0)(w, nb, g0, g1, x, xi, tiles, n, y, rows);
  const int64_t gbytes = (kQ4 ? 144 : 272) * nb;
  // Groups outside, tokens inside: a pair of groups' weights (nb * 544
  // bytes) stays in L1 while the token tiles pass.
  for (int64_t g = g0; g < g1; g += 2) {
    const uint8_t* ga = w + g * gbytes;
    const uint8_t* gb = g + 1 < g1 ? ga + gbytes : ga;
    // A lone group must not write the next group's rows (another thread's).
    const int64_t nrows = g + 1 < g1 ? rows - g * kPackRows : (rows - g * kPackRows < 8 ? rows - g * kPackRows : 8);
    float* yg = y + g * kPackRows;
    for_each_token_tile(n, [&](auto nt, int64_t t) {
      tile<kQ4, decltype(nt)::value>(ga, gb, nb, tiles + t * nb * kActBytes, yg + t * rows, rows, nrows);
    });
  }
}

// Compat weights: Q4_K, Q5_K and Q6_K decode (1-2 tokens) through the 512-bit VNNI
// kernels (kernels_compat_decode_avx512.cpp), every type's prompts (3 or
// more tokens) through the 16-row VNNI tile (kernels_compat_prompt_avx512.cpp);
// the other types' decode through the AVX2 code.
void rows_compat(TensorType type, const uint8_t* w, uint64_t row_bytes, int64_t r0, int64_t r1, int64_t cols,
                 const BlockQ8_0* x, const ActBlockInfo* xi, int64_t n, float* y, int64_t rows, uint8_t* scratch) {
  if (n <= 2 && avx512_compat_decode_rows(type, w, row_bytes, r0, r1, cols / 32, x, xi, n, y, rows, scratch)) return;
  if (avx512_compat_prompt_rows(type, w, row_bytes, r0, r1, cols, x, xi, n, y, rows, scratch)) return;
  avx2_rows_compat(type, w, row_bytes, r0, r1, cols, x, xi, n, y, rows, scratch);
}

// ---- Activations to Q8_0, byte-identical to quantize_row_q8_0: amax,
// d = amax / 127, id = 1 / d, codes = roundf(x * id), 16 blocks at a time so
// that the per-block scalars (amax's reduction, both divisions, the fp16
// conversion) run as one vector each; cross-lane reductions, not
// arithmetic, were what a block cost (14 ns a block one at a time, 7.4 here,
// 5.9 with the rounding below; BM_QuantizeActivations in bench_quant_matmul).
//
// roundf (halves away from zero) as trunc(p + copysign(0.49999997, p)):
// exact for |p| < 2^23, and codes are within +-127. A fraction below 1/2 is
// at least one ulp of p below it, and adding 1/2 - 2^-25 cannot carry it to
// the next integer; a fraction of exactly 1/2 lands 2^-25 below it and
// rounds up to it (checked against roundf for every float of magnitude
// below 128). Four operations where trunc, compare and a step took nine.
inline __m512i round_codes(__m512 v, __m512 id) {
  const __m512 p = _mm512_mul_ps(v, id);
  // (p & sign) | 0.49999997f
  const __m512i half = _mm512_ternarylogic_epi32(_mm512_castps_si512(p), _mm512_set1_epi32(int32_t(0x80000000u)),
                                                 _mm512_set1_epi32(0x3EFFFFFF), 0xEA);
  return _mm512_cvttps_epi32(_mm512_add_ps(p, _mm512_castsi512_ps(half)));
}

// Lane k of the result = the max of m[k]'s 16 lanes (a transpose by halves).
inline __m512 max_of_each(const __m512* m) {
  __m512 r1[8], r2[4], r3[2];
  for (int j = 0; j < 8; ++j)
    r1[j] = _mm512_max_ps(_mm512_unpacklo_ps(m[2 * j], m[2 * j + 1]), _mm512_unpackhi_ps(m[2 * j], m[2 * j + 1]));
  for (int j = 0; j < 4; ++j) {
    const __m512d a = _mm512_castps_pd(r1[2 * j]), b = _mm512_castps_pd(r1[2 * j + 1]);
    r2[j] = _mm512_max_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(a, b)), _mm512_castpd_ps(_mm512_unpackhi_pd(a, b)));
  }
  for (int j = 0; j < 2; ++j)
    r3[j] = _mm512_max_ps(_mm512_shuffle_f32x4(r2[2 * j], r2[2 * j + 1], 0x88),
                          _mm512_shuffle_f32x4(r2[2 * j], r2[2 * j + 1], 0xdd));
  return _mm512_max_ps(_mm512_shuffle_f32x4(r3[0], r3[1], 0x88), _mm512_shuffle_f32x4(r3[0], r3[1], 0xdd));
}

bool quantize_act(const float* x, int64_t nb, BlockQ8_0* y, ActBlockInfo* info) {
  const __m512 fmax = _mm512_set1_ps(3.40282347e38f);
  const __m512i bias = _mm512_set1_epi8(char(0x80));
  const __m512i unpack_order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  alignas(64) float ids[16], ds[16];
  alignas(32) uint16_t dh[16];
  for (int64_t b0 = 0; b0 < nb; b0 += 16, x += 16 * 32) {
    const int cnt = nb - b0 < 16 ? int(nb - b0) : 16;
    __m512 m[16];
    __mmask16 bad = 0;
    for (int i = 0; i < 16; ++i) {
      if (i >= cnt) {
        m[i] = _mm512_setzero_ps();
        continue;
      }
      const __m512 a0 = _mm512_abs_ps(_mm512_loadu_ps(x + 32 * i));
      const __m512 a1 = _mm512_abs_ps(_mm512_loadu_ps(x + 32 * i + 16));
      bad |= _mm512_cmp_ps_mask(a0, fmax, _CMP_NLE_UQ) | _mm512_cmp_ps_mask(a1, fmax, _CMP_NLE_UQ);  // NaN, inf
      m[i] = _mm512_max_ps(a0, a1);
    }
    if (bad) return false;
    const __m512 d = _mm512_div_ps(max_of_each(m), _mm512_set1_ps(127.0f));
    const __mmask16 nonzero = _mm512_cmp_ps_mask(d, _mm512_setzero_ps(), _CMP_NEQ_OQ);
    _mm512_store_ps(ids, _mm512_maskz_div_ps(nonzero, _mm512_set1_ps(1.0f), d));
    // F16C's round-to-nearest-even conversion gives f32_to_fp16's bits for
    // every float but NaN (checked over all 2^32 inputs).
    const __m256i h = _mm512_cvtps_ph(d, _MM_FROUND_TO_NEAREST_INT);
    _mm256_store_si256(reinterpret_cast<__m256i*>(dh), h);
    _mm512_store_ps(ds, _mm512_cvtph_ps(h));
    // Two blocks at a time: the codes narrow to bytes by two saturating
    // packs and one dword permute for both (two vpmovdb, two uops each, per
    // block before), and one 512-bit sad sums both blocks' quarters. Intel
    // Xeon, stop 30: 6.8-7.1 -> 6.6-6.7 ns a block (3 alternating runs).
    for (int i = 0; i < cnt; i += 2) {
      const bool two = i + 1 < cnt;
      const float* xb = x + 32 * i;
      const __m512 id0 = _mm512_set1_ps(ids[i]), id1 = _mm512_set1_ps(two ? ids[i + 1] : 0.0f);
      const __m512i i0 = round_codes(_mm512_loadu_ps(xb), id0), i1 = round_codes(_mm512_loadu_ps(xb + 16), id0);
      const __m512i i2 = two ? round_codes(_mm512_loadu_ps(xb + 32), id1) : _mm512_setzero_si512();
      const __m512i i3 = two ? round_codes(_mm512_loadu_ps(xb + 48), id1) : _mm512_setzero_si512();
      // Codes are within -127..127, so neither pack saturates. Each 128-bit
      // lane k then holds elements 4k..4k+3 of i0, i1, i2, i3 in that order.
      const __m512i packed = _mm512_packs_epi16(_mm512_packs_epi32(i0, i1), _mm512_packs_epi32(i2, i3));
      __m512i codes = _mm512_permutexvar_epi32(unpack_order, packed);  // block i, then block i + 1
      // 1/d overflowed: the reference writes zeros.
      const __mmask64 keep = (ids[i] <= 3.40282347e38f ? 0xffffffffull : 0) |
                             (two && ids[i + 1] <= 3.40282347e38f ? 0xffffffff00000000ull : 0);
      codes = _mm512_maskz_mov_epi8(keep, codes);
      // Sums of 8 codes (each + 128) per 64-bit lane: four per block.
      alignas(64) uint64_t q[8];
      _mm512_store_si512(q, _mm512_sad_epu8(_mm512_xor_si512(codes, bias), _mm512_setzero_si512()));
      for (int j = 0; j < (two ? 2 : 1); ++j) {
        BlockQ8_0& yb = y[b0 + i + j];
        ActBlockInfo& ib = info[b0 + i + j];
        yb.d_fp16 = dh[i + j];
        ib.d = ds[i + j];
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(yb.qs),
                            j == 0 ? _mm512_castsi512_si256(codes) : _mm512_extracti64x4_epi64(codes, 1));
        ib.sum_lo = int32_t(q[4 * j] + q[4 * j + 1]) - 16 * 128;
        ib.sum = ib.sum_lo + int32_t(q[4 * j + 2] + q[4 * j + 3]) - 16 * 128;
      }
    }
  }
  return true;
}

// C (m, n) = A (m, k) B (k, n), B's columns contiguous: tiles of MR rows (8
// when one register holds all columns, else up to 4) x NQ registers of 16
// columns, p in order, A broadcast; the last column block loads and stores
// through lane masks.
inline __mmask16 lanes(int64_t valid) {
  return valid >= 16 ? __mmask16(0xffff) : valid <= 0 ? __mmask16(0) : __mmask16((1u << valid) - 1);
}

template <int MR, int NQ>
void nn_tile(const float* a, int64_t a_rs, int64_t a_cs, const float* b, int64_t ldb, float* c, int64_t ldc, int64_t k,
             int64_t nvalid) {
  // Every loop over r and q is unrolled before register allocation: without
  // the pragmas GCC 12 kept acc in memory and stored all of it each p step.
  __mmask16 mk[NQ];
#pragma GCC unroll 4
  for (int q = 0; q < NQ; ++q) mk[q] = lanes(nvalid - 16 * q);
  __m512 acc[MR][NQ];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int q = 0; q < NQ; ++q) acc[r][q] = _mm512_setzero_ps();
  for (int64_t p = 0; p < k; ++p) {
    __m512 bv[NQ];
#pragma GCC unroll 4
    for (int q = 0; q < NQ; ++q) bv[q] = _mm512_maskz_loadu_ps(mk[q], b + p * ldb + 16 * q);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const __m512 av = _mm512_set1_ps(a[r * a_rs + p * a_cs]);
#pragma GCC unroll 4
      for (int q = 0; q < NQ; ++q) acc[r][q] = _mm512_fmadd_ps(av, bv[q], acc[r][q]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int q = 0; q < NQ; ++q) _mm512_mask_storeu_ps(c + r * ldc + 16 * q, mk[q], acc[r][q]);
}

template <int MR>
void nn_rows(const float* a, int64_t a_rs, int64_t a_cs, const float* b, int64_t ldb, float* c, int64_t ldc, int64_t k,
             int64_t n) {
  for (int64_t j = 0; j < n; j += 64) {
    const int64_t nv = n - j;
    if (nv > 48) nn_tile<MR, 4>(a, a_rs, a_cs, b + j, ldb, c + j, ldc, k, nv);
    else if (nv > 32) nn_tile<MR, 3>(a, a_rs, a_cs, b + j, ldb, c + j, ldc, k, nv);
    else if (nv > 16) nn_tile<MR, 2>(a, a_rs, a_cs, b + j, ldb, c + j, ldc, k, nv);
    else nn_tile<MR, 1>(a, a_rs, a_cs, b + j, ldb, c + j, ldc, k, nv);
  }
}

void gemm_nn_f32(const float* a, int64_t a_rs, int64_t a_cs, const float* b, int64_t ldb, float* c, int64_t ldc,
                 int64_t m, int64_t k, int64_t n) {
  int64_t i = 0;
  // One register of columns: 8 rows at a time, so that 8 independent sums
  // hide the FMA latency (attention's scores: keys x one block of queries).
  if (n <= 16)
    for (; i + 8 <= m; i += 8) nn_tile<8, 1>(a + i * a_rs, a_rs, a_cs, b, ldb, c + i * ldc, ldc, k, n);
  for (; i < m; i += 4) {
    const float* ai = a + i * a_rs;
    float* ci = c + i * ldc;
    switch (m - i < 4 ? m - i : 4) {
      case 4: nn_rows<4>(ai, a_rs, a_cs, b, ldb, ci, ldc, k, n); break;
      case 3: nn_rows<3>(ai, a_rs, a_cs, b, ldb, ci, ldc, k, n); break;
      case 2: nn_rows<2>(ai, a_rs, a_cs, b, ldb, ci, ldc, k, n); break;
      default: nn_rows<1>(ai, a_rs, a_cs, b, ldb, ci, ldc, k, n); break;
    }
  }
}

// The FP32-activation products gain little from 512-bit registers on a
// memory-bound decode; they use the AVX2 kernels. Constant-initialized: no
// code of this file runs before the CPU has been checked.
const KernelTable kTable{CpuLevel::Avx512Vnni, gemm_packed<false>, gemm_packed<true>, avx2_gemm_float,
                         quantize_act,   avx2_dequant_q8_0,  avx2_dequant_q4_0,
                         avx2_unpack_compat,  avx2_dot_compat,    rows_compat,
                         gemm_nn_f32,    pack_act_tiles,     kActBytes};

}  // namespace

const KernelTable* avx512_kernels() { return &kTable; }

}  // namespace qat

#else
namespace qat {
const KernelTable* avx512_kernels() { return nullptr; }
}  // namespace qat
#endif
