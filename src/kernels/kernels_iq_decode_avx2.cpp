// AVX2 decode kernels (1-2 tokens) for llama.cpp's codebook and ternary
// types (IQ1_S .. IQ3_S, TQ1_0, TQ2_0): one kernel per type, one row times
// the tokens with the codes built in registers. Each chunk's int32 lanes are
// summed (hadd4, chunk_sums8 of compat_decode_avx2.h) and the float stage
// runs once a super-block, as in the K-quant kernels. Built with the AVX2
// flags; kernels_compat_decode_avx2.cpp calls avx2_iq_decode_rows.
#include "kernels/avx2_helpers.h"
#include "kernels/compat_decode_avx2.h"
#include "kernels/compat_iq_avx2.h"

#if defined(__x86_64__)
#include <type_traits>

namespace qat {
namespace {

// IQ3_S: the 64 grid indices of a super-block built as one vector pass and
// stored, then 8 scalar loads per chunk; the grid levels stay unsigned (1 ..
// 15) and the signs go onto the activations (sign by -1 or 1), so maddubs
// takes the levels directly. About 2x the generic builder's speed on Zen 3
// (bench_compat_matmul), where the extracts and the double sign cost more
// than the lookups.
template <int NT>
void iq3_s_row_fused(const BlockIQ3_S* row, int64_t nb, const BlockQ8_0* x, const TokenArrays a, float* y,
                     int64_t y_stride) {
  const int32_t* grid = iq_grids().iq3s;
  const __m256i bits16 = _mm256_setr_epi16(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384,
                                           int16_t(-32768));
  const __m256i one = _mm256_set1_epi8(1);
  alignas(32) uint16_t idx[64];
  __m256 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t i = 0; i < nb / 8; ++i) {
    const BlockIQ3_S& b = row[i];
    prefetch_block(reinterpret_cast<const uint8_t*>(&b), sizeof(b));
    for (int q = 0; q < 4; ++q) {  // index 16 q + j: qs byte | bit j of qh[2 q] | qh[2 q + 1] << 8
      const __m256i lo = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qs + 16 * q)));
      const __m256i h = _mm256_set1_epi16(int16_t(b.qh[2 * q] | b.qh[2 * q + 1] << 8));
      const __m256i hi = _mm256_and_si256(_mm256_cmpeq_epi16(_mm256_and_si256(h, bits16), bits16), _mm256_set1_epi16(256));
      _mm256_store_si256(reinterpret_cast<__m256i*>(idx + 16 * q), _mm256_or_si256(lo, hi));
    }
    __m256i q[NT][2];
    for (int h = 0; h < 2; ++h) {
      __m256i p[NT][4];
      for (int k = 0; k < 4; ++k) {
        const int c = 4 * h + k;
        const uint16_t* ic = idx + 8 * c;
        const __m256i g = _mm256_setr_epi32(grid[ic[0]], grid[ic[1]], grid[ic[2]], grid[ic[3]], grid[ic[4]], grid[ic[5]],
                                            grid[ic[6]], grid[ic[7]]);
        const __m256i sgn = _mm256_or_si256(iq_sign_mask(iq_load_u32(b.signs + 4 * c)), one);  // -1 or 1
        for (int t = 0; t < NT; ++t)
          p[t][k] = dot_u8s8(g, _mm256_sign_epi8(load32(x[t * nb + 8 * i + c].qs), sgn));
      }
      for (int t = 0; t < NT; ++t) q[t][h] = hadd4(p[t][0], p[t][1], p[t][2], p[t][3]);
    }
    // Chunk c's sub-scale 1 + 2 ls, ls = nibble c % 2 of scales[c / 2], in the float stage.
    const __m128i s4 = _mm_cvtsi32_si128(int(iq_load_u32(b.scales)));
    const __m128i ls = _mm_unpacklo_epi8(_mm_and_si128(s4, _mm_set1_epi8(0x0f)), _mm_and_si128(_mm_srli_epi16(s4, 4), _mm_set1_epi8(0x0f)));
    const __m256i sc = _mm256_cvtepu8_epi32(_mm_add_epi8(_mm_add_epi8(ls, ls), _mm_set1_epi8(1)));
    const __m256 d = _mm256_mul_ps(_mm256_set1_ps(_cvtsh_ss(b.d_fp16)), _mm256_cvtepi32_ps(sc));
    for (int t = 0; t < NT; ++t) acc[t] = float_stage(acc[t], q[t][0], q[t][1], d, a.da + t * a.nbp + 8 * i);
  }
  for (int t = 0; t < NT; ++t) y[t * y_stride] = hsum(acc[t]);
}

