// RoPE angle tables shared by inference (Session) and training: cos / sin of
// pos * inv_freq[j] for every position, as HF computes them.
#pragma once
#include <vector>

#include "model/config.h"

namespace qat {

struct RopeTable {
  float theta = 0, factor = 1;
  int dims = 0, head_dim = 0;
  std::vector<float> cos, sin;  // (max_pos, head_dim/2)

  bool matches(const LayerSpec& s) const {
    return theta == s.rope_theta && factor == s.rope_factor && dims == s.rope_dims && head_dim == s.head_dim;
  }
};

// HF: inv_freq = 1 / theta^(2j / head_dim) for rotated pairs (j < dims/2), in
// float32, divided by the linear scaling factor; 0 for the unrotated pairs of
// partial RoPE; angle = float(pos) * inv_freq.
RopeTable make_rope_table(const LayerSpec& s, int max_pos);

}  // namespace qat
