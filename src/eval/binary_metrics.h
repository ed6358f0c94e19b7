// Metrics of a binary classifier's scores, the ones a fraud, credit-risk or
// scam-detection report prints: ROC-AUC, PR-AUC, recall at a low false
// positive rate, KS, Brier score, log loss, and the confusion-matrix numbers
// at one threshold. Each ranking metric matches scikit-learn's definition
// exactly, ties included (tests/eval/binary_metrics_test.cpp checks them
// against fixtures from tools/reference/make_metrics_fixtures.py).
//
// Inputs: scores[i] is the model's P(label 1) for example i (any finite or
// infinite value works for the ranking metrics; the probability metrics need
// [0, 1]) and labels[i] is 0 or 1. A size mismatch, empty input, a label other
// than 0/1, a NaN score, or (for Brier / log loss) a score outside [0, 1]
// throws qat::Error.
//
// Ties: examples with equal scores form one threshold. Curves have one point
// per distinct score, taken in decreasing order, as sklearn's roc_curve /
// precision_recall_curve with drop_intermediate=False.
//
// One class only: ROC-AUC, PR-AUC, KS and recall at FPR are undefined when
// the labels hold a single class, and return NaN (a demo on a tiny split must
// still print); the curves are then empty. sklearn agrees for ROC-AUC; for
// average precision it instead returns 1 (all positive) or 0 (all negative).
#pragma once
#include <cstdint>
#include <vector>

namespace qat {

// Area under the ROC curve (trapezoid over distinct thresholds), as
// sklearn.metrics.roc_auc_score. NaN with one class.
double roc_auc(const std::vector<double>& scores, const std::vector<int32_t>& labels);

// Area under the precision-recall curve, step-wise without interpolation:
// sum over distinct thresholds of (R_k - R_{k-1}) * P_k, as
// sklearn.metrics.average_precision_score. NaN with one class.
double average_precision(const std::vector<double>& scores, const std::vector<int32_t>& labels);

// The highest recall (TPR) among the thresholds whose FPR is <= max_fpr. The
// thresholds are the distinct scores plus "nothing is positive" (TPR = FPR =
// 0), so the answer is 0 when even the top score group holds too many
// negatives. No interpolation between thresholds: a tie group that straddles
// max_fpr is not split. max_fpr must lie in [0, 1]. NaN with one class.
double recall_at_fpr(const std::vector<double>& scores, const std::vector<int32_t>& labels, double max_fpr);

// Kolmogorov-Smirnov statistic as credit risk uses it: the largest TPR - FPR
// over the thresholds (at least 0: "nothing is positive" gives 0). NaN with
// one class.
double ks_statistic(const std::vector<double>& scores, const std::vector<int32_t>& labels);

// Mean of (score - label)^2, as sklearn.metrics.brier_score_loss.
double brier_score(const std::vector<double>& scores, const std::vector<int32_t>& labels);

// Mean negative log-likelihood, as sklearn.metrics.log_loss (1.9): P(label 1)
// and P(label 0) = 1 - score are each clipped to [eps, 1 - eps] with eps the
// double machine epsilon (2.2e-16), so a confident wrong 0 or 1 costs
// -log(eps) = 36.04 instead of infinity. (sklearn before 1.5 clipped at 1e-15.)
double log_loss(const std::vector<double>& scores, const std::vector<int32_t>& labels);

struct BinaryMetrics {
  int64_t n = 0, positives = 0;
  double roc_auc = 0, pr_auc = 0;  // pr_auc = average_precision
  double recall_at_1pct_fpr = 0;   // recall_at_fpr(..., 0.01)
  double ks = 0, brier = 0, log_loss = 0;
  // At the threshold (predicted positive when score >= threshold). Precision
  // with no predicted positive, and recall with no positive, are 0, and so is
  // F1 when both are (sklearn's zero_division=0).
  double accuracy = 0, precision = 0, recall = 0, f1 = 0;
  double threshold = 0.5;
};

// Everything above, sorting the scores once. Scores must be probabilities
// in [0, 1] (for Brier and log loss).
BinaryMetrics binary_metrics(const std::vector<double>& scores, const std::vector<int32_t>& labels,
                             double threshold = 0.5);

struct CurvePoint {
  double x = 0, y = 0;
};

// (FPR, TPR) from (0, 0) through one point per distinct score (decreasing) to
// (1, 1). Empty with one class.
std::vector<CurvePoint> roc_curve(const std::vector<double>& scores, const std::vector<int32_t>& labels);

// (recall, precision) from (0, 1) through one point per distinct score
// (decreasing), the last at recall 1. Empty with one class.
std::vector<CurvePoint> pr_curve(const std::vector<double>& scores, const std::vector<int32_t>& labels);

}  // namespace qat
