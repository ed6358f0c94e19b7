#include "kernels/matmul.h"

#include <omp.h>

#include <algorithm>

#include "base/error.h"
#include "base/fp16.h"
#include "kernels/quant_matmul.h"
#include "quant/quant_types.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include <immintrin.h>
#define QAT_AVX2 1
#endif

namespace qat {

namespace {

inline float load_scalar(TensorType t, const void* row, int64_t c) {
  switch (t) {
    case TensorType::F32: return static_cast<const float*>(row)[c];
    case TensorType::F16: return fp16_to_f32(static_cast<const uint16_t*>(row)[c]);
    case TensorType::BF16: return bf16_to_f32(static_cast<const uint16_t*>(row)[c]);
    default: fail("matmul: unsupported weight type ", tensor_type_name(t));
  }
}

size_t element_bytes(TensorType t) { return t == TensorType::F32 ? 4 : 2; }

#ifdef QAT_AVX2
inline __m256 load8(TensorType t, const void* row, int64_t c) {
  if (t == TensorType::F32) return _mm256_loadu_ps(static_cast<const float*>(row) + c);
  const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(row) + c));
  if (t == TensorType::F16) return _mm256_cvtph_ps(h);
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));  // BF16
}

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// NT tokens against one weight row: the row is loaded once per 8 columns.
template <int NT>
inline void dot_rows(TensorType t, const void* row, const float* x, int64_t ldx, int64_t cols,
                     float* out, int64_t ldo) {
  __m256 acc[NT];
  for (int j = 0; j < NT; ++j) acc[j] = _mm256_setzero_ps();
  int64_t c = 0;
  for (; c + 8 <= cols; c += 8) {
    const __m256 w = load8(t, row, c);
    for (int j = 0; j < NT; ++j) acc[j] = _mm256_fmadd_ps(w, _mm256_loadu_ps(x + j * ldx + c), acc[j]);
  }
  for (int j = 0; j < NT; ++j) {
    float s = hsum(acc[j]);
    for (int64_t k = c; k < cols; ++k) s += load_scalar(t, row, k) * x[j * ldx + k];
    out[j * ldo] = s;
  }
}
// Prefill tile: 4 weight rows x 3 tokens = 12 accumulators, 7 loads per 12
// FMAs, so the FMA units rather than the load ports set the pace.
inline void tile_4x3(TensorType t, const uint8_t* w0, size_t row_bytes, const float* x, int64_t cols,
                     float* y, int64_t ldy) {
  __m256 acc[4][3];
  for (auto& r : acc)
    for (auto& a : r) a = _mm256_setzero_ps();
  const float* x0 = x;
  const float* x1 = x + cols;
  const float* x2 = x + 2 * cols;
  int64_t c = 0;
  for (; c + 8 <= cols; c += 8) {
    const __m256 a = _mm256_loadu_ps(x0 + c), b = _mm256_loadu_ps(x1 + c), d = _mm256_loadu_ps(x2 + c);
    for (int i = 0; i < 4; ++i) {
      const __m256 wv = load8(t, w0 + size_t(i) * row_bytes, c);
      acc[i][0] = _mm256_fmadd_ps(wv, a, acc[i][0]);
      acc[i][1] = _mm256_fmadd_ps(wv, b, acc[i][1]);
      acc[i][2] = _mm256_fmadd_ps(wv, d, acc[i][2]);
    }
  }
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 3; ++j) {
      float s = hsum(acc[i][j]);
      const void* row = w0 + size_t(i) * row_bytes;
      for (int64_t k = c; k < cols; ++k) s += load_scalar(t, row, k) * x[j * cols + k];
      y[j * ldy + i] = s;
    }
}

