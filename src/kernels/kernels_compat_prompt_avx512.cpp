// AVX-512 VNNI prompt tile (3 or more tokens) for llama.cpp's compat types
// (Q4_1, Q5_0, Q5_1, Q2_K .. Q6_K, IQ4_NL, IQ4_XS): 16 rows per 512-bit
// register, one int32 lane per row, as kernels_avx512.cpp multiplies Q8_0 /
// Q4_0. Built with the AVX-512 flags (cmake/kernel_isa_flags.cmake). A
// tile is 8 registers of 64 bytes per chunk of 32, register q = codes
// 4q .. 4q + 3 of each of the 16 rows. Q4_K, Q5_K and Q6_K tiles are cut
// straight from the blocks (build_tile_fused); the other types' rows are
// unpacked by the AVX2 unpack (avx2_unpack_compat: int8 codes and one
// CompatChunk per 32), then regrouped (build_tile).
//
// vpdpbusd multiplies unsigned weight bytes by signed activation bytes, so
// signed codes (Q5_0, Q3_K, Q6_K, IQ4_*) are stored plus 128 and the
// activation block's sum times 128 comes off where the integer sum starts
// (exact: the sum |sum c a| <= 32 * 128 * 127 < 2^22). The unsigned codes of Q4_1, Q5_1,
// Q2_K, Q4_K and Q5_K go in as they are. Per chunk and token:
//   one scale per chunk (all but Q2_K, Q3_K, Q6_K): one sum of all 8
//     registers, started at the bits of 1.5 * 2^23 so that one float
//     subtraction converts it (avx512_helpers.h), times s * d_a, plus
//     m * (d_a * sum a) where the type has a min;
//   two sub-scales per chunk (Q2_K, Q3_K, Q6_K: one per 16 codes): a sum per
//     half (registers 0..3 and 4..7), each times its int32 sub-scale
//     (|.| <= 16 * 32 * 127 * 128 < 2^23 for Q6_K), converted, times s * d_a,
//     plus Q2_K's two mins times d_a * the half's activation sum.
// Tested against the scalar reference at this level (tests/kernels/compat_matmul_test.cpp).
#include "kernels/compat_prompt_avx512.h"

#include "kernels/kernel_table.h"

#if defined(__x86_64__)
#include "kernels/avx512_helpers.h"

namespace qat {
namespace {

enum Kind {
  kOneUnsigned,  // Q4_1, Q5_1, Q4_K, Q5_K: codes 0..31, one scale and one min per chunk
  kOneSigned,    // Q5_0, IQ4_NL, IQ4_XS: signed codes (-127..113), one scale per chunk
  kTwoSigned,    // Q3_K, Q6_K: signed codes (-32..31), a sub-scale per 16 codes
  kTwoMins,      // Q2_K: codes 0..3, a sub-scale and a min per 16 codes
  kNone,
};

Kind kind_of(TensorType t) {
  switch (t) {
    case TensorType::Q4_1:
    case TensorType::Q5_1:
    case TensorType::Q4_K:
    case TensorType::Q5_K: return kOneUnsigned;
    case TensorType::Q5_0:
    case TensorType::IQ4_NL:
    case TensorType::IQ4_XS: return kOneSigned;
    case TensorType::Q3_K:
    case TensorType::Q6_K: return kTwoSigned;
    case TensorType::Q2_K: return kTwoMins;
    default: return kNone;
  }
}

constexpr bool is_signed(Kind k) { return k == kOneSigned || k == kTwoSigned; }
constexpr bool two_scales(Kind k) { return k == kTwoSigned || k == kTwoMins; }

inline uint8_t* align64(uint8_t* p) {
  return reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(p) + 63) & ~uintptr_t(63));
}

// ---- Activations, per token tile of NT tokens, block-major so that one
// pointer and constant offsets reach every token (as kernels_avx512.cpp):
//   qs[b][t][32]                 the Q8_0 codes
//   init[b][t], init_hi[b][t]    where the integer sums start (whole chunk or
//                                first half; second half)
//   d[b][t]                      the block's scale
//   dsum[b][t], dsum_hi[b][t]    d times the sum of codes (whole or 0..15; 16..31)
constexpr int64_t kActBytes = kCompatPromptActBytes;

