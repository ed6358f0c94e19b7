#include "kernels/quant_matmul.h"

#include "base/error.h"
#include "base/fp16.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include <immintrin.h>
#define QAT_AVX2 1
#endif

namespace qat {

void quantize_activations_q8_0(const float* x, int64_t n, int64_t cols, std::vector<BlockQ8_0>& out) {
  QAT_CHECK(n >= 0 && cols >= 0 && cols % kQuantBlock == 0, "quantize_activations_q8_0: cols ", cols,
            " must be a multiple of ", kQuantBlock, " (n ", n, ")");
  out.resize(size_t(n * (cols / kQuantBlock)));
  // Rows are contiguous and block-aligned, so one call covers them all.
  if (n > 0 && cols > 0) quantize_row_q8_0(x, out.data(), n * cols);
}

float vec_dot_q8_0_q8_0_ref(const BlockQ8_0* w, const BlockQ8_0* a, int64_t n_blocks) {
  float sum = 0;
  for (int64_t b = 0; b < n_blocks; ++b) {
    int32_t isum = 0;
    for (int j = 0; j < 32; ++j) isum += int32_t(w[b].qs[j]) * int32_t(a[b].qs[j]);
    sum += float(isum) * (fp16_to_f32(w[b].d_fp16) * fp16_to_f32(a[b].d_fp16));
  }
  return sum;
}

float vec_dot_q4_0_q8_0_ref(const BlockQ4_0* w, const BlockQ8_0* a, int64_t n_blocks) {
  float sum = 0;
  for (int64_t b = 0; b < n_blocks; ++b) {
    int32_t isum = 0;
    for (int j = 0; j < 16; ++j) {
      isum += (int32_t(w[b].qs[j] & 0x0f) - 8) * int32_t(a[b].qs[j]);
      isum += (int32_t(w[b].qs[j] >> 4) - 8) * int32_t(a[b].qs[j + 16]);
    }
    sum += float(isum) * (fp16_to_f32(w[b].d_fp16) * fp16_to_f32(a[b].d_fp16));
  }
  return sum;
}

#ifdef QAT_AVX2
namespace {

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// F16C conversion: same value as fp16_to_f32, but inline instead of a call.
inline __m256 scale_of(uint16_t dw, uint16_t da) { return _mm256_set1_ps(_cvtsh_ss(dw) * _cvtsh_ss(da)); }

}  // namespace

float vec_dot_q8_0_q8_0(const BlockQ8_0* w, const BlockQ8_0* a, int64_t n_blocks) {
  // Widen both sides to int16 and madd: exact for every code pair. The
  // cheaper maddubs "sign trick" (|w| times a with w's sign) wraps when a
  // code is -128 and the other is negative, which GGUF weights may contain.
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n_blocks; ++b) {
    const __m256i w0 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w[b].qs)));
    const __m256i w1 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w[b].qs + 16)));
    const __m256i a0 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a[b].qs)));
    const __m256i a1 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a[b].qs + 16)));
    // Pairs of products fit int32 (|2 * 128 * 128| = 32768 only in int32).
    const __m256i isum = _mm256_add_epi32(_mm256_madd_epi16(w0, a0), _mm256_madd_epi16(w1, a1));
    // Lane sums are < 2^24, so the float conversion is exact.
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), scale_of(w[b].d_fp16, a[b].d_fp16), acc);
  }
  return hsum(acc);
}

float vec_dot_q4_0_q8_0(const BlockQ4_0* w, const BlockQ8_0* a, int64_t n_blocks) {
  // maddubs multiplies unsigned bytes by signed bytes, which suits the raw
  // nibbles q in 0..15: (q - 8) * a = q * a - 8 * a, both pair sums far from
  // int16 saturation (|2 * 15 * 128| = 3840), so this is exact for every a.
  const __m256i low_mask = _mm256_set1_epi8(0x0f);
  const __m256i eights = _mm256_set1_epi8(8);
  const __m256i ones16 = _mm256_set1_epi16(1);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n_blocks; ++b) {
    const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w[b].qs));
    // Low nibbles (elements 0..15) in the low lane, high nibbles (16..31) in
    // the high lane, matching the activation order.
    const __m256i both = _mm256_set_m128i(_mm_srli_epi16(packed, 4), packed);
    const __m256i q = _mm256_and_si256(both, low_mask);
    const __m256i av = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[b].qs));
    const __m256i p16 = _mm256_sub_epi16(_mm256_maddubs_epi16(q, av), _mm256_maddubs_epi16(eights, av));
    const __m256i isum = _mm256_madd_epi16(p16, ones16);
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), scale_of(w[b].d_fp16, a[b].d_fp16), acc);
  }
  return hsum(acc);
}
#else
float vec_dot_q8_0_q8_0(const BlockQ8_0* w, const BlockQ8_0* a, int64_t n_blocks) {
  return vec_dot_q8_0_q8_0_ref(w, a, n_blocks);
}
float vec_dot_q4_0_q8_0(const BlockQ4_0* w, const BlockQ8_0* a, int64_t n_blocks) {
  return vec_dot_q4_0_q8_0_ref(w, a, n_blocks);
}
#endif

namespace {

void check_args(TensorType wtype, int64_t rows, int64_t cols, int64_t n) {
  QAT_CHECK(wtype == TensorType::Q8_0 || wtype == TensorType::Q4_0, "matmul_quant: unsupported weight type ",
            tensor_type_name(wtype), " (expected Q8_0 or Q4_0)");
  QAT_CHECK(rows >= 0 && n >= 0 && cols >= 0 && cols % kQuantBlock == 0, "matmul_quant: cols ", cols,
            " must be a multiple of ", kQuantBlock, " (rows ", rows, ", n ", n, ")");
}

// One weight row against every token: the row (cols/32 blocks) stays in L1
// while the tokens stream past it.
template <typename Block, typename Dot>
void run(const Block* w, int64_t rows, int64_t nb, const BlockQ8_0* xq, float* y, int64_t n, bool parallel,
         Dot dot) {
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t t = 0; t < n; ++t) y[t * rows + r] = dot(w + r * nb, xq + t * nb, nb);
}

void matmul_quant_impl(TensorType wtype, const void* w, int64_t rows, int64_t cols, const float* x, float* y,
                       int64_t n, bool ref) {
  check_args(wtype, rows, cols, n);
  if (rows == 0 || n == 0) return;
  std::vector<BlockQ8_0> xq;
  quantize_activations_q8_0(x, n, cols, xq);
  const int64_t nb = cols / kQuantBlock;
  // Small products are not worth waking the thread pool (see matmul.cpp).
  const bool parallel = !ref && rows * cols * n >= (1 << 18);
  if (wtype == TensorType::Q8_0)
    run(static_cast<const BlockQ8_0*>(w), rows, nb, xq.data(), y, n, parallel,
        ref ? vec_dot_q8_0_q8_0_ref : vec_dot_q8_0_q8_0);
  else
    run(static_cast<const BlockQ4_0*>(w), rows, nb, xq.data(), y, n, parallel,
        ref ? vec_dot_q4_0_q8_0_ref : vec_dot_q4_0_q8_0);
}

}  // namespace

void matmul_quant(TensorType wtype, const void* w, int64_t rows, int64_t cols, const float* x, float* y,
                  int64_t n) {
  matmul_quant_impl(wtype, w, rows, cols, x, y, n, false);
}

void matmul_quant_ref(TensorType wtype, const void* w, int64_t rows, int64_t cols, const float* x,
                      float* y, int64_t n) {
  matmul_quant_impl(wtype, w, rows, cols, x, y, n, true);
}

}  // namespace qat
