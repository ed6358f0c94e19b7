#include "eval/stats.h"

#include <algorithm>
#include <cmath>

#include "base/error.h"

namespace qat {

double mean(const std::vector<double>& v) {
  if (v.empty()) return 0;
  double s = 0;
  for (double x : v) s += x;
  return s / double(v.size());
}

double stddev(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  const double m = mean(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / double(v.size() - 1));
}

double percentile(std::vector<double> v, double p) {
  QAT_CHECK(!v.empty(), "internal: percentile of no values");
  std::sort(v.begin(), v.end());
  const double pos = std::clamp(p, 0.0, 1.0) * double(v.size() - 1);
  const size_t lo = size_t(pos);
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - double(lo)) * (v[hi] - v[lo]);
}

}  // namespace qat