// IQ2_XXS, IQ3_XXS: as IQ3_S, unsigned levels from scalar index loads
// (compat_iq_avx2.h's iq_levels) with the signs on the activations; the
// sub-scales (one per chunk) enter in the float stage.
template <typename Block, int NT>
void iq_signed_row_fused(const Block* row, int64_t nb, const BlockQ8_0* x, const TokenArrays a, float* y,
                         int64_t y_stride) {
  const IqGrids& grids = iq_grids();
  __m256 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t i = 0; i < nb / 8; ++i) {
    const Block& b = row[i];
    prefetch_block(reinterpret_cast<const uint8_t*>(&b), sizeof(b));
    __m256i q[NT][2];
    for (int h = 0; h < 2; ++h) {
      __m256i p[NT][4];
      for (int k = 0; k < 4; ++k) {
        const int c = 4 * h + k;
        const IqLevels l = iq_levels(b, c, grids);
        for (int t = 0; t < NT; ++t)
          p[t][k] = dot_u8s8(l.g, _mm256_sign_epi8(load32(x[t * nb + 8 * i + c].qs), l.sgn));
      }
      for (int t = 0; t < NT; ++t) q[t][h] = hadd4(p[t][0], p[t][1], p[t][2], p[t][3]);
    }
    const __m256 s = _mm256_mul_ps(_mm256_set1_ps(iq_block_scale(b)), iq_sub_scales8(b));
    for (int t = 0; t < NT; ++t) acc[t] = float_stage(acc[t], q[t][0], q[t][1], s, a.da + t * a.nbp + 8 * i);
  }
  for (int t = 0; t < NT; ++t) y[t * y_stride] = hsum(acc[t]);
}

// Chunk c % 4's pair of int16 sub-scale lanes (2p, 2p + 1) of a 128-bit
// half, spread over the two halves of a register: the madd multiplier of a
// chunk whose two 16-element halves have their own sub-scales (IQ2_XS,
// IQ2_S, IQ1_M), from 8 chunks' 16 sub-scales as int16 lanes.
alignas(32) constexpr int8_t kPair[4][32] = {
    {0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3},
    {4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7},
    {8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11},
    {12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13,  //
     14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15}};

