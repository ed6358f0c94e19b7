// End-to-end: the qat binary as a user runs it.
#include <gtest/gtest.h>

#include <filesystem>

#include "run_command.h"

namespace qat {
namespace {

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/qat_cli_test_" + std::to_string(::getpid());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(Cli, HelpListsSubcommandsAndDefaults) {
  auto r = test::run_qat("--help");
  EXPECT_EQ(r.exit_code, 0);
  for (const char* cmd : {"info", "init", "convert", "run", "chat", "demo", "bench", "eval"})
    EXPECT_NE(r.out.find(cmd), std::string::npos) << cmd;
  r = test::run_qat("run --help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--top-k"), std::string::npos);
  EXPECT_NE(r.out.find("64"), std::string::npos) << "defaults are shown in --help";
}

TEST_F(Cli, InitInfoConvertRunAgreeAcrossFormats) {
  for (const char* arch : {"gemma3", "gemma4"}) {
    const std::string gguf = dir_ + "/" + arch + ".gguf", hf = dir_ + "/" + arch + "_hf";
    auto r = test::run_qat(std::string("init --arch ") + arch + " --preset tiny --seed 7 -o " + gguf);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = test::run_qat("info " + gguf);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find(arch), std::string::npos);
    EXPECT_NE(r.out.find("parameters"), std::string::npos);
    r = test::run_qat("convert " + gguf + " " + hf);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(std::filesystem::exists(hf + "/config.json"));
    EXPECT_TRUE(std::filesystem::exists(hf + "/model.safetensors"));
    const std::string back = dir_ + "/" + arch + "_back.gguf";
    r = test::run_qat("convert " + hf + " " + back);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string prompt = " -p 'Wire $2,500 to IBAN DE89 3704 0044 0532 0130 00' -n 12 --temp 0";
    auto a = test::run_qat("run -m " + gguf + prompt);
    auto b = test::run_qat("run -m " + hf + prompt);
    auto c = test::run_qat("run -m " + back + prompt);
    ASSERT_EQ(a.exit_code, 0) << a.err;
    EXPECT_EQ(a.out, b.out) << arch;
    EXPECT_EQ(a.out, c.out) << arch;
    EXPECT_NE(a.err.find("tokens/s"), std::string::npos);
  }
}

TEST_F(Cli, SeededSamplingIsReproducible) {
  const std::string gguf = dir_ + "/m.gguf";
  ASSERT_EQ(test::run_qat("init --arch gemma4 --preset tiny -o " + gguf).exit_code, 0);
  auto a = test::run_qat("run -m " + gguf + " -p hello -n 16 --temp 0.9 --seed 3");
  auto b = test::run_qat("run -m " + gguf + " -p hello -n 16 --temp 0.9 --seed 3");
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
}

TEST_F(Cli, ChatAnswersEachLine) {
  const std::string gguf = dir_ + "/m.gguf";
  ASSERT_EQ(test::run_qat("init --arch gemma3 --preset tiny -o " + gguf).exit_code, 0);
  auto r = test::run_qat("chat -m " + gguf + " -n 5 --temp 0", "Is this a scam?\nAnd this one?\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  size_t turns = 0;
  for (size_t p = 0; (p = r.err.find("generated at", p)) != std::string::npos; ++p) ++turns;
  EXPECT_EQ(turns, 2u) << r.err;
}

TEST_F(Cli, InitLayersKeepsThePresetWidth) {
  const std::string gguf = dir_ + "/short.gguf";
  auto r = test::run_qat("init --arch gemma3 --preset tiny --layers 3 -o " + gguf);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = test::run_qat("info " + gguf);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("layers:           3 ("), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("hidden / ffn:     64 / 128"), std::string::npos) << r.out;
}

TEST_F(Cli, BadInputGivesClearErrors) {
  auto r = test::run_qat("init --arch llama --preset tiny -o " + dir_ + "/x.gguf");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("unknown architecture 'llama'"), std::string::npos) << r.err;
  r = test::run_qat("init --arch gemma3 --preset 7b -o " + dir_ + "/x.gguf");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("unknown gemma3 preset '7b'"), std::string::npos) << r.err;
  r = test::run_qat("init --arch gemma3 --preset tiny --layers 99 -o " + dir_ + "/x.gguf");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--layers must be in [1, 7] for preset tiny, got 99"), std::string::npos) << r.err;
  r = test::run_qat("init --arch gemma4 --preset tiny --layers 2 -o " + dir_ + "/x.gguf");
  EXPECT_EQ(r.exit_code, 1);  // its last 2 layers share KV: none left to compute it
  EXPECT_NE(r.err.find("leaves no layer of preset tiny that computes its own KV"), std::string::npos) << r.err;
  r = test::run_qat("run -m " + dir_ + "/missing.gguf -p hi");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("missing.gguf"), std::string::npos) << r.err;
  r = test::run_qat("convert " + dir_ + "/missing " + dir_ + "/out.gguf --dtype q3");
  EXPECT_EQ(r.exit_code, 1);
  r = test::run_qat("run -m x -p hi --top-p 2");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/x.gguf"));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/out.gguf"));
}

TEST_F(Cli, ConvertRefusesToOverwriteAFullDirectory) {
  const std::string gguf = dir_ + "/m.gguf";
  ASSERT_EQ(test::run_qat("init --arch gemma3 --preset tiny -o " + gguf).exit_code, 0);
  std::filesystem::create_directories(dir_ + "/full");
  std::ofstream(dir_ + "/full/keep.txt") << "user data";
  auto r = test::run_qat("convert " + gguf + " " + dir_ + "/full");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/full/keep.txt"));
}

}  // namespace
}  // namespace qat
