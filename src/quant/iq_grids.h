// Codebooks of llama.cpp's IQ1_S / IQ1_M, IQ2_XXS / IQ2_XS / IQ2_S and
// IQ3_XXS / IQ3_S blocks (part of the GGUF format: blocks store indices into
// them). iq_grids.cpp is generated from the PyPI gguf package by
// tools/reference/make_iq_grids.py.
//
// Entry e of a grid holds the level index of each of its values, low bits
// first: 2 bits a value for the three-level grids (8 values an entry), 3 bits
// for the eight-level IQ3 grids (4 values an entry).
#pragma once
#include <cstdint>

namespace qat {

inline constexpr int8_t kIq2Levels[3] = {8, 25, 43};                          // IQ2_XXS, IQ2_XS, IQ2_S
inline constexpr int8_t kIq3xxsLevels[8] = {4, 12, 20, 28, 36, 44, 52, 62};  // IQ3_XXS
inline constexpr int8_t kIq3sLevels[8] = {1, 3, 5, 7, 9, 11, 13, 15};        // IQ3_S
inline constexpr int8_t kIq1Levels[3] = {-1, 0, 1};                           // IQ1_S, IQ1_M

extern const uint16_t kIq2xxsGridPacked[256];
extern const uint16_t kIq2xsGridPacked[512];
extern const uint16_t kIq2sGridPacked[1024];
extern const uint16_t kIq3xxsGridPacked[256];
extern const uint16_t kIq3sGridPacked[512];
extern const uint16_t kIq1sGridPacked[2048];

}  // namespace qat
