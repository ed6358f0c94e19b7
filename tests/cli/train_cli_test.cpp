// qat train end to end: a run killed with SIGKILL at random points and
// resumed gives the same losses and the same model bytes as an uninterrupted
// run; bad data and impossible flags fail with clear errors.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "run_command.h"

namespace qat {
namespace {

namespace fs = std::filesystem;

class TrainCli : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path().string() + "/qat_train_cli_" + std::to_string(::getpid()) + "_" +
           testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // ~20 KB of deterministic pseudo-text.
    static const char* words[] = {"the", "bank", "card", "payment", "of", "a", "fraud", "loan", "risk", "to",
                                  "customer", "and", "is", "account", "transfer", "merchant"};
    std::mt19937 rng(42);
    std::ofstream out(dir_ + "/data.txt");
    for (int i = 0; i < 3500; ++i) out << words[rng() % 16] << (i % 11 == 10 ? ".\n" : " ");
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string train_args(const std::string& out, int steps = 60, int seed = 5) const {
    return "train --arch gemma3 --preset tiny --data " + dir_ + "/data.txt --steps " + std::to_string(steps) +
           " --batch 2 --seq 16 --threads 1 --save-every 4 --eval-every 20 --eval-batches 2 --seed " +
           std::to_string(seed) + " -q --out " + dir_ + "/" + out;
  }

  // Log rows without the timing columns (tokens/s, elapsed), which differ per run.
  static std::vector<std::string> losses(const std::string& log) {
    std::vector<std::string> rows;
    std::istringstream in(test::slurp(log));
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::vector<std::string> f;
      std::stringstream ss(line);
      std::string x;
      while (std::getline(ss, x, ',')) f.push_back(x);
      f.resize(8);
      rows.push_back(f[0] + "," + f[1] + "," + f[2] + "," + f[3] + "," + f[6] + "," + f[7]);
    }
    return rows;
  }

  static size_t log_rows(const std::string& log) {
    std::ifstream in(log);
    return size_t(std::count(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>(), '\n'));
  }

  std::string dir_;
};

TEST_F(TrainCli, KilledAndResumedRunMatchesAnUninterruptedOne) {
  auto a = test::run_qat(train_args("a"));
  ASSERT_EQ(a.exit_code, 0) << a.err;
  const auto want = losses(dir_ + "/a/train_log.csv");
  ASSERT_EQ(want.size(), 60u);

  // Kill run b with SIGKILL three times, at random log lengths, resuming each time.
  std::mt19937 rng(std::random_device{}());
  const std::string log = dir_ + "/b/train_log.csv";
  size_t threshold = 0;
  int kills = 0;
  for (int round = 0; round < 3; ++round) {
    threshold += 1 + rng() % 18;
    const std::string cmd = std::string(QAT_BINARY) + " " + train_args("b") + (round > 0 ? " --resume" : "") +
                            " > /dev/null 2> " + dir_ + "/b_err_" + std::to_string(round) + ".txt";
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      execl("/bin/sh", "sh", "-c", ("exec " + cmd).c_str(), (char*)nullptr);
      _exit(127);
    }
    int status = 0;
    bool exited = false;
    for (int i = 0; i < 20000 && !exited; ++i) {
      if (log_rows(log) >= threshold + 1) break;  // header + threshold rows
      exited = waitpid(pid, &status, WNOHANG) == pid;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (!exited) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      ++kills;
    }
  }
  auto b = test::run_qat(train_args("b") + " --resume");
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_GE(kills, 1) << "the run finished before any kill: the test did not test resuming";
  EXPECT_EQ(losses(log), want);
  EXPECT_EQ(test::slurp(dir_ + "/b/model.gguf"), test::slurp(dir_ + "/a/model.gguf"))
      << "resumed and uninterrupted runs wrote different models";
}

TEST_F(TrainCli, SameSeedSameLossesBitForBit) {
  auto a = test::run_qat(train_args("a", 12));
  auto b = test::run_qat(train_args("b", 12));
  ASSERT_EQ(a.exit_code, 0) << a.err;
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_EQ(losses(dir_ + "/a/train_log.csv"), losses(dir_ + "/b/train_log.csv"));
  auto c = test::run_qat(train_args("c", 12, 6));
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_NE(losses(dir_ + "/a/train_log.csv"), losses(dir_ + "/c/train_log.csv"));
}

TEST_F(TrainCli, LearnsAndExportsGgufAndHf) {
  auto r = test::run_qat(train_args("a", 40) + " --lr 3e-3 --export-hf " + dir_ + "/hf");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = losses(dir_ + "/a/train_log.csv");
  const double first = std::stod(rows.front().substr(rows.front().find(',') + 1));
  const double last = std::stod(rows.back().substr(rows.back().find(',') + 1));
  EXPECT_LT(last, first - 1.0) << "the loss did not fall";
  auto info = test::run_qat("info " + dir_ + "/hf");
  EXPECT_EQ(info.exit_code, 0) << info.err;
  auto info2 = test::run_qat("info " + dir_ + "/a/model.gguf");
  EXPECT_EQ(info2.exit_code, 0) << info2.err;
}