// IQ2_XS / IQ2_S: per super-block, the 32 grid indices built as vectors and
// stored, the 32 sign bytes, and the 16 sub-scales as int16 lanes (lanes
// 0..7 = halves 0..7, chunks 0..3; lanes 8..15 = chunks 4..7), from which
// each chunk's madd multiplier is one broadcast and one byte shuffle.
template <typename Block, int NT>
void iq2_row_fused(const Block* row, int64_t nb, const BlockQ8_0* x, const TokenArrays a, float* y,
                   int64_t y_stride) {
  const int64_t* grid = std::is_same_v<Block, BlockIQ2_S> ? iq_grids().iq2s : iq_grids().iq2xs;
  const __m256i one = _mm256_set1_epi8(1), m4 = _mm256_set1_epi8(0x0f);
  alignas(32) uint16_t idx[32];
  alignas(32) uint8_t signs[32];
  __m256 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t i = 0; i < nb / 8; ++i) {
    const Block& b = row[i];
    prefetch_block(reinterpret_cast<const uint8_t*>(&b), sizeof(b));
    if constexpr (std::is_same_v<Block, BlockIQ2_S>) {
      // index k = qs[k] | bits 2k, 2k + 1 of the 64-bit qh: byte k / 4 times 4^(3 - k % 4), then >> 6.
      const __m128i qh = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(b.qh));
      const __m256i mul = _mm256_setr_epi16(64, 16, 4, 1, 64, 16, 4, 1, 64, 16, 4, 1, 64, 16, 4, 1);
      for (int q = 0; q < 2; ++q) {
        const __m128i pick = _mm_add_epi8(_mm_setr_epi8(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3), _mm_set1_epi8(char(4 * q)));
        const __m256i hb = _mm256_cvtepu8_epi16(_mm_shuffle_epi8(qh, pick));
        const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(_mm256_mullo_epi16(hb, mul), 6), _mm256_set1_epi16(3));
        const __m256i lo = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qs + 16 * q)));
        _mm256_store_si256(reinterpret_cast<__m256i*>(idx + 16 * q), _mm256_or_si256(lo, _mm256_slli_epi16(hi, 8)));
      }
      _mm256_store_si256(reinterpret_cast<__m256i*>(signs), load32(b.qs + 32));
    } else {
      for (int q = 0; q < 2; ++q)
        _mm256_store_si256(reinterpret_cast<__m256i*>(idx + 16 * q),
                           _mm256_and_si256(load32(b.qs + 16 * q), _mm256_set1_epi16(511)));
      // ksigns in vector form: the 7 stored bits, their parity as bit 7.
      auto ksigns16 = [](__m256i q) {
        const __m256i s = _mm256_srli_epi16(q, 9);
        __m256i p = _mm256_xor_si256(s, _mm256_srli_epi16(s, 4));
        p = _mm256_xor_si256(p, _mm256_srli_epi16(p, 2));
        p = _mm256_xor_si256(p, _mm256_srli_epi16(p, 1));
        return _mm256_or_si256(s, _mm256_slli_epi16(_mm256_and_si256(p, _mm256_set1_epi16(1)), 7));
      };
      const __m256i packed = _mm256_packus_epi16(ksigns16(load32(b.qs)), ksigns16(load32(b.qs + 16)));
      _mm256_store_si256(reinterpret_cast<__m256i*>(signs), _mm256_permute4x64_epi64(packed, 0xd8));
    }
    // Sub-scales 2 ls + 1: byte 2 ib = low nibble of scales[ib], 2 ib + 1 = high nibble.
    const __m128i s8 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(b.scales));
    const __m128i nib = _mm_unpacklo_epi8(_mm_and_si128(s8, _mm256_castsi256_si128(m4)),
                                          _mm_and_si128(_mm_srli_epi16(s8, 4), _mm256_castsi256_si128(m4)));
    const __m256i sc16 = _mm256_cvtepu8_epi16(_mm_add_epi8(_mm_add_epi8(nib, nib), _mm_set1_epi8(1)));
    const __m256i sc_half[2] = {_mm256_permute2x128_si256(sc16, sc16, 0x00), _mm256_permute2x128_si256(sc16, sc16, 0x11)};
    __m256i q[NT][2];
    for (int h = 0; h < 2; ++h) {
      __m256i p[NT][4];
      for (int k = 0; k < 4; ++k) {
        const int c = 4 * h + k;
        const uint16_t* ic = idx + 4 * c;
        const __m256i g = _mm256_setr_epi64x(grid[ic[0]], grid[ic[1]], grid[ic[2]], grid[ic[3]]);
        uint32_t sbits;
        __builtin_memcpy(&sbits, signs + 4 * c, 4);
        const __m256i sgn = _mm256_or_si256(iq_sign_mask(sbits), one);  // -1 or 1
        const __m256i sc = _mm256_shuffle_epi8(sc_half[c / 4], load32(kPair[c % 4]));
        for (int t = 0; t < NT; ++t)
          p[t][k] = _mm256_madd_epi16(_mm256_maddubs_epi16(g, _mm256_sign_epi8(load32(x[t * nb + 8 * i + c].qs), sgn)), sc);
      }
      for (int t = 0; t < NT; ++t) q[t][h] = hadd4(p[t][0], p[t][1], p[t][2], p[t][3]);
    }
    const __m256 s = _mm256_set1_ps(iq_block_scale(b));
    for (int t = 0; t < NT; ++t) acc[t] = float_stage(acc[t], q[t][0], q[t][1], s, a.da + t * a.nbp + 8 * i);
  }
  for (int t = 0; t < NT; ++t) y[t * y_stride] = hsum(acc[t]);
}

