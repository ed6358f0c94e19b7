// AVX2 decode kernels (1-2 tokens) for llama.cpp's compat types: one row
// times the tokens with the codes built in registers and used at once, no
// unpacked copy. Built with the AVX2 flags; kernels_compat_avx2.cpp calls
// avx2_compat_decode_rows (compat_codes_avx2.h).
#include "kernels/compat_codes_avx2.h"
#include "kernels/compat_iq_avx2.h"

#if defined(__x86_64__)
#include <algorithm>

namespace qat {
namespace {

// Per int32 lane, the sum of the 4 products of unsigned bytes u and signed
// bytes s in that lane (every caller's maddubs pair sums stay within int16).
inline __m256i dot_u8s8(__m256i u, __m256i s) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}


// What the decode kernels read of the activations, per token t: block b's
// d_a, d_a * sum(a), sum(a) and the sum of its first 16 codes at t * nbp + b,
// zero-padded to whole groups of 8 blocks (nbp = nb rounded up to 8), so a
// short last group adds nothing.
struct TokenArrays {
  const float* da;
  const float* dsum;
  const int32_t* asum;
  const int32_t* asum_lo;
  int64_t nbp;
  // IQ4 types only (else null): the activation codes with the halves of
  // each pair of blocks (2p, 2p + 1) regrouped, 32 bytes per slot at
  // (t * nbp + b) * 32: slot 2p holds codes 0..15 of block 2p then of block
  // 2p + 1, slot 2p + 1 their codes 16..31 (zero past nb).
  const int8_t* paired;
};

// Fills TokenArrays::paired for n tokens.
void pair_block_halves(const BlockQ8_0* x, int64_t nb, int64_t nbp, int64_t n, int8_t* out) {
  for (int64_t t = 0; t < n; ++t)
    for (int64_t b = 0; b < nbp; b += 2, out += 64) {
      const __m128i zero = _mm_setzero_si128();
      const auto half = [&](int64_t blk, int h) {
        return blk < nb ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[t * nb + blk].qs + 16 * h)) : zero;
      };
      store32(out, _mm256_set_m128i(half(b + 1, 0), half(b, 0)));
      store32(out + 32, _mm256_set_m128i(half(b + 1, 1), half(b, 1)));
    }
}

// Decode kernels: one row of a super-block type times NT tokens without an
// unpacked copy: codes are built in registers and used at once. Each chunk's
// int32 lanes are reduced to one sum (two hadd levels per 4 chunks, then the
// two 128-bit halves), so the float stage runs once per super-block on 8
// chunks: acc += float(sum_c) * (s_c * d_a,c), from the TokenArrays. All three
// kernels take a row of nb blocks of 32 (the K-quants: nb / 8 super-blocks).
//
// Lane c of the result: the sum of the 4 int32 lanes of chunk c in each
// 128-bit half, for chunks 0..3 in q0 = hadd(hadd(p0, p1), hadd(p2, p3)) and
// chunks 4..7 in q1 (hadd works within 128-bit halves).
inline __m256i chunk_sums8(__m256i q0, __m256i q1) {
  return _mm256_add_epi32(_mm256_permute2x128_si256(q0, q1, 0x20), _mm256_permute2x128_si256(q0, q1, 0x31));
}
inline __m256i hadd4(__m256i p0, __m256i p1, __m256i p2, __m256i p3) {
  return _mm256_hadd_epi32(_mm256_hadd_epi32(p0, p1), _mm256_hadd_epi32(p2, p3));
}

