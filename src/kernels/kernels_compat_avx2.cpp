// AVX2 kernels for llama.cpp's compat types (Q4_1, Q5_0, Q5_1, Q2_K .. Q6_K,
// IQ4_NL, IQ4_XS; quant/ggml_compat_types.h), compiled with the AVX2 flags like
// kernels_avx2.cpp, whose table points here (avx2_*_compat). Same rules as
// every ISA file: intrinsics and raw pointers only (kernel_table.h). The
// AVX-512 table uses these too. Tried and not kept (2026-11-28, AMD EPYC with
// AVX-512): this file built again with AVX-512 VNNI, dot_u8s8 as one
// vpdpbusd, was no faster in bench_compat_matmul (decode or prompts).
#include "kernels/kernel_table.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include <algorithm>
#include <type_traits>

#include "kernels/avx2_helpers.h"

namespace qat {
namespace {

// Per int32 lane, the sum of the 4 products of unsigned bytes u and signed
// bytes s in that lane (every caller's maddubs pair sums stay within int16).
inline __m256i dot_u8s8(__m256i u, __m256i s) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

// ---- llama.cpp compat types (quant/ggml_compat_types.h), every one unpacked
// with vector code and with a fused decode kernel. The dot product uses the
// sign trick like Q8_0 for signed codes (within -32..31, never -128), then
// madd by the integer sub-scales: pair sums <= 2 * 32 * 127 and |sc| <= 128
// keep int32 exact.

// ---- Q6_K and Q3_K: signed codes in 16 sub-blocks of 16 with int8
// sub-scales. One template serves both: the codes of half h (elements
// 128 h .. 128 h + 127) as 4 vectors of 32, w[k] = elements 128 h + 32 k ..,
// and the 16 sub-scales as int8.

// Q6_K: 4 bits of ql (bytes 64 h .. 64 h + 63, low nibbles then high) and
// bits 2k..2k+1 of qh[32 h + l] on top, minus 32.
inline void half_codes(const BlockQ6_K& b, int h, __m256i w[4]) {
  const __m256i m4 = _mm256_set1_epi8(0x0f), m30 = _mm256_set1_epi8(0x30), k32 = _mm256_set1_epi8(32);
  const __m256i ql0 = load32(b.ql + 64 * h), ql1 = load32(b.ql + 64 * h + 32), qh = load32(b.qh + 32 * h);
  w[0] = _mm256_sub_epi8(_mm256_or_si256(_mm256_and_si256(ql0, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 4), m30)), k32);
  w[1] = _mm256_sub_epi8(_mm256_or_si256(_mm256_and_si256(ql1, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 2), m30)), k32);
  w[2] = _mm256_sub_epi8(_mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4), _mm256_and_si256(qh, m30)), k32);
  w[3] = _mm256_sub_epi8(
      _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4), _mm256_and_si256(_mm256_srli_epi16(qh, 2), m30)),
      k32);
}
inline __m128i sub_scales8(const BlockQ6_K& b) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales)); }

// Q3_K: bits 2k..2k+1 of qs[32 h + l], minus 4 where bit 4 h + k of
// hmask[l] is clear.
inline void half_codes(const BlockQ3_K& b, int h, __m256i w[4]) {
  const __m256i q = load32(b.qs + 32 * h), hm = load32(b.hmask), m3 = _mm256_set1_epi8(3);
  const __m256i low[4] = {_mm256_and_si256(q, m3), _mm256_and_si256(_mm256_srli_epi16(q, 2), m3),
                          _mm256_and_si256(_mm256_srli_epi16(q, 4), m3), _mm256_and_si256(_mm256_srli_epi16(q, 6), m3)};
  for (int k = 0; k < 4; ++k) {
    const __m256i clear = _mm256_cmpeq_epi8(_mm256_and_si256(hm, _mm256_set1_epi8(char(1 << (4 * h + k)))),
                                            _mm256_setzero_si256());
    w[k] = _mm256_sub_epi8(low[k], _mm256_and_si256(clear, _mm256_set1_epi8(4)));
  }
}
// The 16 six-bit scales minus 32 (scale_q3_k): low nibbles from bytes 0..7
// (then their high nibbles for 8..15), 2 high bits from byte 8 + i % 4 at
// bit 2 (i / 4); the per-dword shift only pulls bits above the mask in.
inline __m128i sub_scales8(const BlockQ3_K& b) {
  const __m128i m4 = _mm_set1_epi8(0x0f);
  const __m128i x = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(b.scales));
  const __m128i lo = _mm_unpacklo_epi64(_mm_and_si128(x, m4), _mm_and_si128(_mm_srli_epi16(x, 4), m4));
  int32_t hbytes;
  __builtin_memcpy(&hbytes, b.scales + 8, 4);
  const __m128i hi = _mm_and_si128(_mm_srlv_epi32(_mm_set1_epi32(hbytes), _mm_setr_epi32(0, 2, 4, 6)), _mm_set1_epi8(3));
  return _mm_sub_epi8(_mm_or_si128(lo, _mm_slli_epi16(hi, 4)), _mm_set1_epi8(32));
}

