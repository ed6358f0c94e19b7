// qat demo (the finance main job) end to end on a small simulated fraud set:
// five GGUF models, the table, report.json / report.html, sample records;
// then qat score on those records, fed malformed and hostile lines too.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "run_command.h"

namespace qat {
namespace {

namespace fs = std::filesystem;

class DemoCli : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(fs::temp_directory_path().string() + "/qat_demo_cli_" + std::to_string(::getpid()));
    fs::remove_all(*dir_);
    // Small (it also runs under ASan): 80 customers with 5 % fraud so that
    // the 150-record test split has both classes, a few steps.
    result_ = new test::CommandResult(test::run_qat_env(
        "OMP_WAIT_POLICY=passive ", "demo -o " + *dir_ +
                                        " --customers 80 --fraud-rate 0.05 --test-records 150 --fp32-steps 6 "
                                        "--qat-steps 2 --latency-records 5 --throughput-records 10 --threads 2"));
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
    delete result_;
  }
  static std::string* dir_;
  static test::CommandResult* result_;
};
std::string* DemoCli::dir_ = nullptr;
test::CommandResult* DemoCli::result_ = nullptr;

// ctest runs each TEST in its own process, so the demo (the slow part) is
// run once and checked by one test in three parts.
void check_report(const test::CommandResult* result_, const std::string* dir_) {
  ASSERT_EQ(result_->exit_code, 0) << result_->err << result_->out;
  const std::string& out = result_->out;
  EXPECT_NE(out.find("SIMULATED"), std::string::npos) << "the data must say it is simulated";
  for (const char* row : {"| model size |", "| latency per scored transaction, 1 thread (p50 / p99) |",
                          "| the same, models taking turns on every record (p50) |",
                          "| throughput, 2 threads (scores/s) |", "| CPU time per 1,000 scores", "| PR-AUC, and relative"})
    EXPECT_NE(out.find(row), std::string::npos) << row;
  EXPECT_NE(out.find("logistic regression baseline"), std::string::npos);
  for (const char* f : {"fp32.gguf", "int8-ptq.gguf", "int8-qat.gguf", "int4-ptq.gguf", "int4-qat.gguf",
                        "report.json", "report.html", "sample.jsonl"})
    EXPECT_TRUE(fs::exists(*dir_ + "/" + f)) << f;

  const nlohmann::json r = nlohmann::json::parse(test::slurp(*dir_ + "/report.json"));
  ASSERT_EQ(r["models"].size(), 5u);
  const char* names[] = {"FP32", "INT8 PTQ", "INT8 QAT", "INT4 PTQ", "INT4 QAT"};
  for (int i = 0; i < 5; ++i) {
    const auto& m = r["models"][size_t(i)];
    EXPECT_EQ(m["name"], names[i]);
    EXPECT_EQ(m["size_bytes"].get<uint64_t>(), fs::file_size(m["file"].get<std::string>()));
    EXPECT_EQ(m["latency_ms"]["samples"].size(), 5u);
    EXPECT_GT(m["latency_ms"]["p50_alternating"].get<double>(), 0);
    EXPECT_GT(m["throughput_per_s"].get<double>(), 0);
    const double pr = m["metrics"]["pr_auc"].get<double>();
    EXPECT_TRUE(pr > 0 && pr <= 1) << pr;
  }
  // Q8_0 is 8.5 bits a weight, Q4_0 4.5: sizes order FP32 > INT8 > INT4.
  const auto size = [&](int i) { return r["models"][size_t(i)]["size_bytes"].get<uint64_t>(); };
  EXPECT_GT(size(0), 3 * size(1));
  EXPECT_EQ(size(1), size(2));
  EXPECT_GT(size(1), size(3));
  EXPECT_EQ(size(3), size(4));
  EXPECT_EQ(r["training_curves"].size(), 3u);  // FP32, INT8 QAT, INT4 QAT
  EXPECT_FALSE(r["goals"].empty());
  // The INT8 speed goal names the missing instruction where the kernels run without one.
  const std::string isa = r["machine"]["isa"];
  int speed_goals = 0;
  for (const auto& g : r["goals"]) {
    if (g["goal"].get<std::string>().find("INT8 at least 3.5x faster") == std::string::npos) continue;
    ++speed_goals;
    const bool named = g["measured"].get<std::string>().find("no 8-bit dot-product") != std::string::npos;
    EXPECT_EQ(named, isa == "avx2" || isa == "scalar") << isa << ": " << g["measured"];
  }
  EXPECT_EQ(speed_goals, 1);
  EXPECT_NE(r["data_note"].get<std::string>().find("SIMULATED"), std::string::npos);
  const std::string html = test::slurp(*dir_ + "/report.html");
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("INT4 QAT"), std::string::npos);
}

void check_score_agrees(const std::string* dir_) {
  const std::string sample = test::slurp(*dir_ + "/sample.jsonl");
  const auto fp32 = test::run_qat("score -m " + *dir_ + "/fp32.gguf", sample);
  const auto int8 = test::run_qat("score -m " + *dir_ + "/int8-ptq.gguf", sample);
  ASSERT_EQ(fp32.exit_code, 0) << fp32.err;
  ASSERT_EQ(int8.exit_code, 0) << int8.err;
  std::istringstream a(fp32.out), b(int8.out);
  std::string la, lb;
  int n = 0;
  while (std::getline(a, la) && std::getline(b, lb)) {
    const auto ja = nlohmann::json::parse(la), jb = nlohmann::json::parse(lb);
    EXPECT_EQ(ja["line"], n + 1);
    const double sa = ja["score"].get<double>(), sb = jb["score"].get<double>();
    EXPECT_TRUE(sa >= 0 && sa <= 1) << la;
    EXPECT_NEAR(sa, sb, 0.05) << "INT8 PTQ should score like FP32: " << la << " vs " << lb;
    EXPECT_TRUE(ja["label"] == "legit" || ja["label"] == "fraud") << la;
    EXPECT_GE(ja["latency_ms"].get<double>(), 0);
    ++n;
  }
  EXPECT_EQ(n, 20);
}