// The madd multiplier of chunk k (0..3) of a half super-block from that
// half's 8 sub-scales as int16 (in both 128-bit lanes): int16 lanes 0..7 take
// sub-scale 2k (bytes 4k, 4k+1), lanes 8..15 sub-scale 2k+1 (bytes 4k+2, 4k+3).
inline __m256i sub_scale_pair(__m256i half, int k) {
  const int lo = 4 * k, hi = 4 * k + 2;
  const __m256i pick = _mm256_setr_epi8(lo, lo + 1, lo, lo + 1, lo, lo + 1, lo, lo + 1, lo, lo + 1, lo, lo + 1, lo,
                                        lo + 1, lo, lo + 1, hi, hi + 1, hi, hi + 1, hi, hi + 1, hi, hi + 1, hi, hi + 1,
                                        hi, hi + 1, hi, hi + 1, hi, hi + 1);
  return _mm256_shuffle_epi8(half, pick);
}

// Q6_K / Q3_K: the codes times the sub-scales through madd, as unpack + dot_compat.
template <int NT, typename Block>
void signed16_row_fused(const Block* row, int64_t nb, const BlockQ8_0* x, const TokenArrays a, float* y,
                        int64_t y_stride) {
  const int64_t nsb = nb / 8;
  __m256 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t i = 0; i < nsb; ++i) {
    const Block& b = row[i];
    prefetch_block(reinterpret_cast<const uint8_t*>(&b), sizeof(Block));
    // Chunk c's madd multiplier from the 16 sub-scales widened to int16:
    // int16 lanes 0..7 take scale 2c, lanes 8..15 scale 2c+1.
    const __m256i sc16 = _mm256_cvtepi8_epi16(sub_scales8(b));
    const __m256i lo_half = _mm256_permute2x128_si256(sc16, sc16, 0x00);  // scales 0..7 in both halves
    const __m256i hi_half = _mm256_permute2x128_si256(sc16, sc16, 0x11);  // scales 8..15
    __m256i q[NT][2];
    for (int h = 0; h < 2; ++h) {
      __m256i w[4];
      half_codes(b, h, w);
      const __m256i half = h == 0 ? lo_half : hi_half;
      __m256i p[NT][4];
      for (int k = 0; k < 4; ++k) {
        const __m256i sc = sub_scale_pair(half, k);
        const __m256i aw = _mm256_sign_epi8(w[k], w[k]);
        const int64_t blk = 8 * i + 4 * h + k;
        for (int t = 0; t < NT; ++t)
          p[t][k] = _mm256_madd_epi16(_mm256_maddubs_epi16(aw, _mm256_sign_epi8(load32(x[t * nb + blk].qs), w[k])), sc);
      }
      for (int t = 0; t < NT; ++t) q[t][h] = hadd4(p[t][0], p[t][1], p[t][2], p[t][3]);
    }
    const __m256 d = _mm256_set1_ps(fp16_bits_to_f32(b.d_fp16));
    for (int t = 0; t < NT; ++t) {
      const __m256 scale = _mm256_mul_ps(d, _mm256_loadu_ps(a.da + t * a.nbp + 8 * i));
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(chunk_sums8(q[t][0], q[t][1])), scale, acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) y[t * y_stride] = hsum(acc[t]);
}

