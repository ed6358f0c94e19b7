#include "model/rope_table.h"

#include <cmath>

namespace qat {

RopeTable make_rope_table(const LayerSpec& s, int max_pos) {
  RopeTable r;
  r.theta = s.rope_theta;
  r.factor = s.rope_factor;
  r.dims = s.rope_dims;
  r.head_dim = s.head_dim;
  const int half = s.head_dim / 2;
  std::vector<float> inv_freq(size_t(half), 0.0f);
  for (int j = 0; j < s.rope_dims / 2; ++j)
    inv_freq[size_t(j)] = float(1.0 / std::pow(double(s.rope_theta), double(2 * j) / s.head_dim)) / s.rope_factor;
  r.cos.resize(size_t(max_pos) * size_t(half));
  r.sin.resize(r.cos.size());
  for (int p = 0; p < max_pos; ++p)
    for (int j = 0; j < half; ++j) {
      const float angle = float(p) * inv_freq[size_t(j)];
      r.cos[size_t(p) * half + j] = std::cos(angle);
      r.sin[size_t(p) * half + j] = std::sin(angle);
    }
  return r;
}

}  // namespace qat