template <typename Block>
void unpack_signed16(const Block* blocks, int64_t nb, int8_t* codes, CompatChunk* chunks) {
  for (int64_t i = 0; i < nb; ++i) {
    const Block& b = blocks[i];
    prefetch_block(reinterpret_cast<const uint8_t*>(&b), sizeof(Block));  // decode streams rows from DRAM
    for (int h = 0; h < 2; ++h, codes += 128) {
      __m256i w[4];
      half_codes(b, h, w);
      for (int k = 0; k < 4; ++k) store32(codes + 32 * k, w[k]);
    }
    alignas(16) int8_t sc[16];
    _mm_store_si128(reinterpret_cast<__m128i*>(sc), sub_scales8(b));
    const float d = fp16_bits_to_f32(b.d_fp16);
    for (int c = 0; c < 8; ++c) chunks[8 * i + c] = CompatChunk{{sc[2 * c], sc[2 * c + 1]}, {1, 1}, d, 0.0f};
  }
}

// ---- Q2_K: unsigned 2-bit codes, code of element 128 h + 32 j + l at bits
// 2 j of qs[32 h + l]; per 16 elements a 4-bit scale (low nibble of
// scales[i]) and a 4-bit min (high nibble).
inline __m256i q2_k_codes(__m256i qs, int j) {
  return _mm256_and_si256(_mm256_srl_epi16(qs, _mm_cvtsi32_si128(2 * j)), _mm256_set1_epi8(3));
}

void unpack_q2_k(const BlockQ2_K* blocks, int64_t nb, int8_t* codes, CompatChunk* chunks) {
  for (int64_t i = 0; i < nb; ++i) {
    const BlockQ2_K& b = blocks[i];
    prefetch_block(reinterpret_cast<const uint8_t*>(&b), sizeof(b));
    for (int h = 0; h < 2; ++h) {
      const __m256i qs = load32(b.qs + 32 * h);
      for (int j = 0; j < 4; ++j, codes += 32) store32(codes, q2_k_codes(qs, j));
    }
    const float d = fp16_bits_to_f32(b.d_fp16), dmin = fp16_bits_to_f32(b.dmin_fp16);
    for (int c = 0; c < 8; ++c) {
      const uint8_t lo = b.scales[2 * c], hi = b.scales[2 * c + 1];
      chunks[8 * i + c] =
          CompatChunk{{int16_t(lo & 0x0f), int16_t(hi & 0x0f)}, {int16_t(lo >> 4), int16_t(hi >> 4)}, d, -dmin};
    }
  }
}

// The fifth bit of Q5_K's codes for sub-block sb, at bit 4 of each byte:
// bit sb of qh[l] (the and drops what the 16-bit shift carried in).
inline __m256i q5_k_high(__m256i qh, int sb) {
  const __m256i bit = _mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(sb)), _mm256_set1_epi8(1));
  return _mm256_slli_epi16(bit, 4);
}

// Q4_K / Q5_K: the 8 six-bit scales (bytes 0..7) and mins (bytes 8..15) of
// scale_min_k4, from the 12 packed bytes q0..q11 (read as 16; the block
// goes on past them). Scale j < 4 is q[j] & 63, min j < 4 is q[j + 4] & 63;
// for j >= 4 the low 4 bits come from q[j + 4] (scale: low nibble, min: high)
// and the top 2 from bits 6..7 of q[j - 4] (scale) or q[j] (min).
inline __m128i k_scales_mins(const uint8_t* q) {
  const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
  const __m128i a = _mm_shuffle_epi8(raw, _mm_setr_epi8(0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 8, 9, 10, 11));
  const __m128i top = _mm_shuffle_epi8(raw, _mm_setr_epi8(0, 0, 0, 0, 0, 1, 2, 3, 4, 4, 4, 4, 4, 5, 6, 7));
  const __m128i low = _mm_or_si128(
      _mm_and_si128(a, _mm_setr_epi8(63, 63, 63, 63, 15, 15, 15, 15, 63, 63, 63, 63, 0, 0, 0, 0)),
      _mm_and_si128(_mm_srli_epi16(a, 4), _mm_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 15, 15, 15, 15)));
  const __m128i high = _mm_and_si128(_mm_slli_epi16(_mm_and_si128(_mm_srli_epi16(top, 6), _mm_set1_epi8(3)), 4),
                                     _mm_setr_epi8(0, 0, 0, 0, -1, -1, -1, -1, 0, 0, 0, 0, -1, -1, -1, -1));
  return _mm_or_si128(low, high);
}

