// Pieces the AVX-512 VNNI prompt tiles share (kernels_avx512.cpp for Q8_0 /
// Q4_0, kernels_compat_prompt_avx512.cpp for llama.cpp's types); include it
// only from files built with the AVX-512 flags (cmake/kernel_isa_flags.cmake).
#pragma once
#if defined(__x86_64__)
#include <immintrin.h>

#include <cstdint>
#include <type_traits>

namespace qat {
namespace {  // as avx2_helpers.h: each AVX-512 file gets its own copy

// Integer block sums become floats without vcvtdq2ps: a sum that starts at
// the bits of 1.5 * 2^23 (kMagicBits) ends as the float 1.5 * 2^23 + s,
// exact while |s| < 2^22, and one subtraction of kMagic leaves s.
constexpr int32_t kMagicBits = 0x4B400000;
constexpr float kMagic = 12582912.0f;  // 1.5 * 2^23

// s += w (unsigned bytes) . the 4 signed bytes at p broadcast to every lane,
// the broadcast folded into vpdpbusd's memory operand ({1to16}): for
// _mm512_dpbusd_epi32(s, w, _mm512_set1_epi32(..)) GCC emits a separate
// vpbroadcastd, one more instruction per product.
using aliased_i32 = int32_t __attribute__((may_alias));
inline __m512i dpbusd_bcast(__m512i s, __m512i w, const int8_t* p) {
  __asm__("vpdpbusd %[m]%{1to16%}, %[w], %[s]"
          : [s] "+v"(s)
          : [w] "v"(w), [m] "m"(*reinterpret_cast<const aliased_i32*>(p)));
  return s;
}

// f(std::integral_constant<int, NT>, t) for the token tiles of n tokens:
// tiles of 8, then one of 4, then the last 1-3 in one tile (one pass over
// the weights, not one per token).
template <class F>
void for_each_token_tile(int64_t n, F&& f) {
  int64_t t = 0;
  for (; n - t >= 8; t += 8) f(std::integral_constant<int, 8>{}, t);
  if (n - t >= 4) {
    f(std::integral_constant<int, 4>{}, t);
    t += 4;
  }
  switch (n - t) {
    case 3: f(std::integral_constant<int, 3>{}, t); break;
    case 2: f(std::integral_constant<int, 2>{}, t); break;
    case 1: f(std::integral_constant<int, 1>{}, t); break;
    default: break;
  }
}

}  // namespace
}  // namespace qat
#endif
