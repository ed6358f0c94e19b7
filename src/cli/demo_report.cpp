#include "cli/demo_report.h"

#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <thread>

#include "base/cpu_features.h"
#include "base/error.h"

namespace qat::cli {

double metric_value(const BinaryMetrics& m, const std::string& k) {
  if (k == "pr_auc") return m.pr_auc;
  if (k == "roc_auc") return m.roc_auc;
  if (k == "recall_at_1pct_fpr") return m.recall_at_1pct_fpr;
  if (k == "ks") return m.ks;
  if (k == "brier") return m.brier;
  if (k == "accuracy") return m.accuracy;
  if (k == "f1") return m.f1;
  fail("internal: unknown metric '", k, "'");
}

const char* metric_label(const std::string& k) {
  if (k == "pr_auc") return "PR-AUC";
  if (k == "roc_auc") return "ROC-AUC";
  if (k == "recall_at_1pct_fpr") return "recall @ 1% FPR";
  if (k == "ks") return "KS";
  if (k == "brier") return "Brier score (lower is better)";
  if (k == "accuracy") return "accuracy";
  if (k == "f1") return "F1";
  return "?";
}

bool lower_is_better(const std::string& k) { return k == "brier"; }

namespace {

// Quality relative to FP32 (1 = as good; above 1 = better), for either direction.
double relative(const std::string& key, double v, double fp32) {
  if (!std::isfinite(v) || !std::isfinite(fp32)) return NAN;
  if (lower_is_better(key)) return v > 0 ? fp32 / v : NAN;
  return fp32 > 0 ? v / fp32 : NAN;
}

// /proc/cpuinfo's "model name" (Linux), else "unknown".
std::string cpu_model_name() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("model name", 0) == 0 && line.find(':') != std::string::npos)
      return line.substr(line.find(':') + 2);
  return "unknown";
}

std::string pct(double x) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f %%", 100 * x);
  return b;
}

std::string fmt(const char* f, double x) {
  char b[64];
  std::snprintf(b, sizeof b, f, x);
  return b;
}

}  // namespace

std::vector<DemoGoal> check_goals(const DemoData& d, const std::vector<DemoRun>& r) {
  std::vector<DemoGoal> g;
  const DemoRun &fp = r[0], &p8 = r[1], &q8 = r[2], &p4 = r[3], &q4 = r[4];
  for (const std::string& k : d.metric_keys) {
    if (lower_is_better(k)) continue;
    const double f = metric_value(fp.metrics, k);
    const double a8 = relative(k, metric_value(q8.metrics, k), f), a4 = relative(k, metric_value(q4.metrics, k), f);
    g.push_back({cat("INT8 QAT >= 99.5 % of FP32 ", metric_label(k)), pct(a8), a8 >= 0.995});
    g.push_back({cat("INT4 QAT >= 99 % of FP32 ", metric_label(k)), pct(a4), a4 >= 0.99});
  }
  const std::string primary = d.metric_keys[0];
  const double v4p = metric_value(p4.metrics, primary), v4q = metric_value(q4.metrics, primary);
  const double vfp = metric_value(fp.metrics, primary);
  // A gap only where PTQ falls below FP32; QAT scoring above a PTQ that
  // already matches FP32 closes nothing.
  g.push_back({cat("INT4 PTQ leaves a gap to FP32 that INT4 QAT narrows (", metric_label(primary), ")"),
               cat("PTQ ", fmt("%.4f", v4p), ", QAT ", fmt("%.4f", v4q), ", FP32 ", fmt("%.4f", vfp)),
               v4p < vfp && v4q > v4p});
  const double speed8 = fp.p50 / p8.p50, speed8q = fp.p50 / q8.p50, size8 = double(fp.size_bytes) / double(q8.size_bytes);
  const double speed4 = fp.p50 / q4.p50, size4 = double(fp.size_bytes) / double(q4.size_bytes);
  // Without an 8-bit dot-product instruction (the AVX2 level: sign + maddubs +
  // madd per 32 products, on Zen 3 all on its two vector multiply pipes) an
  // INT8 product runs at about twice FP32's FMA rate at best, so the 3.5x that
  // AVX-512 VNNI and ARM SDOT reach is out of reach there.
  const CpuLevel isa = active_cpu_level();
  const std::string isa_note =
      isa == CpuLevel::Avx2 || isa == CpuLevel::Scalar
          ? cat("; kernels at ", cpu_level_name(isa), ": no 8-bit dot-product instruction in use (AVX-512 VNNI, ARM SDOT), "
                "which the 3.5x needs (README, \"Finance demo\")")
          : std::string();
  g.push_back({"INT8 at least 3.5x faster than FP32 (p50 latency, 1 thread)",
               cat(fmt("%.2fx", speed8q), " (QAT), ", fmt("%.2fx", speed8), " (PTQ)", isa_note),
               std::min(speed8, speed8q) >= 3.5});
  g.push_back({"INT8 at least 3.9x smaller than FP32", fmt("%.2fx", size8), size8 >= 3.9});
  g.push_back({"INT4 faster than INT8 (p50)", cat(fmt("%.2fx", speed4), " vs ", fmt("%.2fx", speed8q)), speed4 > speed8q});
  g.push_back({"INT4 smaller than INT8", cat(fmt("%.2fx", size4), " vs ", fmt("%.2fx", size8)), size4 > size8});
  g.push_back({"beat the article's 50 ms -> 16 ms (3.1x) latency ratio with INT4 QAT", fmt("%.2fx", speed4),
               speed4 > 50.0 / 16.0});
  g.push_back({"beat the article's 100 MB -> 25 MB (4x) size ratio with INT4 QAT", fmt("%.2fx", size4), size4 > 4.0});
  return g;
}

