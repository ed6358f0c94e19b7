#include "train/gptq.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>

#include "base/error.h"
#include "quant/quant_types.h"

namespace qat {

namespace {

constexpr int64_t kBlock = kQuantBlock;

// The value the reference quantizer gives x in a block with scale d: a
// one-element block through quantize_row_X_scaled and back, so codes and
// rounding are the deployed ones by construction.
float quantized_value(TensorType type, float x, float d) {
  float in[kBlock] = {x}, out[kBlock];
  if (type == TensorType::Q8_0) {
    BlockQ8_0 b;
    quantize_row_q8_0_scaled(in, &d, &b, kBlock);
    dequantize_row_q8_0(&b, out, kBlock);
  } else {
    BlockQ4_0 b;
    quantize_row_q4_0_scaled(in, &d, &b, kBlock);
    dequantize_row_q4_0(&b, out, kBlock);
  }
  return out[0];
}

// In place: a (n, n) symmetric positive definite -> its lower Cholesky
// factor L (a = L L^T; the strict upper triangle is zeroed). False when a
// pivot is not positive.
bool cholesky_lower(std::vector<double>& a, int64_t n) {
  for (int64_t j = 0; j < n; ++j) {
    double d = a[size_t(j * n + j)];
    for (int64_t p = 0; p < j; ++p) d -= a[size_t(j * n + p)] * a[size_t(j * n + p)];
    if (!(d > 0)) return false;
    const double ljj = std::sqrt(d);
    a[size_t(j * n + j)] = ljj;
#pragma omp parallel for schedule(static) if (n - j > 256)
    for (int64_t i = j + 1; i < n; ++i) {
      double s = a[size_t(i * n + j)];
      for (int64_t p = 0; p < j; ++p) s -= a[size_t(i * n + p)] * a[size_t(j * n + p)];
      a[size_t(i * n + j)] = s / ljj;
    }
    for (int64_t i = 0; i < j; ++i) a[size_t(i * n + j)] = 0.0;
  }
  return true;
}

// The upper Cholesky factor U of H^-1 (H^-1 = U^T U), the factor GPTQ's
// column updates use: row i of U scaled by 1 / U_ii moves column i's error.
std::vector<double> inverse_cholesky_upper(std::vector<double> h, int64_t n) {
  QAT_CHECK(cholesky_lower(h, n), "gptq: the input Hessian is not positive definite after dampening");
  // Linv = L^-1 (lower), column by column by forward substitution.
  std::vector<double> linv(size_t(n * n), 0.0);
#pragma omp parallel for schedule(dynamic, 16)
  for (int64_t c = 0; c < n; ++c) {
    linv[size_t(c * n + c)] = 1.0 / h[size_t(c * n + c)];
    for (int64_t i = c + 1; i < n; ++i) {
      double s = 0.0;
      for (int64_t p = c; p < i; ++p) s -= h[size_t(i * n + p)] * linv[size_t(p * n + c)];
      linv[size_t(i * n + c)] = s / h[size_t(i * n + i)];
    }
  }
  // H^-1 = Linv^T Linv.
  std::vector<double> hinv(size_t(n * n), 0.0);
#pragma omp parallel for schedule(dynamic, 16)
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i; j < n; ++j) {
      double s = 0.0;
      for (int64_t p = j; p < n; ++p) s += linv[size_t(p * n + i)] * linv[size_t(p * n + j)];
      hinv[size_t(i * n + j)] = hinv[size_t(j * n + i)] = s;
    }
  QAT_CHECK(cholesky_lower(hinv, n), "gptq: the inverse Hessian is not positive definite (ill-conditioned inputs)");
  // U = L'^T.
  std::vector<double> u(size_t(n * n), 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i; j < n; ++j) u[size_t(i * n + j)] = hinv[size_t(j * n + i)];
  return u;
}

}  // namespace

