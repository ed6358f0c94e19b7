#include "base/fp16.h"

namespace qat {

float fp16_to_f32(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  if (exp == 0x1f) return bits_f32(sign | 0x7f800000 | (mant << 13));  // inf / NaN
  if (exp == 0) {
    if (mant == 0) return bits_f32(sign);
    // Subnormal: value = mant * 2^-24.
    float v = float(mant) * (1.0f / 16777216.0f);
    return sign ? -v : v;
  }
  return bits_f32(sign | ((exp + 112) << 23) | (mant << 13));
}

uint16_t f32_to_fp16(float f) {
  const uint32_t u = f32_bits(f);
  const uint32_t sign = (u >> 16) & 0x8000;
  const uint32_t abs = u & 0x7fffffff;
  if (abs > 0x7f800000) return uint16_t(sign | 0x7e00 | ((abs >> 13) & 0x3ff));  // NaN
  if (abs >= 0x477ff000) return uint16_t(sign | 0x7c00);  // rounds to >= 65520: inf
  if (abs < 0x38800000) {
    // Result is subnormal (or zero): add 0.5 so the FPU rounds to nearest even
    // at the half-precision subnormal spacing 2^-24.
    const float v = bits_f32(abs) + 0.5f;
    return uint16_t(sign | (f32_bits(v) - f32_bits(0.5f)));
  }
  // Normal: rebias exponent, round mantissa to nearest even.
  uint32_t r = abs + 0xc8000fff + ((abs >> 13) & 1);  // -(112 << 23) + 0xfff
  return uint16_t(sign | (r >> 13));
}

}  // namespace qat
