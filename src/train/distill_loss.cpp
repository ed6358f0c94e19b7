#include "train/distill_loss.h"

#include <cmath>
#include <vector>

#include "base/error.h"

namespace qat {

namespace {

// p = softmax(z / T) in double; returns log(sum exp(z/T - max)) + max for log p.
double softmax_t(const float* z, double* p, int64_t V, double inv_t) {
  double mx = -INFINITY;
  for (int64_t v = 0; v < V; ++v) mx = std::fmax(mx, double(z[v]) * inv_t);
  double sum = 0;
  for (int64_t v = 0; v < V; ++v) sum += (p[v] = std::exp(double(z[v]) * inv_t - mx));
  for (int64_t v = 0; v < V; ++v) p[v] /= sum;
  return mx + std::log(sum);
}

}  // namespace

double distill_forward_backward(float* dstudent, const float* student, const float* teacher,
                                const uint8_t* counted, int64_t rows, int64_t V, float temperature, float weight) {
  QAT_CHECK(temperature > 0 && std::isfinite(temperature), "distillation temperature must be positive, got ",
            temperature);
  int64_t n = 0;
  for (int64_t r = 0; r < rows; ++r) n += counted[r] != 0;
  if (n == 0) return 0.0;
  const double T = temperature, inv_t = 1.0 / T;
  const double g = double(weight) * T / double(n);  // d mean KD / d z_s = T (p_s - p_t) / n
  double total = 0;
#pragma omp parallel reduction(+ : total) if (rows * V >= (1 << 16))
  {
    std::vector<double> ps(static_cast<size_t>(V)), pt(static_cast<size_t>(V));
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      if (!counted[r]) continue;
      const float* zs = student + r * V;
      const float* zt = teacher + r * V;
      const double lse_s = softmax_t(zs, ps.data(), V, inv_t);
      const double lse_t = softmax_t(zt, pt.data(), V, inv_t);
      double kl = 0;
      float* d = dstudent + r * V;
      for (int64_t v = 0; v < V; ++v) {
        // log p_t - log p_s = (zt - zs) / T - lse_t + lse_s
        if (pt[size_t(v)] > 0) kl += pt[size_t(v)] * ((double(zt[v]) - double(zs[v])) * inv_t - lse_t + lse_s);
        d[v] += float(g * (ps[size_t(v)] - pt[size_t(v)]));
      }
      total += T * T * kl;
    }
  }
  return total / double(n);
}

}  // namespace qat
