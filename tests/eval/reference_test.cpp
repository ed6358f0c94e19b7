// Our perplexity and KLD against HF transformers + torch on the tiny fixture
// models (tests/fixtures/eval/reference.json, written by
// tools/reference/eval_reference.py with the same windowing).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "eval/kld.h"
#include "eval/perplexity.h"
#include "eval/stats.h"
#include "model/model.h"

namespace qat {
namespace {

nlohmann::json reference() {
  std::ifstream in(std::string(QAT_FIXTURES_DIR) + "/eval/reference.json");
  return nlohmann::json::parse(in);
}

std::string model_dir(const std::string& name) {
  return std::string(QAT_FIXTURES_DIR) + "/models/" + name;
}

EvalOptions options(const nlohmann::json& ref) {
  EvalOptions o;
  o.ctx = ref["ctx"].get<int>();
  o.batch = 5;  // several scored batches per window
  return o;
}

// Relative tolerance of the task: 1e-3 (our logits match HF's to ~1e-6).
void expect_rel(double ours, double theirs, double rel, const std::string& what) {
  EXPECT_NEAR(ours, theirs, rel * std::fabs(theirs)) << what;
}

TEST(EvalReference, PerplexityMatchesTransformers) {
  const auto ref = reference();
  const auto ids = ref["ids"].get<std::vector<int32_t>>();
  for (const auto& [name, want] : ref["perplexity"].items()) {
    auto model = load_model(model_dir(name));
    ASSERT_EQ(model->config.bos_token_id, ref["bos"].get<int>());
    const NllAccumulator acc = evaluate_perplexity(*model, ids, options(ref));
    EXPECT_EQ(acc.count(), want["tokens"].get<int64_t>()) << name;
    expect_rel(acc.ppl(), want["ppl"].get<double>(), 1e-3, name + " ppl");
    expect_rel(acc.ppl_error(), want["ppl_error"].get<double>(), 1e-3, name + " ppl error");
  }
}

TEST(EvalReference, KldMatchesTorch) {
  const auto ref = reference();
  const auto ids = ref["ids"].get<std::vector<int32_t>>();
  const auto& want = ref["kld"];
  auto test = load_model(model_dir(want["test"].get<std::string>()));
  auto base = load_model(model_dir(want["base"].get<std::string>()));
  const KldResult r = evaluate_kld(*test, *base, ids, options(ref));
  ASSERT_EQ(r.count(), want["tokens"].get<int64_t>());
  expect_rel(r.mean_kld().value, want["mean_kld"].get<double>(), 1e-3, "mean KLD");
  expect_rel(percentile(r.kld, 1.0), want["max_kld"].get<double>(), 1e-3, "max KLD");
  expect_rel(percentile(r.kld, 0.99), want["p99_kld"].get<double>(), 1e-3, "p99 KLD");
  // The median is small (~4e-4): compare it with an absolute tolerance too.
  EXPECT_NEAR(percentile(r.kld, 0.5), want["median_kld"].get<double>(), 1e-6) << "median KLD";
  EXPECT_DOUBLE_EQ(r.same_top_fraction().value, want["same_top"].get<double>());
  expect_rel(r.rms_dp().value, want["rms_dp"].get<double>(), 1e-3, "RMS dp");
}

}  // namespace
}  // namespace qat