struct ActTile {
  const int8_t* qs;
  const int32_t *init, *init_hi;
  const float *d, *dsum, *dsum_hi;
};

inline ActTile act_tile(const uint8_t* p, int64_t nb, int nt) {
  ActTile a;
  a.qs = reinterpret_cast<const int8_t*>(p);
  a.init = reinterpret_cast<const int32_t*>(p + nb * nt * 32);
  a.init_hi = a.init + nb * nt;
  a.d = reinterpret_cast<const float*>(a.init_hi + nb * nt);
  a.dsum = a.d + nb * nt;
  a.dsum_hi = a.dsum + nb * nt;
  return a;
}

template <Kind K>
void pack_acts(const BlockQ8_0* x, const ActBlockInfo* xi, int64_t nb, int nt, uint8_t* out) {
  constexpr int32_t off = is_signed(K) ? 128 : 0;
  int8_t* qs = reinterpret_cast<int8_t*>(out);
  int32_t* init = reinterpret_cast<int32_t*>(out + nb * nt * 32);
  int32_t* init_hi = init + nb * nt;
  float* d = reinterpret_cast<float*>(init_hi + nb * nt);
  float* dsum = d + nb * nt;
  float* dsum_hi = dsum + nb * nt;
  for (int64_t b = 0; b < nb; ++b)
    for (int t = 0; t < nt; ++t) {
      const BlockQ8_0& a = x[t * nb + b];
      const ActBlockInfo& ai = xi[t * nb + b];
      const int64_t u = b * nt + t;
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(qs + u * 32),
                          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.qs)));
      d[u] = ai.d;
      if constexpr (two_scales(K)) {
        init[u] = -off * ai.sum_lo;
        init_hi[u] = -off * (ai.sum - ai.sum_lo);
        dsum[u] = ai.d * float(ai.sum_lo);
        dsum_hi[u] = ai.d * float(ai.sum - ai.sum_lo);
      } else {
        init[u] = kMagicBits - off * ai.sum;
        init_hi[u] = 0;
        dsum[u] = ai.d * float(ai.sum);
        dsum_hi[u] = 0.0f;
      }
    }
}

// ---- Weights: 16 rows regrouped per chunk b.
//   codes[b][q][16 rows][4]   codes 4q .. 4q + 3 of each row (plus 128 if signed)
//   s[b][16]                  the chunk's s per row
//   m[b][16], m_hi[b][16]     m * mn[0], m * mn[1] (0 without a min)
//   sc[b][16], sc_hi[b][16]   the int32 sub-scales (two-scale kinds)
struct RowTile {
  uint8_t* codes;
  float *s, *m, *m_hi;
  int32_t *sc, *sc_hi;
};

// Qword q of the result: dwords q of row 2k (low) and of row 2k + 1 (high),
// from z = row 2k's 32 bytes, then row 2k + 1's.
inline __m512i pair_dwords(__m512i z) {
  return _mm512_permutexvar_epi32(_mm512_setr_epi32(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15), z);
}

// p[k] qword q = (row 2k, row 2k + 1)'s dwords q  ->  out[q] qword k, i.e.
// out[q] = dword q of rows 0..15 in order (an 8 x 8 qword transpose).
inline void transpose8x8_qwords(const __m512i p[8], __m512i out[8]) {
  __m512i a[8], b[8];
  for (int k = 0; k < 8; k += 2) {
    a[k] = _mm512_unpacklo_epi64(p[k], p[k + 1]);      // p_k.0 p_k1.0 p_k.2 p_k1.2 ...
    a[k + 1] = _mm512_unpackhi_epi64(p[k], p[k + 1]);  // p_k.1 p_k1.1 p_k.3 p_k1.3 ...
  }
  const __m512i lo2 = _mm512_setr_epi64(0, 1, 8, 9, 4, 5, 12, 13), hi2 = _mm512_setr_epi64(2, 3, 10, 11, 6, 7, 14, 15);
  for (int g = 0; g < 8; g += 4)
    for (int h = 0; h < 2; ++h) {
      b[g + h] = _mm512_permutex2var_epi64(a[g + h], lo2, a[g + 2 + h]);      // qwords h, h + 4 of p_g..p_g+3
      b[g + 2 + h] = _mm512_permutex2var_epi64(a[g + h], hi2, a[g + 2 + h]);  // qwords h + 2, h + 6
    }
  const __m512i lo4 = _mm512_setr_epi64(0, 1, 2, 3, 8, 9, 10, 11), hi4 = _mm512_setr_epi64(4, 5, 6, 7, 12, 13, 14, 15);
  for (int j = 0; j < 4; ++j) {
    // b[j]: qwords j of p_0..p_3, then qwords j + 4; b[4 + j] the same of p_4..p_7.
    out[j] = _mm512_permutex2var_epi64(b[j], lo4, b[4 + j]);
    out[j + 4] = _mm512_permutex2var_epi64(b[j], hi4, b[4 + j]);
  }
}

