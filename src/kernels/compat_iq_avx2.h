// AVX2 code builders for llama.cpp's codebook and ternary types
// (quant/ggml_iq_types.h): the 32 codes and the CompatChunk of chunk c
// (elements 32 c .. 32 c + 31) of one super-block, from the grids of
// iq_grids() (fetched once per row by the caller), equal byte for byte and
// bit for bit to the reference unpack_row_iq. Grid entries are loaded
// whole (4 bytes for IQ3, 8 for IQ1 / IQ2); stored sign bits become a byte
// mask, 7-bit sign indices 8 sign bytes from a table, and either flips the
// loaded levels. TQ1_0 / TQ2_0 codes come half a super-block at a time
// (tq_half). The decode kernels (kernels_iq_decode_avx2.cpp) use these
// pieces and the unsigned-level forms below.
// Include only from files built with the AVX2 flags, after avx2_helpers.h.
#pragma once
#if defined(__x86_64__)
#include <immintrin.h>

#include <type_traits>

#include "base/fp16.h"
#include "quant/ggml_compat_types.h"
#include "quant/ggml_iq_types.h"

namespace qat {
namespace {  // each AVX2 file gets its own copy

inline uint32_t iq_load_u32(const void* p) {
  uint32_t v;
  __builtin_memcpy(&v, p, 4);
  return v;
}

// Bit j of `bits` set -> byte j all ones.
inline __m256i iq_sign_mask(uint32_t bits) {
  const __m256i spread = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,  //
                                          2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
  const __m256i bit = _mm256_set1_epi64x(int64_t(0x8040201008040201ull));
  const __m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32(int(bits)), spread);
  return _mm256_cmpeq_epi8(_mm256_and_si256(bytes, bit), bit);
}
// Levels negated where the mask is set: (g ^ m) - m.
inline __m256i iq_apply_signs(__m256i g, __m256i m) { return _mm256_sub_epi8(_mm256_xor_si256(g, m), m); }

// ggml's ksigns with each of the 8 bits spread to a byte: -1 where set, 1
// where not, the multiplier _mm256_sign_epi8 takes. One 8-byte load per 8
// values replaces the bit table plus the bits-to-bytes expansion.
struct IqSignBytes {
  int64_t v[128];
  constexpr IqSignBytes() : v() {
    for (uint32_t i = 0; i < 128; ++i) {
      uint64_t bytes = 0;
      for (uint32_t j = 0; j < 8; ++j) bytes |= uint64_t((kIqKsigns.v[i] >> j) & 1 ? 0xff : 0x01) << (8 * j);
      v[i] = int64_t(bytes);
    }
  }
};
inline constexpr IqSignBytes kIqSignBytes{};

// The 32 sign multipliers of four 7-bit ksigns indices (bits 0, 7, 14, 21 of aux).
inline __m256i iq_sign_bytes4(uint32_t aux) {
  const int64_t* t = kIqSignBytes.v;
  return _mm256_setr_epi64x(t[aux & 127], t[(aux >> 7) & 127], t[(aux >> 14) & 127], t[(aux >> 21) & 127]);
}

// Four 8-byte grid entries (IQ1 / IQ2) at the indices of idx's four 32-bit
// lanes, and eight 4-byte entries (IQ3), by scalar loads: vpgatherdd was
// slower on Zen 3 (IQ3_S decode 37 against 33 ms in bench_compat_matmul).
inline __m256i iq_gather8(const int64_t* grid, __m128i idx) {
  alignas(16) int32_t i[4];
  _mm_store_si128(reinterpret_cast<__m128i*>(i), idx);
  return _mm256_setr_epi64x(grid[i[0]], grid[i[1]], grid[i[2]], grid[i[3]]);
}
inline __m256i iq_gather4(const int32_t* grid, __m256i idx) {
  alignas(32) int32_t i[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(i), idx);
  return _mm256_setr_epi32(grid[i[0]], grid[i[1]], grid[i[2]], grid[i[3]], grid[i[4]], grid[i[5]], grid[i[6]], grid[i[7]]);
}

// s is the same for every chunk of a super-block (d, d / 4 or d / 8).
inline CompatChunk iq_chunk(float s, int sc_lo = 1, int sc_hi = 1) {
  return CompatChunk{{int16_t(sc_lo), int16_t(sc_hi)}, {1, 1}, s, 0.0f};
}

inline __m256i iq_codes(const BlockIQ2_XXS& b, int c, CompatChunk& ch, const IqGrids& grids) {
  const uint32_t idx = iq_load_u32(&b.qs[4 * c]), aux = iq_load_u32(&b.qs[4 * c + 2]), ls = aux >> 28;
  ch = iq_chunk(_cvtsh_ss(b.d_fp16) * 0.125f, int(2 * ls + 1), int(2 * ls + 1));
  const __m256i g = iq_gather8(grids.iq2xxs, _mm_cvtepu8_epi32(_mm_cvtsi32_si128(int(idx))));
  return _mm256_sign_epi8(g, iq_sign_bytes4(aux));
}

inline __m256i iq_codes(const BlockIQ2_XS& b, int c, CompatChunk& ch, const IqGrids& grids) {
  const float d = _cvtsh_ss(b.d_fp16);
  ch = iq_chunk(d * 0.125f, 2 * (b.scales[c] & 0x0f) + 1, 2 * (b.scales[c] >> 4) + 1);
  const __m128i q = _mm_cvtepu16_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(&b.qs[4 * c])));
  const __m256i g = iq_gather8(grids.iq2xs, _mm_and_si128(q, _mm_set1_epi32(511)));
  const int64_t* t = kIqSignBytes.v;
  return _mm256_sign_epi8(g, _mm256_setr_epi64x(t[b.qs[4 * c] >> 9], t[b.qs[4 * c + 1] >> 9], t[b.qs[4 * c + 2] >> 9],
                                                t[b.qs[4 * c + 3] >> 9]));
}