// TQ1_0 / TQ2_0: the codes q = 0..2 (tq_half) go to maddubs unsigned;
// the -1 comes back through the activation sums, sum (q - 1) a = sum q a -
// sum a, exact in int32.
template <typename Block, int NT>
void tq_row_fused(const Block* row, int64_t nb, const BlockQ8_0* x, const TokenArrays a, float* y, int64_t y_stride) {
  __m256 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t i = 0; i < nb / 8; ++i) {
    const Block& b = row[i];
    prefetch_block(reinterpret_cast<const uint8_t*>(&b), sizeof(b));
    __m256i q[NT][2];
    for (int h = 0; h < 2; ++h) {
      __m256i w[4], p[NT][4];
      tq_half(b, h, w);
      for (int k = 0; k < 4; ++k)
        for (int t = 0; t < NT; ++t) p[t][k] = dot_u8s8(w[k], load32(x[t * nb + 8 * i + 4 * h + k].qs));
      for (int t = 0; t < NT; ++t) q[t][h] = hadd4(p[t][0], p[t][1], p[t][2], p[t][3]);
    }
    const __m256 d = _mm256_set1_ps(_cvtsh_ss(b.d_fp16));
    for (int t = 0; t < NT; ++t) {
      const int64_t at = t * a.nbp + 8 * i;
      const __m256i sums = _mm256_sub_epi32(chunk_sums8(q[t][0], q[t][1]),
                                            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.asum + at)));
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), _mm256_mul_ps(d, _mm256_loadu_ps(a.da + at)), acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) y[t * y_stride] = hsum(acc[t]);
}

