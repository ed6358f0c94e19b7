// Every file of the hand-made corrupt corpus (tests/corrupt, see
// tools/reference/make_corrupt_files.py): `qat info` exits with code 1 and a
// message that names the file and the problem, and never crashes.
#include <gtest/gtest.h>

#include <fstream>

#include "run_command.h"

namespace qat {
namespace {

struct CorruptCase {
  std::string file, expected;
};

std::vector<CorruptCase> load_cases() {
  std::vector<CorruptCase> cases;
  std::ifstream in(std::string(QAT_SOURCE_DIR) + "/tests/corrupt/expected.tsv");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t tab = line.find('\t');
    if (tab == std::string::npos) continue;
    cases.push_back({line.substr(0, tab), line.substr(tab + 1)});
  }
  return cases;
}

TEST(CorruptFiles, CorpusIsLargeEnough) { EXPECT_GE(load_cases().size(), 25u); }

TEST(CorruptFiles, InfoFailsCleanlyWithSpecificMessage) {
  for (const CorruptCase& c : load_cases()) {
    const std::string path = std::string(QAT_SOURCE_DIR) + "/tests/corrupt/" + c.file;
    const test::CommandResult r = test::run_qat("info '" + path + "'");
    EXPECT_EQ(r.signal, 0) << c.file << " crashed qat";
    EXPECT_EQ(r.exit_code, 1) << c.file << "\n" << r.err;
    EXPECT_NE(r.err.find(c.file), std::string::npos) << c.file << ": message does not name the file:\n" << r.err;
    EXPECT_NE(r.err.find(c.expected), std::string::npos)
        << c.file << ": expected '" << c.expected << "' in:\n" << r.err;
  }
}

TEST(CorruptFiles, ConvertLeavesNoOutputBehind) {
  const std::string dir = ::testing::TempDir() + "/qat_corrupt_convert";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  for (const CorruptCase& c : load_cases()) {
    if (c.file.find(".gguf") == std::string::npos) continue;
    const std::string path = std::string(QAT_SOURCE_DIR) + "/tests/corrupt/" + c.file;
    const test::CommandResult r = test::run_qat("convert '" + path + "' '" + dir + "/out'");
    EXPECT_EQ(r.exit_code, 1) << c.file;
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir)) << "a failed convert left files in " << dir;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace qat