// Rows [r, r + valid) (valid <= 16) into the tile; rows past valid are zeros.
template <Kind K>
void build_tile(TensorType type, const uint8_t* w, uint64_t row_bytes, int64_t r, int valid, int64_t cols,
                int8_t* rows8, CompatChunk* chunks, const RowTile& tile) {
  const int64_t nb = cols / 32;
  for (int j = 0; j < 16; ++j) {
    if (j < valid) {
      avx2_unpack_compat(type, w + uint64_t(r + j) * row_bytes, cols, rows8 + j * cols, chunks + j * nb);
    } else {
      for (int64_t c = 0; c < cols; ++c) rows8[j * cols + c] = 0;
      for (int64_t b = 0; b < nb; ++b) chunks[j * nb + b] = CompatChunk{{0, 0}, {0, 0}, 0.0f, 0.0f};
    }
  }
  const __m512i bias = _mm512_set1_epi8(is_signed(K) ? char(0x80) : 0);
  for (int64_t b = 0; b < nb; ++b) {
    __m512i p[8], out[8];
    for (int k = 0; k < 8; ++k) {
      const int8_t* a = rows8 + (2 * k) * cols + 32 * b;
      const __m512i z = _mm512_inserti64x4(
          _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a))),
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + cols)), 1);
      p[k] = pair_dwords(_mm512_xor_si512(z, bias));
    }
    transpose8x8_qwords(p, out);
    for (int q = 0; q < 8; ++q) _mm512_store_si512(tile.codes + b * 512 + 64 * q, out[q]);
    for (int j = 0; j < 16; ++j) {
      const CompatChunk& c = chunks[j * nb + b];
      tile.s[16 * b + j] = c.s;
      tile.m[16 * b + j] = c.m * float(c.mn[0]);
      tile.m_hi[16 * b + j] = c.m * float(c.mn[1]);
      tile.sc[16 * b + j] = c.sc[0];
      tile.sc_hi[16 * b + j] = c.sc[1];
    }
  }
}

// ---- Q4_K, Q5_K and Q6_K straight from the blocks: their 4-bit fields sit
// at the same byte offsets for every code of a 4-byte group, so the 16 rows'
// raw bytes are transposed (half the bytes of the unpacked codes) and the
// codes are cut out of the transposed registers, 16 rows at a time, with no
// unpacked row in between. Rows past the valid ones read kZeroBlock.
alignas(64) constexpr uint8_t kZeroBlock[256] = {};

// out[q] = dword q of the 32 bytes at blk[j] + off, lane j = row j.
inline void transpose_rows32(const uint8_t* const blk[16], int64_t off, __m512i out[8]) {
  __m512i p[8];
  for (int k = 0; k < 8; ++k) {
    const __m512i z = _mm512_inserti64x4(
        _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk[2 * k] + off))),
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk[2 * k + 1] + off)), 1);
    p[k] = pair_dwords(z);
  }
  transpose8x8_qwords(p, out);
}

// Bits `from` .. of every byte moved to bit `to` (16-bit shifts: the caller's
// mask keeps only bits that stayed within their byte).
inline __m512i move_bits(__m512i v, int from, int to) {
  if (from < to) return _mm512_sll_epi16(v, _mm_cvtsi32_si128(to - from));
  if (from > to) return _mm512_srl_epi16(v, _mm_cvtsi32_si128(from - to));
  return v;
}

