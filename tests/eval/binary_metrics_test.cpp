// Binary-classifier metrics against scikit-learn (fixtures from
// tools/reference/make_metrics_fixtures.py) and against small cases worked
// out by hand, ties and one-class inputs included.
#include "eval/binary_metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "../common/error_of.h"
#include "base/error.h"

namespace qat {
namespace {

using json = nlohmann::json;

json load_fixture() {
  std::ifstream in(std::string(QAT_FIXTURES_DIR) + "/finance/binary_metrics.json");
  EXPECT_TRUE(in.good()) << "missing fixture; run tools/reference/make_metrics_fixtures.py";
  return json::parse(in);
}

// Within 1e-12 relative; an expected 0 must come out exactly 0 and a null
// (sklearn undefined) must come out NaN.
void expect_close(double actual, const json& expected, const std::string& what) {
  if (expected.is_null()) {
    EXPECT_TRUE(std::isnan(actual)) << what << " = " << actual << ", expected NaN";
    return;
  }
  const double e = expected.get<double>();
  EXPECT_LE(std::abs(actual - e), 1e-12 * std::abs(e)) << what << " = " << actual << ", sklearn " << e;
}

void expect_curve(const std::vector<CurvePoint>& curve, const json& xs, const json& ys, const std::string& what) {
  ASSERT_EQ(curve.size(), xs.size()) << what;
  for (size_t k = 0; k < curve.size(); ++k) {
    expect_close(curve[k].x, xs[k], what + " x[" + std::to_string(k) + "]");
    expect_close(curve[k].y, ys[k], what + " y[" + std::to_string(k) + "]");
  }
}

TEST(BinaryMetrics, MatchSklearn) {
  const json fixture = load_fixture();
  ASSERT_GE(fixture["cases"].size(), 10u);
  for (const json& c : fixture["cases"]) {
    const std::string name = c["name"];
    SCOPED_TRACE(name);
    const auto scores = c["scores"].get<std::vector<double>>();
    const auto labels = c["labels"].get<std::vector<int32_t>>();
    expect_close(roc_auc(scores, labels), c["roc_auc"], "roc_auc");
    expect_close(average_precision(scores, labels), c["average_precision"], "average_precision");
    expect_close(ks_statistic(scores, labels), c["ks"], "ks");
    for (const auto& [max_fpr, recall] : c["recall_at_fpr"].items()) {
      expect_close(recall_at_fpr(scores, labels, std::stod(max_fpr)), recall, "recall_at_fpr " + max_fpr);
    }
    expect_close(brier_score(scores, labels), c["brier"], "brier");
    expect_close(log_loss(scores, labels), c["log_loss"], "log_loss");
    for (const json& t : c["at_threshold"]) {
      const BinaryMetrics m = binary_metrics(scores, labels, t["threshold"].get<double>());
      const std::string at = " at " + t["threshold"].dump();
      EXPECT_EQ(m.n, int64_t(scores.size()));
      expect_close(m.accuracy, t["accuracy"], "accuracy" + at);
      expect_close(m.precision, t["precision"], "precision" + at);
      expect_close(m.recall, t["recall"], "recall" + at);
      expect_close(m.f1, t["f1"], "f1" + at);
      // The summary repeats the single metrics.
      expect_close(m.roc_auc, c["roc_auc"], "summary roc_auc");
      expect_close(m.pr_auc, c["average_precision"], "summary pr_auc");
      expect_close(m.recall_at_1pct_fpr, c["recall_at_fpr"]["0.01"], "summary recall_at_1pct_fpr");
      expect_close(m.ks, c["ks"], "summary ks");
      expect_close(m.brier, c["brier"], "summary brier");
      expect_close(m.log_loss, c["log_loss"], "summary log_loss");
    }
    if (c.contains("roc_fpr")) {
      expect_curve(roc_curve(scores, labels), c["roc_fpr"], c["roc_tpr"], "roc_curve");
      expect_curve(pr_curve(scores, labels), c["pr_recall"], c["pr_precision"], "pr_curve");
    }
  }
}

// sklearn's documented example: AUC 0.75, AP 0.8333.
TEST(BinaryMetrics, SklearnDocExampleByHand) {
  const std::vector<double> s = {0.1, 0.4, 0.35, 0.8};
  const std::vector<int32_t> y = {0, 0, 1, 1};
  EXPECT_DOUBLE_EQ(roc_auc(s, y), 0.75);
  // Thresholds 0.8, 0.4, 0.35: recall 1/2, 1/2, 1 at precision 1, 1/2, 2/3.
  EXPECT_DOUBLE_EQ(average_precision(s, y), 0.5 * 1 + 0.5 * (2.0 / 3));
  // TPR - FPR: 1/2, 0, 1/2, 0.
  EXPECT_DOUBLE_EQ(ks_statistic(s, y), 0.5);
  EXPECT_DOUBLE_EQ(recall_at_fpr(s, y, 0.0), 0.5);
  EXPECT_DOUBLE_EQ(recall_at_fpr(s, y, 0.49), 0.5);
  EXPECT_DOUBLE_EQ(recall_at_fpr(s, y, 0.5), 1.0);
  const std::vector<CurvePoint> roc = roc_curve(s, y);
  ASSERT_EQ(roc.size(), 5u);
  EXPECT_EQ(roc[0].x, 0.0);
  EXPECT_EQ(roc[1].y, 0.5);
  EXPECT_EQ(roc[4].x, 1.0);
  EXPECT_EQ(roc[4].y, 1.0);
  const std::vector<CurvePoint> pr = pr_curve(s, y);
  ASSERT_EQ(pr.size(), 5u);
  EXPECT_EQ(pr[0].x, 0.0);
  EXPECT_EQ(pr[0].y, 1.0);
  EXPECT_EQ(pr[4].x, 1.0);
  EXPECT_EQ(pr[4].y, 0.5);
}

// A tie between a positive and a negative is worth half a correct pair, and
// is one threshold: whichever order a sort leaves them in.
TEST(BinaryMetrics, TiesAreOneThreshold) {
  for (const std::vector<int32_t>& y : {std::vector<int32_t>{0, 1}, std::vector<int32_t>{1, 0}}) {
    const std::vector<double> s = {0.5, 0.5};
    EXPECT_DOUBLE_EQ(roc_auc(s, y), 0.5);
    EXPECT_DOUBLE_EQ(average_precision(s, y), 0.5);
    EXPECT_DOUBLE_EQ(ks_statistic(s, y), 0.0);
    EXPECT_DOUBLE_EQ(recall_at_fpr(s, y, 0.9), 0.0);
    EXPECT_EQ(roc_curve(s, y).size(), 2u);
  }
  // The group at 0.5 holds a positive and a negative: FPR jumps 0 -> 1/2, so
  // at max_fpr 0.4 only the 0.9 counts.
  const std::vector<double> s = {0.9, 0.5, 0.5, 0.1};
  const std::vector<int32_t> y = {1, 0, 1, 0};
  EXPECT_DOUBLE_EQ(recall_at_fpr(s, y, 0.4), 0.5);
  EXPECT_DOUBLE_EQ(recall_at_fpr(s, y, 0.5), 1.0);
  EXPECT_DOUBLE_EQ(roc_auc(s, y), (1 + 0.5 + 1 + 1) / 4.0);
  // Many ties, in shuffled positions: AUC counts pairs (pos > neg) + ties / 2.
  std::vector<double> many;
  std::vector<int32_t> labels;
  for (int i = 0; i < 200; ++i) {
    many.push_back(double((i * 37) % 5) / 4);
    labels.push_back((i * 13) % 3 == 0);
  }
  double pairs = 0, npos = 0, nneg = 0;
  for (size_t i = 0; i < many.size(); ++i) {
    (labels[i] ? npos : nneg) += 1;
    for (size_t j = 0; j < many.size(); ++j) {
      if (labels[i] == 1 && labels[j] == 0) pairs += many[i] > many[j] ? 1 : many[i] == many[j] ? 0.5 : 0;
    }
  }
  EXPECT_NEAR(roc_auc(many, labels), pairs / (npos * nneg), 1e-15);
}

TEST(BinaryMetrics, ThresholdAndClipping) {
  // score == threshold is a predicted positive.
  const BinaryMetrics m = binary_metrics({0.5, 0.2, 0.7, 0.5}, {1, 0, 0, 0}, 0.5);
  EXPECT_EQ(m.n, 4);
  EXPECT_EQ(m.positives, 1);
  EXPECT_DOUBLE_EQ(m.precision, 1.0 / 3);
  EXPECT_DOUBLE_EQ(m.recall, 1.0);
  EXPECT_DOUBLE_EQ(m.accuracy, 0.5);
  EXPECT_DOUBLE_EQ(m.f1, 0.5);
  EXPECT_EQ(m.threshold, 0.5);
  // No predicted positive: precision, recall and F1 are 0, not NaN.
  const BinaryMetrics none = binary_metrics({0.1, 0.2}, {1, 0}, 0.9);
  EXPECT_EQ(none.precision, 0.0);
  EXPECT_EQ(none.recall, 0.0);
  EXPECT_EQ(none.f1, 0.0);
  // A confident wrong answer costs -log(eps), eps = 2^-52.
  const double eps = std::numeric_limits<double>::epsilon();
  EXPECT_DOUBLE_EQ(log_loss({0.0}, {1}), -std::log(eps));
  EXPECT_DOUBLE_EQ(log_loss({1.0}, {0}), -std::log(eps));
  EXPECT_DOUBLE_EQ(log_loss({1.0}, {1}), -std::log(1 - eps));
  EXPECT_DOUBLE_EQ(log_loss({0.25, 0.5}, {1, 0}), -(std::log(0.25) + std::log(0.5)) / 2);
  EXPECT_DOUBLE_EQ(brier_score({0.25, 1.0}, {1, 0}), (0.5625 + 1) / 2);
}

TEST(BinaryMetrics, OneClassIsNaNNotAnError) {
  const std::vector<double> s = {0.2, 0.9, 0.4};
  for (int32_t label : {0, 1}) {
    const std::vector<int32_t> y(3, label);
    EXPECT_TRUE(std::isnan(roc_auc(s, y)));
    EXPECT_TRUE(std::isnan(average_precision(s, y)));
    EXPECT_TRUE(std::isnan(ks_statistic(s, y)));
    EXPECT_TRUE(std::isnan(recall_at_fpr(s, y, 0.01)));
    EXPECT_TRUE(roc_curve(s, y).empty());
    EXPECT_TRUE(pr_curve(s, y).empty());
    const BinaryMetrics m = binary_metrics(s, y);
    EXPECT_TRUE(std::isnan(m.roc_auc));
    EXPECT_EQ(m.positives, label ? 3 : 0);
    EXPECT_FALSE(std::isnan(m.brier));
    EXPECT_FALSE(std::isnan(m.log_loss));
  }
}

using test::expect_error;

TEST(BinaryMetrics, BadInputIsAnError) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  expect_error([] { roc_auc({0.1, 0.2}, {1}); }, "2 scores but 1 labels");
  expect_error([] { average_precision({}, {}); }, "no examples");
  expect_error([] { ks_statistic({0.1, 0.2}, {1, 2}); }, "label 1 is 2 (expected 0 or 1)");
  expect_error([] { roc_curve({0.1, 0.2}, {-1, 0}); }, "label 0 is -1");
  expect_error([&] { pr_curve({0.1, nan}, {1, 0}); }, "score 1 is NaN");
  expect_error([&] { binary_metrics({nan}, {1}); }, "score 0 is NaN");
  expect_error([] { brier_score({1.5, 0.2}, {1, 0}); }, "expected a probability in [0, 1]");
  expect_error([] { log_loss({-0.1}, {1}); }, "expected a probability in [0, 1]");
  expect_error([] { recall_at_fpr({0.1, 0.2}, {1, 0}, 1.5); }, "max_fpr is 1.5");
  expect_error([&] { binary_metrics({0.1, 0.2}, {1, 0}, nan); }, "threshold is NaN");
  // Ranking metrics take any score that orders, e.g. logits.
  EXPECT_DOUBLE_EQ(roc_auc({-3.0, 7.5, std::numeric_limits<double>::infinity()}, {0, 1, 1}), 1.0);
}

}  // namespace
}  // namespace qat
