// The finance demo's output: the console table the product promises, the
// goals checked against the measured figures, and report.json (rendered to
// report.html by finance/report_html.h).
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/demo_pipeline.h"

namespace qat::cli {

// The engine check that `qat demo` ran before the finance demo (demo_engine.cpp).
void run_engine_demo(const std::string& dir, bool skip_speed);

// A metric of a run by report key (pr_auc roc_auc recall_at_1pct_fpr ks brier accuracy f1).
double metric_value(const BinaryMetrics& m, const std::string& key);
const char* metric_label(const std::string& key);
bool lower_is_better(const std::string& key);  // brier

struct DemoGoal {
  std::string goal, measured;
  bool met = false;
};
// runs: FP32, INT8 PTQ, INT8 QAT, INT4 PTQ, INT4 QAT in this order.
std::vector<DemoGoal> check_goals(const DemoData& data, const std::vector<DemoRun>& runs);

// baseline: the logistic regression's metrics, or null.
void print_demo_table(const DemoData& data, const std::vector<DemoRun>& runs, const BinaryMetrics* baseline);

nlohmann::json demo_report_json(const DemoData& data, const std::vector<DemoRun>& runs,
                                const BinaryMetrics* baseline, const std::vector<DemoGoal>& goals,
                                const std::string& command, const std::vector<std::string>& notes);

}  // namespace qat::cli
