// The register-level pieces the AVX2 compat kernels share: each type's codes
// and scales built from its GGUF block (quant/ggml_compat_types.h). Used by
// kernels_compat_avx2.cpp (unpack, prompt tile, dispatch) and
// kernels_compat_decode_avx2.cpp (fused decode kernels); include it only from
// files built with the AVX2 flags (cmake/kernel_isa_flags.cmake).
#pragma once
#include "kernels/kernel_table.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include <type_traits>

#include "kernels/avx2_helpers.h"

namespace qat {
namespace {  // as avx2_helpers.h: each AVX2 file gets its own copy

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

// ---- Q2_K: unsigned 2-bit codes, code of element 128 h + 32 j + l at bits
// 2 j of qs[32 h + l]; per 16 elements a 4-bit scale (low nibble of
// scales[i]) and a 4-bit min (high nibble).
inline __m256i q2_k_codes(__m256i qs, int j) {
  return _mm256_and_si256(_mm256_srl_epi16(qs, _mm_cvtsi32_si128(2 * j)), _mm256_set1_epi8(3));
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

inline uint8_t* align64(uint8_t* p) { return reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(p) + 63) & ~uintptr_t(63)); }

}  // namespace

// Rows [r0, r1) of a compat matrix times n = 1 or 2 tokens through the type's
// fused decode kernel (kernels_compat_decode_avx2.cpp), with scratch as for
// CompatRowsFn; false, computing nothing, for a type without one.
bool avx2_compat_decode_rows(TensorType type, const uint8_t* w, uint64_t row_bytes, int64_t r0, int64_t r1,
                             int64_t nb, const BlockQ8_0* x, const ActBlockInfo* xi, int64_t n, float* y, int64_t rows,
                             uint8_t* scratch);

}  // namespace qat
#endif