// Lane j = the 4 bytes at blk[j] + off, as one gather: offs[j] = blk[j] -
// blk[0] (rows of one matrix, or kZeroBlock for rows past the valid ones,
// which the mask leaves zero).
struct RowGather {
  const uint8_t* base;
  __m512i offs;
  __mmask16 valid;
};
inline __m512i gather_dwords(const RowGather& g, int64_t off) {
  return _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), g.valid, g.offs, g.base + off, 1);
}

// Super-block i of 16 rows (blk[j]: row j's block i) into tile chunks
// 8 i .. 8 i + 7. Q4_K / Q5_K (kQ5): sub-block 2g = low nibbles of
// qs[32 g ..], 2g + 1 = their high nibbles, plus Q5_K's bit (2g or 2g + 1)
// of qh[l] as bit 4; scales and mins as ggml's get_scale_min_k4.
template <bool kQ5>
void fused_k(const uint8_t* const blk[16], const RowGather& rg, int64_t i, const RowTile& tile) {
  const __m512i m4 = _mm512_set1_epi8(0x0f), b4 = _mm512_set1_epi8(0x10);
  __m512i qh[8];
  if constexpr (kQ5) transpose_rows32(blk, 16, qh);
  for (int g = 0; g < 4; ++g) {
    __m512i raw[8];
    transpose_rows32(blk, (kQ5 ? 48 : 16) + 32 * g, raw);
    uint8_t* lo_out = tile.codes + (8 * i + 2 * g) * 512;
    for (int q = 0; q < 8; ++q) {
      __m512i lo = _mm512_and_si512(raw[q], m4), hi = _mm512_and_si512(_mm512_srli_epi16(raw[q], 4), m4);
      if constexpr (kQ5) {
        lo = _mm512_or_si512(lo, _mm512_and_si512(move_bits(qh[q], 2 * g, 4), b4));
        hi = _mm512_or_si512(hi, _mm512_and_si512(move_bits(qh[q], 2 * g + 1, 4), b4));
      }
      _mm512_store_si512(lo_out + 64 * q, lo);
      _mm512_store_si512(lo_out + 512 + 64 * q, hi);
    }
  }
  // The 12 scale bytes q[0..11] of each row as three dwords per lane; for
  // sub-block c < 4: sc = q[c] & 63, mn = q[c + 4] & 63; else, with c' = c - 4,
  // sc = (q[c + 4] & 15) | (q[c'] >> 6) << 4, mn = (q[c + 4] >> 4) | (q[c] >> 6) << 4.
  const __m512i dm = gather_dwords(rg, 0);
  const __m512i s0 = gather_dwords(rg, 4), s1 = gather_dwords(rg, 8), s2 = gather_dwords(rg, 12);
  const __m512 d = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(dm));
  const __m512 dmin = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(dm, 16)));
  const __m512i m63 = _mm512_set1_epi32(63), m15 = _mm512_set1_epi32(15), m48 = _mm512_set1_epi32(48);
  for (int c = 0; c < 8; ++c) {
    __m512i sc, mn;
    if (c < 4) {
      sc = _mm512_and_si512(_mm512_srli_epi32(s0, 8 * c), m63);
      mn = _mm512_and_si512(_mm512_srli_epi32(s1, 8 * c), m63);
    } else {
      const int b = 8 * (c - 4);
      sc = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(s2, b), m15),
                           _mm512_and_si512(_mm512_srli_epi32(s0, b + 2), m48));
      mn = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(s2, b + 4), m15),
                           _mm512_and_si512(_mm512_srli_epi32(s1, b + 2), m48));
    }
    _mm512_store_ps(tile.s + 16 * (8 * i + c), _mm512_mul_ps(d, _mm512_cvtepi32_ps(sc)));
    // Negated by flipping the sign bit with an integer xor: _mm512_xor_ps is
    // AVX512DQ, which the level does not require.
    const __m512 min_term = _mm512_mul_ps(dmin, _mm512_cvtepi32_ps(mn));
    _mm512_store_ps(tile.m + 16 * (8 * i + c),
                    _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(min_term),
                                                         _mm512_set1_epi32(INT32_MIN))));
  }
}

