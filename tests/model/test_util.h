// Helpers shared by the model tests.
#pragma once
#include <cmath>
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/atomic_file.h"

namespace qat::test {

inline std::vector<float> read_f32_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  std::vector<float> v(size_t(in.tellg()) / 4);
  in.seekg(0);
  in.read(reinterpret_cast<char*>(v.data()), std::streamsize(v.size() * 4));
  return v;
}

// max |a - b| / max |b| over one row: the "relative" error of a logits row.
inline double row_rel_error(const float* a, const float* b, int64_t n) {
  double num = 0, den = 0;
  for (int64_t i = 0; i < n; ++i) {
    num = std::max(num, double(std::fabs(a[i] - b[i])));
    den = std::max(den, double(std::fabs(b[i])));
  }
  return num / std::max(den, 1e-30);
}

inline std::string fixture_dir(const std::string& name) {
  return std::string(QAT_FIXTURES_DIR) + "/models/" + name;
}

inline const std::vector<std::string>& reference_models() {
  static const std::vector<std::string> names = {"gemma3_gqa",  "gemma3_mqa_untied", "gemma3_mha",
                                                 "gemma4_keqv", "gemma4_kvshare",    "gemma4_ple",
                                                 "gemma4_moe"};
  return names;
}

}  // namespace qat::test