void check_score_rejects(const std::string* dir_) {
  std::string first;
  std::getline(std::istringstream(test::slurp(*dir_ + "/sample.jsonl")), first);
  nlohmann::json neg = nlohmann::json::parse(first);
  neg["transaction"]["amount"] = -5;
  nlohmann::json cat = nlohmann::json::parse(first);
  cat["transaction"]["category"] = "casino<script>";
  nlohmann::json with_id = nlohmann::json::parse(first);
  with_id["id"] = "tx-42";
  nlohmann::json typo = nlohmann::json::parse(first);
  typo["transaction"]["distance"] = 900;  // for "distance_km": an error, not a silent 0 km
  const std::string input = first + "\n" +                   // 1 ok
                            "not json at all\n" +            // 2
                            "{}\n" +                          // 3 no transaction
                            "[1, 2, 3]\n" +                   // 4 not an object
                            std::string(100000, '[') + "\n" + // 5 nesting attack
                            neg.dump() + "\n" +               // 6 negative amount
                            cat.dump() + "\n" +               // 7 unknown category
                            "\n" +                            // 8 blank: skipped silently
                            "{\"transaction\": {\"amount\": 1e400}}\n" +  // 9 number overflow
                            with_id.dump() + "\n" +           // 10 ok, id echoed
                            typo.dump() + "\n" +              // 11 unknown key
                            first + std::string(1, '\0') + "x\n" +  // 12 a NUL byte: not text
                            std::string(5 << 20, ' ');         // 13 a 5 MiB line without its end
  const auto r = test::run_qat("score -m " + *dir_ + "/int4-qat.gguf", input);
  EXPECT_EQ(r.exit_code, 1) << "rejected lines make the exit status 1";
  EXPECT_EQ(r.signal, 0);
  std::istringstream out(r.out);
  std::string l1, l2, extra;
  ASSERT_TRUE(std::getline(out, l1));
  ASSERT_TRUE(std::getline(out, l2));
  EXPECT_FALSE(std::getline(out, extra)) << "only the two good records are scored: " << extra;
  EXPECT_EQ(nlohmann::json::parse(l1)["line"], 1);
  EXPECT_EQ(nlohmann::json::parse(l2)["line"], 10);
  EXPECT_EQ(nlohmann::json::parse(l2)["id"], "tx-42");
  for (const char* want : {"stdin:2: not valid JSON", "stdin:3: missing \"transaction\"", "stdin:4:",
                           "stdin:5: JSON nested deeper", "stdin:6: transaction: \"amount\" must be",
                           "stdin:7: transaction: unknown \"category\"", "stdin:9:",
                           "stdin:11: transaction: unknown key \"distance\"", "stdin:12: a NUL byte at column",
                           "stdin:13: line of 5242880 bytes", "10 of 12 records rejected"})
    EXPECT_NE(r.err.find(want), std::string::npos) << want << "\n" << r.err;
  EXPECT_EQ(r.err.find("stdin:8:"), std::string::npos);
}

TEST_F(DemoCli, ReportScoreAndMalformedLines) {
  {
    SCOPED_TRACE("qat demo: models, table, report");
    check_report(result_, dir_);
  }
  ASSERT_EQ(result_->exit_code, 0);
  {
    SCOPED_TRACE("qat score on the sample records");
    check_score_agrees(dir_);
  }
  {
    SCOPED_TRACE("qat score on malformed and hostile lines");
    check_score_rejects(dir_);
  }
}

TEST(ScoreCli, RefusesAModelWithoutAnInputSpec) {
  const std::string dir = fs::temp_directory_path().string() + "/qat_score_cli_" + std::to_string(::getpid());
  fs::create_directories(dir);
  ASSERT_EQ(test::run_qat("init --arch gemma3 --preset tiny -o " + dir + "/lm.gguf").exit_code, 0);
  const auto r = test::run_qat("score -m " + dir + "/lm.gguf", "{}\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("lm.gguf: not a classifier"), std::string::npos) << r.err;
  const auto missing = test::run_qat("score -m " + dir + "/nope.gguf", "{}\n");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("nope.gguf"), std::string::npos) << missing.err;
  fs::remove_all(dir);
}

TEST(DemoCliFlags, ImpossibleFlagsFailClearly) {
  for (const auto& [args, want] : std::vector<std::pair<std::string, std::string>>{
           {"demo --task poker -o /tmp/qat_demo_bad", "--task must be fraud, credit or scam"},
           {"demo --size huge -o /tmp/qat_demo_bad", "--size must be small or large"},
           {"demo --threads 0 -o /tmp/qat_demo_bad", "--threads must be in [1, 256]"},
           {"demo --fraud-rate 0.9 -o /tmp/qat_demo_bad --customers 20", "fraud rate must be in [0.001, 0.2]"},
           {"demo --int8-qat-lr 0 -o /tmp/qat_demo_bad", "--int8-qat-lr must be positive"},
           {"demo --task credit --data /nonexistent.arff -o /tmp/qat_demo_bad", "/nonexistent.arff: no such file"}}) {
    const auto r = test::run_qat(args);
    EXPECT_EQ(r.exit_code, 1) << args;
    EXPECT_NE(r.err.find(want), std::string::npos) << args << "\n" << r.err;
  }
  fs::remove_all("/tmp/qat_demo_bad");
}

}  // namespace
}  // namespace qat
