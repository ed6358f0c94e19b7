#include "quant/grid_import.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "base/error.h"
#include "base/fp16.h"
#include "quant/quant_types.h"

// The candidate check below repeats the reference's code formula
// (x * (1/d) + 8.5f, truncated); like quant_types.cpp, forbid fusing it into
// an FMA, which would round once instead of twice and change codes.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace qat {
namespace {

constexpr int kMaxCandidates = 1024;  // fp16 scales tried per block (see candidate_scales)
constexpr uint16_t kFp16MaxFinite = 0x7bff;

// v as the source type stores it (round to nearest even), back as float.
float round_to_source(TensorType source, float v) {
  switch (source) {
    case TensorType::F16: return fp16_to_f32(f32_to_fp16(v));
    case TensorType::BF16: return bf16_to_f32(f32_to_bf16(v));
    default: return v;  // F32
  }
}

// [lo, hi]: the reals that the source type rounds to a (> 0, a value of that
// type), slightly widened; every candidate is verified exactly afterwards.
void rounding_interval(TensorType source, float a, double& lo, double& hi) {
  double prev, next;
  if (source == TensorType::F16) {
    const uint16_t h = f32_to_fp16(a);
    prev = fp16_to_f32(uint16_t(h - 1));  // h > 0: a > 0
    next = h + 1 <= kFp16MaxFinite ? double(fp16_to_f32(uint16_t(h + 1))) : 65520.0;
  } else if (source == TensorType::BF16) {
    const uint16_t b = f32_to_bf16(a);
    prev = bf16_to_f32(uint16_t(b - 1));
    next = bf16_to_f32(uint16_t(b + 1));
    if (!std::isfinite(next)) next = 2.0 * double(a) - prev;
  } else {
    lo = hi = a;  // F32: code * d must equal the value exactly
    return;
  }
  lo = (double(a) + prev) / 2 * (1 - 1e-12);
  hi = (double(a) + next) / 2 * (1 + 1e-12);
}

// The reference's code and dequantized value of x for a scale d (codes from
// the fp32 d, value with fp16(d)), exactly as quantize_row_X_scaled and
// dequantize_row_X compute them, element by element: lets a candidate fail
// at its first wrong element instead of quantizing the whole block.
float reference_value_q8_0(float x, float id, float d16) {
  if (!std::isfinite(id)) return 0.0f * d16;
  const float r = std::roundf(x * id);
  return float(int8_t(r > 127.0f ? 127.0f : (r < -127.0f ? -127.0f : r))) * d16;
}

float reference_value_q4_0(float x, float id, float d16) {
  int q = 0;
  if (std::isfinite(id)) {
    const float v = x * id + 8.5f;
    q = v < 0.0f ? 0 : (v >= 15.0f ? 15 : int(v));
  }
  return float(q - 8) * d16;
}

// Whether quantizing the block with scale d (fp32; stored as fp16) gives back
// the stored values (as numbers: +0 == -0).
bool reproduces(TensorType to, TensorType source, const float* x, float d) {
  const float id = d != 0.0f ? 1.0f / d : 0.0f;  // quant_types.cpp's inverse()
  const float d16 = fp16_to_f32(f32_to_fp16(d));
  for (int j = 0; j < kQuantBlock; ++j) {
    const float v = to == TensorType::Q4_0 ? reference_value_q4_0(x[j], id, d16)
                                           : reference_value_q8_0(x[j], id, d16);
    if (round_to_source(source, v) != x[j]) return false;
  }
  return true;
}

// Whether the block's zeros all have the sign that the scale d gives a zero
// code (0 * d: -0 for d < 0).
bool zero_signs_match(const float* x, float d) {
  for (int j = 0; j < kQuantBlock; ++j)
    if (x[j] == 0.0f && std::signbit(x[j]) != std::signbit(d)) return false;
  return true;
}

// What the search needs of a block: its largest magnitude, its smallest
// nonzero ones, and the most a code of the smallest can be.
struct BlockShape {
  float amax = 0.0f;
  float small[3] = {0, 0, 0};  // smallest distinct nonzero magnitudes, ascending (0: fewer)
  double lo[3] = {0, 0, 0}, hi[3] = {0, 0, 0};  // their rounding intervals
  double lo_m = 0, hi_m = 0;                    // the largest's
  int c_max = 0;
};

// The block's largest magnitude and its smallest one above `floor_` (0 if
// none). Reduced by halves with elementwise max/min, which the compiler
// vectorizes without fast-math (a plain max reduction it would not): an
// ordinary block must cost little.
void magnitudes(const float* x, float floor_, float& largest, float& smallest_above) {
  float hi[16], lo[16];
  for (int l = 0; l < 16; ++l) {
    const float a = std::fabs(x[l]), b = std::fabs(x[l + 16]);
    const float a_above = a > floor_ ? a : INFINITY, b_above = b > floor_ ? b : INFINITY;
    hi[l] = a > b ? a : b;
    lo[l] = a_above < b_above ? a_above : b_above;
  }
  for (int l = 0; l < 8; ++l) {
    hi[l] = hi[l] > hi[l + 8] ? hi[l] : hi[l + 8];
    lo[l] = lo[l] < lo[l + 8] ? lo[l] : lo[l + 8];
  }
  for (int l = 0; l < 4; ++l) {
    hi[l] = hi[l] > hi[l + 4] ? hi[l] : hi[l + 4];
    lo[l] = lo[l] < lo[l + 4] ? lo[l] : lo[l + 4];
  }
  largest = std::max(std::max(hi[0], hi[1]), std::max(hi[2], hi[3]));
  const float s = std::min(std::min(lo[0], lo[1]), std::min(lo[2], lo[3]));
  smallest_above = std::isinf(s) ? 0.0f : s;
}

// Cheap necessary conditions for the block to lie on any grid of `to`
// (including the reference's), so that an ordinary block costs little more
// than the reference quantizer: false rules out every grid. c_max: a grid's
// nonzero codes are 1..K in magnitude (K = 8 for Q4_0's -8, 127 for Q8_0), so
// the smallest nonzero element's code is at most K * small / amax; below 1,
// no grid (any Gaussian-like block for Q4_0). An F32 value code * d has at
// most 11 + 7 significant bits (11 + 3 for Q4_0): the trailing 6 (10) of the
// 24 must be zero. Fills `shape` (amax only when the block is all zero).
bool may_lie_on_a_grid(TensorType to, TensorType source, const float* x, BlockShape& shape) {
  const int K = to == TensorType::Q4_0 ? 8 : 127;
  if (source == TensorType::F32) {
    uint32_t low = 0;
    for (int j = 0; j < kQuantBlock; ++j) low |= f32_bits(x[j]);
    if (low & (to == TensorType::Q4_0 ? 0x3ffu : 0x3fu)) return false;
  }
  float amax, unused;
  magnitudes(x, 0.0f, amax, shape.small[0]);
  shape.amax = amax;
  if (amax == 0.0f) return true;
  // Most ordinary blocks end here, before the exact bound below: storing a
  // grid value in F16/BF16 moves it by at most 2^-9 of it (F16 subnormals
  // on a grid are exact multiples of 2^-24; BF16 ones are excluded).
  if (float(K) * shape.small[0] * 1.015625f < amax && shape.small[0] > 1e-30f) return false;
  rounding_interval(source, shape.small[0], shape.lo[0], shape.hi[0]);
  rounding_interval(source, amax, shape.lo_m, shape.hi_m);
  shape.c_max = int(std::min<double>(K, std::floor(K * shape.hi[0] / shape.lo_m)));
  if (shape.c_max < 1) return false;
  for (int i = 1; i < 3; ++i) {
    shape.small[i] = 0.0f;
    if (shape.small[i - 1] > 0.0f) magnitudes(x, shape.small[i - 1], unused, shape.small[i]);
    if (shape.small[i] > 0.0f) rounding_interval(source, shape.small[i], shape.lo[i], shape.hi[i]);
  }
  return true;
}

// Candidate |d| (positive fp16 bit patterns, ascending, no repeats): for
// each code c (c_max..1) of the smallest nonzero element, the reals d with
// c * d rounding to it in the source type, narrowed by the next two smallest,
// whose codes are then nearly determined (small codes: random values rarely
// fit, so most c are ruled out before any fp16 value is tried); then every
// fp16 value left. Returns the count.
int candidate_scales(TensorType to, const BlockShape& b, uint16_t* out) {
  const int K = to == TensorType::Q4_0 ? 8 : 127;
  const double d_min = b.lo_m / K;  // the largest element's code must fit
  int n = 0;
  for (int c = b.c_max; c >= 1 && n < kMaxCandidates; --c) {
    double L = std::max(b.lo[0] / c, d_min), H = b.hi[0] / c;
    for (int i = 1; i < 3 && L <= H && b.small[i] > 0.0f; ++i) {
      // Codes q (1..K) with q * d in [lo, hi] for some d in [L, H].
      const double q_lo = std::max(1.0, std::ceil(b.lo[i] / H)), q_hi = std::min<double>(K, std::floor(b.hi[i] / L));
      if (q_lo > q_hi) L = H + 1;  // none: no candidate for this c
      else if (q_lo == q_hi) L = std::max(L, b.lo[i] / q_lo), H = std::min(H, b.hi[i] / q_lo);
    }
    if (L > H) continue;
    // First positive fp16 >= L (fp16 bit patterns of positive values are
    // ordered like the values), then every one up to H.
    uint16_t h = f32_to_fp16(float(L));
    while (h > 1 && fp16_to_f32(uint16_t(h - 1)) >= L) --h;
    while (h <= kFp16MaxFinite && fp16_to_f32(h) < L) ++h;
    if (h == 0) h = 1;
    for (; h <= kFp16MaxFinite && fp16_to_f32(h) <= H && n < kMaxCandidates; ++h) out[n++] = h;
  }
  std::sort(out, out + n);
  return int(std::unique(out, out + n) - out);
}

// Of d and -d, the one that reproduces the block (rule 3 of grid_import.h:
// zeros with the stored sign, then `sign`, the reference's), or 0.
float signed_scale(TensorType to, TensorType source, const float* x, float a, float sign) {
  const float d = sign * a;
  // Q8_0's codes are symmetric: -d reproduces exactly when d does. Q4_0's
  // are not (code -8 has no positive twin): try both.
  const bool pos = reproduces(to, source, x, d);
  if (pos && zero_signs_match(x, d)) return d;
  const bool neg = to == TensorType::Q8_0 ? pos : reproduces(to, source, x, -d);
  if (neg && zero_signs_match(x, -d)) return -d;
  if (pos) return d;
  if (neg) return -d;
  return 0.0f;
}

// Sum of squared differences between the block's values with scale d and
// the stored values.
double squared_error(TensorType to, const float* x, float d) {
  const float id = 1.0f / d, d16 = fp16_to_f32(f32_to_fp16(d));
  double e = 0;
  for (int j = 0; j < kQuantBlock; ++j) {
    const double v = to == TensorType::Q4_0 ? reference_value_q4_0(x[j], id, d16)
                                            : reference_value_q8_0(x[j], id, d16);
    e += (v - x[j]) * (v - x[j]);
  }
  return e;
}

// A scale (an fp16 value, as fp32) on whose grid the block lies (rules 2-3 of
// grid_import.h), or 0 when there is none.
float find_grid_scale(TensorType to, TensorType source, const float* x, const BlockShape& shape,
                      const uint16_t* cand, int n) {
  const float amax = shape.amax;
  float m = 0.0f;  // the first element of largest magnitude, as the reference takes it
  for (int j = 0; j < kQuantBlock && m == 0.0f; ++j)
    if (std::fabs(x[j]) == amax) m = x[j];
  // The reference's sign: Q8_0 d > 0; Q4_0 d = max / -8.
  const float sign = to == TensorType::Q4_0 && m > 0.0f ? -1.0f : 1.0f;
  // Ascending |d|: the first that reproduces gives the largest code k of the
  // largest element; neighbouring scales with the same k compete on the
  // squared error (ties: the smaller |d|).
  float best = 0.0f;
  double best_error = 0.0;
  long best_k = 0;
  for (int i = 0; i < n; ++i) {
    const float a = fp16_to_f32(cand[i]);
    const long k = std::lround(double(amax) / a);
    if (best != 0.0f && k < best_k) break;
    const float d = signed_scale(to, source, x, a, sign);
    if (d == 0.0f) continue;
    const double e = squared_error(to, x, d);
    if (best == 0.0f || e < best_error) best = d, best_error = e, best_k = k;
  }
  return best;
}

// Whether the quantized block dequantizes to the stored values.
bool block_matches(TensorType to, TensorType source, const void* block, const float* x) {
  float v[kQuantBlock];
  if (to == TensorType::Q4_0)
    dequantize_row_q4_0(static_cast<const BlockQ4_0*>(block), v, kQuantBlock);
  else
    dequantize_row_q8_0(static_cast<const BlockQ8_0*>(block), v, kQuantBlock);
  for (int j = 0; j < kQuantBlock; ++j)
    if (round_to_source(source, v[j]) != x[j]) return false;
  return true;
}

void quantize_scaled(TensorType to, const float* x, const float* d, void* y, int64_t n) {
  if (to == TensorType::Q4_0)
    quantize_row_q4_0_scaled(x, d, static_cast<BlockQ4_0*>(y), n);
  else
    quantize_row_q8_0_scaled(x, d, static_cast<BlockQ8_0*>(y), n);
}

}  // namespace

