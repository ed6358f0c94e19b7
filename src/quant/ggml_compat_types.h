// llama.cpp block types that qat reads but does not write: Q4_1, Q5_0, Q5_1,
// the K-quants Q2_K .. Q6_K, and the non-linear IQ4_NL / IQ4_XS. `llama-quantize` puts them in the files
// users actually have: its default q4_0 keeps the tied embedding at Q6_K
// (when the width is a multiple of 256), and Q4_K_M / Q5_K_M mix Q4_K or Q5_K
// with Q6_K (and Q5_0 / Q5_1 / Q8_0 for rows that are not multiples of 256);
// Q3_K_S / _M / _L mix Q3_K with Q4_K, Q5_K and Q6_K, Q2_K files Q2_K with Q3_K .. Q6_K; IQ4_XS files mix IQ4_XS
// with IQ4_NL (rows that are not whole super-blocks) and Q8_0 / Q6_K. The
// codebook types IQ1_* .. IQ3_* and the ternary TQ1_0 / TQ2_0 are in
// quant/ggml_iq_types.h and go through the same two entry points below.
//
// The reference dequantizers equal gguf-py's (and ggml's) bit for bit,
// including the order of float operations; tests/quant/compat_types_test.cpp
// checks them against fixtures from tools/reference/make_compat_quant_fixtures.py.
#pragma once
#include <cstdint>

#include "formats/tensor_type.h"

namespace qat {

constexpr int64_t kSuperBlock = 256;  // elements per K-quant block

// Q4_1: value = d * q + m, q in 0..15 (element j: low nibble of qs[j], j+16: high).
struct BlockQ4_1 {
  uint16_t d_fp16, m_fp16;
  uint8_t qs[16];
};
// Q5_0: value = d * (q - 16), q = nibble | bit j of qh (little-endian u32) << 4.
struct BlockQ5_0 {
  uint16_t d_fp16;
  uint8_t qh[4];
  uint8_t qs[16];
};
// Q5_1: value = d * q + m, q as in Q5_0 (no offset).
struct BlockQ5_1 {
  uint16_t d_fp16, m_fp16;
  uint8_t qh[4];
  uint8_t qs[16];
};
// Q2_K: 16 sub-blocks of 16, each with a 4-bit scale sc (low nibble of
// scales[i]) and a 4-bit min mn (high nibble); value = (d * sc) * q - dmin * mn,
// q in 0..3: bits 2 s.. of qs[32 h + l] for element 128 h + 32 s + l.
struct BlockQ2_K {
  uint8_t scales[16];
  uint8_t qs[64];
  uint16_t d_fp16, dmin_fp16;
};
// Q3_K: 16 sub-blocks of 16 with 6-bit scales (packed in scales[12], offset
// 32); value = (d * (sc - 32)) * q, q in -4..3: 2 bits of qs, minus 4 where
// the element's bit in hmask is clear (layout in the .cpp).
struct BlockQ3_K {
  uint8_t hmask[32];
  uint8_t qs[64];
  uint8_t scales[12];
  uint16_t d_fp16;
};
// Q4_K: 8 sub-blocks of 32 with 6-bit scale sc and min mn (packed in
// scales[12]); value = (d * sc) * q - dmin * mn, q in 0..15. Bytes
// qs[32 i .. 32 i + 32) hold sub-block 2i (low nibbles) and 2i+1 (high).
struct BlockQ4_K {
  uint16_t d_fp16, dmin_fp16;
  uint8_t scales[12];
  uint8_t qs[128];
};
// Q5_K: Q4_K plus a fifth bit: element l of sub-block s takes bit s of qh[l].
struct BlockQ5_K {
  uint16_t d_fp16, dmin_fp16;
  uint8_t scales[12];
  uint8_t qh[32];
  uint8_t qs[128];
};
// Q6_K: 16 sub-blocks of 16 with int8 scales; value = (d * scales[e / 16]) * (q - 32),
// q = 4 bits of ql | 2 bits of qh << 4 (layout in the .cpp).
struct BlockQ6_K {
  uint8_t ql[128];
  uint8_t qh[64];
  int8_t scales[16];
  uint16_t d_fp16;
};
// IQ4_NL: value = d * kIq4NlValues[q], q 4 bits laid out as Q4_0's (element j:
// low nibble of qs[j], j + 16: high nibble). A non-uniform grid of 16 int8
// levels, denser near zero.
struct BlockIQ4_NL {
  uint16_t d_fp16;
  uint8_t qs[16];
};
// IQ4_XS: 8 sub-blocks of 32 with 6-bit scales ls (low 4 bits: nibble s % 2
// of scales_l[s / 2]; high 2 bits: bits 2s.. of scales_h); value =
// (d * (ls - 32)) * kIq4NlValues[q], sub-block s's q as IQ4_NL's in qs[16 s ..].
struct BlockIQ4_XS {
  uint16_t d_fp16;
  uint16_t scales_h;
  uint8_t scales_l[4];
  uint8_t qs[128];
};
// ggml's kvalues_iq4nl.
inline constexpr int8_t kIq4NlValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                            1,    13,   25,  38,  53,  69,  89,  113};
static_assert(sizeof(BlockIQ4_NL) == 18 && sizeof(BlockIQ4_XS) == 136, "GGUF block sizes");
static_assert(sizeof(BlockQ4_1) == 20 && sizeof(BlockQ5_0) == 22 && sizeof(BlockQ5_1) == 24, "GGUF block sizes");
static_assert(sizeof(BlockQ2_K) == 84 && sizeof(BlockQ3_K) == 110, "GGUF block sizes");
static_assert(sizeof(BlockQ4_K) == 144 && sizeof(BlockQ5_K) == 176 && sizeof(BlockQ6_K) == 210, "GGUF block sizes");

// True for the ten types above and the nine of ggml_iq_types.h.
bool is_compat_type(TensorType t);

// n elements (a multiple of the type's block size) from GGUF-layout blocks.
void dequantize_row_compat(TensorType t, const void* blocks, float* y, int64_t n);

// One 32-element chunk of a compat row in the form the integer kernels use:
// value[k] = s * (sc[k / 16] * code[k]) + m * mn[k / 16], exactly (as real
// numbers) the dequantized value. Codes fit in -32..31 (signed types) or 0..31, except
// the wide codes of IQ4_NL / IQ4_XS (grid levels -127..113), IQ2_* (±43) and
// IQ3_XXS (±62). Sub-scales are at most 128 in magnitude.
struct CompatChunk {
  int16_t sc[2];  // integer sub-scales for elements 0..15 and 16..31 (Q2_K, Q3_K, Q6_K); 1 otherwise
  int16_t mn[2];  // integer multipliers of m for the two halves (Q2_K's 4-bit mins); 1 otherwise
  float s;        // d, or d * sc for Q4_K / Q5_K (exact in float)
  float m;        // the additive term: Q4_1 / Q5_1's m, Q4_K / Q5_K's -dmin * mn, Q2_K's -dmin; 0 otherwise
};

// True for IQ4_NL, IQ4_XS, IQ2_XXS, IQ2_XS, IQ2_S and IQ3_XXS: codes beyond
// -32..31 (integer kernels must not add more than one pair-sum of them in int16).
bool has_wide_codes(TensorType t);

// Unpacks n elements of a row (n a multiple of the block size) into n int8
// codes and n / 32 chunks.
void unpack_row_compat(TensorType t, const void* blocks, int64_t n, int8_t* codes, CompatChunk* chunks);

}  // namespace qat