// Q4_K or Q5_K (Block): unsigned codes (with Q5_K's fifth bit), s = d * sc
// and m = -dmin * mn per sub-block.
template <typename Block>
void unpack_k(const Block* blocks, int64_t nb, int8_t* codes, CompatChunk* chunks) {
  constexpr bool k5 = sizeof(Block) == sizeof(BlockQ5_K);
  const __m256i m4 = _mm256_set1_epi8(0x0f);
  for (int64_t i = 0; i < nb; ++i) {
    const Block& b = blocks[i];
    prefetch_block(reinterpret_cast<const uint8_t*>(&b), sizeof(Block));
    __m256i qh = _mm256_setzero_si256();
    if constexpr (k5) qh = load32(b.qh);
    for (int g = 0; g < 4; ++g, codes += 64) {
      const __m256i raw = load32(b.qs + 32 * g);
      __m256i lo = _mm256_and_si256(raw, m4), hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), m4);
      if constexpr (k5) {
        lo = _mm256_or_si256(lo, q5_k_high(qh, 2 * g));
        hi = _mm256_or_si256(hi, q5_k_high(qh, 2 * g + 1));
      }
      store32(codes, lo);
      store32(codes + 32, hi);
    }
    const float d = fp16_bits_to_f32(b.d_fp16), dmin = fp16_bits_to_f32(b.dmin_fp16);
    alignas(16) uint8_t sm[16];
    _mm_store_si128(reinterpret_cast<__m128i*>(sm), k_scales_mins(b.scales));
    for (int s = 0; s < 8; ++s) {
      const int sc = sm[s], mn = sm[8 + s];
      chunks[8 * i + s].sc[0] = chunks[8 * i + s].sc[1] = 1;
      chunks[8 * i + s].mn[0] = chunks[8 * i + s].mn[1] = 1;
      chunks[8 * i + s].s = d * float(sc);
      chunks[8 * i + s].m = -(dmin * float(mn));
    }
  }
}

// ---- Q4_1, Q5_0, Q5_1: blocks of 32 elements, one chunk each. Element j < 16
// is the low nibble of qs[j], element j >= 16 the high nibble of qs[j - 16];
// Q5_0 / Q5_1 add bit j of qh (a little-endian u32) as bit 4.
// IQ4_NL has Q4_0's layout of 4-bit indices into the grid (below).
template <typename Block>
constexpr bool kHasMin = std::is_same_v<Block, BlockQ4_1> || std::is_same_v<Block, BlockQ5_1>;  // d * q + m
template <typename Block>
constexpr bool kHasQh = std::is_same_v<Block, BlockQ5_0> || std::is_same_v<Block, BlockQ5_1>;
template <typename Block>
constexpr bool kGrid = std::is_same_v<Block, BlockIQ4_NL>;

// ---- IQ4_NL, IQ4_XS: 4-bit indices into ggml's 16-level grid
// (kIq4NlValues), looked up with one byte shuffle. The levels reach -127 and
// 113: signed codes through the sign trick, and a maddubs pair sum
// (<= 2 * 127 * 127) must go to int32 before another is added.

// The 32 grid levels of 16 bytes of indices (element j: low nibble of
// qs[j], j + 16: high nibble).
inline __m256i iq4_codes(const uint8_t* qs) {
  const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs)), m4 = _mm_set1_epi8(0x0f);
  const __m256i idx = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(raw, 4), m4), _mm_and_si128(raw, m4));
  const __m256i grid = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(kIq4NlValues)));
  return _mm256_shuffle_epi8(grid, idx);
}

