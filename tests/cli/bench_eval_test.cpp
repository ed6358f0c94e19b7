// `qat bench` and `qat eval` end to end on tiny random models.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "run_command.h"

namespace qat {
namespace {

class BenchEval : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = ::testing::TempDir() + "/qat_bench_eval_" + std::to_string(::getpid());
    std::filesystem::create_directories(dir_);
    for (const char* arch : {"gemma3", "gemma4"}) {
      auto r = test::run_qat(std::string("init --arch ") + arch + " --preset tiny --seed 3 -o " + dir_ +
                             "/" + arch + ".gguf");
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    std::ofstream(dir_ + "/text.txt") << std::string(40, ' ') +
        "Quarterly revenue rose 4.2% to $1.3 billion; the bank set aside 120 million for credit "
        "losses and flagged 37 transactions for review. ";
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }
  static std::string dir_;
};
std::string BenchEval::dir_;

TEST_F(BenchEval, MarkdownTableLikeLlamaBench) {
  auto r = test::run_qat("bench -m " + dir_ + "/gemma3.gguf -m " + dir_ + "/gemma4.gguf -t 1,2 -p 8,16 -n 4 -r 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* s : {"| model", "t/s", "GB/s", "pp8", "pp16", "tg4", "gemma3.gguf (gemma3 all F32)",
                        "gemma4.gguf (gemma4 all F32)", "peak RSS", "weights read per decoded token", " ± "})
    EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;
  // header + separator + 2 models x 2 thread counts x 3 tests
  int rows = 0;
  for (size_t p = r.out.find("\n|"); p != std::string::npos; p = r.out.find("\n|", p + 1)) ++rows;
  EXPECT_EQ(rows + 1, 2 + 12) << r.out;
}