// Q6_K: element 128 h + 32 k + l = 4 bits of ql[64 h + 32 (k % 2) + l] (low
// nibble for k < 2) | bits 2k, 2k + 1 of qh[32 h + l] at bits 4, 5; stored
// as code - 32 + 128. Sub-scales: the int8 scales, one per 16 codes.
void fused_q6_k(const uint8_t* const blk[16], const RowGather& rg, int64_t i, const RowTile& tile) {
  const __m512i m4 = _mm512_set1_epi8(0x0f), m30 = _mm512_set1_epi8(0x30), k96 = _mm512_set1_epi8(96);
  for (int h = 0; h < 2; ++h) {
    __m512i qh[8];
    transpose_rows32(blk, 128 + 32 * h, qh);
    for (int s = 0; s < 2; ++s) {
      __m512i ql[8];
      transpose_rows32(blk, 64 * h + 32 * s, ql);
      for (int k = s; k < 4; k += 2) {
        uint8_t* out = tile.codes + (8 * i + 4 * h + k) * 512;
        for (int q = 0; q < 8; ++q) {
          const __m512i low = _mm512_and_si512(k < 2 ? ql[q] : _mm512_srli_epi16(ql[q], 4), m4);
          const __m512i high = _mm512_and_si512(move_bits(qh[q], 2 * k, 4), m30);
          _mm512_store_si512(out + 64 * q, _mm512_add_epi8(_mm512_or_si512(low, high), k96));
        }
      }
    }
  }
  // d: the high half of the dword at 206 (the block ends at 210); the 16
  // int8 scales at 192..207, sign-extended from their byte of the dword.
  const __m512 d = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(gather_dwords(rg, 206), 16)));
  __m512i sd[4];
  for (int k = 0; k < 4; ++k) sd[k] = gather_dwords(rg, 192 + 4 * k);
  for (int c = 0; c < 8; ++c) {
    const __m512i v = sd[c / 2];
    const int lo = 2 * (c % 2);  // byte of the dword holding scales[2c]
    _mm512_store_ps(tile.s + 16 * (8 * i + c), d);
    _mm512_store_si512(tile.sc + 16 * (8 * i + c), _mm512_srai_epi32(_mm512_slli_epi32(v, 24 - 8 * lo), 24));
    _mm512_store_si512(tile.sc_hi + 16 * (8 * i + c), _mm512_srai_epi32(_mm512_slli_epi32(v, 16 - 8 * lo), 24));
  }
}

// The fused build for Q4_K, Q5_K and Q6_K rows [r, r + valid); false for
// the other types.
bool build_tile_fused(TensorType type, const uint8_t* w, uint64_t row_bytes, int64_t r, int valid, int64_t cols,
                      const RowTile& tile) {
  int64_t block_bytes;
  if (type == TensorType::Q4_K) block_bytes = sizeof(BlockQ4_K);
  else if (type == TensorType::Q5_K) block_bytes = sizeof(BlockQ5_K);
  else if (type == TensorType::Q6_K) block_bytes = sizeof(BlockQ6_K);
  else return false;
  const uint8_t* blk[16];
  RowGather rg;
  rg.valid = __mmask16((1u << valid) - 1u);
  rg.offs = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                               _mm512_set1_epi32(int32_t(row_bytes)));  // 16 rows of a tensor < 2 GiB
  for (int64_t i = 0; i < cols / 256; ++i) {
    for (int j = 0; j < 16; ++j) blk[j] = j < valid ? w + uint64_t(r + j) * row_bytes + uint64_t(i * block_bytes) : kZeroBlock;
    rg.base = blk[0];
    if (type == TensorType::Q4_K) fused_k<false>(blk, rg, i, tile);
    else if (type == TensorType::Q5_K) fused_k<true>(blk, rg, i, tile);
    else fused_q6_k(blk, rg, i, tile);
  }
  return true;
}