void print_demo_table(const DemoData& d, const std::vector<DemoRun>& r, const BinaryMetrics* base) {
  const DemoRun& fp = r[0];
  std::printf("\n| metric |");
  for (const DemoRun& x : r) std::printf(" %s |", x.name.c_str());
  std::printf("\n|---|");
  for (size_t i = 0; i < r.size(); ++i) std::printf("---|");
  std::printf("\n| model size |");
  for (const DemoRun& x : r)
    std::printf(" %.2f MB (%.2fx) |", double(x.size_bytes) / 1e6, double(fp.size_bytes) / double(x.size_bytes));
  std::printf("\n| latency per scored %s, 1 thread (p50 / p99) |", d.task == "fraud" ? "transaction" : "record");
  for (const DemoRun& x : r) std::printf(" %.3f / %.3f ms (%.2fx) |", x.p50, x.p99, fp.p50 / x.p50);
  std::printf("\n| the same, models taking turns on every record (p50) |");
  for (const DemoRun& x : r) std::printf(" %.3f ms (%.2fx) |", x.p50_alternating, fp.p50_alternating / x.p50_alternating);
  std::printf("\n| throughput, %d threads (scores/s) |", fp.throughput_threads);
  for (const DemoRun& x : r) std::printf(" %.0f |", x.throughput);
  std::printf("\n| CPU time per 1,000 scores (energy proxy) |");
  for (const DemoRun& x : r) {
    if (x.energy_j_per_1000 >= 0) std::printf(" %.3f s, %.2f J |", x.cpu_s_per_1000, x.energy_j_per_1000);
    else std::printf(" %.3f s (RAPL not readable) |", x.cpu_s_per_1000);
  }
  for (const std::string& k : d.metric_keys) {
    std::printf("\n| %s, and relative to FP32 |", metric_label(k));
    const double f = metric_value(fp.metrics, k);
    for (const DemoRun& x : r) {
      const double v = metric_value(x.metrics, k), rel = relative(k, v, f);
      if (std::isfinite(rel)) std::printf(" %.4f (%.2f%%) |", v, 100 * rel);
      else std::printf(" %.4f (n/a) |", v);
    }
  }
  std::printf("\n");
  if (base) {
    std::printf("\nlogistic regression baseline (same split, same feature symbols):");
    for (const std::string& k : d.metric_keys) std::printf("  %s %.4f", metric_label(k), metric_value(*base, k));
    std::printf("\n");
  }
}

