// Small AVX2 helpers shared by the AVX2-level kernel files (kernels_avx2.cpp,
// kernels_compat_avx2.cpp, the compat decode kernels) and the AVX-512 ones,
// whose flags include AVX2. Include it ONLY from files compiled with the
// AVX2 flags (cmake/kernel_isa_flags.cmake); everything here has internal
// linkage, so no generic translation unit can pick up an AVX2 copy.
#pragma once
#if defined(__x86_64__)
#include <immintrin.h>

#include <cstdint>

#include "kernels/quant_pack.h"

namespace qat {
namespace {

inline void store_rows(float* y, __m256 v, int64_t nrows) {
  if (nrows >= kPackRows) return _mm256_storeu_ps(y, v);
  alignas(32) float tmp[8];
  _mm256_store_ps(tmp, v);
  for (int64_t j = 0; j < nrows; ++j) y[j] = tmp[j];
}

// Decode streams each weight byte once from DRAM; the hardware prefetcher
// alone leaves this core short of the memory bandwidth, so ask for the bytes
// a few KiB ahead of the one being read (one request per cache line).
// Measured on the 262144 x 640 output projection (bench_quant_matmul): Q8_0
// 21-22 -> 16-19 ms, Q4_0 11-12 -> 9-11 ms on one core. The F32 kernels
// stream fast enough for the hardware prefetcher alone (no gain measured).
constexpr int64_t kPrefetchAhead = 4096;
inline void prefetch_block(const uint8_t* blk, int64_t bytes, int64_t ahead = kPrefetchAhead) {
  for (int64_t o = 0; o < bytes; o += 64) _mm_prefetch(reinterpret_cast<const char*>(blk + ahead + o), _MM_HINT_T0);
}

inline __m256i bcast4(const int8_t* p) {
  int32_t v;
  __builtin_memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline float fp16_bits_to_f32(uint16_t h) { return _cvtsh_ss(h); }

// s + per int32 lane the sum of the 4 products of unsigned bytes u and
// signed bytes a in that lane. The caller guarantees that maddubs's pair
// sums stay within int16, so both forms below give the same sums. A
// -march=native build on a host with AVX512-VNNI (QAT_NATIVE) compiles the
// AVX2 files with it too, and there this is one vpdpbusd: on an Intel Xeon
// (stop 28) 1B Q8_0 decode 9.4-9.7 -> 11.7-11.9 t/s on one thread, TQ1_0 /
// TQ2_0 decode 5-16 % faster, IQ1_S 6 % (bench_compat_matmul n = 1); the
// Q4_0 tile, which sums its products in int16 first, gained nothing from it.
inline __m256i dot_add_u8s8(__m256i s, __m256i u, __m256i a) {
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
  return _mm256_dpbusd_epi32(s, u, a);
#else
  return _mm256_add_epi32(s, _mm256_madd_epi16(_mm256_maddubs_epi16(u, a), _mm256_set1_epi16(1)));
#endif
}

inline void store32(int8_t* p, __m256i v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
inline __m256i load32(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

}  // namespace
}  // namespace qat

#endif