TEST_F(BenchEval, JsonHasEverySample) {
  auto r = test::run_qat("bench -m " + dir_ + "/gemma3.gguf -t 1 -p 8 -n 4 -r 3 -o json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["test"], "pp8");
  EXPECT_EQ(j[0]["n_prompt"], 8);
  EXPECT_EQ(j[1]["test"], "tg4");
  EXPECT_EQ(j[1]["n_gen"], 4);
  for (const auto& x : j) {
    EXPECT_EQ(x["samples_ts"].size(), 3u);
    EXPECT_GT(x["avg_ts"].get<double>(), 0);
    EXPECT_GE(x["stddev_ts"].get<double>(), 0);
    EXPECT_EQ(x["model_type"], "all F32");  // general.file_type 0, named as llama-bench names it
    EXPECT_EQ(x["n_threads"], 1);
    EXPECT_GT(x["model_size"].get<uint64_t>(), 0u);
    EXPECT_GT(x["model_n_params"].get<uint64_t>(), 0u);
    EXPECT_GT(x["peak_rss_bytes"].get<uint64_t>(), 0u);
    EXPECT_GT(x["weight_bytes_per_token"].get<uint64_t>(), x["model_size"].get<uint64_t>())
        << "tied embedding: all weights plus one embedding row";
  }
  EXPECT_GT(j[1]["weight_gbps"].get<double>(), 0);
}

TEST_F(BenchEval, ModelTypeIsTheFilesFileType) {
  // A Q4_0 file keeps its tied embedding at Q8_0, which in the tiny model
  // holds the most bytes; llama-bench still calls it Q4_0 (general.file_type 2).
  const std::string q4 = dir_ + "/gemma3-q4.gguf";
  auto q = test::run_qat("quantize " + dir_ + "/gemma3.gguf " + q4 + " q4_0");
  ASSERT_EQ(q.exit_code, 0) << q.err;
  auto r = test::run_qat("bench -m " + q4 + " -t 1 -p 0 -n 2 -r 1 -o json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["model_type"], "Q4_0");
}

TEST_F(BenchEval, InterleavedRunsGiveTheSameRowsInTheSameOrder) {
  // --interleave changes when each repetition runs, not what is reported.
  const std::string args =
      "bench -m " + dir_ + "/gemma3.gguf -m " + dir_ + "/gemma4.gguf -t 1,2 -p 8 -n 4 -r 2 -o json";
  auto plain = test::run_qat(args), mixed = test::run_qat(args + " --interleave");
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  ASSERT_EQ(mixed.exit_code, 0) << mixed.err;
  const auto a = nlohmann::json::parse(plain.out), b = nlohmann::json::parse(mixed.out);
  ASSERT_EQ(a.size(), 8u);
  ASSERT_EQ(b.size(), a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    for (const char* k : {"model_filename", "test", "n_threads", "model_size", "weight_bytes_per_token"})
      EXPECT_EQ(a[i][k], b[i][k]) << i << " " << k;
    EXPECT_EQ(b[i]["samples_ts"].size(), 2u);
  }
  EXPECT_NE(b[0]["model_filename"], b[7]["model_filename"]);
}

TEST_F(BenchEval, BenchRejectsBadFlags) {
  const std::string m = " -m " + dir_ + "/gemma3.gguf";
  struct Case {
    std::string args, message;
  } cases[] = {
      {"bench -m " + dir_ + "/missing.gguf", "missing.gguf: no such model file"},
      {"bench" + m + " -t 0", "thread counts must be >= 1"},
      {"bench" + m + " -t 1,-2", "thread counts must be >= 1"},
      {"bench" + m + " -p -1", "prompt lengths must be >= 0"},
      {"bench" + m + " -p 0 -n 0", "nothing to measure"},
      {"bench" + m + " -n -1", "-n must be >= 0"},
      {"bench" + m + " -r 0", "-r must be >= 1"},
      {"bench" + m + " -p 100000", "exceeds the model's"},
  };
  for (const auto& c : cases) {
    auto r = test::run_qat(c.args);
    EXPECT_EQ(r.exit_code, 1) << c.args;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.args << ": " << r.err;
  }
  auto r = test::run_qat("bench" + m + " -o xml");
  EXPECT_NE(r.exit_code, 0);
}

TEST_F(BenchEval, EvalPplAndSelfKld) {
  const std::string text = " --text " + dir_ + "/text.txt --ctx 32";
  auto r = test::run_qat("eval ppl -m " + dir_ + "/gemma3.gguf" + text + " --chunks 3 -t 1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("PPL = "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("3 windows of 32 tokens, 45 tokens scored"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("[3/3] ppl "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("ETA"), std::string::npos) << r.err;

  r = test::run_qat("eval kld -m " + dir_ + "/gemma4.gguf --base " + dir_ + "/gemma4.gguf" + text);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Mean    KLD:   0.000000"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Same top p : 100.0000"), std::string::npos) << r.out;
}

TEST_F(BenchEval, EvalErrors) {
  const std::string m = " -m " + dir_ + "/gemma3.gguf";
  auto r = test::run_qat("eval ppl" + m + " --text " + dir_ + "/none.txt");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("none.txt: cannot open the text file"), std::string::npos) << r.err;
  r = test::run_qat("eval ppl" + m + " --text " + dir_ + "/text.txt --ctx 1024");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("fewer than one window"), std::string::npos) << r.err;
  r = test::run_qat("eval kld" + m + " --text " + dir_ + "/text.txt");
  EXPECT_NE(r.exit_code, 0) << "--base is required";
  EXPECT_NE(r.err.find("--base"), std::string::npos) << r.err;
  r = test::run_qat("eval");
  EXPECT_NE(r.exit_code, 0);
}

TEST_F(BenchEval, EvalOnSharedText) {
  const std::string sotu = std::string(QAT_SHARED_DATA_DIR) + "/text/sotu.txt";
  if (!std::filesystem::exists(sotu)) GTEST_SKIP() << sotu << " is absent (optional shared data)";
  auto r = test::run_qat("eval ppl -m " + dir_ + "/gemma3.gguf --text " + sotu + " --ctx 64 --chunks 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("2 windows of 64 tokens, 62 tokens scored"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace qat
