// AVX-512 VNNI decode kernels (1-2 tokens) for llama.cpp's Q4_K, Q5_K and Q6_K:
// one row times the tokens, codes built in 512-bit registers and multiplied
// by vpdpbusd (unsigned weight codes x signed Q8_0 activation codes, four
// products summed into an int32 lane, no saturation). Built with the AVX-512
// flags (cmake/kernel_isa_flags.cmake); the other compat types and prompts
// stay on the AVX2 code (kernels_avx512.cpp dispatches).
//
// A super-block (256 elements, 8 chunks of 32 = 8 Q8_0 activation blocks)
// is multiplied as 16-byte slots, 4 per 512-bit register (one per 128-bit
// lane). The activations are regrouped once per call so that each register
// of codes meets one 64-byte load: slot s of a super-block's 256 bytes holds
// 16 codes (chunk, half) of one activation block.
//   Q6_K: four registers z_k = chunks 2k, 2k+1 (slot 4k + L: chunk 2k + L / 2,
//         half L % 2), the codes q in 0..63 before their -32. Its sub-scales
//         change every 16 codes, so each slot is summed on its own: reduce4
//         turns the four vpdpbusd results into 16 slot sums, lane j = 4 L + k
//         for 128-bit lane L of z_k.
//   Q4_K (and Q5_K, the same plus a fifth bit): its scales change every 32 codes, so both halves of a chunk go into
//         one accumulator: register A = bytes 0..15 of each 32 of qs (its low
//         nibbles are codes 0..15 of chunks 0, 2, 4, 6, its high nibbles of
//         chunks 1, 3, 5, 7), register B = bytes 16..31 (codes 16..31). Two
//         vpdpbusd each into an even and an odd accumulator, then one unpack
//         level leaves two partial sums per chunk (lane 4 m + p: chunk 2 m + p % 2).
// The integer stage per super-block is then exact in int32:
//   Q6_K: sc_h * (sum q a - 32 sum a) per half chunk (|.| <= 128 * 16 * 32 * 127)
//   Q4_K: sc_c * sum q a per partial                 (<= 63 * 8 * 15 * 127)
// and one float fma per super-block and token adds it times d * d_a (the
// activation block's scale, laid out per lane). Q4_K's mins come back through
// the activation sums, 8 chunks at once: -dmin * mn_c * (d_a * sum a).
#include "kernels/compat_decode_avx512.h"

#include "kernels/compat_codes_avx2.h"

#if defined(__x86_64__)