// One token: four independent accumulators hide the FMA latency, which is
// what keeps single-token decode at memory speed.
inline float dot1(TensorType t, const void* row, const float* x, int64_t cols) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  int64_t c = 0;
  for (; c + 32 <= cols; c += 32) {
    a0 = _mm256_fmadd_ps(load8(t, row, c), _mm256_loadu_ps(x + c), a0);
    a1 = _mm256_fmadd_ps(load8(t, row, c + 8), _mm256_loadu_ps(x + c + 8), a1);
    a2 = _mm256_fmadd_ps(load8(t, row, c + 16), _mm256_loadu_ps(x + c + 16), a2);
    a3 = _mm256_fmadd_ps(load8(t, row, c + 24), _mm256_loadu_ps(x + c + 24), a3);
  }
  for (; c + 8 <= cols; c += 8) a0 = _mm256_fmadd_ps(load8(t, row, c), _mm256_loadu_ps(x + c), a0);
  float s = hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  for (; c < cols; ++c) s += load_scalar(t, row, c) * x[c];
  return s;
}
#endif

}  // namespace

void matmul_ref(const MatrixView& w, const float* x, float* y, int64_t n) {
  const size_t eb = element_bytes(w.type);
  for (int64_t t = 0; t < n; ++t)
    for (int64_t r = 0; r < w.rows; ++r) {
      const void* row = static_cast<const uint8_t*>(w.data) + size_t(r) * size_t(w.cols) * eb;
      float s = 0;
      for (int64_t c = 0; c < w.cols; ++c) s += load_scalar(w.type, row, c) * x[t * w.cols + c];
      y[t * w.rows + r] = s;
    }
}

void matmul(const MatrixView& w, const float* x, float* y, int64_t n) {
  if (w.type == TensorType::Q8_0 || w.type == TensorType::Q4_0)
    return matmul_quant(w.type, w.data, w.rows, w.cols, x, y, n);  // W8A8 / W4A8
  QAT_CHECK(w.type == TensorType::F32 || w.type == TensorType::F16 || w.type == TensorType::BF16,
            "matmul: unsupported weight type ", tensor_type_name(w.type));
#ifdef QAT_AVX2
  const size_t eb = element_bytes(w.type);
  const int64_t rows = w.rows, cols = w.cols;
  // Small products are not worth waking the thread pool: a barrier costs
  // microseconds, and far more when another process holds a core.
  const bool parallel = rows * cols * n >= (1 << 18);
  const size_t row_bytes = size_t(cols) * eb;
  const auto* base = static_cast<const uint8_t*>(w.data);
  // Blocks of 4 rows; 3-token tiles while >= 3 tokens remain, then singles.
  const int64_t row_blocks = (rows + 3) / 4;
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t b = 0; b < row_blocks; ++b) {
    const int64_t r0 = b * 4;
    const int64_t nr = std::min<int64_t>(4, rows - r0);
    int64_t t = 0;
    if (nr == 4)
      for (; t + 3 <= n; t += 3) tile_4x3(w.type, base + size_t(r0) * row_bytes, row_bytes, x + t * cols, cols, y + t * rows + r0, rows);
    for (; t < n; ++t)
      for (int64_t r = r0; r < r0 + nr; ++r) y[t * rows + r] = dot1(w.type, base + size_t(r) * row_bytes, x + t * cols, cols);
  }
#else
  matmul_ref(w, x, y, n);
#endif
}

void row_to_f32(const MatrixView& w, int64_t r, float* out) {
  QAT_CHECK(r >= 0 && r < w.rows, "row ", r, " out of range [0, ", w.rows, ")");
  const uint64_t row_bytes = tensor_bytes(uint32_t(w.type), uint64_t(w.cols));
  const uint8_t* row_q = static_cast<const uint8_t*>(w.data) + size_t(r) * row_bytes;
  if (w.type == TensorType::Q8_0)
    return dequantize_row_q8_0(reinterpret_cast<const BlockQ8_0*>(row_q), out, w.cols);
  if (w.type == TensorType::Q4_0)
    return dequantize_row_q4_0(reinterpret_cast<const BlockQ4_0*>(row_q), out, w.cols);
  const void* row = static_cast<const uint8_t*>(w.data) + size_t(r) * size_t(w.cols) * element_bytes(w.type);
  for (int64_t c = 0; c < w.cols; ++c) out[c] = load_scalar(w.type, row, c);
}

}  // namespace qat
