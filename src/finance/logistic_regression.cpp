#include "finance/logistic_regression.h"

#include <algorithm>
#include <cmath>

#include "base/error.h"

namespace qat {
namespace {

// Each example's active ids, sorted and deduplicated, in one array.
struct SparseRows {
  std::vector<size_t> offsets{0};  // (n + 1) example i is ids[offsets[i], offsets[i+1])
  std::vector<int32_t> ids;
  size_t size() const { return offsets.size() - 1; }
};

std::vector<int32_t> sorted_unique(std::vector<int32_t> ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

// log(1 + e^t) without overflow.
double softplus(double t) { return std::max(t, 0.0) + std::log1p(std::exp(-std::abs(t))); }

double sigmoid(double z) {
  if (z >= 0) return 1 / (1 + std::exp(-z));
  const double e = std::exp(z);
  return e / (1 + e);
}

// theta = (w_0 .. w_{d-1}, bias): one vector, so the Newton step is one solve.
void margins(const SparseRows& rows, const std::vector<double>& theta, std::vector<double>& z) {
  const size_t bias = theta.size() - 1;
  for (size_t i = 0; i < rows.size(); ++i) {
    double s = theta[bias];
    for (size_t k = rows.offsets[i]; k < rows.offsets[i + 1]; ++k) s += theta[rows.ids[k]];
    z[i] = s;
  }
}

double objective(const SparseRows& rows, const std::vector<int32_t>& labels, const std::vector<double>& theta,
                 double l2, std::vector<double>& z) {
  margins(rows, theta, z);
  double f = 0;
  // -log sigmoid(z) = softplus(-z) for label 1; -log(1 - sigmoid(z)) = softplus(z) for 0.
  for (size_t i = 0; i < rows.size(); ++i) f += softplus(labels[i] == 1 ? -z[i] : z[i]);
  double w2 = 0;
  for (size_t j = 0; j + 1 < theta.size(); ++j) w2 += theta[j] * theta[j];
  return f + 0.5 * l2 * w2;
}

// The gradient of the objective, X^T (p - y) + l2 w (bias last), and each
// example's curvature p (1 - p), at margins z.
void gradient(const SparseRows& rows, const std::vector<int32_t>& labels, const std::vector<double>& theta,
              const std::vector<double>& z, double l2, std::vector<double>& g, std::vector<double>& curv) {
  const size_t bias = theta.size() - 1;
  std::fill(g.begin(), g.end(), 0.0);
  for (size_t i = 0; i < rows.size(); ++i) {
    const double p = sigmoid(z[i]);
    const double residual = p - labels[i];
    curv[i] = p * (1 - p);
    for (size_t k = rows.offsets[i]; k < rows.offsets[i + 1]; ++k) g[rows.ids[k]] += residual;
    g[bias] += residual;
  }
  for (size_t j = 0; j < bias; ++j) g[j] += l2 * theta[j];
}

// The Hessian X^T diag(curv) X + l2 I (bias last, unpenalized) into h (m, m),
// lower triangle only: an example adds its curv to (a, b) for each pair of
// its ids b <= a, and to (bias, a) and (bias, bias).
void hessian(const SparseRows& rows, const std::vector<double>& curv, double l2, size_t m, std::vector<double>& h) {
  const size_t d = m - 1, bias = d;
  std::fill(h.begin(), h.end(), 0.0);
  // Scattering pairs over the whole matrix misses the cache on nearly every
  // add (32 MB at 2,000 features), so fill it in blocks of rows that fit in
  // L2, rescanning the (sequential) examples for each block: several times
  // faster.
  constexpr size_t kRows = 64;
  for (size_t a0 = 0; a0 < d; a0 += kRows) {
    const size_t a1 = std::min(d, a0 + kRows);
    for (size_t i = 0; i < rows.size(); ++i) {
      const int32_t* ids = &rows.ids[rows.offsets[i]];
      const size_t k = rows.offsets[i + 1] - rows.offsets[i];
      for (size_t t = 0; t < k && size_t(ids[t]) < a1; ++t) {  // ids are sorted
        if (size_t(ids[t]) < a0) continue;
        double* row = &h[size_t(ids[t]) * m];
        for (size_t u = 0; u <= t; ++u) row[ids[u]] += curv[i];
      }
    }
  }
  double* bias_row = &h[bias * m];
  for (size_t i = 0; i < rows.size(); ++i) {
    for (size_t k = rows.offsets[i]; k < rows.offsets[i + 1]; ++k) bias_row[rows.ids[k]] += curv[i];
    bias_row[bias] += curv[i];
  }
  for (size_t j = 0; j < d; ++j) h[j * m + j] += l2;
}

// Four running sums instead of one, so the multiply-adds need not wait on
// each other (GCC does not reorder a double sum by itself). Fixed order:
// the same inputs give the same bits.
double dot(const double* a, const double* b, size_t n) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t k = 0;
  for (; k + 4 <= n; k += 4) {
    s0 += a[k] * b[k];
    s1 += a[k + 1] * b[k + 1];
    s2 += a[k + 2] * b[k + 2];
    s3 += a[k + 3] * b[k + 3];
  }
  for (; k < n; ++k) s0 += a[k] * b[k];
  return (s0 + s1) + (s2 + s3);
}

// Solves H x = rhs for symmetric positive definite H (m, m), row-major, of
// which only the lower triangle is read; H is overwritten by its Cholesky
// factor L (H = L L^T). False when H is not numerically positive definite.
// Row i of L needs every row above it; taking the rows in blocks of 32 reads
// each earlier row once per block instead of once per row (at 2,000 features
// the triangle is 16 MB, far beyond the caches: 3x faster). Every entry is
// computed by the same operations as row by row.
bool cholesky_solve(std::vector<double>& h, size_t m, std::vector<double>& x) {
  constexpr size_t kBlock = 32;
  for (size_t i0 = 0; i0 < m; i0 += kBlock) {
    const size_t i1 = std::min(m, i0 + kBlock);
    for (size_t j = 0; j < i1; ++j) {
      const double* lj = &h[j * m];
      for (size_t i = std::max(i0, j); i < i1; ++i) {
        double* li = &h[i * m];
        const double s = li[j] - dot(li, lj, j);
        if (i == j) {
          if (!(s > 0)) return false;
          li[i] = std::sqrt(s);
        } else {
          li[j] = s / lj[j];
        }
      }
    }
  }
  // L y = rhs, then L^T x = y.
  for (size_t i = 0; i < m; ++i) x[i] = (x[i] - dot(&h[i * m], x.data(), i)) / h[i * m + i];
  for (size_t i = m; i-- > 0;) {
    double s = x[i];
    for (size_t k = i + 1; k < m; ++k) s -= h[k * m + i] * x[k];
    x[i] = s / h[i * m + i];
  }
  return true;
}

}  // namespace

double LogisticModel::predict(const std::vector<int32_t>& active) const {
  for (int32_t id : active) {
    QAT_CHECK(id >= 0 && size_t(id) < weights.size(), "LogisticModel::predict: feature id ", id, " (expected [0, ",
              weights.size(), "))");
  }
  double z = bias;
  for (int32_t id : sorted_unique(active)) z += weights[id];
  return sigmoid(z);
}

LogisticModel fit_logistic(const std::vector<std::vector<int32_t>>& examples, const std::vector<int32_t>& labels,
                           int32_t n_features, const LogisticOptions& options) {
  const char* what = "fit_logistic";
  QAT_CHECK(examples.size() == labels.size(), what, ": ", examples.size(), " examples but ", labels.size(),
            " labels (expected one label per example)");
  QAT_CHECK(!examples.empty(), what, ": no examples");
  QAT_CHECK(n_features >= 0, what, ": n_features is ", n_features, " (expected >= 0)");
  QAT_CHECK(options.l2 > 0 && std::isfinite(options.l2), what, ": l2 is ", options.l2,
            " (expected > 0; sklearn's C = 1 / l2, and a tiny l2 approximates no penalty)");
  QAT_CHECK(options.max_iter >= 0, what, ": max_iter is ", options.max_iter, " (expected >= 0)");
  QAT_CHECK(options.tol >= 0, what, ": tol is ", options.tol, " (expected >= 0)");
  SparseRows rows;
  int64_t positives = 0;
  for (size_t i = 0; i < examples.size(); ++i) {
    for (int32_t id : examples[i]) {
      QAT_CHECK(id >= 0 && id < n_features, what, ": example ", i, " has feature id ", id, " (expected [0, ",
                n_features, "))");
    }
    QAT_CHECK(labels[i] == 0 || labels[i] == 1, what, ": label ", i, " is ", labels[i], " (expected 0 or 1)");
    positives += labels[i];
    for (int32_t id : sorted_unique(examples[i])) rows.ids.push_back(id);
    rows.offsets.push_back(rows.ids.size());
  }
  const size_t n = rows.size();
  QAT_CHECK(positives > 0 && positives < int64_t(n), what, ": every label is ", labels[0],
            " (expected both classes; the intercept has no finite optimum)");

  const size_t d = size_t(n_features), m = d + 1, bias = d;
  std::vector<double> theta(m, 0.0), trial(m), z(n), curv(n), g(m), h(m * m), step(m);
  LogisticModel model;
  double f = objective(rows, labels, theta, options.l2, z);
  for (;;) {
    gradient(rows, labels, theta, z, options.l2, g, curv);
    if (model.iterations == options.max_iter) break;

    hessian(rows, curv, options.l2, m, h);
    for (size_t j = 0; j < m; ++j) step[j] = -g[j];
    QAT_CHECK(cholesky_solve(h, m, step), what, ": the Hessian is not positive definite at step ", model.iterations,
              " (the scores saturated; try a larger l2)");

    // Backtracking (Armijo) line search: the full Newton step can overshoot
    // far from the optimum, e.g. on nearly separable data.
    double slope = 0, step_max = 0;
    for (size_t j = 0; j < m; ++j) {
      slope += g[j] * step[j];  // < 0: step is a descent direction
      step_max = std::max(step_max, std::abs(step[j]));
    }
    // Near the optimum the predicted decrease is below the rounding of f
    // (a sum of n terms), where Armijo cannot tell; the full step is safe there.
    const bool tiny = -slope <= 1e-12 * (1 + std::abs(f));
    bool accepted = false;
    for (double alpha = 1; alpha > 1e-10; alpha *= 0.5) {
      for (size_t j = 0; j < m; ++j) trial[j] = theta[j] + alpha * step[j];
      const double f_trial = objective(rows, labels, trial, options.l2, z);
      if (tiny || f_trial <= f + 1e-4 * alpha * slope) {
        theta.swap(trial);
        f = f_trial;
        accepted = true;
        break;
      }
    }
    if (!accepted) break;  // no step lowers the loss: as close as doubles allow
    ++model.iterations;
    // The full Newton step estimates the distance to the optimum; once it is
    // below tol, the step just taken leaves an error of order tol^2.
    if (step_max <= options.tol) {
      model.converged = true;
      break;
    }
  }
  model.weights.assign(theta.begin(), theta.begin() + d);
  model.bias = theta[bias];
  return model;
}

}  // namespace qat