// IQ1_S: value = (d / 8) (2 ls + 1) (8 g + δ) with g = -1, 0, 1 from the
// grid and δ = ±1 per chunk. The grid entries go onto the activations
// (sign), so a chunk's integer sum is 8 sum(g a) + δ sum(a), the second from
// the activation sums; sub-scales and δ of the 8 chunks are vectors per
// super-block. The 32 grid indices are built as vectors as for IQ2_S: the
// 3 high bits of group 4 c + l, (qh[c] >> 3 l) & 7, moved to bits 13..15 by
// a multiply and shifted down.
template <int NT>
void iq1_s_row_fused(const BlockIQ1_S* row, int64_t nb, const BlockQ8_0* x, const TokenArrays a, float* y,
                     int64_t y_stride) {
  const int64_t* grid = iq_grids().iq1s;
  const __m256i ones8 = _mm256_set1_epi8(1);
  const __m256i mul = _mm256_setr_epi16(8192, 1024, 128, 16, 8192, 1024, 128, 16, 8192, 1024, 128, 16, 8192, 1024, 128, 16);
  alignas(32) uint16_t idx[32];
  __m256 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t i = 0; i < nb / 8; ++i) {
    const BlockIQ1_S& b = row[i];
    prefetch_block(reinterpret_cast<const uint8_t*>(&b), sizeof(b));
    const __m128i qh = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qh));
    const __m256i qh2 = _mm256_set_m128i(qh, qh);
    for (int q = 0; q < 2; ++q) {  // groups 16 q .. 16 q + 15 = chunks 4 q .. 4 q + 3, each chunk's qh word 4 times
      const int o = 8 * q;
      const __m256i pick = _mm256_setr_epi8(o, o + 1, o, o + 1, o, o + 1, o, o + 1, o + 2, o + 3, o + 2, o + 3, o + 2, o + 3,
                                            o + 2, o + 3, o + 4, o + 5, o + 4, o + 5, o + 4, o + 5, o + 4, o + 5, o + 6, o + 7,
                                            o + 6, o + 7, o + 6, o + 7, o + 6, o + 7);
      const __m256i hi = _mm256_srli_epi16(_mm256_mullo_epi16(_mm256_shuffle_epi8(qh2, pick), mul), 13);
      const __m256i lo = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qs + 16 * q)));
      _mm256_store_si256(reinterpret_cast<__m256i*>(idx + 16 * q), _mm256_or_si256(lo, _mm256_slli_epi16(hi, 8)));
    }
    __m256i q[NT][2];
    for (int h = 0; h < 2; ++h) {
      __m256i p[NT][4];
      for (int k = 0; k < 4; ++k) {
        const int c = 4 * h + k;
        const uint16_t* ic = idx + 4 * c;
        const __m256i g = _mm256_setr_epi64x(grid[ic[0]], grid[ic[1]], grid[ic[2]], grid[ic[3]]);
        for (int t = 0; t < NT; ++t)
          p[t][k] = dot_u8s8(ones8, _mm256_sign_epi8(load32(x[t * nb + 8 * i + c].qs), g));
      }
      for (int t = 0; t < NT; ++t) q[t][h] = hadd4(p[t][0], p[t][1], p[t][2], p[t][3]);
    }
    const __m256i w32 = _mm256_cvtepu16_epi32(qh);
    const __m256i ls = _mm256_and_si256(_mm256_srli_epi32(w32, 12), _mm256_set1_epi32(7));
    const __m256 sc = _mm256_mul_ps(_mm256_set1_ps(_cvtsh_ss(b.d_fp16) * 0.125f),
                                    _mm256_cvtepi32_ps(_mm256_add_epi32(_mm256_add_epi32(ls, ls), _mm256_set1_epi32(1))));
    const __m256i delta = _mm256_or_si256(_mm256_cvtepi16_epi32(_mm_srai_epi16(qh, 15)), _mm256_set1_epi32(1));  // -1 or 1
    for (int t = 0; t < NT; ++t) {
      const int64_t at = t * a.nbp + 8 * i;
      const __m256i asum = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.asum + at));
      const __m256i sums = _mm256_add_epi32(_mm256_slli_epi32(chunk_sums8(q[t][0], q[t][1]), 3), _mm256_sign_epi32(asum, delta));
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), _mm256_mul_ps(sc, _mm256_loadu_ps(a.da + at)), acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) y[t * y_stride] = hsum(acc[t]);
}