// Q2_K: unsigned codes straight to maddubs, times the 4-bit sub-scales
// through madd as Q6_K's; the two mins per chunk come back through the
// activations' half sums: sum over k of -dmin * mn(k) * a_k =
// -dmin * (mn_lo * sum_lo + mn_hi * (sum - sum_lo)), exact in int32.
template <int NT>
void q2_k_row_fused(const BlockQ2_K* row, int64_t nb, const BlockQ8_0* x, const TokenArrays a, float* y,
                    int64_t y_stride) {
  const int64_t nsb = nb / 8;
  const __m128i m4 = _mm_set1_epi8(0x0f);
  const __m128i even = _mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, -1, -1, -1, -1, -1, -1, -1, -1);
  const __m128i odd = _mm_setr_epi8(1, 3, 5, 7, 9, 11, 13, 15, -1, -1, -1, -1, -1, -1, -1, -1);
  __m256 acc[NT], accm[NT];
  for (int t = 0; t < NT; ++t) acc[t] = accm[t] = _mm256_setzero_ps();
  for (int64_t i = 0; i < nsb; ++i) {
    const BlockQ2_K& b = row[i];
    prefetch_block(reinterpret_cast<const uint8_t*>(&b), sizeof(b));
    const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales));
    const __m256i sc16 = _mm256_cvtepu8_epi16(_mm_and_si128(raw, m4));
    const __m256i halves[2] = {_mm256_permute2x128_si256(sc16, sc16, 0x00), _mm256_permute2x128_si256(sc16, sc16, 0x11)};
    __m256i q[NT][2];
    for (int h = 0; h < 2; ++h) {
      const __m256i half = halves[h];
      const __m256i qs = load32(b.qs + 32 * h);
      __m256i p[NT][4];
      for (int k = 0; k < 4; ++k) {
        const __m256i c = q2_k_codes(qs, k), sc = sub_scale_pair(half, k);
        for (int t = 0; t < NT; ++t)
          p[t][k] = _mm256_madd_epi16(_mm256_maddubs_epi16(c, load32(x[t * nb + 8 * i + 4 * h + k].qs)), sc);
      }
      for (int t = 0; t < NT; ++t) q[t][h] = hadd4(p[t][0], p[t][1], p[t][2], p[t][3]);
    }
    // Chunk c's mins: high nibbles of scales[2c] (first 16 elements) and scales[2c + 1].
    const __m128i mn8 = _mm_and_si128(_mm_srli_epi16(raw, 4), m4);
    const __m256i mn_lo = _mm256_cvtepu8_epi32(_mm_shuffle_epi8(mn8, even));
    const __m256i mn_hi = _mm256_cvtepu8_epi32(_mm_shuffle_epi8(mn8, odd));
    const __m256 d = _mm256_set1_ps(fp16_bits_to_f32(b.d_fp16)), ndmin = _mm256_set1_ps(-fp16_bits_to_f32(b.dmin_fp16));
    for (int t = 0; t < NT; ++t) {
      const int64_t at = t * a.nbp + 8 * i;
      const __m256 da = _mm256_loadu_ps(a.da + at);
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(chunk_sums8(q[t][0], q[t][1])), _mm256_mul_ps(d, da), acc[t]);
      const __m256i slo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.asum_lo + at));
      const __m256i shi = _mm256_sub_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.asum + at)), slo);
      const __m256i msum = _mm256_add_epi32(_mm256_mullo_epi32(mn_lo, slo), _mm256_mullo_epi32(mn_hi, shi));
      accm[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(msum), _mm256_mul_ps(ndmin, da), accm[t]);
    }
  }
  for (int t = 0; t < NT; ++t) y[t * y_stride] = hsum(_mm256_add_ps(acc[t], accm[t]));
}

