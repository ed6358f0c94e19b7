// The three charts of the demo report, as inline SVG, from plain data the
// page extracts from report.json (so the charts know nothing of JSON):
//   size_metric_chart  model size (MB, log x) against the primary metric
//   latency_chart      one horizontal box plot per model from latency samples
//   training_chart     loss against step, one line per training run
// Each draws "no data" rather than failing when its input is empty.
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace qat {

// The colour of series i (Okabe-Ito: tells apart under colour-blindness).
std::string series_color(size_t i);

struct ScatterPoint {
  std::string label, color;
  double x = 0, y = 0;     // x: size in MB (> 0), y: metric value
  bool reference = false;  // FP32: drawn larger, with a dashed line at its y
};
std::string size_metric_chart(const std::vector<ScatterPoint>& points, const std::string& metric_label);

struct LatencyRow {
  std::string name, color;
  std::vector<double> samples_ms;  // may be empty; non-finite values are ignored
  std::optional<double> p50, p99;  // as reported; computed from samples when absent
};
std::string latency_chart(const std::vector<LatencyRow>& rows);

struct TrainingPoint {
  double step = 0;
  std::optional<double> loss, val_loss;
};
struct Curve {
  std::string name, color;
  std::vector<TrainingPoint> points;
};
std::string training_chart(const std::vector<Curve>& curves);

}  // namespace qat
