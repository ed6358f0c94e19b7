// AVX2 kernels for llama.cpp's compat types (Q4_1, Q5_0, Q5_1, Q2_K .. Q6_K,
// IQ4_NL, IQ4_XS; quant/ggml_compat_types.h; the IQ1 .. IQ3 / TQ types'
// unpacks are in compat_iq_avx2.h), compiled with the AVX2 flags like
// kernels_avx2.cpp, whose table points here (avx2_*_compat): the vector
// unpacks, the unpacked dot, the 8-row prompt tile and the dispatch. The
// fused decode kernels are in kernels_compat_decode_avx2.cpp, the code
// builders both use in compat_codes_avx2.h. Same rules as every ISA file:
// intrinsics and raw pointers only (kernel_table.h). The AVX-512 table uses
// these too. Tried and not kept (2026-11-28, AMD EPYC with
// AVX-512): this file built again with AVX-512 VNNI, dot_u8s8 as one
// vpdpbusd, was no faster in bench_compat_matmul (decode or prompts).
#include "kernels/kernel_table.h"

#if defined(__x86_64__)
#include "kernels/compat_codes_avx2.h"
#include "kernels/compat_iq_avx2.h"

namespace qat {
namespace {

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
  if (unpack_iq_row(type, blocks, n, codes, chunks)) return;
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
  if (n <= 2 && avx2_compat_decode_rows(type, w, row_bytes, r0, r1, nb, x, xi, n, y, rows, scratch)) return;
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
