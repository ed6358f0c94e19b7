#include "eval/binary_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "base/error.h"

namespace qat {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void check_inputs(const std::vector<double>& scores, const std::vector<int32_t>& labels, const char* what) {
  QAT_CHECK(scores.size() == labels.size(), what, ": ", scores.size(), " scores but ", labels.size(),
            " labels (expected one score per label)");
  QAT_CHECK(!scores.empty(), what, ": no examples (expected at least one score and label)");
  for (size_t i = 0; i < scores.size(); ++i) {
    QAT_CHECK(labels[i] == 0 || labels[i] == 1, what, ": label ", i, " is ", labels[i], " (expected 0 or 1)");
    QAT_CHECK(!std::isnan(scores[i]), what, ": score ", i, " is NaN");
  }
}

void check_probabilities(const std::vector<double>& scores, const char* what) {
  for (size_t i = 0; i < scores.size(); ++i) {
    QAT_CHECK(scores[i] >= 0 && scores[i] <= 1, what, ": score ", i, " is ", scores[i],
              " (expected a probability in [0, 1])");
  }
}

// The confusion counts when every example scoring >= some score s is called
// positive, one Cut per distinct s, s decreasing: sklearn's _binary_clf_curve.
struct Cut {
  int64_t tp = 0, fp = 0;
};

struct Cuts {
  std::vector<Cut> cuts;
  int64_t positives = 0, negatives = 0;
  bool one_class() const { return positives == 0 || negatives == 0; }
};

Cuts cut_counts(const std::vector<double>& scores, const std::vector<int32_t>& labels) {
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), size_t{0});
  // The order inside a tie group does not matter: only group totals are used.
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  Cuts c;
  int64_t tp = 0, fp = 0;
  for (size_t k = 0; k < order.size(); ++k) {
    (labels[order[k]] == 1 ? tp : fp) += 1;
    // Close the group at its last member (-0.0 and 0.0 are one group, as in numpy).
    if (k + 1 == order.size() || scores[order[k + 1]] != scores[order[k]]) c.cuts.push_back({tp, fp});
  }
  c.positives = tp;
  c.negatives = fp;
  return c;
}

double roc_auc_of(const Cuts& c) {
  if (c.one_class()) return kNaN;
  // Trapezoids between consecutive (FPR, TPR) points, in counts: each is
  // (fp - fp0) * (tp + tp0) / 2 / (P * N). Integers keep the sum exact.
  int64_t twice_area = 0;
  Cut prev;
  for (const Cut& cut : c.cuts) {
    twice_area += (cut.fp - prev.fp) * (cut.tp + prev.tp);
    prev = cut;
  }
  return double(twice_area) / (2.0 * double(c.positives) * double(c.negatives));
}

double average_precision_of(const Cuts& c) {
  if (c.one_class()) return kNaN;
  const double p = double(c.positives);
  double ap = 0;
  int64_t prev_tp = 0;
  for (const Cut& cut : c.cuts) {
    const double recall_step = double(cut.tp) / p - double(prev_tp) / p;
    ap += recall_step * (double(cut.tp) / double(cut.tp + cut.fp));
    prev_tp = cut.tp;
  }
  return ap;
}

double recall_at_fpr_of(const Cuts& c, double max_fpr) {
  if (c.one_class()) return kNaN;
  double best = 0;  // the "nothing is positive" threshold
  for (const Cut& cut : c.cuts) {
    if (double(cut.fp) / double(c.negatives) <= max_fpr) best = std::max(best, double(cut.tp) / double(c.positives));
  }
  return best;
}

double ks_of(const Cuts& c) {
  if (c.one_class()) return kNaN;
  double best = 0;
  for (const Cut& cut : c.cuts) {
    best = std::max(best, double(cut.tp) / double(c.positives) - double(cut.fp) / double(c.negatives));
  }
  return best;
}

double brier_of(const std::vector<double>& scores, const std::vector<int32_t>& labels) {
  double sum = 0;
  for (size_t i = 0; i < scores.size(); ++i) sum += (scores[i] - labels[i]) * (scores[i] - labels[i]);
  return sum / double(scores.size());
}

