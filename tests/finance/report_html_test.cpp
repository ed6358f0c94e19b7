// finance/report_html.h: the demo's HTML page renders a full report, escapes
// every string, prints "—" for what is missing or null, and never writes NaN
// or inf; finance/svg_chart.h: nice ticks on awkward ranges.
// QAT_REPORT_HTML_OUT=path writes the full sample page there (and one with
// NaN, null and degenerate values at path.degenerate.html), to look at.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <regex>
#include <string>

#include "../common/error_of.h"
#include "finance/html_text.h"
#include "finance/report_html.h"
#include "finance/svg_chart.h"

namespace qat {
namespace {

using nlohmann::json;

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

// Latency samples around `median` ms with a right tail, from a fixed LCG.
json samples(double median, int n) {
  json out = json::array();
  uint32_t state = 12345;
  for (int i = 0; i < n; ++i) {
    state = state * 1664525u + 1013904223u;
    double u = (state >> 8) / double(1 << 24);
    out.push_back(median * (0.85 + 0.3 * u + (u > 0.97 ? (u - 0.97) * 40 : 0)));
  }
  return out;
}

json model(const std::string& name, const std::string& scheme, double mb, double p50, double pr_auc, double roc,
           double recall) {
  json m = {{"name", name}, {"scheme", scheme}, {"file", scheme + ".gguf"}, {"size_bytes", mb * 1e6},
            {"latency_ms", {{"p50", p50}, {"p99", p50 * 2.1}, {"mean", p50 * 1.1}, {"samples", samples(p50, 1000)}}},
            {"throughput_per_s", 1000 / p50 * 1.8}, {"throughput_threads", 2}, {"cpu_s_per_1000", p50 * 1.05},
            {"energy_j_per_1000", nullptr},
            {"metrics", {{"pr_auc", pr_auc}, {"roc_auc", roc}, {"recall_at_1pct_fpr", recall}}}};
  m["relative"] = {{"pr_auc", pr_auc / 0.912}, {"roc_auc", roc / 0.9951}, {"recall_at_1pct_fpr", recall / 0.884}};
  return m;
}

json curve(const std::string& name, double start, double end, int steps) {
  json points = json::array();
  for (int s = 1; s <= steps; ++s) {
    double t = (s - 1.0) / (steps - 1.0);
    double loss = end + (start - end) * std::exp(-5 * t) + 0.01 * std::sin(s * 0.7);
    json val = s % 50 == 0 ? json(loss * 1.08) : json(nullptr);
    points.push_back({{"step", s}, {"loss", loss}, {"val_loss", val}});
  }
  return {{"name", name}, {"points", points}};
}

json sample_report() {
  json r;
  r["title"] = "qat demo — card-fraud scoring";
  r["task"] = "fraud";
  r["data_note"] = "SIMULATED transactions (merchant, amount, time, device tokens from a seeded generator) — not real card data";
  r["created"] = "2026-11-27T18:00:00Z";
  r["command"] = "qat demo --task fraud";
  r["machine"] = {{"cpu", "AMD EPYC 7B13"}, {"cores", 2}, {"isa", "avx2"}};
  r["dataset"] = {{"source", "qat fraud simulator, seed 7"}, {"train", 20000}, {"val", 2000}, {"test", 5000},
                  {"positive_rate", 0.012}};
  r["primary_metric"] = "pr_auc";
  r["metric_names"] = {{"pr_auc", "PR-AUC"}, {"roc_auc", "ROC-AUC"}, {"recall_at_1pct_fpr", "recall @ 1 % FPR"}};
  r["models"] = {model("FP32", "f32", 17.0, 1.21, 0.912, 0.9951, 0.884),
                 model("INT8 PTQ", "w8a8", 4.6, 0.52, 0.897, 0.9940, 0.861),
                 model("INT8 QAT", "w8a8", 4.6, 0.52, 0.910, 0.9950, 0.880),
                 model("INT4 PTQ", "w4a8", 2.6, 0.41, 0.803, 0.9812, 0.702),
                 model("INT4 QAT", "w4a8", 2.6, 0.41, 0.889, 0.9930, 0.851)};
  r["models"][1]["energy_j_per_1000"] = 4.2;
  r["baselines"] = {{{"name", "logistic regression (same split, same feature tokens)"},
                     {"metrics", {{"pr_auc", 0.61}, {"roc_auc", 0.95}, {"recall_at_1pct_fpr", 0.55}}}}};
  r["training_curves"] = {curve("FP32", 0.7, 0.05, 600), curve("INT8 QAT", 0.12, 0.05, 200),
                          curve("INT4 QAT", 0.25, 0.07, 200)};
  r["goals"] = {{{"goal", "INT8 QAT ≥ 99.5 % of FP32 PR-AUC"}, {"measured", "99.8 %"}, {"met", true}},
                {{"goal", "INT4 QAT ≥ 99 % of FP32 PR-AUC"}, {"measured", "97.5 %"}, {"met", false}},
                {{"goal", "INT4 model ≤ 3 MB"}, {"measured", "2.6 MB"}, {"met", true}}};
  r["notes"] = {"Latency: one thread, one scored item at a time, after 50 warm-up items.",
                "Energy is null where RAPL counters are not readable (containers, most VMs)."};
  return r;
}

// No "nan"/"inf" as a word anywhere: no value slipped through unformatted.
bool has_nan_or_inf(const std::string& html) {
  static const std::regex bad("\\b(-?nan|-?inf|infinity)\\b", std::regex::icase);
  return std::regex_search(html, bad);
}

// Every <svg opens before its </svg> closes, none nested, as many of each.
bool svgs_balanced(const std::string& html) {
  size_t open = 0, at = 0;
  while (true) {
    size_t o = html.find("<svg", at), c = html.find("</svg>", at);
    if (o == std::string::npos && c == std::string::npos) return open == 0;
    if (o < c) {
      if (open++ != 0) return false;
      at = o + 4;
    } else {
      if (open-- != 1) return false;
      at = c + 6;
    }
  }
}

// The <td> cells of the row whose header contains `label`.
std::string row_of(const std::string& html, const std::string& label) {
  size_t at = html.find("<tr><th>" + label);
  if (at == std::string::npos) at = html.find("<tr class=\"primary\"><th>" + label);
  if (at == std::string::npos) return "";
  return html.substr(at, html.find("</tr>", at) - at);
}

TEST(ReportHtml, FullSampleRenders) {
  json report = sample_report();
  std::string html = render_report_html(report);
  if (const char* out = std::getenv("QAT_REPORT_HTML_OUT")) std::ofstream(out) << html;

  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  for (const auto& m : report["models"]) EXPECT_NE(html.find(m["name"].get<std::string>()), std::string::npos);
  EXPECT_EQ(count(html, "<svg"), 3u);
  EXPECT_EQ(count(html, "</svg>"), 3u);
  EXPECT_TRUE(svgs_balanced(html));
  EXPECT_FALSE(has_nan_or_inf(html));
  // Self-contained: nothing to fetch, nothing to run.
  EXPECT_EQ(count(html, "<script"), 0u);
  EXPECT_EQ(count(html, "<link"), 0u);
  EXPECT_EQ(count(html, "url("), 0u);
  EXPECT_EQ(count(html, "src="), 0u);
  // Content the page promises.
  EXPECT_NE(html.find("SIMULATED transactions"), std::string::npos);
  EXPECT_NE(html.find("3.7× smaller"), std::string::npos);   // 17.0 MB / 4.6 MB
  EXPECT_NE(html.find("2.3× faster"), std::string::npos);    // 1.21 ms / 0.52 ms
  EXPECT_NE(html.find("(98.4 % of FP32)"), std::string::npos);  // 0.897 / 0.912
  EXPECT_NE(html.find("not readable"), std::string::npos);
  EXPECT_NE(html.find("4.20 J"), std::string::npos);
  EXPECT_NE(html.find("20,000 train"), std::string::npos);
  EXPECT_NE(html.find("logistic regression"), std::string::npos);
  EXPECT_EQ(count(html, "badge met"), 2u);
  EXPECT_EQ(count(html, "badge not-met"), 1u);
  // The primary metric leads the metric rows.
  EXPECT_LT(html.find("<tr class=\"primary\"><th>PR-AUC"), html.find("<tr><th>ROC-AUC"));
}

TEST(ReportHtml, AlternatingLatencyRowOnlyWhenMeasured) {
  json report = sample_report();
  EXPECT_EQ(render_report_html(report).find("models taking turns"), std::string::npos);  // older reports
  report["models"][0]["latency_ms"]["p50_alternating"] = 2.0;
  report["models"][1]["latency_ms"]["p50_alternating"] = 0.8;
  const std::string row = row_of(render_report_html(report), "Latency p50, models taking turns");
  ASSERT_FALSE(row.empty());
  EXPECT_NE(row.find("2.00 ms"), std::string::npos) << row;
  EXPECT_NE(row.find("2.5× faster"), std::string::npos) << row;  // 2.0 / 0.8
  EXPECT_NE(row.find("—"), std::string::npos) << row;  // models without the figure
}

TEST(ReportHtml, EscapesEveryString) {
  json report = sample_report();
  const std::string evil = "<script>alert('x')</script> & \"co\"";
  report["title"] = evil;
  report["data_note"] = evil;
  report["command"] = evil;
  report["models"][1]["name"] = evil;
  report["baselines"][0]["name"] = evil;
  report["goals"][0]["goal"] = evil;
  report["notes"][0] = evil;
  report["training_curves"][1]["name"] = evil;
  report["metric_names"]["roc_auc"] = evil;
  std::string html = render_report_html(report);
  EXPECT_EQ(count(html, "<script"), 0u);
  EXPECT_EQ(count(html, "alert('x')"), 0u);
  EXPECT_GE(count(html, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;co&quot;"), 9u);
  EXPECT_TRUE(svgs_balanced(html));
}

TEST(ReportHtml, MissingOptionalFieldsPrintDashes) {
  json report = {{"models", {{{"name", "FP32"}}, {{"name", "INT8 QAT"}, {"latency_ms", {{"samples", json::array()}}}}}}};
  std::string html;
  EXPECT_NO_THROW(html = render_report_html(report));
  EXPECT_NE(html.find("—"), std::string::npos);
  EXPECT_EQ(count(html, "<svg"), 3u);
  EXPECT_TRUE(svgs_balanced(html));
  EXPECT_FALSE(has_nan_or_inf(html));
  EXPECT_NE(row_of(html, "Model size").find("<div class=\"v\">—</div>"), std::string::npos);
  // No models at all still renders a page.
  EXPECT_NO_THROW(html = render_report_html(json{{"models", json::array()}}));
  EXPECT_EQ(count(html, "<svg"), 3u);
  // Fields of the wrong kind read as missing.
  json odd = {{"models", {42, {{"name", 7}, {"metrics", "x"}, {"latency_ms", {{"samples", {"a", nullptr}}}}}}},
              {"machine", "x"}, {"goals", {{{"met", "yes"}}}}, {"notes", {nullptr, 3}}, {"training_curves", 1}};
  EXPECT_NO_THROW(html = render_report_html(odd));
  EXPECT_TRUE(svgs_balanced(html));
}

TEST(ReportHtml, MissingModelsThrows) {
  EXPECT_NE(test::error_of([] { render_report_html(json::object()); }).find("models"), std::string::npos);
  EXPECT_NE(test::error_of([] { render_report_html(json{{"models", 3}}); }).find("models"), std::string::npos);
  EXPECT_NE(test::error_of([] { render_report_html(json{{"models", nullptr}}); }).find("models"), std::string::npos);
  EXPECT_NE(test::error_of([] { render_report_html(json::array()); }).find("models"), std::string::npos);
}

TEST(ReportHtml, NullMetricShowsDash) {
  json report = sample_report();
  report["models"][2]["metrics"]["roc_auc"] = nullptr;
  report["models"][2]["relative"]["roc_auc"] = nullptr;
  std::string row = row_of(render_report_html(report), "ROC-AUC");
  ASSERT_FALSE(row.empty());
  EXPECT_EQ(count(row, "<div class=\"v\">—</div>"), 1u);
}

TEST(ReportHtml, NonFiniteAndDegenerateValuesStayOutOfTheSvg) {
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  json report = sample_report();
  // NaN and inf where numbers go; one sample; all-equal samples; size 0;
  // negative and equal losses; a single training point.
  report["models"][0]["size_bytes"] = nan;
  report["models"][0]["metrics"]["pr_auc"] = inf;
  report["models"][1]["latency_ms"] = {{"p50", nan}, {"p99", -inf}, {"samples", {nan, inf}}};
  report["models"][2]["latency_ms"] = {{"samples", {0.5}}};
  report["models"][3]["latency_ms"] = {{"samples", {0.4, 0.4, 0.4}}};
  report["models"][4]["size_bytes"] = 0;
  report["models"][4]["throughput_per_s"] = nan;
  report["training_curves"] = {{{"name", "FP32"}, {"points", {{{"step", 1}, {"loss", -0.2}, {"val_loss", nan}}}}},
                               {{"name", "INT8 QAT"}, {"points", {{{"step", nan}, {"loss", 0.3}}, {{"loss", 0.3}}}}}};
  std::string html = render_report_html(report);
  if (const char* out = std::getenv("QAT_REPORT_HTML_OUT")) std::ofstream(std::string(out) + ".degenerate.html") << html;
  EXPECT_FALSE(has_nan_or_inf(html));
  EXPECT_TRUE(svgs_balanced(html));
  EXPECT_EQ(count(html, "<svg"), 3u);

  // Every model's size equal, every metric equal.
  json flat = sample_report();
  for (auto& m : flat["models"]) m["size_bytes"] = 5e6, m["metrics"]["pr_auc"] = 0.5;
  html = render_report_html(flat);
  EXPECT_FALSE(has_nan_or_inf(html));
}

TEST(SvgChart, NiceTicks) {
  Axis a = linear_axis(0.853, 0.912, 6);
  ASSERT_GE(a.ticks.size(), 3u);
  EXPECT_LE(a.lo, 0.853);
  EXPECT_GE(a.hi, 0.912);
  EXPECT_NEAR(a.ticks[1] - a.ticks[0], 0.01, 1e-12);
  EXPECT_EQ(tick_label(a, a.ticks[1]), "0.86");

  Axis same = linear_axis(5, 5);  // all equal: a band around the value
  EXPECT_LT(same.lo, 5);
  EXPECT_GT(same.hi, 5);
  Axis zero = linear_axis(0, 0);
  EXPECT_LT(zero.lo, zero.hi);
  Axis bad = linear_axis(std::nan(""), 3);
  EXPECT_LT(bad.lo, bad.hi);
  Axis neg = linear_axis(-3.2, -0.4);
  EXPECT_LE(neg.lo, -3.2);
  EXPECT_GE(neg.hi, -0.4);
  EXPECT_EQ(tick_label(linear_axis(-1, 1, 4), 0), "0.0");

  Axis log = log_axis(2.6, 17.0);
  ASSERT_EQ(log.ticks, (std::vector<double>{2, 5, 10, 20}));
  EXPECT_EQ(tick_label(log, 5), "5");
  EXPECT_DOUBLE_EQ(axis_fraction(log, 2), 0);
  EXPECT_DOUBLE_EQ(axis_fraction(log, 20), 1);
  EXPECT_DOUBLE_EQ(axis_fraction(log, -1), 0);  // off a log axis: its low end, not NaN
  Axis wide = log_axis(0.05, 3000);
  for (double t : wide.ticks) EXPECT_EQ(std::log10(t), std::round(std::log10(t)));  // decades only
  EXPECT_EQ(px(std::nan("")), "0");
  EXPECT_EQ(px(1.0 / 0.0), "0");
}

TEST(HtmlText, Formats) {
  EXPECT_EQ(html_escape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&#39;");
  EXPECT_EQ(format_count(20000), "20,000");
  EXPECT_EQ(format_count(-1234567), "-1,234,567");
  EXPECT_EQ(format_count(999), "999");
  EXPECT_EQ(format_percent(0.998), "99.8 %");
  EXPECT_EQ(format_fixed(std::nan(""), 2), kDash);
  EXPECT_EQ(format_fixed(std::nullopt, 2), kDash);
  EXPECT_EQ(format_fixed(-0.0001, 2), "0.00");
  EXPECT_EQ(format_3sig(17.0), "17.0");
  EXPECT_EQ(format_3sig(0.853), "0.853");
  EXPECT_EQ(format_3sig(1234), "1234");
}

}  // namespace
}  // namespace qat