nlohmann::json demo_report_json(const DemoData& d, const std::vector<DemoRun>& runs, const BinaryMetrics* base,
                                const std::vector<DemoGoal>& goals, const std::string& command,
                                const std::vector<std::string>& notes) {
  using nlohmann::json;
  auto num = [](double v) { return std::isfinite(v) ? json(v) : json(); };
  json j;
  j["title"] = "qat demo — " + d.title;
  j["task"] = d.task;
  if (!d.data_note.empty()) j["data_note"] = d.data_note;
  char when[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  j["created"] = when;
  j["command"] = command;
  j["machine"] = {{"cpu", cpu_model_name()},
                  {"cores", std::thread::hardware_concurrency()},
                  {"isa", cpu_level_name(active_cpu_level())}};
  j["dataset"] = {{"source", d.source},
                  {"train", d.train.texts.size()},
                  {"val", d.val.texts.size()},
                  {"test", d.test.texts.size()},
                  {"positive_rate", d.test.texts.empty() ? 0.0 : double(d.test.positives()) / double(d.test.texts.size())}};
  j["primary_metric"] = d.metric_keys[0];
  json names = json::object();  // (nlohmann sorts keys; "metric_order" keeps the report order)
  for (const std::string& k : d.metric_keys) names[k] = metric_label(k);
  j["metric_order"] = d.metric_keys;
  j["metric_names"] = names;
  json models = json::array();
  const DemoRun& fp = runs[0];
  for (const DemoRun& r : runs) {
    json m = {{"name", r.name}, {"scheme", r.scheme}, {"file", r.file}, {"size_bytes", r.size_bytes}};
    json samples = json::array();
    for (double v : r.latency_ms) samples.push_back(v);
    m["latency_ms"] = {{"p50", r.p50}, {"p99", r.p99}, {"mean", r.mean}, {"samples", samples},
                       {"p50_alternating", r.p50_alternating}};
    m["throughput_per_s"] = r.throughput;
    m["throughput_threads"] = r.throughput_threads;
    m["cpu_s_per_1000"] = r.cpu_s_per_1000;
    m["energy_j_per_1000"] = r.energy_j_per_1000 >= 0 ? json(r.energy_j_per_1000) : json();
    json met = json::object(), rel = json::object();
    for (const std::string& k : d.metric_keys) {
      met[k] = num(metric_value(r.metrics, k));
      rel[k] = num(relative(k, metric_value(r.metrics, k), metric_value(fp.metrics, k)));
    }
    m["metrics"] = met;
    m["relative"] = rel;
    m["train_seconds"] = r.train_s;
    models.push_back(m);
  }
  j["models"] = models;
  if (base) {
    json met = json::object();
    for (const std::string& k : d.metric_keys) met[k] = num(metric_value(*base, k));
    j["baselines"] = json::array({{{"name", "logistic regression (same split, same feature symbols, L2, C = 1)"},
                                   {"metrics", met}}});
  }
  json curves = json::array();
  for (const DemoRun& r : runs) {
    if (r.curve.empty()) continue;
    json pts = json::array();
    for (const StepRecord& s : r.curve)
      pts.push_back({{"step", s.step}, {"loss", num(s.loss)}, {"val_loss", s.val.rows > 0 ? num(s.val.loss) : json()}});
    curves.push_back({{"name", r.name}, {"points", pts}});
  }
  j["training_curves"] = curves;
  json gl = json::array();
  for (const DemoGoal& g : goals) gl.push_back({{"goal", g.goal}, {"measured", g.measured}, {"met", g.met}});
  j["goals"] = gl;
  j["notes"] = notes;
  return j;
}

}  // namespace qat::cli