double log_loss_of(const std::vector<double>& scores, const std::vector<int32_t>& labels) {
  // sklearn clips each class's probability (the score, and 1 - score) on its
  // own, so clip after forming 1 - score.
  const double eps = std::numeric_limits<double>::epsilon();
  double sum = 0;
  for (size_t i = 0; i < scores.size(); ++i) {
    const double p_label = labels[i] == 1 ? scores[i] : 1 - scores[i];
    sum -= std::log(std::clamp(p_label, eps, 1 - eps));
  }
  return sum / double(scores.size());
}

}  // namespace

double roc_auc(const std::vector<double>& scores, const std::vector<int32_t>& labels) {
  check_inputs(scores, labels, "roc_auc");
  return roc_auc_of(cut_counts(scores, labels));
}

double average_precision(const std::vector<double>& scores, const std::vector<int32_t>& labels) {
  check_inputs(scores, labels, "average_precision");
  return average_precision_of(cut_counts(scores, labels));
}

double recall_at_fpr(const std::vector<double>& scores, const std::vector<int32_t>& labels, double max_fpr) {
  check_inputs(scores, labels, "recall_at_fpr");
  QAT_CHECK(max_fpr >= 0 && max_fpr <= 1, "recall_at_fpr: max_fpr is ", max_fpr, " (expected [0, 1])");
  return recall_at_fpr_of(cut_counts(scores, labels), max_fpr);
}

double ks_statistic(const std::vector<double>& scores, const std::vector<int32_t>& labels) {
  check_inputs(scores, labels, "ks_statistic");
  return ks_of(cut_counts(scores, labels));
}

double brier_score(const std::vector<double>& scores, const std::vector<int32_t>& labels) {
  check_inputs(scores, labels, "brier_score");
  check_probabilities(scores, "brier_score");
  return brier_of(scores, labels);
}

double log_loss(const std::vector<double>& scores, const std::vector<int32_t>& labels) {
  check_inputs(scores, labels, "log_loss");
  check_probabilities(scores, "log_loss");
  return log_loss_of(scores, labels);
}

BinaryMetrics binary_metrics(const std::vector<double>& scores, const std::vector<int32_t>& labels, double threshold) {
  check_inputs(scores, labels, "binary_metrics");
  check_probabilities(scores, "binary_metrics");
  QAT_CHECK(!std::isnan(threshold), "binary_metrics: threshold is NaN");
  const Cuts c = cut_counts(scores, labels);
  BinaryMetrics m;
  m.n = int64_t(scores.size());
  m.positives = c.positives;
  m.roc_auc = roc_auc_of(c);
  m.pr_auc = average_precision_of(c);
  m.recall_at_1pct_fpr = recall_at_fpr_of(c, 0.01);
  m.ks = ks_of(c);
  m.brier = brier_of(scores, labels);
  m.log_loss = log_loss_of(scores, labels);
  int64_t tp = 0, fp = 0;
  for (size_t i = 0; i < scores.size(); ++i) {
    if (scores[i] >= threshold) (labels[i] == 1 ? tp : fp) += 1;
  }
  const int64_t fn = c.positives - tp, tn = c.negatives - fp;
  m.accuracy = double(tp + tn) / double(m.n);
  m.precision = tp + fp > 0 ? double(tp) / double(tp + fp) : 0;
  m.recall = c.positives > 0 ? double(tp) / double(c.positives) : 0;
  // 2PR / (P + R) without the 0/0 when tp = 0; sklearn computes it this way.
  m.f1 = tp > 0 ? double(2 * tp) / double(2 * tp + fp + fn) : 0;
  m.threshold = threshold;
  return m;
}

std::vector<CurvePoint> roc_curve(const std::vector<double>& scores, const std::vector<int32_t>& labels) {
  check_inputs(scores, labels, "roc_curve");
  const Cuts c = cut_counts(scores, labels);
  if (c.one_class()) return {};
  std::vector<CurvePoint> curve{{0, 0}};
  for (const Cut& cut : c.cuts) {
    curve.push_back({double(cut.fp) / double(c.negatives), double(cut.tp) / double(c.positives)});
  }
  return curve;
}

std::vector<CurvePoint> pr_curve(const std::vector<double>& scores, const std::vector<int32_t>& labels) {
  check_inputs(scores, labels, "pr_curve");
  const Cuts c = cut_counts(scores, labels);
  if (c.one_class()) return {};
  std::vector<CurvePoint> curve{{0, 1}};
  for (const Cut& cut : c.cuts) {
    curve.push_back({double(cut.tp) / double(c.positives), double(cut.tp) / double(cut.tp + cut.fp)});
  }
  return curve;
}

}  // namespace qat