namespace qat {
namespace {

constexpr int kQ4K = 0, kQ6K = 1;

// The activation codes in slot s (0..15) of a super-block: chunk and half
// (0: codes 0..15, 1: 16..31).
constexpr int slot_chunk(int type, int s) { return type == kQ6K ? s / 2 : 2 * (s % 4) + (s / 8); }
constexpr int slot_half(int type, int s) { return type == kQ6K ? s % 2 : (s / 4) % 2; }
// Chunk and half of lane j of the 16 integer sums per super-block (half: Q6_K only).
constexpr int lane_chunk(int type, int j) { return type == kQ6K ? 2 * (j % 4) + (j / 4) / 2 : 2 * (j / 4) + (j % 2); }
constexpr int lane_half(int j) { return (j / 4) % 2; }

// Per 128-bit lane L: the sums of the 4 int32 lanes of z0, z1, z2, z3 in
// lanes 0, 1, 2, 3 (unpacks and adds stay within 128-bit lanes).
inline __m512i reduce4(__m512i z0, __m512i z1, __m512i z2, __m512i z3) {
  const __m512i t0 = _mm512_add_epi32(_mm512_unpacklo_epi32(z0, z1), _mm512_unpackhi_epi32(z0, z1));
  const __m512i t1 = _mm512_add_epi32(_mm512_unpacklo_epi32(z2, z3), _mm512_unpackhi_epi32(z2, z3));
  return _mm512_add_epi32(_mm512_unpacklo_epi64(t0, t1), _mm512_unpackhi_epi64(t0, t1));
}

inline __m512i load64(const void* p) { return _mm512_loadu_si512(p); }

// What the kernels read of the activations, per token t and super-block i at
// u = t * nsb + i: codes[256 u ..] the 8 blocks' codes in slot order
// (slot_chunk, slot_half); da16[16 u + j] lane j's d_a; off16[16 u + j]
// (Q6_K) 32 * the sum of lane j's 16 activation codes; dsum8[8 u + c]
// (Q4_K / Q5_K) d_a * sum a of chunk c. 416 bytes per unit: at most 2 tokens
// take 3.25 * cols + 64 bytes of the 16 * cols + ... CompatRowsFn scratch.
struct Acts {
  const int8_t* codes;
  const float* da16;
  const int32_t* off16;
  const float* dsum8;
  int64_t nsb;
};

template <int Type>
Acts regroup(const BlockQ8_0* x, const ActBlockInfo* xi, int64_t nb, int64_t n, uint8_t* scratch) {
  const int64_t nsb = nb / 8, units = n * nsb;
  auto* codes = reinterpret_cast<int8_t*>(align64(scratch));
  auto* da16 = reinterpret_cast<float*>(codes + 256 * units);
  auto* off16 = reinterpret_cast<int32_t*>(da16 + 16 * units);
  auto* dsum8 = reinterpret_cast<float*>(off16 + 16 * units);
  for (int64_t t = 0; t < n; ++t)
    for (int64_t i = 0; i < nsb; ++i) {
      const int64_t u = t * nsb + i, b0 = t * nb + 8 * i;
      for (int sl = 0; sl < 16; ++sl)
        _mm_storeu_si128(reinterpret_cast<__m128i*>(codes + 256 * u + 16 * sl),
                         _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[b0 + slot_chunk(Type, sl)].qs + 16 * slot_half(Type, sl))));
      for (int j = 0; j < 16; ++j) {
        const ActBlockInfo& ai = xi[b0 + lane_chunk(Type, j)];
        da16[16 * u + j] = ai.d;
        off16[16 * u + j] = 32 * (lane_half(j) == 0 ? ai.sum_lo : ai.sum - ai.sum_lo);
      }
      for (int c = 0; c < 8; ++c) dsum8[8 * u + c] = xi[b0 + c].d * float(xi[b0 + c].sum);
    }
  return Acts{codes, da16, off16, dsum8, nsb};
}

// The 16 half-chunk sums of token t's activations against z (reduce4's order).
inline __m512i half_chunk_sums(const __m512i z[4], const int8_t* a) {
  const __m512i zero = _mm512_setzero_si512();
  return reduce4(_mm512_dpbusd_epi32(zero, z[0], load64(a)), _mm512_dpbusd_epi32(zero, z[1], load64(a + 64)),
                 _mm512_dpbusd_epi32(zero, z[2], load64(a + 128)), _mm512_dpbusd_epi32(zero, z[3], load64(a + 192)));
}

// Q6_K, half h (elements 128 h ..): L = ql[64 h .. 64 h + 63], QH = qh[32 h ..
// 32 h + 31] in both 256-bit halves. z_2h = chunks 4h, 4h+1: low nibbles of
// L with qh bits 0..1 (first half) / 2..3 (second) at bits 4..5; z_2h+1 =
// chunks 4h+2, 4h+3: high nibbles with qh bits 4..5 / 6..7.
template <int NT>
void q6_k_row(const BlockQ6_K* row, const Acts& a, float* y, int64_t y_stride) {
  const __m512i m4 = _mm512_set1_epi8(0x0f), m30 = _mm512_set1_epi8(0x30);
  const __m512i shl = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(2), 1);
  const __m512i shr = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1);
  // Sub-block (scale index) of lane j = 4 L + k: 2 chunk + half = 4 k + L.
  const __m128i pick = _mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  constexpr int kOr = 0xF8;  // ternary logic: a | (b & c)
  __m512 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t i = 0; i < a.nsb; ++i) {
    const BlockQ6_K& b = row[i];
    prefetch_block(reinterpret_cast<const uint8_t*>(&b), sizeof(b));
    __m512i z[4];
    for (int h = 0; h < 2; ++h) {
      const __m512i l = load64(b.ql + 64 * h);
      const __m512i qh = _mm512_broadcast_i64x4(load32(b.qh + 32 * h));
      z[2 * h] = _mm512_ternarylogic_epi32(_mm512_and_si512(l, m4), _mm512_sllv_epi16(qh, shl), m30, kOr);
      z[2 * h + 1] = _mm512_ternarylogic_epi32(_mm512_and_si512(_mm512_srli_epi16(l, 4), m4),
                                               _mm512_srlv_epi16(qh, shr), m30, kOr);
    }
    const __m512i sc = _mm512_cvtepi8_epi32(_mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales)), pick));
    const __m512 d = _mm512_set1_ps(fp16_bits_to_f32(b.d_fp16));
    for (int t = 0; t < NT; ++t) {
      const int64_t u = t * a.nsb + i;
      const __m512i s = _mm512_mullo_epi32(_mm512_sub_epi32(half_chunk_sums(z, a.codes + 256 * u), load64(a.off16 + 16 * u)), sc);
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(d, _mm512_loadu_ps(a.da16 + 16 * u)), acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) y[t * y_stride] = _mm512_reduce_add_ps(acc[t]);
}