// IQ4_XS: the 8 sub-block scales ls - 32 as int32 lanes: the low 4 bits of
// sub-block s at bit 4 s of scales_l (a little-endian u32), the high 2 at bit
// 2 s of scales_h.
inline __m256i iq4_xs_scales(const BlockIQ4_XS& b) {
  uint32_t lo;
  __builtin_memcpy(&lo, b.scales_l, 4);
  const __m256i l = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32(int32_t(lo)), _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28)),
                                     _mm256_set1_epi32(15));
  const __m256i h = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32(b.scales_h), _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14)),
                                     _mm256_set1_epi32(3));
  return _mm256_sub_epi32(_mm256_or_si256(l, _mm256_slli_epi32(h, 4)), _mm256_set1_epi32(32));
}

void unpack_iq4_xs(const BlockIQ4_XS* blocks, int64_t nb, int8_t* codes, CompatChunk* chunks) {
  for (int64_t i = 0; i < nb; ++i) {
    const BlockIQ4_XS& b = blocks[i];
    prefetch_block(reinterpret_cast<const uint8_t*>(&b), sizeof(b));
    for (int s = 0; s < 8; ++s, codes += 32) store32(codes, iq4_codes(b.qs + 16 * s));
    alignas(32) int32_t ls[8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(ls), iq4_xs_scales(b));
    const float d = fp16_bits_to_f32(b.d_fp16);
    for (int s = 0; s < 8; ++s) chunks[8 * i + s] = CompatChunk{{1, 1}, {1, 1}, d * float(ls[s]), 0.0f};
  }
}

// Byte j of the result is 0x10 where bit j of qh is set.
inline __m256i fifth_bits32(const uint8_t* qh) {
  uint32_t bits;
  __builtin_memcpy(&bits, qh, 4);
  // Byte j takes byte j / 8 of the u32 (the shuffle works per 128-bit half; both hold the u32).
  const __m256i spread = _mm256_shuffle_epi8(_mm256_set1_epi32(int32_t(bits)),
                                             _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,  //
                                                              2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
  const __m256i bit = _mm256_set1_epi64x(int64_t(0x8040201008040201ull));  // byte j: 1 << (j % 8)
  return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit), _mm256_set1_epi8(0x10));
}

// The block's codes: unsigned 0..15 (Q4_1) or 0..31 (Q5_0 before its -16,
// Q5_1); IQ4_NL's signed grid levels.
template <typename Block>
inline __m256i codes32(const Block& b) {
  if constexpr (kGrid<Block>) return iq4_codes(b.qs);
  const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qs)), m4 = _mm_set1_epi8(0x0f);
  __m256i c = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(raw, 4), m4), _mm_and_si128(raw, m4));
  if constexpr (kHasQh<Block>) c = _mm256_or_si256(c, fifth_bits32(b.qh));
  return c;
}

template <typename Block>
void unpack_32(const Block* blocks, int64_t nb, int8_t* codes, CompatChunk* chunks) {
  for (int64_t i = 0; i < nb; ++i, codes += 32) {
    const Block& b = blocks[i];
    __m256i c = codes32(b);
    if constexpr (std::is_same_v<Block, BlockQ5_0>) c = _mm256_sub_epi8(c, _mm256_set1_epi8(16));
    store32(codes, c);
    float m = 0.0f;
    if constexpr (kHasMin<Block>) m = fp16_bits_to_f32(b.m_fp16);
    chunks[i] = CompatChunk{{1, 1}, {1, 1}, fp16_bits_to_f32(b.d_fp16), m};
  }
}