inline __m256i iq_codes(const BlockIQ2_S& b, int c, CompatChunk& ch, const IqGrids& grids) {
  const float d = _cvtsh_ss(b.d_fp16);
  ch = iq_chunk(d * 0.125f, 2 * (b.scales[c] & 0x0f) + 1, 2 * (b.scales[c] >> 4) + 1);
  const __m128i lo = _mm_cvtepu8_epi32(_mm_cvtsi32_si128(int(iq_load_u32(b.qs + 4 * c))));
  const __m128i hi = _mm_and_si128(_mm_srlv_epi32(_mm_set1_epi32(b.qh[c]), _mm_setr_epi32(0, 2, 4, 6)), _mm_set1_epi32(3));
  const __m256i g = iq_gather8(grids.iq2s, _mm_or_si128(lo, _mm_slli_epi32(hi, 8)));
  return iq_apply_signs(g, iq_sign_mask(iq_load_u32(b.qs + 32 + 4 * c)));
}

inline __m256i iq_codes(const BlockIQ3_XXS& b, int c, CompatChunk& ch, const IqGrids& grids) {
  const uint32_t aux = iq_load_u32(b.qs + 64 + 4 * c), ls = aux >> 28;
  ch = iq_chunk(_cvtsh_ss(b.d_fp16) * 0.25f, int(2 * ls + 1), int(2 * ls + 1));
  const __m256i idx = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(b.qs + 8 * c)));
  return _mm256_sign_epi8(iq_gather4(grids.iq3xxs, idx), iq_sign_bytes4(aux));
}

inline __m256i iq_codes(const BlockIQ3_S& b, int c, CompatChunk& ch, const IqGrids& grids) {
  const int ls = (b.scales[c / 2] >> (4 * (c % 2))) & 0x0f;
  ch = iq_chunk(_cvtsh_ss(b.d_fp16), 1 + 2 * ls, 1 + 2 * ls);
  const __m256i lo = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(b.qs + 8 * c)));
  const __m256i hi = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32(b.qh[c]), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)),
                                      _mm256_set1_epi32(1));
  const __m256i g = iq_gather4(grids.iq3s, _mm256_or_si256(lo, _mm256_slli_epi32(hi, 8)));
  return iq_apply_signs(g, iq_sign_mask(iq_load_u32(b.signs + 4 * c)));
}

