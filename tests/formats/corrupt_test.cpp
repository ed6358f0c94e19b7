// Every hand-made corrupt file in tests/corrupt/ (written by
// tools/reference/make_corrupt_files.py) is rejected with a qat::Error that
// names the file and contains the substring listed in expected.tsv.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "formats/gguf.h"
#include "formats/safetensors.h"
#include "test_util.h"

namespace qat {
namespace {

const std::string kCorruptDir = std::string(QAT_SOURCE_DIR) + "/tests/corrupt";

struct Case {
  std::string file, expect;
};

std::vector<Case> load_cases() {
  std::ifstream in(kCorruptDir + "/expected.tsv");
  EXPECT_TRUE(in.good()) << "missing " << kCorruptDir << "/expected.tsv";
  std::vector<Case> cases;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const size_t tab = line.find('\t');
    EXPECT_NE(tab, std::string::npos) << "bad line: " << line;
    if (tab != std::string::npos) cases.push_back({line.substr(0, tab), line.substr(tab + 1)});
  }
  return cases;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

TEST(Corrupt, EveryFileIsRejectedWithTheExpectedMessage) {
  const std::vector<Case> cases = load_cases();
  EXPECT_GE(cases.size(), 30u);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    const std::string path = kCorruptDir + "/" + c.file;
    ASSERT_TRUE(std::filesystem::exists(path));
    const std::string e = test::error_of([&] {
      if (ends_with(c.file, ".gguf"))
        GgufFile::open(path);
      else if (ends_with(c.file, ".safetensors"))
        SafetensorsFile::open(path);
      else
        FAIL() << "unknown extension";
    });
    EXPECT_NE(e.find(c.file), std::string::npos) << "message does not name the file: " << e;
    EXPECT_NE(e.find(c.expect), std::string::npos) << "expected '" << c.expect << "' in: " << e;
  }
}

TEST(Corrupt, EveryFileIsListed) {
  std::set<std::string> listed;
  for (const Case& c : load_cases()) listed.insert(c.file);
  for (const auto& entry : std::filesystem::directory_iterator(kCorruptDir)) {
    const std::string name = entry.path().filename().string();
    if (name == "expected.tsv") continue;
    EXPECT_TRUE(listed.count(name)) << name << " is not in expected.tsv";
  }
}

}  // namespace
}  // namespace qat
