// `qat eval compare` end to end on tiny random models: the table's rows and
// columns, JSON, recovered figures consistent with the printed metrics,
// classification accuracy, and clear errors for bad input.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "model/model.h"
#include "run_command.h"

namespace qat {
namespace {

class EvalCompare : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = ::testing::TempDir() + "/qat_eval_compare_" + std::to_string(::getpid());
    std::filesystem::create_directories(dir_);
    // A classifier (2 classes) on a tiny Gemma 3 with a byte-level tokenizer.
    ModelConfig c = preset_config(Family::Gemma3, "tiny");
    c.num_labels = 2;
    c.class_names = {"bad", "good"};
    auto m = init_random_model(c, 5);
    m->tokenizer = Tokenizer::byte_level(c.vocab_size);
    save_gguf_model(*m, dir_ + "/base.gguf", TensorType::F32);
    // The same shape with another vocabulary.
    ModelConfig v = c;
    v.vocab_size = 640;
    auto other = init_random_model(v, 5);
    other->tokenizer = Tokenizer::byte_level(v.vocab_size);
    save_gguf_model(*other, dir_ + "/other_vocab.gguf", TensorType::F32);
    // A model without a head.
    auto plain = init_random_model(preset_config(Family::Gemma3, "tiny"), 5);
    plain->tokenizer = Tokenizer::byte_level(plain->config.vocab_size);
    save_gguf_model(*plain, dir_ + "/no_head.gguf", TensorType::F32);
    for (const char* q : {"q4_0 --activations q8_0", "q8_0", "q4_0 --activations none"}) {
      const std::string name = std::string(q) == "q8_0" ? "q8" : std::string(q).find("none") != std::string::npos ? "q4a16" : "q4";
      auto r = test::run_qat("quantize " + dir_ + "/base.gguf " + dir_ + "/" + name + ".gguf " + q);
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    std::ofstream text(dir_ + "/text.txt");
    for (int i = 0; i < 30; ++i)
      text << "Payment " << i * 37 << " EUR to merchant " << (i * 7) % 13 << " flagged for review; ";
    std::ofstream csv(dir_ + "/data.csv");
    csv << "text,label\n";
    for (int i = 0; i < 12; ++i) csv << "\"amount " << i * 113 << " at shop " << i % 5 << "\"," << (i % 3 ? "good" : "bad") << "\n";
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }
  static std::string models() {
    return " --base " + dir_ + "/base.gguf -m ptq-w4a8=" + dir_ + "/q4.gguf -m qat-w4a8=" + dir_ +
           "/q8.gguf -m ptq-w4a16=" + dir_ + "/q4a16.gguf";
  }
  static std::string dir_;
};
std::string EvalCompare::dir_;

int table_rows(const std::string& out) {
  int rows = 0;
  for (size_t p = out.find("\n|"); p != std::string::npos; p = out.find("\n|", p + 1)) ++rows;
  return rows + (out.rfind("|", 0) == 0 ? 1 : 0);
}

TEST_F(EvalCompare, MarkdownTableHasEveryModel) {
  auto r = test::run_qat("eval compare" + models() + " --text " + dir_ + "/text.txt --ctx 64 --chunks 2 --data " +
                         dir_ + "/data.csv --text-field text --label-field label");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* s : {"| model", "scheme", "size", "PPL", "mean KLD", "same top-1", "accuracy", "**fp32** (base)",
                        "| ptq-w4a8 | W4A8 |", "| qat-w4a8 | W8A8 |", "| ptq-w4a16 | W4A16 |", "| F32 |",
                        "Q4_0, embd Q8_0", "text: ", "2 windows of 64 tokens", "12 examples, 2 classes"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;
  EXPECT_EQ(table_rows(r.out), 2 + 4) << r.out;  // header, rule, base + 3 models
  // The label names W4A8, the file is W8A8: a warning, not an error.
  EXPECT_NE(r.err.find("warning: qat-w4a8: the label says w4a8 but the model is W8A8"), std::string::npos) << r.err;
}

TEST_F(EvalCompare, JsonAndRecoveredFollowTheMetrics) {
  auto r = test::run_qat("eval compare" + models() + " --text " + dir_ + "/text.txt --ctx 64 --chunks 2 --data " +
                         dir_ + "/data.csv --text-field text --label-field label --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const auto& rows = j["rows"];
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0]["label"], "fp32");
  EXPECT_TRUE(rows[0]["base"].get<bool>());
  EXPECT_EQ(rows[1]["scheme"], "W4A8");
  EXPECT_EQ(rows[3]["scheme"], "W4A16");
  for (const auto& x : rows) {
    EXPECT_GT(x["ppl"].get<double>(), 0);
    EXPECT_EQ(x["examples"], 12);
    EXPECT_GE(x["accuracy"].get<double>(), 0);
    EXPECT_GT(x["file_bytes"].get<uint64_t>(), 0u);
  }
  EXPECT_TRUE(rows[0]["mean_kld"].is_null());
  EXPECT_GE(rows[1]["mean_kld"].get<double>(), 0);
  // qat-w4a8 against ptq-w4a8: (gap_ptq - gap_qat) / gap_ptq, or null when
  // PTQ did not degrade; the other rows have none.
  const double base = rows[0]["ppl"], ptq = rows[1]["ppl"], qat = rows[2]["ppl"];
  if (ptq - base > 0)
    EXPECT_NEAR(rows[2]["recovered_ppl"].get<double>(), ((ptq - base) - (qat - base)) / (ptq - base), 1e-9);
  else
    EXPECT_TRUE(rows[2]["recovered_ppl"].is_null());
  const double abase = rows[0]["accuracy"], aptq = rows[1]["accuracy"], aqat = rows[2]["accuracy"];
  if (abase - aptq > 0)
    EXPECT_NEAR(rows[2]["recovered_accuracy"].get<double>(), ((abase - aptq) - (abase - aqat)) / (abase - aptq), 1e-9);
  else
    EXPECT_TRUE(rows[2]["recovered_accuracy"].is_null());
  for (int i : {0, 1, 3}) EXPECT_TRUE(rows[i]["recovered_ppl"].is_null()) << i;
}

TEST_F(EvalCompare, TextOnlyHasNoAccuracyColumn) {
  auto r = test::run_qat("eval compare --base " + dir_ + "/base.gguf -m ptq-w8a8=" + dir_ + "/q8.gguf --text " + dir_ +
                         "/text.txt --ctx 64 --chunks 1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("accuracy"), std::string::npos) << r.out;
  EXPECT_EQ(table_rows(r.out), 2 + 2) << r.out;
  EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;
}

TEST_F(EvalCompare, BadInputFailsWithAMessage) {
  const std::string base = " --base " + dir_ + "/base.gguf", text = " --text " + dir_ + "/text.txt --ctx 64 --chunks 1";
  const std::string data = " --data " + dir_ + "/data.csv --text-field text --label-field label";
  struct Case {
    std::string args, message;
  } cases[] = {
      {base + " -m ptq-w4a8=" + dir_ + "/missing.gguf" + text, "ptq-w4a8: " + dir_ + "/missing.gguf: no such file"},
      {" --base " + dir_ + "/missing_base.gguf -m a=" + dir_ + "/q4.gguf" + text, "missing_base.gguf: no such file"},
      {base + " -m " + dir_ + "/q4.gguf" + text, "expected LABEL=FILE"},
      {base + " -m 'ptq w4=" + dir_ + "/q4.gguf'" + text, "use letters, digits"},
      {base + " -m a=" + dir_ + "/q4.gguf -m a=" + dir_ + "/q8.gguf" + text, "the label 'a' is given twice"},
      {base + " -m fp32=" + dir_ + "/q4.gguf" + text, "is the base's"},
      {base + " -m other=" + dir_ + "/other_vocab.gguf" + text, "its vocabulary has 640 tokens"},
      {base + " -m ptq-w4a8=" + dir_ + "/q4.gguf", "give --text FILE"},
      {base + " -m ptq-w4a8=" + dir_ + "/q4.gguf --text " + dir_ + "/nope.txt", "nope.txt: no such file"},
      {base + " -m nohead=" + dir_ + "/no_head.gguf" + data, "nohead (" + dir_ + "/no_head.gguf): the model has no classification head"},
      {" --base " + dir_ + "/no_head.gguf -m q=" + dir_ + "/q4.gguf" + data, "the base model has no classification head"},
      {base + " -m q=" + dir_ + "/q4.gguf" + data + " --task lm", "only classify is supported"},
  };
  for (const Case& c : cases) {
    auto r = test::run_qat("eval compare" + c.args);
    EXPECT_EQ(r.exit_code, 1) << c.args << "\n" << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.args << "\n" << r.err;
    EXPECT_TRUE(r.out.empty()) << c.args << "\n" << r.out;
  }
}

}  // namespace
}  // namespace qat