void unpack_compat(TensorType type, const void* blocks, int64_t n, int8_t* codes, CompatChunk* chunks) {
  if (type == TensorType::Q4_1 && n % 32 == 0)
    return unpack_32(static_cast<const BlockQ4_1*>(blocks), n / 32, codes, chunks);
  if (type == TensorType::Q5_0 && n % 32 == 0)
    return unpack_32(static_cast<const BlockQ5_0*>(blocks), n / 32, codes, chunks);
  if (type == TensorType::Q5_1 && n % 32 == 0)
    return unpack_32(static_cast<const BlockQ5_1*>(blocks), n / 32, codes, chunks);
  if (type == TensorType::IQ4_NL && n % 32 == 0)
    return unpack_32(static_cast<const BlockIQ4_NL*>(blocks), n / 32, codes, chunks);
  if (type == TensorType::IQ4_XS && n % 256 == 0)
    return unpack_iq4_xs(static_cast<const BlockIQ4_XS*>(blocks), n / 256, codes, chunks);
  if (type == TensorType::Q2_K && n % 256 == 0)
    return unpack_q2_k(static_cast<const BlockQ2_K*>(blocks), n / 256, codes, chunks);
  if (type == TensorType::Q6_K && n % 256 == 0)
    return unpack_signed16(static_cast<const BlockQ6_K*>(blocks), n / 256, codes, chunks);
  if (type == TensorType::Q3_K && n % 256 == 0)
    return unpack_signed16(static_cast<const BlockQ3_K*>(blocks), n / 256, codes, chunks);
  if (type == TensorType::Q4_K && n % 256 == 0)
    return unpack_k(static_cast<const BlockQ4_K*>(blocks), n / 256, codes, chunks);
  if (type == TensorType::Q5_K && n % 256 == 0)
    return unpack_k(static_cast<const BlockQ5_K*>(blocks), n / 256, codes, chunks);
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
      for (int t = 0; t < NT; ++t) {
        const ActBlockInfo& ai = xi[t * nb + b];
        const int32_t msum = c.mn[0] * ai.sum_lo + c.mn[1] * (ai.sum - ai.sum_lo);  // ai.sum when mn = {1, 1}
        mt[t] += ai.d * (c.m * float(msum));
      }
  }
  for (int t = 0; t < NT; ++t) y[t * y_stride] = hsum(acc[t]) + mt[t];
}

void dot_compat(const int8_t* codes, const CompatChunk* chunks, int64_t nb, const BlockQ8_0* x,
                const ActBlockInfo* xi, int64_t n, float* y, int64_t y_stride) {
  int64_t t = 0;
  for (; t + 4 <= n; t += 4) dot_compat_tokens<4>(codes, chunks, nb, x + t * nb, xi + t * nb, y + t * y_stride, y_stride);
  for (; t < n; ++t) dot_compat_tokens<1>(codes, chunks, nb, x + t * nb, xi + t * nb, y + t * y_stride, y_stride);
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

// ---- Prompts: 8 rows regrouped into a tile, as quant_pack.h lays out Q8_0:
// per chunk, 8 groups of 32 bytes, each holding 4 codes of all 8 rows, so one
// integer lane per row and one float stage per chunk for 8 rows at once.
// Per chunk and half, the rows' sub-scales as int16 pairs (lanes 2j, 2j + 1
// = row j, the lanes maddubs leaves row j's sums in), s, and the m term of
// each half: m * mn[0], m * mn[1] (float, exact; both m but for Q2_K).
struct CompatTile {
  uint8_t* codes;       // nb * 256
  int16_t* sc16;        // nb * 2 * 16
  float *s, *m, *m_hi;  // nb * 8 each
};

inline uint8_t* align64(uint8_t* p) { return reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(p) + 63) & ~uintptr_t(63)); }

// Unpacks rows [r, r + 8) and interleaves them into the tile.
void build_tile(TensorType type, const uint8_t* w, uint64_t row_bytes, int64_t r, int64_t cols, uint8_t* scratch,
                CompatTile& tile) {
  const int64_t nb = cols / 32;
  auto* chunks = reinterpret_cast<CompatChunk*>(align64(scratch));
  int8_t* rows8 = reinterpret_cast<int8_t*>(align64(reinterpret_cast<uint8_t*>(chunks + 8 * nb)));
  tile.codes = align64(reinterpret_cast<uint8_t*>(rows8 + 8 * cols));
  tile.sc16 = reinterpret_cast<int16_t*>(align64(tile.codes + 8 * cols));
  tile.s = reinterpret_cast<float*>(align64(reinterpret_cast<uint8_t*>(tile.sc16 + 32 * nb)));
  tile.m = reinterpret_cast<float*>(align64(reinterpret_cast<uint8_t*>(tile.s + 8 * nb)));
  tile.m_hi = reinterpret_cast<float*>(align64(reinterpret_cast<uint8_t*>(tile.m + 8 * nb)));
  for (int j = 0; j < 8; ++j)
    unpack_compat(type, w + uint64_t(r + j) * row_bytes, cols, rows8 + j * cols, chunks + j * nb);
  for (int64_t b = 0; b < nb; ++b) {
    for (int q = 0; q < 8; ++q)
      for (int j = 0; j < 8; ++j)
        __builtin_memcpy(tile.codes + b * 256 + q * 32 + j * 4, rows8 + j * cols + b * 32 + q * 4, 4);
    for (int j = 0; j < 8; ++j) {
      const CompatChunk& c = chunks[j * nb + b];
      for (int hf = 0; hf < 2; ++hf) tile.sc16[b * 32 + hf * 16 + 2 * j] = tile.sc16[b * 32 + hf * 16 + 2 * j + 1] = c.sc[hf];
      tile.s[b * 8 + j] = c.s;
      tile.m[b * 8 + j] = c.m * float(c.mn[0]);
      tile.m_hi[b * 8 + j] = c.m * float(c.mn[1]);
    }
  }
}

