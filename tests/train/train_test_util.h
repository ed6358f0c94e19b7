// Helpers for the training tests: a ParameterList that owns its buffers,
// scratch directories and qat::Error messages.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <deque>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "../common/error_of.h"
#include "base/error.h"
#include "train/parameters.h"

namespace qat::test {

// Parameters with their own value and grad storage (a deque, so adding one
// never moves the buffers earlier Parameters point into).
struct OwnedParams {
  std::deque<std::vector<float>> values, grads;
  ParameterList list;

  Parameter& add(const std::string& name, std::vector<int64_t> shape, ParamGroup group,
                 bool trainable = true) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    values.emplace_back(size_t(n), 0.0f);
    grads.emplace_back(size_t(n), 0.0f);
    Parameter p;
    p.name = name;
    p.shape = std::move(shape);
    p.value = values.back().data();
    p.grad = grads.back().data();
    p.numel = n;
    p.group = group;
    p.trainable = trainable;
    list.push_back(p);
    return list.back();
  }
  void fill_random(uint32_t seed, float value_scale, float grad_scale) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal;
    for (auto& v : values)
      for (float& x : v) x = normal(rng) * value_scale;
    for (auto& g : grads)
      for (float& x : g) x = normal(rng) * grad_scale;
  }
};

inline bool same_bits(const float* a, const float* b, int64_t n) {
  return n == 0 || std::memcmp(a, b, size_t(n) * sizeof(float)) == 0;
}

// A fresh empty directory in gtest's temp dir, unique per test and process.
inline std::string scratch_dir(const std::string& suffix = "out") {
  const auto* info = testing::UnitTest::GetInstance()->current_test_info();
  const std::string dir = testing::TempDir() + "qat_" + info->test_suite_name() + "_" +
                          info->name() + "_" + std::to_string(::getpid()) + "_" + suffix;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace qat::test