// Q4_K / Q5_K: codes are unsigned (0..15, or 0..31 with Q5_K's fifth bit),
// so maddubs takes them as they are; the mins come back through the
// activation sums (value = (d sc) q - dmin mn).
template <int NT, typename Block>
void k_row_fused(const Block* row, int64_t nb, const BlockQ8_0* x, const TokenArrays a, float* y,
                 int64_t y_stride) {
  const int64_t nsb = nb / 8;
  constexpr bool k5 = sizeof(Block) == sizeof(BlockQ5_K);
  const __m256i m4 = _mm256_set1_epi8(0x0f);
  __m256 acc[NT], accm[NT];
  for (int t = 0; t < NT; ++t) acc[t] = accm[t] = _mm256_setzero_ps();
  for (int64_t i = 0; i < nsb; ++i) {
    const Block& b = row[i];
    prefetch_block(reinterpret_cast<const uint8_t*>(&b), sizeof(Block));
    __m256i qh = _mm256_setzero_si256();
    if constexpr (k5) qh = load32(b.qh);
    __m256i q[NT][2];
    for (int hf = 0; hf < 2; ++hf) {
      __m256i p[NT][4];
      for (int g = 2 * hf; g < 2 * hf + 2; ++g) {
        const __m256i raw = load32(b.qs + 32 * g);
        __m256i c[2] = {_mm256_and_si256(raw, m4), _mm256_and_si256(_mm256_srli_epi16(raw, 4), m4)};
        if constexpr (k5) {
          c[0] = _mm256_or_si256(c[0], q5_k_high(qh, 2 * g));
          c[1] = _mm256_or_si256(c[1], q5_k_high(qh, 2 * g + 1));
        }
        for (int j = 0; j < 2; ++j) {
          const int64_t blk = 8 * i + 2 * g + j;
          for (int t = 0; t < NT; ++t)
            p[t][2 * (g - 2 * hf) + j] = dot_u8s8(c[j], load32(x[t * nb + blk].qs));
        }
      }
      for (int t = 0; t < NT; ++t) q[t][hf] = hadd4(p[t][0], p[t][1], p[t][2], p[t][3]);
    }
    const __m128i sm = k_scales_mins(b.scales);
    const __m256 s = _mm256_mul_ps(_mm256_set1_ps(fp16_bits_to_f32(b.d_fp16)), _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(sm)));
    const __m256 m = _mm256_mul_ps(_mm256_set1_ps(-fp16_bits_to_f32(b.dmin_fp16)),
                                   _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(sm, 8))));
    for (int t = 0; t < NT; ++t) {
      const __m256 scale = _mm256_mul_ps(s, _mm256_loadu_ps(a.da + t * a.nbp + 8 * i));
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(chunk_sums8(q[t][0], q[t][1])), scale, acc[t]);
      accm[t] = _mm256_fmadd_ps(m, _mm256_loadu_ps(a.dsum + t * a.nbp + 8 * i), accm[t]);
    }
  }
  for (int t = 0; t < NT; ++t) y[t * y_stride] = hsum(_mm256_add_ps(acc[t], accm[t]));
}

// One fp16 field (`field` picks it) of blocks 0..count-1 as 8 u16 lanes,
// zero past count. A whole group is built in registers: 8 scalar stores and
// one 16-byte load would stall on store forwarding in every group.
template <typename Block, typename Field>
inline __m128i fp16_lanes(const Block* blk, int count, Field field) {
  if (count == 8)
    return _mm_setr_epi16(int16_t(field(blk[0])), int16_t(field(blk[1])), int16_t(field(blk[2])),
                          int16_t(field(blk[3])), int16_t(field(blk[4])), int16_t(field(blk[5])),
                          int16_t(field(blk[6])), int16_t(field(blk[7])));
  alignas(16) uint16_t h[8] = {};
  for (int j = 0; j < count; ++j) h[j] = field(blk[j]);
  return _mm_load_si128(reinterpret_cast<const __m128i*>(h));
}

// IQ4 decode, two blocks of 32 at a time: `raw` holds the 16 index bytes of
// block j (low 128 bits) and of block j + 1 (high). Its low nibbles are
// codes 0..15 of both, its high nibbles codes 16..31, which is how the paired
// activation slots are laid out, so no lane crossing is needed: the int32
// lanes 0..3 of the result sum block j, lanes 4..7 block j + 1.
inline __m256i iq4_pair_dot(__m256i raw, const int8_t* paired) {
  const __m256i m4 = _mm256_set1_epi8(0x0f);
  const __m256i grid = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(kIq4NlValues)));
  const __m256i lo = _mm256_shuffle_epi8(grid, _mm256_and_si256(raw, m4));
  const __m256i hi = _mm256_shuffle_epi8(grid, _mm256_and_si256(_mm256_srli_epi16(raw, 4), m4));
  return _mm256_add_epi32(dot_u8s8(_mm256_sign_epi8(lo, lo), _mm256_sign_epi8(load32(paired), lo)),
                          dot_u8s8(_mm256_sign_epi8(hi, hi), _mm256_sign_epi8(load32(paired + 32), hi)));
}