// Q4_K / Q5_K: codes 0..15 of each chunk from register A, 16..31 from B
// (above). Q5_K's fifth bit of element l of chunk c is bit c of qh[l]: A's
// 128-bit lane m needs bits 2m (low nibbles) and 2m + 1 (high) of qh[0..15],
// B's the same bits of qh[16..31]; a byte test per register sets bit 4.
template <int NT, typename Block>
void k_row(const Block* row, const Acts& a, float* y, int64_t y_stride) {
  constexpr bool k5 = sizeof(Block) == sizeof(BlockQ5_K);
  const __m512i m4 = _mm512_set1_epi8(0x0f), b4 = _mm512_set1_epi8(0x10);
  const __m512i even_bit = _mm512_set_epi32(0x40404040, 0x40404040, 0x40404040, 0x40404040, 0x10101010, 0x10101010,
                                            0x10101010, 0x10101010, 0x04040404, 0x04040404, 0x04040404, 0x04040404,
                                            0x01010101, 0x01010101, 0x01010101, 0x01010101);  // lane m: 1 << 2m
  const __m512i odd_bit = _mm512_add_epi8(even_bit, even_bit);                             // lane m: 1 << (2m + 1)
  // Chunk (scale index) of lane j = 4 m + p: 2 m + p % 2.
  const __m128i pick = _mm_setr_epi8(0, 1, 0, 1, 2, 3, 2, 3, 4, 5, 4, 5, 6, 7, 6, 7);
  __m512 acc[NT];
  __m256 accm[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps(), accm[t] = _mm256_setzero_ps();
  for (int64_t i = 0; i < a.nsb; ++i) {
    const Block& b = row[i];
    prefetch_block(reinterpret_cast<const uint8_t*>(&b), sizeof(b));
    const __m512i l0 = load64(b.qs), l1 = load64(b.qs + 64);
    const __m512i ra = _mm512_shuffle_i64x2(l0, l1, _MM_SHUFFLE(2, 0, 2, 0));  // qs[0..15], [32..47], [64..79], [96..111]
    const __m512i rb = _mm512_shuffle_i64x2(l0, l1, _MM_SHUFFLE(3, 1, 3, 1));  // qs[16..31], [48..63], ...
    __m512i ea = _mm512_and_si512(ra, m4), oa = _mm512_and_si512(_mm512_srli_epi16(ra, 4), m4);
    __m512i eb = _mm512_and_si512(rb, m4), ob = _mm512_and_si512(_mm512_srli_epi16(rb, 4), m4);
    if constexpr (k5) {
      const __m512i ha = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qh)));
      const __m512i hb = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qh + 16)));
      ea = _mm512_mask_add_epi8(ea, _mm512_test_epi8_mask(ha, even_bit), ea, b4);
      oa = _mm512_mask_add_epi8(oa, _mm512_test_epi8_mask(ha, odd_bit), oa, b4);
      eb = _mm512_mask_add_epi8(eb, _mm512_test_epi8_mask(hb, even_bit), eb, b4);
      ob = _mm512_mask_add_epi8(ob, _mm512_test_epi8_mask(hb, odd_bit), ob, b4);
    }
    const __m128i sm = k_scales_mins(b.scales);  // bytes 0..7 scales, 8..15 mins
    const __m512i sc = _mm512_cvtepu8_epi32(_mm_shuffle_epi8(sm, pick));
    const __m512 d = _mm512_set1_ps(fp16_bits_to_f32(b.d_fp16));
    const __m256 m = _mm256_mul_ps(_mm256_set1_ps(-fp16_bits_to_f32(b.dmin_fp16)),
                                   _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(sm, 8))));
    for (int t = 0; t < NT; ++t) {
      const int64_t u = t * a.nsb + i;
      const int8_t* ac = a.codes + 256 * u;  // slots: A even, B even, A odd, B odd
      const __m512i zero = _mm512_setzero_si512();
      const __m512i e = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(zero, ea, load64(ac)), eb, load64(ac + 64));
      const __m512i o = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(zero, oa, load64(ac + 128)), ob, load64(ac + 192));
      // Per 128-bit lane m: e0 + e2, o0 + o2, e1 + e3, o1 + o3.
      const __m512i s = _mm512_add_epi32(_mm512_unpacklo_epi32(e, o), _mm512_unpackhi_epi32(e, o));
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_mullo_epi32(s, sc)),
                               _mm512_mul_ps(d, _mm512_loadu_ps(a.da16 + 16 * u)), acc[t]);
      accm[t] = _mm256_fmadd_ps(m, _mm256_loadu_ps(a.dsum8 + 8 * u), accm[t]);
    }
  }
  for (int t = 0; t < NT; ++t) y[t * y_stride] = _mm512_reduce_add_ps(acc[t]) + hsum(accm[t]);
}