// The tile's 16 rows times NT tokens; y[t * ldy + j] for the rows in mask.
template <Kind K, int NT>
void tile_tokens(const RowTile& tile, int64_t nb, const ActTile& a, float* y, int64_t ldy, __mmask16 mask) {
  constexpr bool kTwo = two_scales(K), kMin = K == kOneUnsigned;
  const __m512 magic = _mm512_set1_ps(kMagic);
  __m512 acc[NT];
#pragma GCC unroll 8
  for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
  const int8_t* qs = a.qs;
  for (int64_t b = 0; b < nb; ++b, qs += NT * 32) {
    const uint8_t* wb = tile.codes + b * 512;
    const int64_t u = b * NT;
    const __m512 sv = _mm512_load_ps(tile.s + 16 * b);
    if constexpr (kTwo) {
      __m512i lo[NT], hi[NT];
#pragma GCC unroll 8
      for (int t = 0; t < NT; ++t) lo[t] = _mm512_set1_epi32(a.init[u + t]), hi[t] = _mm512_set1_epi32(a.init_hi[u + t]);
      for (int q = 0; q < 4; ++q) {
        const __m512i w = _mm512_load_si512(wb + 64 * q);
#pragma GCC unroll 8
        for (int t = 0; t < NT; ++t) lo[t] = dpbusd_bcast(lo[t], w, qs + t * 32 + 4 * q);
      }
      for (int q = 4; q < 8; ++q) {
        const __m512i w = _mm512_load_si512(wb + 64 * q);
#pragma GCC unroll 8
        for (int t = 0; t < NT; ++t) hi[t] = dpbusd_bcast(hi[t], w, qs + t * 32 + 4 * q);
      }
      const __m512i sc = _mm512_load_si512(tile.sc + 16 * b), sc_hi = _mm512_load_si512(tile.sc_hi + 16 * b);
#pragma GCC unroll 8
      for (int t = 0; t < NT; ++t) {
        const __m512i isum = _mm512_add_epi32(_mm512_mullo_epi32(lo[t], sc), _mm512_mullo_epi32(hi[t], sc_hi));
        acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_mul_ps(sv, _mm512_set1_ps(a.d[u + t])), acc[t]);
      }
      if constexpr (K == kTwoMins) {
        const __m512 mv = _mm512_load_ps(tile.m + 16 * b), mv_hi = _mm512_load_ps(tile.m_hi + 16 * b);
#pragma GCC unroll 8
        for (int t = 0; t < NT; ++t) {
          acc[t] = _mm512_fmadd_ps(mv, _mm512_set1_ps(a.dsum[u + t]), acc[t]);
          acc[t] = _mm512_fmadd_ps(mv_hi, _mm512_set1_ps(a.dsum_hi[u + t]), acc[t]);
        }
      }
    } else {
      __m512i s[NT];
#pragma GCC unroll 8
      for (int t = 0; t < NT; ++t) s[t] = _mm512_set1_epi32(a.init[u + t]);
      for (int q = 0; q < 8; ++q) {
        const __m512i w = _mm512_load_si512(wb + 64 * q);
#pragma GCC unroll 8
        for (int t = 0; t < NT; ++t) s[t] = dpbusd_bcast(s[t], w, qs + t * 32 + 4 * q);
      }
#pragma GCC unroll 8
      for (int t = 0; t < NT; ++t)
        acc[t] = _mm512_fmadd_ps(_mm512_sub_ps(_mm512_castsi512_ps(s[t]), magic),
                                 _mm512_mul_ps(sv, _mm512_set1_ps(a.d[u + t])), acc[t]);
      if constexpr (kMin) {
        const __m512 mv = _mm512_load_ps(tile.m + 16 * b);
#pragma GCC unroll 8
        for (int t = 0; t < NT; ++t) acc[t] = _mm512_fmadd_ps(mv, _mm512_set1_ps(a.dsum[u + t]), acc[t]);
      }
    }
  }
#pragma GCC unroll 8
  for (int t = 0; t < NT; ++t) _mm512_mask_storeu_ps(y + t * ldy, mask, acc[t]);
}

