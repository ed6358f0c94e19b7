// Fake quantization for QAT. The codes and values always come from the one
// reference quantizer (quant/quant_types.h) on one block at a time; this file
// adds only what training needs on top: which codes were clamped (the STE
// mask) and the LSQ gradients. Golden tests against torch / torchao:
// tests/train/fake_quant_test.cpp (fixtures from
// tools/reference/make_fake_quant_fixtures.py).
#include "train/fake_quant_ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <string>

#include "base/error.h"
#include "base/fp16.h"
#include "quant/quant_types.h"

// The clamp tests below must see x*id rounded to float exactly as the
// reference computes it (quant_types.cpp is built the same way): under
// -march=native g++ would fuse x*id + 8.5f into one FMA, even across
// statements, and move codes near .5 boundaries.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace qat {

namespace {

constexpr int kBlock = int(kQuantBlock);
// Below this many elements a parallel region costs more than it saves.
constexpr int64_t kParallelMin = 1 << 15;

int64_t blocks_of(int64_t n, const char* what) {
  QAT_CHECK(n >= 0 && n % kQuantBlock == 0, what, ": length ", n, " is not a non-negative multiple of ",
            kQuantBlock);
  return n / kQuantBlock;
}

void check_block_finite(const float* x, int64_t block, const char* what) {
  for (int j = 0; j < kBlock; ++j)
    QAT_CHECK(std::isfinite(x[j]), what, ": block ", block, " element ", j, " is not finite (", x[j],
              "); NaN/inf cannot be quantized");
}

void check_scale(float s, int64_t block, const char* what) {
  QAT_CHECK(std::isfinite(s), what, ": block ", block, " scale is not finite (", s, ")");
}

// fn(b) for every block, over OpenMP threads for large tensors. An exception
// cannot leave a parallel region, so the one of the lowest block is kept and
// rethrown after it (the same error a serial loop would have raised).
template <typename Fn>
void for_each_block(int64_t nb, Fn&& fn) {
  std::exception_ptr error;
  int64_t error_block = nb;
#pragma omp parallel for schedule(static) if (nb * kQuantBlock >= kParallelMin)
  for (int64_t b = 0; b < nb; ++b) {
    try {
      fn(b);
    } catch (...) {
#pragma omp critical(qat_fake_quant_error)
      if (b < error_block) {
        error_block = b;
        error = std::current_exception();
      }
    }
  }
  if (error) std::rethrow_exception(error);
}

// The reference's 1/d: 0 for d == 0, possibly inf for tiny |d| (then every
// code is 0 and nothing is clamped).
float inverse(float d) { return d != 0.0f ? 1.0f / d : 0.0f; }

// Whether the reference clamped the code of an element with r = x * id (the
// float product it rounds). Q8_0: roundf(r) outside -127..127, i.e. |r| >=
// 127.5 (roundf rounds halves away from zero). Q4_0: v = r + 8.5f, rounded to
// float, outside [0, 16) (trunc(v) outside 0..15; v in [15, 16) truncates to
// 15 without clamping).
inline bool q8_0_clamped(float r) { return !(std::fabs(r) < 127.5f); }
inline bool q4_0_clamped(float r) {
  const float v = r + 8.5f;
  return v < 0.0f || v >= 16.0f;
}

// One block: the reference's codes for scale d (signed: Q8_0 -127..127, Q4_0
// -8..7), whether each was clamped, and x * id for each element. A block
// whose 1/d overflows is degenerate: the reference writes raw code 0 (Q4_0's
// -8) everywhere and an fp16 scale of +-0, so its values are all 0.
struct BlockCodes {
  int8_t q[kQuantBlock];
  bool clamped[kQuantBlock];
  float r[kQuantBlock];
  bool degenerate;
};

// Quantizes one block with the reference and writes its dequantized values
// to y (may alias x: x is read before y is written); fills codes if given.
void fake_quant_block(TensorType type, const float* x, float d, float* y, BlockCodes* codes) {
  const float id = inverse(d);
  const bool finite_id = std::isfinite(id);
  if (codes) codes->degenerate = !finite_id;
  if (type == TensorType::Q8_0) {
    BlockQ8_0 blk;
    quantize_row_q8_0_scaled(x, &d, &blk, kQuantBlock);
    if (codes) {
      for (int j = 0; j < kBlock; ++j) {
        codes->q[j] = blk.qs[j];
        codes->r[j] = finite_id ? x[j] * id : 0.0f;
        codes->clamped[j] = finite_id && q8_0_clamped(codes->r[j]);
      }
    }
    dequantize_row_q8_0(&blk, y, kQuantBlock);
  } else {
    BlockQ4_0 blk;
    quantize_row_q4_0_scaled(x, &d, &blk, kQuantBlock);
    if (codes) {
      for (int j = 0; j < kBlock / 2; ++j) {
        codes->q[j] = int8_t(int(blk.qs[j] & 0x0f) - 8);
        codes->q[j + kBlock / 2] = int8_t(int(blk.qs[j] >> 4) - 8);
      }
      for (int j = 0; j < kBlock; ++j) {
        codes->r[j] = finite_id ? x[j] * id : 0.0f;
        codes->clamped[j] = finite_id && q4_0_clamped(codes->r[j]);
      }
    }
    dequantize_row_q4_0(&blk, y, kQuantBlock);
  }
}

// The type's name for messages; also for ids that are no TensorType value.
std::string type_name(TensorType t) {
  const TensorTypeInfo* info = tensor_type_info(uint32_t(t));
  return info ? std::string(info->name) : cat("id ", uint32_t(t));
}

void check_block_type(TensorType type, const char* what) {
  QAT_CHECK(fake_quant_supported(type), what, ": type ", type_name(type),
            " has no block scales (expected Q8_0 or Q4_0)");
}

void reference_scales(TensorType type, const float* w, float* d, int64_t n) {
  if (type == TensorType::Q8_0)
    reference_scales_q8_0(w, d, n);
  else
    reference_scales_q4_0(w, d, n);
}

// LSQ's gradient scale for one block of 32: 1 / sqrt(32 * Qp).
float lsq_grad_scale(TensorType type) {
  const double qp = type == TensorType::Q8_0 ? 127.0 : 7.0;
  return float(1.0 / std::sqrt(double(kQuantBlock) * qp));
}

}  // namespace

