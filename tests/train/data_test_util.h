// Helpers for the training-data tests: a fresh temporary folder per test and
// small file writers.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace qat::test {

// <gtest temp dir>/qat_train_<pid>_<suite>_<test>, emptied.
inline std::string temp_dir() {
  const auto* info = testing::UnitTest::GetInstance()->current_test_info();
  const std::filesystem::path p =
      std::filesystem::path(testing::TempDir()) /
      (std::string("qat_train_") + std::to_string(::getpid()) + "_" + info->test_suite_name() + "_" + info->name());
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p.string();
}

inline std::string write_file(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << bytes;
  EXPECT_TRUE(f.good()) << "cannot write " << path;
  return path;
}

inline std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// Expects fn to throw qat::Error (or any std::exception) whose message contains every needle.
template <typename Fn>
void expect_error(Fn&& fn, std::initializer_list<std::string> needles) {
  try {
    fn();
    ADD_FAILURE() << "expected an error containing \"" << *needles.begin() << "\"";
  } catch (const std::exception& e) {
    for (const auto& n : needles)
      EXPECT_NE(std::string(e.what()).find(n), std::string::npos) << "message: " << e.what() << "\nmissing: " << n;
  }
}

inline std::string shared_data(const std::string& rel) { return std::string(QAT_SHARED_DATA_DIR) + "/" + rel; }

#define QAT_REQUIRE_SHARED(rel)                                                                           \
  do {                                                                                                    \
    if (!std::filesystem::exists(::qat::test::shared_data(rel)))                                          \
      GTEST_SKIP() << ::qat::test::shared_data(rel)                                                       \
                   << " is not here: it lives in the shared data folder next to the repository, which a " \
                      "fresh clone does not have";                                                        \
  } while (0)

}  // namespace qat::test