// IQ1_M: value = (d / 8) (2 ls + 1) (8 g + δ) with δ = ±1 per group of 8 and
// a sub-scale per 16: the codes 8 g + δ are built in a register (δ from bit 3
// of each group's nibble) and multiplied with the sign trick; the sub-scales
// enter through madd as IQ2_S's. Group k's nibble is nibble k % 2 of qh[k / 2];
// its bits 0..2 are the index's high bits.
template <int NT>
void iq1_m_row_fused(const BlockIQ1_M* row, int64_t nb, const BlockQ8_0* x, const TokenArrays a, float* y,
                     int64_t y_stride) {
  const int64_t* grid = iq_grids().iq1s;
  const __m256i eight = _mm256_set1_epi8(8), one = _mm256_set1_epi8(1), m7 = _mm256_set1_epi16(7);
  const __m128i m4 = _mm_set1_epi8(0x0f);
  // Sub-block j's 3 bits: bits 3 (j % 4) of u16 word j / 4, moved to bits 13..15 and shifted down.
  const __m256i sc_pick = _mm256_setr_epi8(0, 1, 0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3, 2, 3,  //
                                           4, 5, 4, 5, 4, 5, 4, 5, 6, 7, 6, 7, 6, 7, 6, 7);
  const __m256i mul = _mm256_setr_epi16(8192, 1024, 128, 16, 8192, 1024, 128, 16, 8192, 1024, 128, 16, 8192, 1024, 128, 16);
  // Chunk k of a half super-block: group bytes 4 k .. 4 k + 3 of that half, each spread over 8 bytes.
  alignas(32) static constexpr int8_t kSpread[4][32] = {
      {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3},
      {4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7, 7, 7},
      {8, 8, 8, 8, 8, 8, 8, 8, 9, 9, 9, 9, 9, 9, 9, 9, 10, 10, 10, 10, 10, 10, 10, 10, 11, 11, 11, 11, 11, 11, 11, 11},
      {12, 12, 12, 12, 12, 12, 12, 12, 13, 13, 13, 13, 13, 13, 13, 13,  //
       14, 14, 14, 14, 14, 14, 14, 14, 15, 15, 15, 15, 15, 15, 15, 15}};
  alignas(32) uint16_t idx[32];
  __m256 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t i = 0; i < nb / 8; ++i) {
    const BlockIQ1_M& b = row[i];
    prefetch_block(reinterpret_cast<const uint8_t*>(&b), sizeof(b));
    const __m128i qh = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qh));
    const __m128i lo4 = _mm_and_si128(qh, m4), hi4 = _mm_and_si128(_mm_srli_epi16(qh, 4), m4);
    const __m128i n0 = _mm_unpacklo_epi8(lo4, hi4), n1 = _mm_unpackhi_epi8(lo4, hi4);  // groups 0..15, 16..31
    // Per group, all ones where the delta is negative (bit 3 of its nibble), both halves in both lanes.
    const __m128i eight16 = _mm_set1_epi8(8);
    const __m256i dmask[2] = {
        _mm256_broadcastsi128_si256(_mm_cmpeq_epi8(_mm_and_si128(n0, eight16), eight16)),
        _mm256_broadcastsi128_si256(_mm_cmpeq_epi8(_mm_and_si128(n1, eight16), eight16))};
    for (int q = 0; q < 2; ++q) {
      const __m256i hi = _mm256_and_si256(_mm256_cvtepu8_epi16(q == 0 ? n0 : n1), m7);
      const __m256i lo = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qs + 16 * q)));
      _mm256_store_si256(reinterpret_cast<__m256i*>(idx + 16 * q), _mm256_or_si256(lo, _mm256_slli_epi16(hi, 8)));
    }
    const __m256i words = _mm256_broadcastq_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(b.scales)));
    const __m256i ls = _mm256_srli_epi16(_mm256_mullo_epi16(_mm256_shuffle_epi8(words, sc_pick), mul), 13);
    const __m256i sc16 = _mm256_add_epi16(_mm256_add_epi16(ls, ls), _mm256_set1_epi16(1));
    const __m256i sc_half[2] = {_mm256_permute2x128_si256(sc16, sc16, 0x00), _mm256_permute2x128_si256(sc16, sc16, 0x11)};
    __m256i q[NT][2];
    for (int h = 0; h < 2; ++h) {
      __m256i p[NT][4];
      for (int k = 0; k < 4; ++k) {
        const int c = 4 * h + k;
        const uint16_t* ic = idx + 4 * c;
        const __m256i g = _mm256_setr_epi64x(grid[ic[0]], grid[ic[1]], grid[ic[2]], grid[ic[3]]);
        const __m256i delta = _mm256_or_si256(_mm256_shuffle_epi8(dmask[h], load32(kSpread[k])), one);  // -1 or 1
        const __m256i w = _mm256_add_epi8(_mm256_sign_epi8(eight, g), delta);
        const __m256i aw = _mm256_sign_epi8(w, w);
        const __m256i sc = _mm256_shuffle_epi8(sc_half[h], load32(kPair[k]));
        for (int t = 0; t < NT; ++t)
          p[t][k] = _mm256_madd_epi16(_mm256_maddubs_epi16(aw, _mm256_sign_epi8(load32(x[t * nb + 8 * i + c].qs), w)), sc);
      }
      for (int t = 0; t < NT; ++t) q[t][h] = hadd4(p[t][0], p[t][1], p[t][2], p[t][3]);
    }
    uint16_t w16[4];
    __builtin_memcpy(w16, b.scales, 8);
    const uint16_t d_bits = uint16_t((w16[0] >> 12) | ((w16[1] >> 8) & 0x00f0) | ((w16[2] >> 4) & 0x0f00) | (w16[3] & 0xf000));
    const __m256 s = _mm256_set1_ps(_cvtsh_ss(d_bits) * 0.125f);
    for (int t = 0; t < NT; ++t) acc[t] = float_stage(acc[t], q[t][0], q[t][1], s, a.da + t * a.nbp + 8 * i);
  }
  for (int t = 0; t < NT; ++t) y[t * y_stride] = hsum(acc[t]);
}

