// AVX2 decode kernels (1-2 tokens) for llama.cpp's compat types: one row
// times the tokens with the codes built in registers and used at once, no
// unpacked copy. Built with the AVX2 flags; kernels_compat_avx2.cpp calls
// avx2_compat_decode_rows (compat_codes_avx2.h). The codebook and ternary
// types' kernels are in kernels_iq_decode_avx2.cpp.
#include "kernels/compat_codes_avx2.h"
#include "kernels/compat_decode_avx2.h"
#include "quant/ggml_iq_types.h"

#if defined(__x86_64__)
#include <algorithm>

namespace qat {
namespace {

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

// The K-quant kernels below take a row of nb blocks of 32 (nb / 8
// super-blocks) and reduce each chunk with hadd4 / chunk_sums8
// (compat_decode_avx2.h).
//
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
  if (is_iq_type(type)) return avx2_iq_decode_rows(type, w, row_bytes, r0, r1, nb, x, a, n, y, rows);
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