// Four pair results (blocks 0,1 | 2,3 | 4,5 | 6,7) to one int32 lane per
// block in order: the hadds leave blocks 0, 2, 4, 6 in the low 128 bits and
// 1, 3, 5, 7 in the high.
inline __m256i pair_sums8(__m256i p01, __m256i p23, __m256i p45, __m256i p67) {
  const __m256i s = hadd4(p01, p23, p45, p67);
  return _mm256_permutevar8x32_epi32(s, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

// IQ4_XS: each sub-block's scale d * (ls - 32) enters in the float stage.
template <int NT>
void iq4_xs_row_fused(const BlockIQ4_XS* row, int64_t nb, const TokenArrays a, float* y, int64_t y_stride) {
  const int64_t nsb = nb / 8;
  __m256 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t i = 0; i < nsb; ++i) {
    const BlockIQ4_XS& b = row[i];
    prefetch_block(reinterpret_cast<const uint8_t*>(&b), sizeof(b));
    __m256i p[NT][4];
    for (int k = 0; k < 4; ++k) {
      const __m256i raw = load32(b.qs + 32 * k);  // sub-blocks 2k, 2k + 1
      for (int t = 0; t < NT; ++t) p[t][k] = iq4_pair_dot(raw, a.paired + (t * a.nbp + 8 * i + 2 * k) * 32);
    }
    const __m256 s = _mm256_mul_ps(_mm256_set1_ps(fp16_bits_to_f32(b.d_fp16)), _mm256_cvtepi32_ps(iq4_xs_scales(b)));
    for (int t = 0; t < NT; ++t)
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(pair_sums8(p[t][0], p[t][1], p[t][2], p[t][3])),
                               _mm256_mul_ps(s, _mm256_loadu_ps(a.da + t * a.nbp + 8 * i)), acc[t]);
  }
  for (int t = 0; t < NT; ++t) y[t * y_stride] = hsum(acc[t]);
}

// IQ4_NL: groups of 8 blocks of 32 as for Q4_1 .. Q5_1 (q32_group), loaded in
// pairs; a short last group pairs its odd block with zeros, whose paired
// activations are zero too.
template <int NT>
void iq4_nl_row_fused(const BlockIQ4_NL* row, int64_t nb, const TokenArrays a, float* y, int64_t y_stride) {
  __m256 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t b0 = 0; b0 < nb; b0 += 8) {
    const BlockIQ4_NL* blk = row + b0;
    const int count = int(std::min<int64_t>(8, nb - b0));
    prefetch_block(reinterpret_cast<const uint8_t*>(blk), count * int64_t(sizeof(BlockIQ4_NL)));
    __m256i p[NT][4];
    for (int k = 0; k < 4; ++k) {
      const int j = 2 * k;
      if (j >= count) {
        for (int t = 0; t < NT; ++t) p[t][k] = _mm256_setzero_si256();
        continue;
      }
      const __m128i first = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk[j].qs));
      const __m256i raw = j + 1 < count ? _mm256_set_m128i(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk[j + 1].qs)), first)
                                        : _mm256_zextsi128_si256(first);
      for (int t = 0; t < NT; ++t) p[t][k] = iq4_pair_dot(raw, a.paired + (t * a.nbp + b0 + j) * 32);
    }
    const __m256 d = _mm256_cvtph_ps(fp16_lanes(blk, count, [](const BlockIQ4_NL& b) { return b.d_fp16; }));
    for (int t = 0; t < NT; ++t)
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(pair_sums8(p[t][0], p[t][1], p[t][2], p[t][3])),
                               _mm256_mul_ps(d, _mm256_loadu_ps(a.da + t * a.nbp + b0)), acc[t]);
  }
  for (int t = 0; t < NT; ++t) y[t * y_stride] = hsum(acc[t]);
}