template <Kind K>
void rows_of(TensorType type, const uint8_t* w, uint64_t row_bytes, int64_t r0, int64_t r1, int64_t cols,
             const BlockQ8_0* x, const ActBlockInfo* xi, int64_t n, float* y, int64_t rows, uint8_t* scratch) {
  const int64_t nb = cols / 32;
  // Scratch: the packed activations, then one tile's rows and regrouped form.
  uint8_t* acts = align64(scratch);
  for_each_token_tile(n, [&](auto nt, int64_t t) {
    pack_acts<K>(x + t * nb, xi + t * nb, nb, decltype(nt)::value, acts + t * nb * kActBytes);
  });
  auto* rows8 = reinterpret_cast<int8_t*>(align64(acts + n * nb * kActBytes));
  auto* chunks = reinterpret_cast<CompatChunk*>(align64(reinterpret_cast<uint8_t*>(rows8 + 16 * cols)));
  RowTile tile;
  tile.codes = align64(reinterpret_cast<uint8_t*>(chunks + 16 * nb));
  tile.s = reinterpret_cast<float*>(tile.codes + 16 * cols);  // 16 * cols is a multiple of 512
  tile.m = tile.s + 16 * nb;
  tile.m_hi = tile.m + 16 * nb;
  tile.sc = reinterpret_cast<int32_t*>(tile.m_hi + 16 * nb);
  tile.sc_hi = tile.sc + 16 * nb;
  for (int64_t r = r0; r < r1; r += 16) {
    const int valid = r1 - r < 16 ? int(r1 - r) : 16;
    if (!build_tile_fused(type, w, row_bytes, r, valid, cols, tile))
      build_tile<K>(type, w, row_bytes, r, valid, cols, rows8, chunks, tile);
    const __mmask16 mask = __mmask16((1u << valid) - 1u);
    // The next 16 rows come from DRAM (a prompt reads each matrix once):
    // their lines are prefetched into L2, each token tile taking its tokens'
    // share, so the next build does not wait on them.
    const uint8_t* next = w + uint64_t(r + 16) * row_bytes;
    const int64_t next_rows = r1 - (r + 16) < 16 ? r1 - (r + 16) : 16;
    const int64_t lines = next_rows > 0 ? int64_t((uint64_t(next_rows) * row_bytes + 63) / 64) : 0;
    for_each_token_tile(n, [&](auto nt, int64_t t) {
      constexpr int NT = decltype(nt)::value;
      for (int64_t l = lines * t / n, e = lines * (t + NT) / n; l < e; ++l)
        _mm_prefetch(reinterpret_cast<const char*>(next + 64 * l), _MM_HINT_T1);
      tile_tokens<K, NT>(tile, nb, act_tile(acts + t * nb * kActBytes, nb, NT), y + t * rows + r, rows, mask);
    });
  }
}

}  // namespace

bool avx512_compat_prompt_rows(TensorType type, const uint8_t* w, uint64_t row_bytes, int64_t r0, int64_t r1,
                               int64_t cols, const BlockQ8_0* x, const ActBlockInfo* xi, int64_t n, float* y,
                               int64_t rows, uint8_t* scratch) {
  if (n < 3) return false;
  switch (kind_of(type)) {
    case kOneUnsigned: rows_of<kOneUnsigned>(type, w, row_bytes, r0, r1, cols, x, xi, n, y, rows, scratch); return true;
    case kOneSigned: rows_of<kOneSigned>(type, w, row_bytes, r0, r1, cols, x, xi, n, y, rows, scratch); return true;
    case kTwoSigned: rows_of<kTwoSigned>(type, w, row_bytes, r0, r1, cols, x, xi, n, y, rows, scratch); return true;
    case kTwoMins: rows_of<kTwoMins>(type, w, row_bytes, r0, r1, cols, x, xi, n, y, rows, scratch); return true;
    default: return false;
  }
}

}  // namespace qat

#else
namespace qat {
bool avx512_compat_prompt_rows(TensorType, const uint8_t*, uint64_t, int64_t, int64_t, int64_t, const BlockQ8_0*,
                               const ActBlockInfo*, int64_t, float*, int64_t, uint8_t*) {
  return false;
}
}  // namespace qat
#endif