// IQ1: 8 g from the gathered -1 / 0 / 1 (sign of 8 by g), then the delta's ±1.
inline __m256i iq1_codes(__m256i g, __m256i delta) {
  return _mm256_add_epi8(_mm256_sign_epi8(_mm256_set1_epi8(8), g), delta);
}
inline int64_t iq1_delta8(bool negative) { return negative ? -1 : int64_t(0x0101010101010101); }

inline __m256i iq_codes(const BlockIQ1_S& b, int c, CompatChunk& ch, const IqGrids& grids) {
  const uint32_t qh = b.qh[c], ls = (qh >> 12) & 7;
  ch = iq_chunk(_cvtsh_ss(b.d_fp16) * 0.125f, int(2 * ls + 1), int(2 * ls + 1));
  const __m128i lo = _mm_cvtepu8_epi32(_mm_cvtsi32_si128(int(iq_load_u32(b.qs + 4 * c))));
  const __m128i hi = _mm_and_si128(_mm_srlv_epi32(_mm_set1_epi32(int(qh)), _mm_setr_epi32(0, 3, 6, 9)), _mm_set1_epi32(7));
  const __m256i g = iq_gather8(grids.iq1s, _mm_or_si128(lo, _mm_slli_epi32(hi, 8)));
  return iq1_codes(g, _mm256_set1_epi64x(iq1_delta8((qh & 0x8000) != 0)));
}

inline __m256i iq_codes(const BlockIQ1_M& b, int c, CompatChunk& ch, const IqGrids& grids) {
  uint16_t sc[4];
  __builtin_memcpy(sc, b.scales, 8);
  const uint16_t d_bits = uint16_t((sc[0] >> 12) | ((sc[1] >> 8) & 0x00f0) | ((sc[2] >> 4) & 0x0f00) | (sc[3] & 0xf000));
  const int h0 = 2 * c, h1 = 2 * c + 1;
  ch = iq_chunk(_cvtsh_ss(d_bits) * 0.125f, 2 * ((sc[h0 / 4] >> (3 * (h0 % 4))) & 7) + 1,
                2 * ((sc[h1 / 4] >> (3 * (h1 % 4))) & 7) + 1);
  // Entries 4 c .. 4 c + 3: nibbles of qh[2 c] and qh[2 c + 1], low first.
  const uint32_t nib = uint32_t(b.qh[2 * c]) | uint32_t(b.qh[2 * c + 1]) << 8;
  const __m128i n4 = _mm_and_si128(_mm_srlv_epi32(_mm_set1_epi32(int(nib)), _mm_setr_epi32(0, 4, 8, 12)), _mm_set1_epi32(15));
  const __m128i lo = _mm_cvtepu8_epi32(_mm_cvtsi32_si128(int(iq_load_u32(b.qs + 4 * c))));
  const __m256i g = iq_gather8(grids.iq1s, _mm_or_si128(lo, _mm_slli_epi32(_mm_and_si128(n4, _mm_set1_epi32(7)), 8)));
  const __m256i delta = _mm256_setr_epi64x(iq1_delta8(nib & 0x8), iq1_delta8(nib & 0x80), iq1_delta8(nib & 0x800),
                                           iq1_delta8(nib & 0x8000));
  return iq1_codes(g, delta);
}

