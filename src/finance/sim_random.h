// A small deterministic random source for the simulators: SplitMix64 plus the
// few distributions they need, written out so that a seed gives the same data
// with every compiler and standard library (std::normal_distribution and
// friends are implementation-defined).
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

namespace qat {

class SimRandom {
 public:
  explicit SimRandom(uint64_t seed) : state_(seed ^ 0x5851f42d4c957f2dULL) {}

  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double uniform() { return double(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  int below(int n) { return int(uniform() * n); }  // [0, n)
  bool chance(double p) { return uniform() < p; }
  double normal() {  // Box-Muller, one value per call
    const double u1 = 1.0 - uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  double exponential(double mean) { return -mean * std::log(1.0 - uniform()); }
  double lognormal(double median, double sigma) { return median * std::exp(sigma * normal()); }
  // An index drawn with probability proportional to weights[i] (>= 0, not all 0).
  int pick(const std::vector<double>& weights) {
    double total = 0;
    for (double w : weights) total += w;
    double r = uniform() * total;
    for (size_t i = 0; i < weights.size(); ++i) {
      if (r < weights[i]) return int(i);
      r -= weights[i];
    }
    return int(weights.size()) - 1;
  }

 private:
  uint64_t state_;
};

}  // namespace qat