bool fake_quant_supported(TensorType type) { return type == TensorType::Q8_0 || type == TensorType::Q4_0; }

void weight_fake_quant_forward(TensorType type, const float* w, float* wq, uint8_t* pass, int64_t n) {
  const int64_t nb = blocks_of(n, "weight_fake_quant_forward");
  const char* what = "weight_fake_quant_forward";
  if (fake_quant_supported(type)) {
    for_each_block(nb, [&](int64_t b) {
      const float* x = w + b * kQuantBlock;
      check_block_finite(x, b, what);  // here, so the error names the tensor's block
      float d;
      reference_scales(type, x, &d, kQuantBlock);
      BlockCodes codes;
      fake_quant_block(type, x, d, wq + b * kQuantBlock, &codes);
      for (int j = 0; j < kBlock; ++j) pass[b * kQuantBlock + j] = codes.clamped[j] ? 0 : 1;
    });
    return;
  }
  QAT_CHECK(type == TensorType::F16 || type == TensorType::BF16 || type == TensorType::F32, what,
            ": unsupported type ", type_name(type), " (expected Q8_0, Q4_0, F16, BF16 or F32)");
  // F16 / BF16: the value the exported file stores (round to nearest even;
  // F16 overflows to inf above 65504, as the export does). F32: itself.
  for_each_block(nb, [&](int64_t b) {
    const float* x = w + b * kQuantBlock;
    float* y = wq + b * kQuantBlock;
    check_block_finite(x, b, what);
    if (type == TensorType::F16) {
      for (int j = 0; j < kBlock; ++j) y[j] = fp16_to_f32(f32_to_fp16(x[j]));
    } else if (type == TensorType::BF16) {
      for (int j = 0; j < kBlock; ++j) y[j] = bf16_to_f32(f32_to_bf16(x[j]));
    } else if (y != x) {
      std::memmove(y, x, sizeof(float) * kQuantBlock);
    }
    std::memset(pass + b * kQuantBlock, 1, kQuantBlock);
  });
}

void weight_fake_quant_backward(float* dw, const float* dwq, const uint8_t* pass, int64_t n) {
  blocks_of(n, "weight_fake_quant_backward");
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) dw[i] += pass[i] ? dwq[i] : 0.0f;
}

void lsq_init_scales(TensorType type, const float* w, float* s, int64_t n) {
  check_block_type(type, "lsq_init_scales");
  blocks_of(n, "lsq_init_scales");
  reference_scales(type, w, s, n);
}