// TQ1_0 and TQ2_0 as unsigned codes 0..2 (the value plus 1), half a
// super-block at a time: w[k] = chunk 4 h + k. For the decode kernel
// (kernels_compat_decode_avx2.cpp) and the unpack below.
//
// TQ2_0: chunk c holds bits 2 (c % 4) of bytes qs[32 (c / 4) ..].
inline void tq_half(const BlockTQ2_0& b, int h, __m256i w[4]) {
  const __m256i raw = load32(b.qs + 32 * h), m3 = _mm256_set1_epi8(3);
  w[0] = _mm256_and_si256(raw, m3);
  w[1] = _mm256_and_si256(_mm256_srli_epi16(raw, 2), m3);
  w[2] = _mm256_and_si256(_mm256_srli_epi16(raw, 4), m3);
  w[3] = _mm256_and_si256(_mm256_srli_epi16(raw, 6), m3);
}
// TQ1_0: digit p of a byte is ((byte * 3^p) mod 256) * 3 >> 8. The products
// mod 256 are byte adds (x * 3 = x + x + x), and ((q * 3) >> 8) is
// avg(q', avg(q', 0)) >> 6 with q' = q - 1 saturated at 0 (equal for all 256
// bytes; llama.cpp's formulation).
inline __m256i tq1_times3(__m256i v) { return _mm256_add_epi8(v, _mm256_add_epi8(v, v)); }
inline __m128i tq1_times3(__m128i v) { return _mm_add_epi8(v, _mm_add_epi8(v, v)); }
inline __m256i tq1_digit(__m256i q) {
  const __m256i q1 = _mm256_subs_epu8(q, _mm256_set1_epi8(1));
  const __m256i t = _mm256_avg_epu8(q1, _mm256_avg_epu8(q1, _mm256_setzero_si256()));
  return _mm256_and_si256(_mm256_srli_epi16(t, 6), _mm256_set1_epi8(3));
}
// Chunks 0..4: digit c of qs[0..32); chunks 5, 6: digits 2 (c - 5) and
// 2 (c - 5) + 1 of qs[32..48); chunk 7: digit 4 of qs[32..48), then digit p
// of qh[m] at 4 p + m.
inline void tq_half(const BlockTQ1_0& b, int h, __m256i w[4]) {
  const __m256i v = load32(b.qs);
  if (h == 0) {
    __m256i q = v;
    for (int k = 0; k < 4; ++k, q = tq1_times3(q)) w[k] = tq1_digit(q);
    return;
  }
  const __m256i v81 = tq1_times3(tq1_times3(tq1_times3(tq1_times3(v))));
  w[0] = tq1_digit(v81);
  const __m128i u1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qs + 32)), u3 = tq1_times3(u1);
  const __m128i u9 = tq1_times3(u3), u27 = tq1_times3(u9), u81 = tq1_times3(u27);
  const __m128i e1 = _mm_set1_epi32(int(iq_load_u32(b.qh))), e3 = tq1_times3(e1), e9 = tq1_times3(e3);
  const __m128i e = _mm_blend_epi32(_mm_blend_epi32(_mm_blend_epi32(e1, e3, 0x2), e9, 0x4), tq1_times3(e9), 0x8);
  w[1] = tq1_digit(_mm256_set_m128i(u3, u1));
  w[2] = tq1_digit(_mm256_set_m128i(u27, u9));
  w[3] = tq1_digit(_mm256_set_m128i(e, u81));
}

// ---- Decode form of IQ2_XXS and IQ3_XXS (IQ2_XS / IQ2_S and IQ3_S have
// kernels of their own in kernels_compat_decode_avx2.cpp): the grid
// levels of chunk c unsigned (as stored) and its signs as a vector of 1 / -1
// bytes to go onto the activations; the sub-scales of all 8 chunks come from
// iq_sub_scales8 and the float scale is the super-block's (iq_block_scale).
// Indices are read with scalar loads: vector index arithmetic cost more in
// extracts than it saved (bench_compat_matmul).
struct IqLevels {
  __m256i g;
  __m256i sgn;
};

inline IqLevels iq_levels(const BlockIQ2_XXS& b, int c, const IqGrids& grids) {
  const int64_t* g = grids.iq2xxs;
  const uint32_t idx = iq_load_u32(&b.qs[4 * c]), aux = iq_load_u32(&b.qs[4 * c + 2]);
  return {_mm256_setr_epi64x(g[idx & 255], g[(idx >> 8) & 255], g[(idx >> 16) & 255], g[idx >> 24]),
          iq_sign_bytes4(aux)};
}
inline IqLevels iq_levels(const BlockIQ3_XXS& b, int c, const IqGrids& grids) {
  const int32_t* g = grids.iq3xxs;
  const uint8_t* q = b.qs + 8 * c;
  return {_mm256_setr_epi32(g[q[0]], g[q[1]], g[q[2]], g[q[3]], g[q[4]], g[q[5]], g[q[6]], g[q[7]]),
          iq_sign_bytes4(iq_load_u32(b.qs + 64 + 4 * c))};
}

