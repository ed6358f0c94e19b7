// Fake quantization for QAT, forward and backward, llm.c style like
// train_ops.h. Every forward is the deployed quantizer itself
// (quant/quant_types.h: dequantize(quantize(x)) with the same rounding and
// the same fp16 block scale), so the model trained is the model exported.
//
// Gradients (straight-through estimator): rounding is treated as identity;
// the gradient is zero where the quantizer clamped the code (the scheme's
// clip range): where the rounded code fell outside the range, so codes ON
// the range's ends still pass (LSQ's qmin <= q <= qmax, as torch's
// fake_quantize ops; torchao's STE blocks those, see
// tests/fixtures/fake_quant/README.md). With the reference absmax scales
// only Q4_0 clamps: values of the other sign than the block's largest
// magnitude whose x/d reaches 7.5 (code +8, stored as 7); with learned scales
// (LSQ) any value beyond the code range clamps.
//
// All lengths n are multiples of 32 (qat::Error otherwise); NaN/inf inputs
// (and non-finite LSQ scales) throw like the reference quantizers, for every
// type, naming the block.
#pragma once
#include <cstdint>

#include "formats/tensor_type.h"

namespace qat {

// True for the weight types the fake quantizers simulate: Q8_0, Q4_0
// (F16 / BF16 are simulated by rounding, F32 by nothing).
bool fake_quant_supported(TensorType type);

// --- Weights, reference (absmax) scales ---------------------------------
// wq (n) = dequantize(quantize(w)) in `type` (Q8_0, Q4_0, F16, BF16, F32);
// pass (n) = 1 where the STE passes the gradient, 0 where the code was
// clamped (always 1 for F16 / BF16 / F32; F16 rounds values beyond 65504 to
// inf, as the export does). w and wq may alias.
void weight_fake_quant_forward(TensorType type, const float* w, float* wq, uint8_t* pass, int64_t n);
// dw (n) += dwq * pass.
void weight_fake_quant_backward(float* dw, const float* dwq, const uint8_t* pass, int64_t n);

// --- Weights, learned step sizes (LSQ, Esser et al. 2020) ---------------
// One scale s per block of 32 (n/32 values, fp32, signed like the
// reference's d). Forward: the block is quantized by
// quantize_row_X_scaled(w, s) and dequantized, i.e. code q = round(w / s)
// clamped to the type's code range, value q * fp16(s). Exporting the block
// with the same call gives exactly these values.
// Q8_0 codes -127..127 (Qn = Qp = 127); Q4_0 codes -8..7 (Qn = 8, Qp = 7).
// Q8_0 and Q4_0 only (qat::Error for other types).
void lsq_init_scales(TensorType type, const float* w, float* s, int64_t n);  // = reference_scales
// Per block, the scale among candidates around the reference's whose
// deployed values (codes and fp16 scale as lsq_forward computes them) have
// the least squared error to w; the reference scale itself is a candidate,
// so no block ends worse than absmax. Candidates: the block's extreme mapped
// to the most negative code (the reference) or to the most positive one,
// each shrunk by factors 1, 0.99, ..., 0.60 (clipping the extreme).
void lsq_init_scales_mse(TensorType type, const float* w, float* s, int64_t n);
void lsq_forward(TensorType type, const float* w, const float* s, float* wq, int64_t n);
// Accumulates (+=) the LSQ gradients:
//   dw += dwq where the code was not clamped, else 0;
//   ds += g * sum over the block of dwq * (q - w / s if not clamped, else the clamped code),
// g = 1 / sqrt(32 * Qp), the paper's gradient scale for a block of 32.
// w / s is the quantizer's own float w * (1/s). For s == 0, or |s| so small
// (< ~3e-39) that 1/s overflows, every code is 0, nothing is clamped and the
// block's ds terms are 0.
void lsq_backward(TensorType type, const float* w, const float* s, const float* dwq, float* dw, float* ds,
                  int64_t n);

// --- Activations ---------------------------------------------------------
// Dynamic Q8_0 blocks of 32 along each row, as the inference kernels
// quantize a matmul's input (kernels/quant_matmul.h): x (rows, cols), cols a
// multiple of 32; xq = dequantize(quantize_row_q8_0(x)) row by row. x and xq
// may alias. The absmax scale never clamps, so the backward is identity (the
// caller passes dX through unchanged).
void act_fake_quant_q8_0(const float* x, float* xq, int64_t rows, int64_t cols);

}  // namespace qat
