// llama.cpp's codebook and ternary block types, read but never written:
// IQ1_S, IQ1_M, IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S (values from a grid of
// 4 or 8 levels per entry, with sign bits and 3- or 4-bit sub-scales) and
// TQ1_0 / TQ2_0 (ternary). llama-quantize writes IQ3_S into its IQ3_S / IQ3_M
// files without an importance matrix, the others with one (IQ1 / IQ2 /
// IQ3_XXS) or on request (TQ*). Every one is a 256-element super-block.
//
// Dequantization equals gguf-py's bit for bit (tests/quant/compat_types_test.cpp,
// fixtures from tools/reference/make_compat_quant_fixtures.py). The unpacked
// form (quant/ggml_compat_types.h's CompatChunk) is exact as real numbers:
//   IQ2_*:   code = ±level (8, 25, 43),  value = (d / 8) * (2 ls + 1) * code
//   IQ3_XXS: code = ±level (4 .. 62),    value = (d / 4) * (2 ls + 1) * code
//   IQ3_S:   code = ±level (1 .. 15),    value = d * (2 ls + 1) * code
//   IQ1_*:   code = 8 g ± 1 (g in -1..1, the ±1/8 delta), value = (d / 8) * (2 ls + 1) * code
//   TQ*:     code = q - 1 (-1..1; TQ2_0's unused q = 3 gives 2), value = d * code
#pragma once
#include <cstdint>

#include "formats/tensor_type.h"

namespace qat {

// Per 32 elements: 4 grid indices (bytes 0..3 of qs[2 ib .. 2 ib + 2)) and one
// u32 (qs[2 ib + 2 ..]) = four 7-bit sign indices (ksigns) | 4-bit scale << 28.
struct BlockIQ2_XXS {
  uint16_t d_fp16;
  uint16_t qs[32];
};
// Per 8 elements one u16: 9-bit grid index | 7-bit sign index << 9; a 4-bit
// scale per 16 elements (nibbles of scales[]).
struct BlockIQ2_XS {
  uint16_t d_fp16;
  uint16_t qs[32];
  uint8_t scales[8];
};
// Per 8 elements: grid index qs[k] | 2 bits of qh[k / 4] << 8, sign bits
// qs[32 + k]; a 4-bit scale per 16 elements.
struct BlockIQ2_S {
  uint16_t d_fp16;
  uint8_t qs[64];
  uint8_t qh[8];
  uint8_t scales[8];
};
// qs[0..64): one grid index per 4 elements; qs[64..96): per 32 elements one
// u32 = four 7-bit sign indices (ksigns) | 4-bit scale << 28.
struct BlockIQ3_XXS {
  uint16_t d_fp16;
  uint8_t qs[96];
};
// Per 4 elements: grid index qs[k] | bit k % 8 of qh[k / 8] << 8; one sign bit
// per element; a 4-bit scale per 32 elements.
struct BlockIQ3_S {
  uint16_t d_fp16;
  uint8_t qs[64];
  uint8_t qh[8];
  uint8_t signs[32];
  uint8_t scales[4];
};
// Per 8 elements: grid index qs[k] | 3 bits of qh[k / 4] << 8; per 32
// elements (qh[ib]): a 3-bit scale at bit 12, the delta's sign at bit 15.
struct BlockIQ1_S {
  uint16_t d_fp16;
  uint8_t qs[32];
  uint16_t qh[8];
};
// Per 8 elements: grid index qs[k] | 3 bits of a nibble of qh << 8, the
// nibble's bit 3 the delta's sign; a 3-bit scale per 16 elements in the four
// u16 of scales, whose top nibbles together are the fp16 d.
struct BlockIQ1_M {
  uint8_t qs[32];
  uint8_t qh[16];
  uint8_t scales[8];
};
// Five ternary digits a byte (qs) or four (qh), read as ((byte * 3^k mod 256) * 3) >> 8.
struct BlockTQ1_0 {
  uint8_t qs[48];
  uint8_t qh[4];
  uint16_t d_fp16;
};
// Four 2-bit codes a byte.
struct BlockTQ2_0 {
  uint8_t qs[64];
  uint16_t d_fp16;
};
static_assert(sizeof(BlockIQ2_XXS) == 66 && sizeof(BlockIQ2_XS) == 74 && sizeof(BlockIQ2_S) == 82, "GGUF block sizes");
static_assert(sizeof(BlockIQ3_XXS) == 98 && sizeof(BlockIQ3_S) == 110, "GGUF block sizes");
static_assert(sizeof(BlockIQ1_S) == 50 && sizeof(BlockIQ1_M) == 56, "GGUF block sizes");
static_assert(sizeof(BlockTQ1_0) == 54 && sizeof(BlockTQ2_0) == 66, "GGUF block sizes");

// True for the nine types above.
bool is_iq_type(TensorType t);

// The grids expanded once from iq_grids.cpp: each entry's int8 values packed
// little endian into one integer (8 values for IQ1 / IQ2, 4 for IQ3), so the
// vector kernels load an entry with one integer load; iq_values() reads an
// entry's values (char access, no aliasing question).
struct IqGrids {
  alignas(64) int64_t iq2xxs[256];
  alignas(64) int64_t iq2xs[512];
  alignas(64) int64_t iq2s[1024];
  alignas(64) int64_t iq1s[2048];
  alignas(64) int32_t iq3xxs[256];
  alignas(64) int32_t iq3s[512];
};
const IqGrids& iq_grids();
inline const int8_t* iq_values(const int64_t& entry) { return reinterpret_cast<const int8_t*>(&entry); }
inline const int8_t* iq_values(const int32_t& entry) { return reinterpret_cast<const int8_t*>(&entry); }

// ggml's ksigns_iq2xs: a 7-bit sign index with the eighth bit that makes the
// parity even (IQ2_XXS, IQ2_XS, IQ3_XXS). A table: the kernels' files are not
// built with popcnt, and __builtin_popcount would be a library call there.
struct IqKsigns {
  uint8_t v[128];
  constexpr IqKsigns() : v() {
    for (uint32_t i = 0; i < 128; ++i) {
      uint32_t parity = 0;
      for (uint32_t b = i; b; b >>= 1) parity ^= b & 1;
      v[i] = uint8_t(i | parity << 7);
    }
  }
};
inline constexpr IqKsigns kIqKsigns{};
inline uint8_t iq_ksign(uint32_t i) { return kIqKsigns.v[i & 127]; }

// n elements (a multiple of 256) from GGUF-layout blocks, as gguf-py computes them.
void dequantize_row_iq(TensorType t, const void* blocks, float* y, int64_t n);

struct CompatChunk;
// n elements into n int8 codes and n / 32 chunks (quant/ggml_compat_types.h).
void unpack_row_iq(TensorType t, const void* blocks, int64_t n, int8_t* codes, CompatChunk* chunks);

}  // namespace qat