template <int Type, typename Block>
void rows_of(const uint8_t* w, uint64_t row_bytes, int64_t r0, int64_t r1, const Acts& a, int64_t n, float* y,
             int64_t rows) {
  for (int64_t r = r0; r < r1; ++r) {
    const auto* row = reinterpret_cast<const Block*>(w + uint64_t(r) * row_bytes);
    if constexpr (Type == kQ6K) {
      if (n == 2) q6_k_row<2>(row, a, y + r, rows);
      else q6_k_row<1>(row, a, y + r, rows);
    } else {
      if (n == 2) k_row<2>(row, a, y + r, rows);
      else k_row<1>(row, a, y + r, rows);
    }
  }
}

}  // namespace

bool avx512_compat_decode_rows(TensorType type, const uint8_t* w, uint64_t row_bytes, int64_t r0, int64_t r1,
                               int64_t nb, const BlockQ8_0* x, const ActBlockInfo* xi, int64_t n, float* y,
                               int64_t rows, uint8_t* scratch) {
  if (n < 1 || n > 2) return false;
  switch (type) {
    case TensorType::Q4_K:
      rows_of<kQ4K, BlockQ4_K>(w, row_bytes, r0, r1, regroup<kQ4K>(x, xi, nb, n, scratch), n, y, rows);
      return true;
    case TensorType::Q5_K:  // Q4_K's layout plus qh
      rows_of<kQ4K, BlockQ5_K>(w, row_bytes, r0, r1, regroup<kQ4K>(x, xi, nb, n, scratch), n, y, rows);
      return true;
    case TensorType::Q6_K:
      rows_of<kQ6K, BlockQ6_K>(w, row_bytes, r0, r1, regroup<kQ6K>(x, xi, nb, n, scratch), n, y, rows);
      return true;
    default: return false;
  }
}

}  // namespace qat

#else
namespace qat {
bool avx512_compat_decode_rows(TensorType, const uint8_t*, uint64_t, int64_t, int64_t, int64_t, const BlockQ8_0*,
                               const ActBlockInfo*, int64_t, float*, int64_t, uint8_t*) {
  return false;
}
}  // namespace qat
#endif