void InputHessian::add(const float* x, int64_t n) {
  // In chunks of rows converted to double, h += chunk^T chunk (upper
  // triangle by dsyrk, mirrored below).
  constexpr int64_t kChunk = 256;
  std::vector<double> xd(size_t(kChunk * k));
  for (int64_t r0 = 0; r0 < n; r0 += kChunk) {
    const int64_t m = std::min(kChunk, n - r0);
    for (int64_t i = 0; i < m * k; ++i) xd[size_t(i)] = double(x[r0 * k + i]);
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, int(k), int(m), 1.0, xd.data(), int(k), 1.0, h.data(),
                int(k));
  }
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < i; ++j) h[size_t(i * k + j)] = h[size_t(j * k + i)];
  rows += n;
}

void gptq_quantize(TensorType type, float* w, int64_t rows, int64_t cols, const InputHessian& hess, float* scales,
                   double damp, float* latent) {
  QAT_CHECK(type == TensorType::Q8_0 || type == TensorType::Q4_0, "gptq: only Q8_0 and Q4_0 have block scales");
  QAT_CHECK(rows > 0 && cols > 0 && cols % kBlock == 0, "gptq: a (", rows, ", ", cols,
            ") matrix is not made of whole blocks of ", kBlock);
  QAT_CHECK(hess.k == cols, "gptq: the Hessian is ", hess.k, " x ", hess.k, ", the matrix has ", cols, " columns");
  QAT_CHECK(damp >= 0 && std::isfinite(damp), "gptq: dampening must be >= 0, got ", damp);
  for (int64_t i = 0; i < rows * cols; ++i)
    QAT_CHECK(std::isfinite(w[i]), "gptq: weight ", i, " is not finite (", w[i], ")");
  const int64_t n = cols;
  std::vector<double> h = hess.h;
  double mean_diag = 0.0;
  for (int64_t i = 0; i < n; ++i) mean_diag += h[size_t(i * n + i)];
  mean_diag /= double(n);
  for (int64_t i = 0; i < n; ++i) {
    double& d = h[size_t(i * n + i)];
    if (d == 0.0) d = mean_diag > 0 ? mean_diag : 1.0;  // an input never seen: nothing to weigh its error by
    d += damp * (mean_diag > 0 ? mean_diag : 1.0);
  }
  const std::vector<double> u = inverse_cholesky_upper(std::move(h), n);
  const int64_t nb = cols / kBlock;
  // Rows are independent: each moves its own errors along U's rows.
#pragma omp parallel for schedule(dynamic, 4)
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<double> row(w + r * cols, w + (r + 1) * cols);
    for (int64_t i = 0; i < n; ++i) {
      if (i % kBlock == 0) {
        float blk[kBlock];
        for (int64_t j = 0; j < kBlock; ++j) blk[j] = float(row[size_t(i + j)]);
        // The block's scale as the reference derives it from its current values.
        if (type == TensorType::Q8_0)
          reference_scales_q8_0(blk, &scales[r * nb + i / kBlock], kBlock);
        else
          reference_scales_q4_0(blk, &scales[r * nb + i / kBlock], kBlock);
      }
      const float x = float(row[size_t(i)]);
      if (latent) latent[r * cols + i] = x;
      const float q = quantized_value(type, x, scales[r * nb + i / kBlock]);
      const double err = (row[size_t(i)] - double(q)) / u[size_t(i * n + i)];
      const double* ui = u.data() + i * n;
      for (int64_t j = i + 1; j < n; ++j) row[size_t(j)] -= err * ui[j];
      row[size_t(i)] = q;
    }
    for (int64_t i = 0; i < n; ++i) w[r * cols + i] = float(row[size_t(i)]);
  }
}

double gptq_output_error(const float* w, const float* wq, int64_t rows, int64_t cols, const InputHessian& h) {
  QAT_CHECK(h.k == cols, "gptq_output_error: the Hessian is ", h.k, " x ", h.k, ", the matrix has ", cols, " columns");
  double total = 0.0;
  std::vector<double> e(static_cast<size_t>(cols));
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t i = 0; i < cols; ++i) e[size_t(i)] = double(w[r * cols + i]) - double(wq[r * cols + i]);
    for (int64_t i = 0; i < cols; ++i) {
      double s = 0.0;
      for (int64_t j = 0; j < cols; ++j) s += h.h[size_t(i * cols + j)] * e[size_t(j)];
      total += e[size_t(i)] * s;
    }
  }
  return total;
}

}  // namespace qat
