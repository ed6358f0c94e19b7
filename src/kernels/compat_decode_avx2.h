// What the AVX2 decode kernels of the compat types share
// (kernels_compat_decode_avx2.cpp, kernels_iq_decode_avx2.cpp): the
// per-token activation arrays and the integer reductions that leave one
// float stage per super-block. Include only from files built with the AVX2
// flags (cmake/kernel_isa_flags.cmake).
#pragma once
#if defined(__x86_64__)
#include <immintrin.h>

#include <cstdint>

#include "kernels/avx2_helpers.h"
#include "kernels/kernel_table.h"
#include "quant/quant_types.h"

namespace qat {

// What the decode kernels read of the activations, per token t: block b's
// d_a, d_a * sum(a), sum(a) and the sum of its first 16 codes at t * nbp + b,
// zero-padded to whole groups of 8 blocks (nbp = nb rounded up to 8), so a
// short last group adds nothing.
struct TokenArrays {
  const float* da;
  const float* dsum;
  const int32_t* asum;
  const int32_t* asum_lo;
  int64_t nbp;
  // IQ4 types only (else null): the activation codes with the halves of
  // each pair of blocks (2p, 2p + 1) regrouped, 32 bytes per slot at
  // (t * nbp + b) * 32: slot 2p holds codes 0..15 of block 2p then of block
  // 2p + 1, slot 2p + 1 their codes 16..31 (zero past nb).
  const int8_t* paired;
};

// Rows [r0, r1) of an IQ / TQ matrix (row_bytes apart, nb blocks of 32 per
// row) times n = 1 or 2 tokens: y[t * rows + r]. False for other types, and
// when nb is not a whole number of super-blocks.
bool avx2_iq_decode_rows(TensorType type, const uint8_t* w, uint64_t row_bytes, int64_t r0, int64_t r1, int64_t nb,
                         const BlockQ8_0* x, const TokenArrays& a, int64_t n, float* y, int64_t rows);

namespace {  // each AVX2 file gets its own copy

// Per int32 lane, the sum of the 4 products of unsigned bytes u and signed
// bytes s in that lane (every caller's maddubs pair sums stay within int16;
// dot_add_u8s8, one vpdpbusd on a VNNI build). A separate AVX-512-level
// build of the IQ kernels, to get vpdpbusd without -march=native, was tried
// in stop 28: its flags leave out AVX512DQ (kernel_isa_flags), so 64-bit
// inserts became vmovhps and IQ2_S / IQ1_M ran 25-30 % slower.
inline __m256i dot_u8s8(__m256i u, __m256i s) { return dot_add_u8s8(_mm256_setzero_si256(), u, s); }

// Decode kernels: one row of a super-block type times NT tokens without an
// unpacked copy: codes are built in registers and used at once. Each chunk's
// int32 lanes are reduced to one sum (two hadd levels per 4 chunks, then the
// two 128-bit halves), so the float stage runs once per super-block on 8
// chunks: acc += float(sum_c) * (s_c * d_a,c), from the TokenArrays.
//
// Lane c of the result: the sum of the 4 int32 lanes of chunk c in each
// 128-bit half, for chunks 0..3 in q0 = hadd(hadd(p0, p1), hadd(p2, p3)) and
// chunks 4..7 in q1 (hadd works within 128-bit halves).
inline __m256i chunk_sums8(__m256i q0, __m256i q1) {
  return _mm256_add_epi32(_mm256_permute2x128_si256(q0, q1, 0x20), _mm256_permute2x128_si256(q0, q1, 0x31));
}
inline __m256i hadd4(__m256i p0, __m256i p1, __m256i p2, __m256i p3) {
  return _mm256_hadd_epi32(_mm256_hadd_epi32(p0, p1), _mm256_hadd_epi32(p2, p3));
}

// One super-block's float stage: acc += float(sum_c) * (s_c * d_a,c) for its
// 8 chunk sums q0 / q1 (hadd4 per half), s the 8 chunks' float scales and da
// the token's 8 activation scales.
inline __m256 float_stage(__m256 acc, __m256i q0, __m256i q1, __m256 s, const float* da) {
  return _mm256_fmadd_ps(_mm256_cvtepi32_ps(chunk_sums8(q0, q1)), _mm256_mul_ps(s, _mm256_loadu_ps(da)), acc);
}

}  // namespace
}  // namespace qat
#endif