// The 8 chunks' sub-scales 2 ls + 1 (ls = the top 4 bits of each chunk's aux word) as floats.
inline __m256 iq_sub_scales_from_aux(__m256i aux) {
  const __m256i ls = _mm256_srli_epi32(aux, 28);
  return _mm256_cvtepi32_ps(_mm256_add_epi32(_mm256_add_epi32(ls, ls), _mm256_set1_epi32(1)));
}
inline __m256 iq_sub_scales8(const BlockIQ3_XXS& b) { return iq_sub_scales_from_aux(load32(b.qs + 64)); }
inline __m256 iq_sub_scales8(const BlockIQ2_XXS& b) {
  // Chunk c's aux is the odd 32-bit word 2 c + 1: shuffle_ps picks chunks 0, 1, 4, 5 | 2, 3, 6, 7.
  const __m256 w0 = _mm256_castsi256_ps(load32(b.qs)), w1 = _mm256_castsi256_ps(load32(b.qs + 16));
  const __m256i odd = _mm256_castps_si256(_mm256_shuffle_ps(w0, w1, 0xdd));
  return iq_sub_scales_from_aux(_mm256_permute4x64_epi64(odd, 0xd8));
}
inline float iq_block_scale(const BlockIQ2_XXS& b) { return _cvtsh_ss(b.d_fp16) * 0.125f; }
inline float iq_block_scale(const BlockIQ2_XS& b) { return _cvtsh_ss(b.d_fp16) * 0.125f; }
inline float iq_block_scale(const BlockIQ2_S& b) { return _cvtsh_ss(b.d_fp16) * 0.125f; }
inline float iq_block_scale(const BlockIQ3_XXS& b) { return _cvtsh_ss(b.d_fp16) * 0.25f; }

template <typename Block>
void unpack_iq(const Block* blocks, int64_t nb, int8_t* codes, CompatChunk* chunks) {
  constexpr bool kTernary = std::is_same_v<Block, BlockTQ1_0> || std::is_same_v<Block, BlockTQ2_0>;
  if constexpr (kTernary) {
    for (int64_t i = 0; i < nb; ++i) {
      for (int h = 0; h < 2; ++h) {
        __m256i w[4];
        tq_half(blocks[i], h, w);
        for (int k = 0; k < 4; ++k, codes += 32) store32(codes, _mm256_sub_epi8(w[k], _mm256_set1_epi8(1)));
      }
      for (int c = 0; c < 8; ++c) chunks[8 * i + c] = iq_chunk(_cvtsh_ss(blocks[i].d_fp16));
    }
  } else {
    const IqGrids& grids = iq_grids();  // once: a call in the loop would spill every vector register
    for (int64_t i = 0; i < nb; ++i)
      for (int c = 0; c < 8; ++c, codes += 32) store32(codes, iq_codes(blocks[i], c, chunks[8 * i + c], grids));
  }
}

// The vector unpack of an IQ / TQ row; false for other types.
inline bool unpack_iq_row(TensorType type, const void* blocks, int64_t n, int8_t* codes, CompatChunk* chunks) {
  if (n % 256 != 0) return false;
  switch (type) {
    case TensorType::IQ2_XXS: unpack_iq(static_cast<const BlockIQ2_XXS*>(blocks), n / 256, codes, chunks); return true;
    case TensorType::IQ2_XS: unpack_iq(static_cast<const BlockIQ2_XS*>(blocks), n / 256, codes, chunks); return true;
    case TensorType::IQ2_S: unpack_iq(static_cast<const BlockIQ2_S*>(blocks), n / 256, codes, chunks); return true;
    case TensorType::IQ3_XXS: unpack_iq(static_cast<const BlockIQ3_XXS*>(blocks), n / 256, codes, chunks); return true;
    case TensorType::IQ3_S: unpack_iq(static_cast<const BlockIQ3_S*>(blocks), n / 256, codes, chunks); return true;
    case TensorType::IQ1_S: unpack_iq(static_cast<const BlockIQ1_S*>(blocks), n / 256, codes, chunks); return true;
    case TensorType::IQ1_M: unpack_iq(static_cast<const BlockIQ1_M*>(blocks), n / 256, codes, chunks); return true;
    case TensorType::TQ1_0: unpack_iq(static_cast<const BlockTQ1_0*>(blocks), n / 256, codes, chunks); return true;
    case TensorType::TQ2_0: unpack_iq(static_cast<const BlockTQ2_0*>(blocks), n / 256, codes, chunks); return true;
    default: return false;
  }
}

}  // namespace
}  // namespace qat
#endif