void lsq_init_scales_mse(TensorType type, const float* w, float* s, int64_t n) {
  const char* what = "lsq_init_scales_mse";
  check_block_type(type, what);
  const int64_t nb = blocks_of(n, what);
  // Code range ends: Q8_0 -127..127, Q4_0 -8..7.
  const float qn = type == TensorType::Q8_0 ? 127.0f : 8.0f, qp = type == TensorType::Q8_0 ? 127.0f : 7.0f;
  for_each_block(nb, [&](int64_t b) {
    const float* x = w + b * kQuantBlock;
    check_block_finite(x, b, what);
    float ref;
    reference_scales(type, x, &ref, kQuantBlock);
    float extreme = 0.0f;  // the signed value of largest magnitude
    for (int j = 0; j < kBlock; ++j)
      if (std::fabs(x[j]) > std::fabs(extreme)) extreme = x[j];
    auto error_of = [&](float d) {
      float y[kQuantBlock];
      fake_quant_block(type, x, d, y, nullptr);
      double e = 0.0;
      for (int j = 0; j < kBlock; ++j) e += (double(x[j]) - y[j]) * (double(x[j]) - y[j]);
      // An fp16 scale that overflows gives infinite values: never chosen
      // over a finite candidate.
      return std::isfinite(e) ? e : HUGE_VAL;
    };
    float best = ref;
    double best_error = error_of(ref);
    for (int k = 0; k <= 40 && extreme != 0.0f; ++k) {
      const float f = 1.0f - 0.01f * float(k);
      for (const float d : {-extreme / qn * f, extreme / qp * f}) {
        const double e = error_of(d);
        if (e < best_error) {
          best_error = e;
          best = d;
        }
      }
    }
    s[b] = best;
  });
}

void lsq_forward(TensorType type, const float* w, const float* s, float* wq, int64_t n) {
  const char* what = "lsq_forward";
  check_block_type(type, what);
  const int64_t nb = blocks_of(n, what);
  for_each_block(nb, [&](int64_t b) {
    const float* x = w + b * kQuantBlock;
    check_block_finite(x, b, what);
    check_scale(s[b], b, what);
    fake_quant_block(type, x, s[b], wq + b * kQuantBlock, nullptr);
  });
}

void lsq_backward(TensorType type, const float* w, const float* s, const float* dwq, float* dw, float* ds,
                  int64_t n) {
  const char* what = "lsq_backward";
  check_block_type(type, what);
  const int64_t nb = blocks_of(n, what);
  const float g = lsq_grad_scale(type);
  for_each_block(nb, [&](int64_t b) {
    const int64_t o = b * kQuantBlock;
    check_block_finite(w + o, b, what);
    check_scale(s[b], b, what);
    // The reference's codes for this block, recomputed (cheaper than storing
    // them between forward and backward); the values are not needed.
    float unused[kQuantBlock];
    BlockCodes c;
    fake_quant_block(type, w + o, s[b], unused, &c);
    // wq = q * s with q = clamp(round(w / s)). Rounding as identity:
    //   in range: wq = w,               dwq/dw = 1, dwq/ds = q - w/s;
    //   clamped:  wq = q_clamped * s,   dwq/dw = 0, dwq/ds = q_clamped.
    // w/s is the quantizer's own w * (1/s), so q - w/s is exactly the
    // rounding step it took. A degenerate block (1/s overflows; s == 0 gives
    // codes 0 and r = 0 by itself) has value 0 whatever its codes: no ds.
    if (c.degenerate) {
      for (int j = 0; j < kBlock; ++j) dw[o + j] += dwq[o + j];
      return;
    }
    float acc = 0.0f;
    for (int j = 0; j < kBlock; ++j) {
      const float q = float(c.q[j]);
      if (c.clamped[j]) {
        acc += dwq[o + j] * q;
      } else {
        dw[o + j] += dwq[o + j];
        acc += dwq[o + j] * (q - c.r[j]);
      }
    }
    ds[b] += g * acc;
  });
}

void act_fake_quant_q8_0(const float* x, float* xq, int64_t rows, int64_t cols) {
  const char* what = "act_fake_quant_q8_0";
  QAT_CHECK(rows >= 0 && cols >= 0 && cols % kQuantBlock == 0, what, ": cols ", cols,
            " must be a multiple of ", kQuantBlock, " (rows ", rows, ")");
  QAT_CHECK(cols == 0 || rows <= INT64_MAX / cols, what, ": ", rows, " x ", cols, " elements overflow");
  // Rows are whole blocks, so row by row is block by block (as
  // quantize_activations_q8_0 quantizes them in one call).
  const int64_t nb = rows * cols / kQuantBlock;
  for_each_block(nb, [&](int64_t b) {
    const float* xb = x + b * kQuantBlock;
    check_block_finite(xb, b, what);
    BlockQ8_0 blk;
    quantize_row_q8_0(xb, &blk, kQuantBlock);
    dequantize_row_q8_0(&blk, xq + b * kQuantBlock, kQuantBlock);
  });
}

}  // namespace qat