TEST_F(TrainCli, ResumeRefusesOtherOptions) {
  auto a = test::run_qat(train_args("a", 8));
  ASSERT_EQ(a.exit_code, 0) << a.err;
  auto again = test::run_qat(train_args("a", 8));
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("--resume"), std::string::npos) << again.err;
  auto other = test::run_qat(train_args("a", 16) + " --val-fraction 0.2 --resume");
  EXPECT_EQ(other.exit_code, 1);
  EXPECT_NE(other.err.find("val_fraction"), std::string::npos) << other.err;
  // More steps with the same recipe is fine.
  auto more = test::run_qat(train_args("a", 12) + " --resume");
  EXPECT_EQ(more.exit_code, 0) << more.err;
}

TEST_F(TrainCli, BadFlagsAndDataFailClearly) {
  struct Case {
    std::string args, needle;
  };
  const std::string base = "train --arch gemma3 --preset tiny -q --out " + dir_ + "/o ";
  std::ofstream(dir_ + "/bad.csv") << "text,label\n\"a b\",x\n\"unterminated,y\nmore\n";
  std::ofstream(dir_ + "/rows.csv") << "text,label\nhello,a\nworld,b,extra\nfine,a\n";
  std::ofstream(dir_ + "/short.txt") << "hi";
  const std::vector<Case> cases = {
      {base + "--data " + dir_ + "/missing.txt", "missing.txt"},
      {base + "--data " + dir_ + "/data.txt --steps 0", "--steps"},
      {base + "--data " + dir_ + "/data.txt --lr -1", "--lr"},
      {base + "--data " + dir_ + "/data.txt --batch 0", "--batch"},
      {base + "--data " + dir_ + "/data.txt --task summarize", "--task"},
      {base + "--data " + dir_ + "/short.txt --seq 64", "short.txt"},
      {base + "--data " + dir_ + "/data.txt --freeze nothing_matches_this", "nothing_matches_this"},
      {base + "--data " + dir_ + "/rows.csv --task classify --text-field text --label-field label", "rows.csv:3"},
      {base + "--data " + dir_ + "/bad.csv --task classify --text-field text --label-field label", "bad.csv:3"},
      {base + "--data " + dir_ + "/rows.csv --task classify --text-field body --label-field label", "body"},
      {"train --data " + dir_ + "/data.txt -q --out " + dir_ + "/o", "--model"},
  };
  for (const Case& c : cases) {
    fs::remove_all(dir_ + "/o");
    auto r = test::run_qat(c.args);
    EXPECT_EQ(r.exit_code, 1) << c.args << "\n" << r.err;
    EXPECT_NE(r.err.find(c.needle), std::string::npos) << c.args << "\nstderr: " << r.err;
    EXPECT_FALSE(fs::exists(dir_ + "/o/model.gguf")) << c.args;
  }
  // Skipping bad rows is an option, and says how many.
  fs::remove_all(dir_ + "/o");
  auto r = test::run_qat(base + "--data " + dir_ + "/rows.csv --task classify --text-field text --label-field label "
                         "--skip-bad-rows --steps 2 --batch 2 --seq 16 --val-fraction 0.3");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("1 bad rows skipped"), std::string::npos) << r.err;
}

TEST_F(TrainCli, ClassifierLearnsASeparableTask) {
  std::ofstream out(dir_ + "/cls.jsonl");
  std::mt19937 rng(3);
  for (int i = 0; i < 200; ++i) {
    const bool fraud = rng() % 2;
    out << "{\"amount\": " << (fraud ? 9000 + rng() % 999 : 10 + rng() % 90) << ", \"merchant\": \""
        << (fraud ? "unknown-overseas" : "grocery") << "\", \"label\": \"" << (fraud ? "fraud" : "ok") << "\"}\n";
  }
  out.close();
  auto r = test::run_qat("train --arch gemma3 --preset tiny -q --out " + dir_ + "/o --data " + dir_ +
                         "/cls.jsonl --task classify --template 'paid {amount} at {merchant}' --label-field label "
                         "--steps 40 --batch 8 --seq 32 --lr 3e-3 --threads 1 --val-fraction 0.25");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("accuracy 100.00%"), std::string::npos) << r.out << r.err;
  auto info = test::run_qat("info " + dir_ + "/o/model.gguf");
  EXPECT_NE(info.out.find("classifier:       2 classes (fraud, ok), last-token pooling"), std::string::npos)
      << info.out;
}

}  // namespace
}  // namespace qat