// Codes of Q4_1, Q5_1, Q4_K and Q5_K are unsigned (0..31, the offset is in
// m): maddubs takes them as they are. Q3_K, Q6_K and Q5_0 codes are signed
// (-32..31, never -128) and go through the sign trick; they have no m. The
// IQ4 grid levels are signed and wide (-127..113). Q2_K's codes are unsigned
// with a different m term for each half chunk (TwoMins).
enum class Codes { Unsigned, TwoMins, Signed, Wide };
inline Codes code_kind(TensorType t) {
  if (t == TensorType::Q4_1 || t == TensorType::Q5_1 || t == TensorType::Q4_K || t == TensorType::Q5_K)
    return Codes::Unsigned;
  if (t == TensorType::Q2_K) return Codes::TwoMins;
  return has_wide_codes(t) ? Codes::Wide : Codes::Signed;
}

// The tile times NT tokens. Narrow codes: four groups' pair sums stay within
// int16 (4 * 2 * 32 * 127 = 32512), then one madd by the sub-scale pairs per
// half (|sum * sc| <= 2 * 32512 * 128 fits int32). Wide codes: each group's
// pair sums (<= 2 * 127 * 127) go to int32 at once.
template <int NT, Codes kCodes>
void tile_tokens(const CompatTile& tile, int64_t nb, const BlockQ8_0* x, const ActBlockInfo* xi, float* y,
                 int64_t ldy, int64_t nrows) {
  constexpr bool kTwoMins = kCodes == Codes::TwoMins, kWide = kCodes == Codes::Wide;
  constexpr bool kUnsigned = kCodes == Codes::Unsigned || kTwoMins;
  __m256 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* tb = tile.codes + b * 256;
    __m256i isum[NT];
    for (int t = 0; t < NT; ++t) isum[t] = _mm256_setzero_si256();
    for (int hf = 0; hf < 2; ++hf) {
      const __m256i sc = _mm256_load_si256(reinterpret_cast<const __m256i*>(tile.sc16 + 32 * b + 16 * hf));
      __m256i s16[NT];
      for (int t = 0; t < NT; ++t) s16[t] = _mm256_setzero_si256();
      for (int q = 4 * hf; q < 4 * hf + 4; ++q) {
        const __m256i w = load32(tb + 32 * q);
        const __m256i aw = kUnsigned ? w : _mm256_sign_epi8(w, w);
        for (int t = 0; t < NT; ++t) {
          const __m256i a = bcast4(x[t * nb + b].qs + 4 * q);
          const __m256i prod = _mm256_maddubs_epi16(aw, kUnsigned ? a : _mm256_sign_epi8(a, w));
          if constexpr (kWide) isum[t] = _mm256_add_epi32(isum[t], _mm256_madd_epi16(prod, sc));
          else s16[t] = _mm256_add_epi16(s16[t], prod);
        }
      }
      if constexpr (!kWide)
        for (int t = 0; t < NT; ++t) isum[t] = _mm256_add_epi32(isum[t], _mm256_madd_epi16(s16[t], sc));
    }
    const __m256 sv = _mm256_load_ps(tile.s + 8 * b);
    for (int t = 0; t < NT; ++t) {
      const ActBlockInfo& ai = xi[t * nb + b];
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[t]), _mm256_mul_ps(sv, _mm256_set1_ps(ai.d)), acc[t]);
      if (kTwoMins) {
        acc[t] = _mm256_fmadd_ps(_mm256_load_ps(tile.m + 8 * b), _mm256_set1_ps(ai.d * float(ai.sum_lo)), acc[t]);
        acc[t] = _mm256_fmadd_ps(_mm256_load_ps(tile.m_hi + 8 * b), _mm256_set1_ps(ai.d * float(ai.sum - ai.sum_lo)),
                                 acc[t]);
      } else if (kUnsigned) {
        acc[t] = _mm256_fmadd_ps(_mm256_load_ps(tile.m + 8 * b), _mm256_set1_ps(ai.d * float(ai.sum)), acc[t]);
      }
    }
  }
  for (int t = 0; t < NT; ++t) store_rows(y + t * ldy, acc[t], nrows);
}

