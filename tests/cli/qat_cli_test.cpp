// qat qat end to end: prepare -> train -> convert writes the quantized GGUF
// (Q4_0 matrices, Q8_0 tied embedding, F32 norms) that `qat info` reads and
// `qat eval ppl` runs; a run killed with SIGKILL and resumed writes the same
// bytes; impossible flags fail with clear errors.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "run_command.h"

namespace qat {
namespace {

namespace fs = std::filesystem;

class QatCli : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path().string() + "/qat_qat_cli_" + std::to_string(::getpid()) + "_" +
           testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    static const char* words[] = {"the", "bank", "card", "payment", "of", "a", "fraud", "loan", "risk", "to",
                                  "customer", "and", "is", "account", "transfer", "merchant"};
    std::mt19937 rng(42);
    std::ofstream out(dir_ + "/data.txt");
    for (int i = 0; i < 3500; ++i) out << words[rng() % 16] << (i % 11 == 10 ? ".\n" : " ");
    out.close();
    // The FP32 model QAT starts from (and distils from).
    auto r = test::run_qat("train --arch gemma3 --preset tiny --data " + dir_ +
                           "/data.txt --steps 20 --batch 2 --seq 16 --threads 1 --lr 3e-3 -q --out " + dir_ + "/fp32");
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string qat_args(const std::string& out, const std::string& extra = "") const {
    return "qat --model " + dir_ + "/fp32/model.gguf --data " + dir_ +
           "/data.txt --steps 16 --batch 2 --seq 16 --threads 1 --lr 1e-3 --save-every 2 --eval-batches 2 -q --out " +
           dir_ + "/" + out + " " + extra;
  }

  std::string dir_;
};

TEST_F(QatCli, WritesTheQuantizedModelThatRuns) {
  auto r = test::run_qat(qat_args("a", "--scheme w4a8 --lsq --lsq-init mse --lsq-lr 1e-5 --fake-quant-after 4"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("scheme w4a8 with learned scales (LSQ)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("distilling from"), std::string::npos) << r.err;
  auto info = test::run_qat("info " + dir_ + "/a/model.gguf");
  ASSERT_EQ(info.exit_code, 0) << info.err;
  EXPECT_NE(info.out.find("Q4_0"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("Q8_0"), std::string::npos) << info.out;  // the tied embedding
  auto ppl = test::run_qat("eval ppl -m " + dir_ + "/a/model.gguf --text " + dir_ + "/data.txt -c 32 --chunks 4");
  ASSERT_EQ(ppl.exit_code, 0) << ppl.err;
  EXPECT_NE(ppl.out.find("PPL = "), std::string::npos) << ppl.out;
  // Smaller than the FP32 file it came from.
  EXPECT_LT(fs::file_size(dir_ + "/a/model.gguf"), fs::file_size(dir_ + "/fp32/model.gguf") / 2);
}

TEST_F(QatCli, GptqStartCalibratesAndWritesTheModel) {
  auto r = test::run_qat(qat_args("g", "--scheme w4a8 --lsq --lsq-init gptq --gptq-batches 2"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // 2 batches of 2 x 16 tokens; every quantized matrix of the model and its tied embedding.
  EXPECT_NE(r.err.find("tensors quantized from 64 calibration tokens"), std::string::npos) << r.err;
  auto ppl = test::run_qat("eval ppl -m " + dir_ + "/g/model.gguf --text " + dir_ + "/data.txt -c 32 --chunks 4");
  ASSERT_EQ(ppl.exit_code, 0) << ppl.err;
  EXPECT_NE(ppl.out.find("PPL = "), std::string::npos) << ppl.out;
}

TEST_F(QatCli, KilledAndResumedRunWritesTheSameModel) {
  const std::string flags = "--scheme w8a8 --lsq --fake-quant-after 3";
  auto a = test::run_qat(qat_args("a", flags));
  ASSERT_EQ(a.exit_code, 0) << a.err;
  const std::string log = dir_ + "/b/train_log.csv";
  int kills = 0;
  for (size_t rows : {4u, 9u}) {
    const std::string cmd = std::string(QAT_BINARY) + " " + qat_args("b", flags) + (kills > 0 ? " --resume" : "") +
                            " > /dev/null 2>&1";
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      execl("/bin/sh", "sh", "-c", ("exec " + cmd).c_str(), (char*)nullptr);
      _exit(127);
    }
    int status = 0;
    bool exited = false;
    for (int i = 0; i < 60000 && !exited; ++i) {
      std::ifstream in(log);
      const auto n = std::count(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>(), '\n');
      if (size_t(n) >= rows + 1) break;
      exited = waitpid(pid, &status, WNOHANG) == pid;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (!exited) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      ++kills;
    }
  }
  auto b = test::run_qat(qat_args("b", flags) + " --resume");
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_GE(kills, 1) << "the run finished before any kill: the test did not test resuming";
  EXPECT_EQ(test::slurp(dir_ + "/b/model.gguf"), test::slurp(dir_ + "/a/model.gguf"))
      << "resumed and uninterrupted QAT runs wrote different models";
  // Resuming with another scheme is refused.
  auto c = test::run_qat(qat_args("b", "--scheme w4a8 --lsq --fake-quant-after 3") + " --resume");
  EXPECT_EQ(c.exit_code, 1);
  EXPECT_NE(c.err.find("scheme"), std::string::npos) << c.err;
}

TEST_F(QatCli, BadFlagsFailClearly) {
  struct Case {
    std::string extra, message;
  } cases[] = {
      {"--scheme w3a8", "unknown QAT scheme 'w3a8'"},
      {"--fake-quant-after 16", "--fake-quant-after must be in [0, --steps)"},
      {"--tensor-type attn_q", "expected REGEX=TYPE"},
      {"--tensor-type 'attn_k=f32'", "q/k/v"},
      {"--teacher " + dir_ + "/missing.gguf", "missing.gguf"},
      {"--distill-weight 2", "distillation weight must be in [0, 1]"},
      {"--distill-temperature 0", "--distill-temperature must be positive"},
      {"--lsq-lr 1e-6", "--lsq-lr and --lsq-init need --lsq"},
      {"--lsq --lsq-init minmax", "--lsq-init must be absmax, mse or gptq"},
      {"--lsq --lsq-init gptq --fake-quant-after 2", "--lsq-init gptq needs fake quantization from step 0"},
      {"--lsq --lsq-init gptq --gptq-batches -1", "--gptq-batches must be >= 1"},
      {"--gptq-batches 4", "--gptq-batches needs --lsq-init gptq"},
      {"--lsq --lsq-lr -1", "--lsq-lr must be a positive learning rate"},
      {"--dampen -1", "--dampen must be >= 0"},
  };
  for (const Case& c : cases) {
    auto r = test::run_qat(qat_args("x", c.extra));
    EXPECT_EQ(r.exit_code, 1) << c.extra;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.extra << ": " << r.err;
    EXPECT_FALSE(fs::exists(dir_ + "/x/model.gguf")) << c.extra;
    fs::remove_all(dir_ + "/x");
  }
}

}  // namespace
}  // namespace qat