// Q4_1 / Q5_0 / Q5_1: 8 blocks of 32 per float stage, like a super-block
// above. The codes go to maddubs unsigned; Q5_0's offset comes back exactly in
// integers (sum (q - 16) a = sum q a - 16 sum a). The last group of a row may
// hold fewer than 8 blocks (`count`); the per-token arrays are padded with
// zeros to whole groups (stride nbp), so its missing lanes add nothing.
template <int NT, typename Block>
inline void q32_group(const Block* blk, int count, int64_t b0, const BlockQ8_0* x, int64_t nb, const TokenArrays& a,
                      __m256* acc, __m256* accm) {
  prefetch_block(reinterpret_cast<const uint8_t*>(blk), count * int64_t(sizeof(Block)));  // once per cache line
  __m256i q[NT][2];
  for (int hf = 0; hf < 2; ++hf) {
    __m256i p[NT][4];
    for (int k = 0; k < 4; ++k) {
      const int j = 4 * hf + k;
      if (j >= count) {
        for (int t = 0; t < NT; ++t) p[t][k] = _mm256_setzero_si256();
        continue;
      }
      const Block& b = blk[j];
      const __m256i c = codes32(b);
      for (int t = 0; t < NT; ++t) p[t][k] = dot_u8s8(c, load32(x[t * nb + b0 + j].qs));
    }
    for (int t = 0; t < NT; ++t) q[t][hf] = hadd4(p[t][0], p[t][1], p[t][2], p[t][3]);
  }
  const __m256 d = _mm256_cvtph_ps(fp16_lanes(blk, count, [](const Block& b) { return b.d_fp16; }));
  for (int t = 0; t < NT; ++t) {
    __m256i sums = chunk_sums8(q[t][0], q[t][1]);
    if constexpr (std::is_same_v<Block, BlockQ5_0>)
      sums = _mm256_sub_epi32(sums, _mm256_slli_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.asum + t * a.nbp + b0)), 4));
    acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), _mm256_mul_ps(d, _mm256_loadu_ps(a.da + t * a.nbp + b0)), acc[t]);
    if constexpr (kHasMin<Block>)
      accm[t] = _mm256_fmadd_ps(_mm256_cvtph_ps(fp16_lanes(blk, count, [](const Block& b) { return b.m_fp16; })),
                                _mm256_loadu_ps(a.dsum + t * a.nbp + b0), accm[t]);
  }
}

template <int NT, typename Block>
void q32_row_fused(const Block* row, int64_t nb, const BlockQ8_0* x, const TokenArrays a, float* y,
                   int64_t y_stride) {
  __m256 acc[NT], accm[NT];
  for (int t = 0; t < NT; ++t) acc[t] = accm[t] = _mm256_setzero_ps();
  int64_t b0 = 0;
  for (; b0 + 8 <= nb; b0 += 8) q32_group<NT>(row + b0, 8, b0, x, nb, a, acc, accm);
  if (b0 < nb) q32_group<NT>(row + b0, int(nb - b0), b0, x, nb, a, acc, accm);
  for (int t = 0; t < NT; ++t) y[t * y_stride] = hsum(_mm256_add_ps(acc[t], accm[t]));
}

