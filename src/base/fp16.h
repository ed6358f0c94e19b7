// IEEE half and bfloat16 conversions, scalar and exact: round to nearest even,
// as F16C / torch / ggml do, so files we write match theirs bit for bit.
#pragma once
#include <cstdint>
#include <cstring>

namespace qat {

inline uint32_t f32_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
inline float bits_f32(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

float fp16_to_f32(uint16_t h);
uint16_t f32_to_fp16(float f);

inline float bf16_to_f32(uint16_t b) { return bits_f32(uint32_t(b) << 16); }

inline uint16_t f32_to_bf16(float f) {
  uint32_t u = f32_bits(f);
  if ((u & 0x7fffffff) > 0x7f800000) return uint16_t((u >> 16) | 64);  // quiet NaN
  u += 0x7fff + ((u >> 16) & 1);                                        // round to nearest even
  return uint16_t(u >> 16);
}

}  // namespace qat