// The 4-token tile with named registers: GCC keeps the template's __m256
// arrays on the stack (see q4_tile4 in kernels_avx2.cpp). Same sums and the
// same float operations as tile_tokens<4, kCodes>.
template <Codes kCodes>
void tile_tokens4(const CompatTile& tile, int64_t nb, const BlockQ8_0* x, const ActBlockInfo* xi, float* y,
                  int64_t ldy, int64_t nrows) {
  constexpr bool kTwoMins = kCodes == Codes::TwoMins, kWide = kCodes == Codes::Wide;
  constexpr bool kUnsigned = kCodes == Codes::Unsigned || kTwoMins;
  __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
  const BlockQ8_0 *x0 = x, *x1 = x + nb, *x2 = x + 2 * nb, *x3 = x + 3 * nb;
  const ActBlockInfo *i0 = xi, *i1 = xi + nb, *i2 = xi + 2 * nb, *i3 = xi + 3 * nb;
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* tb = tile.codes + b * 256;
    __m256i t0 = _mm256_setzero_si256(), t1 = t0, t2 = t0, t3 = t0;
    for (int hf = 0; hf < 2; ++hf) {
      const __m256i sc = _mm256_load_si256(reinterpret_cast<const __m256i*>(tile.sc16 + 32 * b + 16 * hf));
      __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
      for (int q = 4 * hf; q < 4 * hf + 4; ++q) {
        const __m256i w = load32(tb + 32 * q);
        const __m256i aw = kUnsigned ? w : _mm256_sign_epi8(w, w);
#define QAT_COMPAT_STEP(s, t, xt)                                                                        \
  {                                                                                                      \
    const __m256i a = bcast4(xt[b].qs + 4 * q);                                                          \
    const __m256i prod = _mm256_maddubs_epi16(aw, kUnsigned ? a : _mm256_sign_epi8(a, w));               \
    if constexpr (kWide) t = _mm256_add_epi32(t, _mm256_madd_epi16(prod, sc));                           \
    else s = _mm256_add_epi16(s, prod);                                                                  \
  }
        QAT_COMPAT_STEP(s0, t0, x0)
        QAT_COMPAT_STEP(s1, t1, x1)
        QAT_COMPAT_STEP(s2, t2, x2)
        QAT_COMPAT_STEP(s3, t3, x3)
#undef QAT_COMPAT_STEP
      }
      if constexpr (!kWide) {
        t0 = _mm256_add_epi32(t0, _mm256_madd_epi16(s0, sc));
        t1 = _mm256_add_epi32(t1, _mm256_madd_epi16(s1, sc));
        t2 = _mm256_add_epi32(t2, _mm256_madd_epi16(s2, sc));
        t3 = _mm256_add_epi32(t3, _mm256_madd_epi16(s3, sc));
      }
    }
    const __m256 sv = _mm256_load_ps(tile.s + 8 * b);
#define QAT_COMPAT_FLOAT(acc, t, info)                                                                        \
  acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(t), _mm256_mul_ps(sv, _mm256_set1_ps(info[b].d)), acc);        \
  if (kTwoMins) {                                                                                         \
    acc = _mm256_fmadd_ps(mv, _mm256_set1_ps(info[b].d * float(info[b].sum_lo)), acc);                    \
    acc = _mm256_fmadd_ps(mv_hi, _mm256_set1_ps(info[b].d * float(info[b].sum - info[b].sum_lo)), acc);   \
  } else if (kUnsigned) {                                                                                 \
    acc = _mm256_fmadd_ps(mv, _mm256_set1_ps(info[b].d * float(info[b].sum)), acc);                       \
  }
    const __m256 mv = kUnsigned ? _mm256_load_ps(tile.m + 8 * b) : _mm256_setzero_ps();
    const __m256 mv_hi = kTwoMins ? _mm256_load_ps(tile.m_hi + 8 * b) : _mm256_setzero_ps();
    QAT_COMPAT_FLOAT(acc0, t0, i0)
    QAT_COMPAT_FLOAT(acc1, t1, i1)
    QAT_COMPAT_FLOAT(acc2, t2, i2)
    QAT_COMPAT_FLOAT(acc3, t3, i3)