// The decode kernel of Block for rows [r0, r1) and n (1 or 2) tokens.
template <typename Block>
void fused_rows(const uint8_t* w, uint64_t row_bytes, int64_t r0, int64_t r1, int64_t nb, const BlockQ8_0* x,
                int64_t n, const TokenArrays& a, float* y, int64_t rows) {
  constexpr bool kSigned16 = std::is_same_v<Block, BlockQ6_K> || std::is_same_v<Block, BlockQ3_K>;
  constexpr bool kMinK = std::is_same_v<Block, BlockQ4_K> || std::is_same_v<Block, BlockQ5_K>;
  for (int64_t r = r0; r < r1; ++r) {
    const auto* row = reinterpret_cast<const Block*>(w + uint64_t(r) * row_bytes);
    if constexpr (kSigned16) {
      if (n == 2) signed16_row_fused<2>(row, nb, x, a, y + r, rows);
      else signed16_row_fused<1>(row, nb, x, a, y + r, rows);
    } else if constexpr (kMinK) {
      if (n == 2) k_row_fused<2>(row, nb, x, a, y + r, rows);
      else k_row_fused<1>(row, nb, x, a, y + r, rows);
    } else if constexpr (std::is_same_v<Block, BlockQ2_K>) {
      if (n == 2) q2_k_row_fused<2>(row, nb, x, a, y + r, rows);
      else q2_k_row_fused<1>(row, nb, x, a, y + r, rows);
    } else if constexpr (std::is_same_v<Block, BlockIQ4_XS>) {
      if (n == 2) iq4_xs_row_fused<2>(row, nb, a, y + r, rows);
      else iq4_xs_row_fused<1>(row, nb, a, y + r, rows);
    } else if constexpr (std::is_same_v<Block, BlockIQ4_NL>) {
      if (n == 2) iq4_nl_row_fused<2>(row, nb, a, y + r, rows);
      else iq4_nl_row_fused<1>(row, nb, a, y + r, rows);
    } else {
      if (n == 2) q32_row_fused<2>(row, nb, x, a, y + r, rows);
      else q32_row_fused<1>(row, nb, x, a, y + r, rows);
    }
  }
}

// ---- IQ / TQ decode kernels. Each chunk's int32 lanes are summed (hadd4,
// chunk_sums8) and the float stage runs once a super-block, as in the
// K-quant kernels above.

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
  const __m256i one = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
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
          p[t][k] = _mm256_madd_epi16(_mm256_maddubs_epi16(g, _mm256_sign_epi8(load32(x[t * nb + 8 * i + c].qs), sgn)),
                                      ones16);
      }
      for (int t = 0; t < NT; ++t) q[t][h] = hadd4(p[t][0], p[t][1], p[t][2], p[t][3]);
    }
    // Chunk c's sub-scale 1 + 2 ls, ls = nibble c % 2 of scales[c / 2], in the float stage.
    const __m128i s4 = _mm_cvtsi32_si128(int(iq_load_u32(b.scales)));
    const __m128i ls = _mm_unpacklo_epi8(_mm_and_si128(s4, _mm_set1_epi8(0x0f)), _mm_and_si128(_mm_srli_epi16(s4, 4), _mm_set1_epi8(0x0f)));
    const __m256i sc = _mm256_cvtepu8_epi32(_mm_add_epi8(_mm_add_epi8(ls, ls), _mm_set1_epi8(1)));
    const __m256 d = _mm256_mul_ps(_mm256_set1_ps(_cvtsh_ss(b.d_fp16)), _mm256_cvtepi32_ps(sc));
    for (int t = 0; t < NT; ++t)
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(chunk_sums8(q[t][0], q[t][1])),
                               _mm256_mul_ps(d, _mm256_loadu_ps(a.da + t * a.nbp + 8 * i)), acc[t]);
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
  const __m256i ones16 = _mm256_set1_epi16(1);
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
          p[t][k] = _mm256_madd_epi16(_mm256_maddubs_epi16(l.g, _mm256_sign_epi8(load32(x[t * nb + 8 * i + c].qs), l.sgn)),
                                      ones16);
      }
      for (int t = 0; t < NT; ++t) q[t][h] = hadd4(p[t][0], p[t][1], p[t][2], p[t][3]);
    }
    const __m256 s = _mm256_mul_ps(_mm256_set1_ps(iq_block_scale(b)), iq_sub_scales8(b));
    for (int t = 0; t < NT; ++t)
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(chunk_sums8(q[t][0], q[t][1])),
                               _mm256_mul_ps(s, _mm256_loadu_ps(a.da + t * a.nbp + 8 * i)), acc[t]);
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
    for (int t = 0; t < NT; ++t)
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(chunk_sums8(q[t][0], q[t][1])),
                               _mm256_mul_ps(s, _mm256_loadu_ps(a.da + t * a.nbp + 8 * i)), acc[t]);
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
  const __m256i ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
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
          p[t][k] = _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, _mm256_sign_epi8(load32(x[t * nb + 8 * i + c].qs), g)),
                                      ones16);
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
    for (int t = 0; t < NT; ++t)
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(chunk_sums8(q[t][0], q[t][1])),
                               _mm256_mul_ps(s, _mm256_loadu_ps(a.da + t * a.nbp + 8 * i)), acc[t]);
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