bool keep_grid_supported(TensorType to, TensorType source) {
  return (to == TensorType::Q8_0 || to == TensorType::Q4_0) &&
         (source == TensorType::F32 || source == TensorType::F16 || source == TensorType::BF16);
}

GridStats quantize_row_keep_grid(TensorType to, TensorType source, const float* x, void* out_blocks,
                                 int64_t n) {
  QAT_CHECK(keep_grid_supported(to, source), "quantize_row_keep_grid: cannot keep a grid from ",
            tensor_type_name(source), " to ", tensor_type_name(to), " (F32/F16/BF16 to Q8_0/Q4_0)");
  QAT_CHECK(n >= 0 && n % kQuantBlock == 0, "quantize_row_keep_grid: length ", n,
            " is not a non-negative multiple of the block size ", kQuantBlock);
  const size_t block_bytes = to == TensorType::Q4_0 ? sizeof(BlockQ4_0) : sizeof(BlockQ8_0);
  auto* y = static_cast<uint8_t*>(out_blocks);
  GridStats stats;
  // The reference blocks first (they throw on NaN/inf, naming the block):
  // the fallback, and rule 1.
  std::vector<float> d_ref(size_t(n / kQuantBlock));
  if (to == TensorType::Q4_0)
    reference_scales_q4_0(x, d_ref.data(), n);
  else
    reference_scales_q8_0(x, d_ref.data(), n);
  quantize_scaled(to, x, d_ref.data(), y, n);
  uint16_t cand[kMaxCandidates];
  for (int64_t b = 0; b < n / kQuantBlock; ++b) {
    const float* xb = x + b * kQuantBlock;
    uint8_t* yb = y + size_t(b) * block_bytes;
    ++stats.blocks;
    BlockShape shape;
    if (!may_lie_on_a_grid(to, source, xb, shape)) continue;
    // Every scale that reproduces the block, the reference's included, is
    // among the candidates: none, no grid (most ordinary blocks end here).
    const int nc = shape.amax == 0.0f ? 0 : candidate_scales(to, shape, cand);
    if (shape.amax != 0.0f && nc == 0) continue;
    if (reproduces(to, source, xb, d_ref[size_t(b)]) && block_matches(to, source, yb, xb)) {
      ++stats.reference;
      continue;
    }
    if (nc == 0) continue;  // (an all-zero block always ends above)
    const float d = find_grid_scale(to, source, xb, shape, cand, nc);
    if (d == 0.0f) continue;
    quantize_scaled(to, xb, &d, yb, kQuantBlock);
    if (block_matches(to, source, yb, xb)) {
      ++stats.detected;
    } else {  // cannot happen while reproduces() mirrors the reference; stay safe
      quantize_scaled(to, xb, &d_ref[size_t(b)], yb, kQuantBlock);
    }
  }
  return stats;
}

}  // namespace qat
