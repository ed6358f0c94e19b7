// Shared helpers for the tokenizer tests: fixture loading, the real Gemma 3
// tokenizer (loaded once per process; it takes a fraction of a second) and a
// skip when ../shared/data is absent (a user's clone does not have it).
#pragma once
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace qat::test {

inline std::string fixture(const std::string& name) {
  return std::string(QAT_FIXTURES_DIR) + "/tokenizer/" + name;
}

inline std::string gemma3_dir() { return std::string(QAT_SHARED_DATA_DIR) + "/tokenizers/gemma3"; }

inline bool have_gemma3() { return std::filesystem::exists(gemma3_dir() + "/tokenizer.json"); }

#define QAT_REQUIRE_GEMMA3()                                                                         \
  do {                                                                                               \
    if (!::qat::test::have_gemma3())                                                                 \
      GTEST_SKIP() << "the real Gemma 3 tokenizer is not here (" << ::qat::test::gemma3_dir()        \
                   << "/tokenizer.json): it lives in the shared data folder next to the repository, " \
                      "which a fresh clone does not have";                                           \
  } while (0)

inline std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::ifstream f(path);
  EXPECT_TRUE(f.good()) << "cannot open " << path;
  std::vector<nlohmann::json> rows;
  std::string line;
  while (std::getline(f, line))
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
  return rows;
}

inline std::vector<int32_t> ids_of(const nlohmann::json& j) { return j.get<std::vector<int32_t>>(); }

// The real tokenizer, loaded from tokenizer.json once.
inline const Tokenizer& gemma3() {
  static std::unique_ptr<Tokenizer> t = Tokenizer::from_tokenizer_json(gemma3_dir() + "/tokenizer.json");
  return *t;
}

// Printable form of a test string for failure messages.
inline std::string show(const std::string& s) {
  std::string o;
  for (unsigned char c : s) {
    if (c == '\n') o += "\\n";
    else if (c == '\t') o += "\\t";
    else if (c < 0x20 || c == 0x7f) o += "\\x" + std::string(1, "0123456789abcdef"[c >> 4]) + "0123456789abcdef"[c & 15];
    else o += char(c);
  }
  return o.size() > 120 ? o.substr(0, 120) + "..." : o;
}

// A fresh temporary directory, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("qat_tok_" + std::to_string(::getpid()) + "_" + std::to_string(counter()++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string path() const { return path_.string(); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  static int& counter() {
    static int c = 0;
    return c;
  }
  std::filesystem::path path_;
};

inline void write_file(const std::string& path, const std::string& content) {
  std::ofstream f(path, std::ios::binary);
  f << content;
}

}  // namespace qat::test