// False for types that are not IQ / TQ.
bool iq_decode_rows(TensorType type, const uint8_t* w, uint64_t row_bytes, int64_t r0, int64_t r1, int64_t nb,
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

}  // namespace

bool avx2_compat_decode_rows(TensorType type, const uint8_t* w, uint64_t row_bytes, int64_t r0, int64_t r1,
                             int64_t nb, const BlockQ8_0* x, const ActBlockInfo* xi, int64_t n, float* y, int64_t rows,
                             uint8_t* scratch) {
  const int64_t nbp = (nb + 7) / 8 * 8;
  auto* da = reinterpret_cast<float*>(align64(scratch));
  float* dsum = da + 2 * nbp;
  auto* asum = reinterpret_cast<int32_t*>(dsum + 2 * nbp);
  int32_t* asum_lo = asum + 2 * nbp;
  for (int64_t t = 0; t < n; ++t)
    for (int64_t b = 0; b < nbp; ++b) {
      const bool real = b < nb;
      const ActBlockInfo& ai = xi[t * nb + (real ? b : 0)];
      da[t * nbp + b] = real ? ai.d : 0.0f;
      dsum[t * nbp + b] = real ? ai.d * float(ai.sum) : 0.0f;
      asum[t * nbp + b] = real ? ai.sum : 0;
      asum_lo[t * nbp + b] = real ? ai.sum_lo : 0;
    }
  int8_t* paired = nullptr;
  if (has_wide_codes(type) && !is_iq_type(type)) {  // IQ4_NL / IQ4_XS
    paired = reinterpret_cast<int8_t*>(align64(reinterpret_cast<uint8_t*>(asum_lo + 2 * nbp)));
    pair_block_halves(x, nb, nbp, n, paired);
  }
  const TokenArrays a{da, dsum, asum, asum_lo, nbp, paired};
  if (is_iq_type(type)) return iq_decode_rows(type, w, row_bytes, r0, r1, nb, x, a, n, y, rows);
  switch (type) {
    case TensorType::Q4_1: fused_rows<BlockQ4_1>(w, row_bytes, r0, r1, nb, x, n, a, y, rows); return true;
    case TensorType::Q5_0: fused_rows<BlockQ5_0>(w, row_bytes, r0, r1, nb, x, n, a, y, rows); return true;
    case TensorType::Q5_1: fused_rows<BlockQ5_1>(w, row_bytes, r0, r1, nb, x, n, a, y, rows); return true;
    case TensorType::Q2_K: fused_rows<BlockQ2_K>(w, row_bytes, r0, r1, nb, x, n, a, y, rows); return true;
    case TensorType::Q3_K: fused_rows<BlockQ3_K>(w, row_bytes, r0, r1, nb, x, n, a, y, rows); return true;
    case TensorType::Q4_K: fused_rows<BlockQ4_K>(w, row_bytes, r0, r1, nb, x, n, a, y, rows); return true;
    case TensorType::Q5_K: fused_rows<BlockQ5_K>(w, row_bytes, r0, r1, nb, x, n, a, y, rows); return true;
    case TensorType::Q6_K: fused_rows<BlockQ6_K>(w, row_bytes, r0, r1, nb, x, n, a, y, rows); return true;
    case TensorType::IQ4_NL: fused_rows<BlockIQ4_NL>(w, row_bytes, r0, r1, nb, x, n, a, y, rows); return true;
    case TensorType::IQ4_XS: fused_rows<BlockIQ4_XS>(w, row_bytes, r0, r1, nb, x, n, a, y, rows); return true;
    default: return false;  // not a compat type: the caller's unpacked path reports it
  }
}

}  // namespace qat
#endif
