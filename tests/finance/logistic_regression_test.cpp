// The logistic-regression baseline against scikit-learn's LogisticRegression
// (fixtures from tools/reference/make_metrics_fixtures.py), and the
// properties a risk analyst relies on.
#include "finance/logistic_regression.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "../common/error_of.h"
#include "base/error.h"

namespace qat {
namespace {

using json = nlohmann::json;

json load_fixture() {
  std::ifstream in(std::string(QAT_FIXTURES_DIR) + "/finance/logistic.json");
  EXPECT_TRUE(in.good()) << "missing fixture; run tools/reference/make_metrics_fixtures.py";
  return json::parse(in);
}

struct Dataset {
  std::vector<std::vector<int32_t>> examples;
  std::vector<int32_t> labels;
  int32_t n_features = 0;
};

Dataset dataset(const json& c) {
  return {c["examples"].get<std::vector<std::vector<int32_t>>>(), c["labels"].get<std::vector<int32_t>>(),
          c["n_features"].get<int32_t>()};
}

double norm(const std::vector<double>& w) {
  double s = 0;
  for (double x : w) s += x * x;
  return std::sqrt(s);
}

TEST(LogisticRegression, MatchesSklearn) {
  const json fixture = load_fixture();
  ASSERT_EQ(fixture["cases"].size(), 3u);
  for (const json& c : fixture["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const Dataset data = dataset(c);
    const LogisticModel model =
        fit_logistic(data.examples, data.labels, data.n_features, {.l2 = 1 / c["C"].get<double>()});
    EXPECT_TRUE(model.converged);
    EXPECT_LE(model.iterations, 20);
    const auto coef = c["coef"].get<std::vector<double>>();
    const auto coef_newton = c["newton_cg_coef"].get<std::vector<double>>();
    ASSERT_EQ(model.weights.size(), coef.size());
    for (size_t j = 0; j < coef.size(); ++j) {
      EXPECT_NEAR(model.weights[j], coef[j], 1e-5) << "weight " << j << " vs lbfgs";
      EXPECT_NEAR(model.weights[j], coef_newton[j], 1e-7) << "weight " << j << " vs newton-cg";
    }
    EXPECT_NEAR(model.bias, c["intercept"].get<double>(), 1e-5);
    EXPECT_NEAR(model.bias, c["newton_cg_intercept"].get<double>(), 1e-7);
    const auto proba = c["proba"].get<std::vector<double>>();
    for (size_t i = 0; i < proba.size(); ++i) {
      EXPECT_NEAR(model.predict(data.examples[i]), proba[i], 1e-6) << "example " << i;
    }
  }
}

TEST(LogisticRegression, UnusedFeaturesStayZeroAndDuplicatesCountOnce) {
  const Dataset data = dataset(load_fixture()["cases"][0]);  // features 37..39 never active
  const LogisticModel model = fit_logistic(data.examples, data.labels, data.n_features);
  for (int j : {37, 38, 39}) EXPECT_EQ(model.weights[j], 0.0) << j;
  // Listing every id twice changes nothing.
  Dataset doubled = data;
  for (auto& ids : doubled.examples) ids.insert(ids.end(), ids.begin(), ids.end());
  const LogisticModel same = fit_logistic(doubled.examples, doubled.labels, doubled.n_features);
  EXPECT_EQ(same.weights, model.weights);
  EXPECT_EQ(same.bias, model.bias);
  EXPECT_EQ(model.predict({3, 3, 5}), model.predict({5, 3}));
}

TEST(LogisticRegression, L2ShrinksWeights) {
  const Dataset data = dataset(load_fixture()["cases"][0]);
  std::vector<double> norms;
  for (double l2 : {0.01, 0.1, 1.0, 10.0, 100.0, 1e4}) {
    const LogisticModel model = fit_logistic(data.examples, data.labels, data.n_features, {.l2 = l2});
    EXPECT_TRUE(model.converged) << l2;
    norms.push_back(norm(model.weights));
    if (norms.size() > 1) {
      EXPECT_LT(norms.back(), norms[norms.size() - 2]) << "l2 " << l2;
    }
  }
  EXPECT_LT(norms.back(), 0.01 * norms.front());
}

TEST(LogisticRegression, SeparableDataStaysFinite) {
  // Feature 0 alone decides the label: without the penalty the weight would
  // run to infinity. A weak penalty keeps it finite and the fit converges.
  std::vector<std::vector<int32_t>> examples;
  std::vector<int32_t> labels;
  for (int i = 0; i < 100; ++i) {
    const int32_t y = i % 2;
    examples.push_back(y ? std::vector<int32_t>{0, 1 + i % 3} : std::vector<int32_t>{1 + i % 3});
    labels.push_back(y);
  }
  double previous_w0 = 0;
  for (double l2 : {1.0, 1e-3}) {
    const LogisticModel model = fit_logistic(examples, labels, 4, {.l2 = l2});
    EXPECT_TRUE(model.converged) << l2;
    for (double w : model.weights) EXPECT_TRUE(std::isfinite(w)) << l2;
    EXPECT_GT(model.weights[0], std::max(3.0, previous_w0)) << "the weaker penalty allows a larger weight";
    previous_w0 = model.weights[0];
    for (size_t i = 0; i < examples.size(); ++i) {
      const double p = model.predict(examples[i]);
      EXPECT_TRUE(p > 0 && p < 1) << p;
      EXPECT_EQ(p > 0.5, labels[i] == 1);
    }
  }
}

TEST(LogisticRegression, MaxIterStopsEarly) {
  const Dataset data = dataset(load_fixture()["cases"][1]);
  const LogisticModel one = fit_logistic(data.examples, data.labels, data.n_features, {.max_iter = 1});
  EXPECT_FALSE(one.converged);
  EXPECT_EQ(one.iterations, 1);
  const LogisticModel none = fit_logistic(data.examples, data.labels, data.n_features, {.max_iter = 0});
  EXPECT_FALSE(none.converged);
  EXPECT_EQ(none.predict({1, 2}), 0.5);
}

using test::expect_error;

TEST(LogisticRegression, BadInputIsAnError) {
  const std::vector<std::vector<int32_t>> ex = {{0}, {1, 2}};
  expect_error([&] { fit_logistic(ex, {0, 1, 1}, 3); }, "2 examples but 3 labels");
  expect_error([&] { fit_logistic({}, {}, 3); }, "no examples");
  expect_error([&] { fit_logistic(ex, {0, 1}, 2); }, "example 1 has feature id 2 (expected [0, 2))");
  expect_error([&] { fit_logistic({{0}, {-1}}, {0, 1}, 3); }, "feature id -1");
  expect_error([&] { fit_logistic(ex, {0, 2}, 3); }, "label 1 is 2 (expected 0 or 1)");
  expect_error([&] { fit_logistic(ex, {1, 1}, 3); }, "expected both classes");
  expect_error([&] { fit_logistic(ex, {0, 1}, 3, {.l2 = 0}); }, "l2 is 0");
  const LogisticModel model = fit_logistic(ex, {0, 1}, 3);
  expect_error([&] { model.predict({3}); }, "feature id 3 (expected [0, 3))");
}

}  // namespace
}  // namespace qat