// One kernel per type; NT = n tokens (1 or 2).
template <typename Block, int NT>
void iq_row(const Block* row, int64_t nb, const BlockQ8_0* x, const TokenArrays& a, float* y, int64_t y_stride) {
  if constexpr (std::is_same_v<Block, BlockIQ3_S>) iq3_s_row_fused<NT>(row, nb, x, a, y, y_stride);
  else if constexpr (std::is_same_v<Block, BlockIQ2_S> || std::is_same_v<Block, BlockIQ2_XS>)
    iq2_row_fused<Block, NT>(row, nb, x, a, y, y_stride);
  else if constexpr (std::is_same_v<Block, BlockIQ2_XXS> || std::is_same_v<Block, BlockIQ3_XXS>)
    iq_signed_row_fused<Block, NT>(row, nb, x, a, y, y_stride);
  else if constexpr (std::is_same_v<Block, BlockIQ1_S>) iq1_s_row_fused<NT>(row, nb, x, a, y, y_stride);
  else if constexpr (std::is_same_v<Block, BlockIQ1_M>) iq1_m_row_fused<NT>(row, nb, x, a, y, y_stride);
  else tq_row_fused<Block, NT>(row, nb, x, a, y, y_stride);
}

template <typename Block>
void iq_rows(const uint8_t* w, uint64_t row_bytes, int64_t r0, int64_t r1, int64_t nb, const BlockQ8_0* x,
             const TokenArrays& a, int64_t n, float* y, int64_t rows) {
  for (int64_t r = r0; r < r1; ++r) {
    const auto* row = reinterpret_cast<const Block*>(w + uint64_t(r) * row_bytes);
    if (n == 2) iq_row<Block, 2>(row, nb, x, a, y + r, rows);
    else iq_row<Block, 1>(row, nb, x, a, y + r, rows);
  }
}

}  // namespace

bool avx2_iq_decode_rows(TensorType type, const uint8_t* w, uint64_t row_bytes, int64_t r0, int64_t r1, int64_t nb,
                         const BlockQ8_0* x, const TokenArrays& a, int64_t n, float* y, int64_t rows) {
  if (nb % 8 != 0) return false;
  switch (type) {
    case TensorType::IQ2_XXS: iq_rows<BlockIQ2_XXS>(w, row_bytes, r0, r1, nb, x, a, n, y, rows); return true;
    case TensorType::IQ2_XS: iq_rows<BlockIQ2_XS>(w, row_bytes, r0, r1, nb, x, a, n, y, rows); return true;
    case TensorType::IQ2_S: iq_rows<BlockIQ2_S>(w, row_bytes, r0, r1, nb, x, a, n, y, rows); return true;
    case TensorType::IQ3_XXS: iq_rows<BlockIQ3_XXS>(w, row_bytes, r0, r1, nb, x, a, n, y, rows); return true;
    case TensorType::IQ3_S: iq_rows<BlockIQ3_S>(w, row_bytes, r0, r1, nb, x, a, n, y, rows); return true;
    case TensorType::IQ1_S: iq_rows<BlockIQ1_S>(w, row_bytes, r0, r1, nb, x, a, n, y, rows); return true;
    case TensorType::IQ1_M: iq_rows<BlockIQ1_M>(w, row_bytes, r0, r1, nb, x, a, n, y, rows); return true;
    case TensorType::TQ1_0: iq_rows<BlockTQ1_0>(w, row_bytes, r0, r1, nb, x, a, n, y, rows); return true;
    case TensorType::TQ2_0: iq_rows<BlockTQ2_0>(w, row_bytes, r0, r1, nb, x, a, n, y, rows); return true;
    default: return false;
  }
}

}  // namespace qat
#endif