#undef QAT_COMPAT_FLOAT
  }
  store_rows(y, acc0, nrows);
  store_rows(y + ldy, acc1, nrows);
  store_rows(y + 2 * ldy, acc2, nrows);
  store_rows(y + 3 * ldy, acc3, nrows);
}

template <Codes kCodes>
void tile_all_tokens(const CompatTile& tile, int64_t nb, const BlockQ8_0* x, const ActBlockInfo* xi, int64_t n,
                     float* y, int64_t rows) {
  int64_t t = 0;
  for (; t + 4 <= n; t += 4) tile_tokens4<kCodes>(tile, nb, x + t * nb, xi + t * nb, y + t * rows, rows, 8);
  for (; t < n; ++t) tile_tokens<1, kCodes>(tile, nb, x + t * nb, xi + t * nb, y + t * rows, rows, 8);
}

void rows_compat(TensorType type, const uint8_t* w, uint64_t row_bytes, int64_t r0, int64_t r1, int64_t cols,
                 const BlockQ8_0* x, const ActBlockInfo* xi, int64_t n, float* y, int64_t rows, uint8_t* scratch) {
  const int64_t nb = cols / 32;
  if (n <= 2) {  // decode: every compat type has a fused kernel
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
    if (has_wide_codes(type)) {
      paired = reinterpret_cast<int8_t*>(align64(reinterpret_cast<uint8_t*>(asum_lo + 2 * nbp)));
      pair_block_halves(x, nb, nbp, n, paired);
    }
    const TokenArrays a{da, dsum, asum, asum_lo, nbp, paired};
    switch (type) {
      case TensorType::Q4_1: return fused_rows<BlockQ4_1>(w, row_bytes, r0, r1, nb, x, n, a, y, rows);
      case TensorType::Q5_0: return fused_rows<BlockQ5_0>(w, row_bytes, r0, r1, nb, x, n, a, y, rows);
      case TensorType::Q5_1: return fused_rows<BlockQ5_1>(w, row_bytes, r0, r1, nb, x, n, a, y, rows);
      case TensorType::Q2_K: return fused_rows<BlockQ2_K>(w, row_bytes, r0, r1, nb, x, n, a, y, rows);
      case TensorType::Q3_K: return fused_rows<BlockQ3_K>(w, row_bytes, r0, r1, nb, x, n, a, y, rows);
      case TensorType::Q4_K: return fused_rows<BlockQ4_K>(w, row_bytes, r0, r1, nb, x, n, a, y, rows);
      case TensorType::Q5_K: return fused_rows<BlockQ5_K>(w, row_bytes, r0, r1, nb, x, n, a, y, rows);
      case TensorType::Q6_K: return fused_rows<BlockQ6_K>(w, row_bytes, r0, r1, nb, x, n, a, y, rows);
      case TensorType::IQ4_NL: return fused_rows<BlockIQ4_NL>(w, row_bytes, r0, r1, nb, x, n, a, y, rows);
      case TensorType::IQ4_XS: return fused_rows<BlockIQ4_XS>(w, row_bytes, r0, r1, nb, x, n, a, y, rows);
      default: break;  // not a compat type: the unpacked path below reports it
    }
  }
  int64_t r = r0;
  if (n >= 3) {
    CompatTile tile;
    const Codes kind = code_kind(type);
    for (; r + 8 <= r1; r += 8) {
      build_tile(type, w, row_bytes, r, cols, scratch, tile);
      if (kind == Codes::Unsigned)
        tile_all_tokens<Codes::Unsigned>(tile, nb, x, xi, n, y + r, rows);
      else if (kind == Codes::TwoMins)
        tile_all_tokens<Codes::TwoMins>(tile, nb, x, xi, n, y + r, rows);
      else if (kind == Codes::Signed)
        tile_all_tokens<Codes::Signed>(tile, nb, x, xi, n, y + r, rows);
      else
        tile_all_tokens<Codes::Wide>(tile, nb, x, xi, n, y + r, rows);
    }
  }
  // Prompt rows left over from whole tiles.
  auto* chunks = reinterpret_cast<CompatChunk*>(align64(scratch));
  auto* codes = reinterpret_cast<int8_t*>(chunks + nb);
  for (; r < r1; ++r) {
    unpack_compat(type, w + uint64_t(r) * row_bytes, cols, codes, chunks);
    dot_compat(codes, chunks, nb, x, xi, n, y + r, rows);
  }
}

}  // namespace

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

}  // namespace qat
#endif
