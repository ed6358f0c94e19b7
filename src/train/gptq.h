// GPTQ (Frantar et al. 2022) for the deployed block types Q8_0 and Q4_0: a
// weight matrix is quantized one input column at a time, and each column's
// rounding error is pushed onto the columns not yet quantized in the
// direction that least changes the layer's outputs on calibration inputs
// (the error weighted by H = sum of x x^T over those inputs). QAT uses it to
// start learned-scale training (`--lsq-init gptq`) from a better rounding
// than round-to-nearest; each block's scale is the reference quantizer's
// scale of the block's values when GPTQ reaches its first column, and the
// result lies exactly on those scales' grid, so LSQ and the export reproduce
// it code for code.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "formats/tensor_type.h"

namespace qat {

// The second moments of one matmul's input over calibration rows.
struct InputHessian {
  explicit InputHessian(int64_t cols) : k(cols), h(size_t(cols * cols), 0.0) {}
  // x (n, k) row-major: h += x^T x.
  void add(const float* x, int64_t n);
  int64_t k;
  std::vector<double> h;  // (k, k)
  int64_t rows = 0;       // calibration rows added
};

// Per weight tensor (keyed by its data pointer), the Hessian of its input;
// tensors that multiply the same input (Q/K/V, gate/up) share one.
using InputHessians = std::map<const void*, std::shared_ptr<InputHessian>>;

// Quantizes w (rows, cols; cols a multiple of 32) in place to `type`
// (Q8_0 or Q4_0) by GPTQ against h (cols x cols): afterwards w holds the
// dequantized values and scales (rows * cols / 32) the block scales d, so
// that quantize_row_X_scaled(w, scales) gives w's codes and fp16(d) * code
// is w. latent (rows x cols, optional) receives the values GPTQ rounded,
// each column as the errors of the columns before it left it: quantized
// with the same scales they give the same codes, and they keep their place
// inside the rounding bins, which QAT's straight-through latent weights
// need (masters sitting on the grid barely moved under training).
// Dampening adds damp * mean(diag h) to the diagonal; an input never seen
// (zero diagonal) first gets the mean diagonal. With h a multiple of the
// identity the result is round-to-nearest with the reference scales (no
// error to move). Throws qat::Error on mismatched sizes, other types,
// non-finite weights, or an h that is not positive definite even after
// dampening.
void gptq_quantize(TensorType type, float* w, int64_t rows, int64_t cols, const InputHessian& h, float* scales,
                   double damp = 0.01, float* latent = nullptr);

// The GPTQ objective: sum over rows of e^T h e with e = w - wq (the change
// in the squared outputs over the calibration inputs). For tests and reports.
double gptq_output_error(const float* w, const float* wq, int64_t rows, int64_t cols, const InputHessian& h);

}  // namespace qat
