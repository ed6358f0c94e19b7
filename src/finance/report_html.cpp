#include "finance/report_html.h"

#include <algorithm>

#include <cmath>
#include <optional>
#include <vector>

#include "base/error.h"
#include "finance/html_text.h"
#include "finance/report_charts.h"
#include "finance/report_style.h"

namespace qat {
namespace {

using nlohmann::json;

// Field access that never throws: absent, null or of another kind reads as
// "nothing" (nullptr, nullopt, "", an empty array).
const json* field(const json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() || it->is_null() ? nullptr : &*it;
}

std::optional<double> number(const json& obj, const char* key) {
  const json* v = field(obj, key);
  if (!v || !v->is_number()) return std::nullopt;
  double d = v->get<double>();
  return std::isfinite(d) ? std::optional<double>(d) : std::nullopt;
}

std::string text(const json& obj, const char* key) {
  const json* v = field(obj, key);
  if (!v) return "";
  if (v->is_string()) return v->get<std::string>();
  if (v->is_number() && !std::isfinite(v->get<double>())) return "";
  return v->is_primitive() ? v->dump() : "";
}

const json& array(const json& obj, const char* key) {
  static const json empty = json::array();
  const json* v = field(obj, key);
  return v && v->is_array() ? *v : empty;
}

const json& object(const json& obj, const char* key) {
  static const json empty = json::object();
  const json* v = field(obj, key);
  return v && v->is_object() ? *v : empty;
}

// Escaped text, or the dash when empty.
std::string or_dash(const std::string& s) { return s.empty() ? kDash : html_escape(s); }

struct Metric {
  std::string key, label;
};

// The metrics to show: metric_names, primary first. nlohmann::json keeps an
// object's keys sorted, so the writer's order is lost; the primary metric
// leading is the order that matters. Without metric_names: the first model's.
std::vector<Metric> metrics_of(const json& report, const json& models) {
  std::string primary = text(report, "primary_metric");
  const json* names = field(report, "metric_names");
  if (!names || !names->is_object()) names = models.empty() ? nullptr : field(models[0], "metrics");
  std::vector<Metric> out;
  bool labelled = names == field(report, "metric_names");
  if (names && names->is_object())
    for (auto it = names->begin(); it != names->end(); ++it) {
      std::string label = labelled && it->is_string() ? it->get<std::string>() : "";
      Metric m{it.key(), label.empty() ? it.key() : label};
      if (m.key == primary) out.insert(out.begin(), m);
      else out.push_back(m);
    }
  if (!primary.empty() && (out.empty() || out[0].key != primary)) out.insert(out.begin(), {primary, primary});
  // "metric_order" (an array of keys) restores the writer's order.
  if (const json* order = field(report, "metric_order"); order && order->is_array()) {
    std::vector<Metric> sorted;
    for (const json& k : *order)
      for (const Metric& m : out)
        if (k.is_string() && m.key == k.get<std::string>()) sorted.push_back(m);
    for (const Metric& m : out)
      if (std::none_of(sorted.begin(), sorted.end(), [&](const Metric& x) { return x.key == m.key; }))
        sorted.push_back(m);
    out = sorted;
  }
  return out;
}

// The FP32 model every ratio refers to: scheme "f32" or name "FP32"; -1 if none.
int reference_of(const json& models) {
  for (size_t i = 0; i < models.size(); ++i) {
    std::string scheme = text(models[i], "scheme"), name = text(models[i], "name");
    if (scheme == "f32" || scheme == "F32" || name == "FP32" || name == "fp32") return static_cast<int>(i);
  }
  return -1;
}

std::string model_name(const json& model, size_t i) {
  std::string name = text(model, "name");
  return name.empty() ? cat("model ", i + 1) : name;
}

std::optional<double> size_mb(const json& model) {
  auto bytes = number(model, "size_bytes");
  return bytes ? std::optional<double>(*bytes / 1e6) : std::nullopt;
}

// "4.0× smaller" / "1.3× larger": how `value` compares to the reference's.
std::string times(std::optional<double> ref, std::optional<double> value, bool lower_is_better,
                  const char* better, const char* worse) {
  if (!ref || !value || !(*ref > 0) || !(*value > 0)) return "";
  double ratio = lower_is_better ? *ref / *value : *value / *ref;
  if (ratio >= 0.995) return format_fixed(ratio, 1) + "× " + better;
  return format_fixed(1 / ratio, 1) + "× " + worse;
}

std::string cell(const std::string& value_html, const std::string& sub_html, bool ref) {
  return std::string("<td") + (ref ? " class=\"ref\"" : "") + "><div class=\"v\">" + value_html + "</div>" +
         (sub_html.empty() ? "" : "<div class=\"sub\">" + sub_html + "</div>") + "</td>";
}

std::string header_html(const json& report) {
  std::string task = text(report, "task"), note = text(report, "data_note");
  std::string s = "<header>\n<div class=\"kicker\">qat.cpp · quantization report" +
                  (task.empty() ? "" : " · task: " + html_escape(task)) + "</div>\n";
  std::string title = text(report, "title");
  s += "<h1>" + html_escape(title.empty() ? "qat demo report" : title) + "</h1>\n";
  if (!note.empty()) s += "<div class=\"banner\" role=\"note\"><strong>Data</strong>" + html_escape(note) + "</div>\n";

  const json& machine = object(report, "machine");
  std::string cpu = text(machine, "cpu"), cores = text(machine, "cores"), isa = text(machine, "isa");
  std::string machine_text = or_dash(cpu);
  if (!cores.empty()) machine_text += ", " + html_escape(cores) + " cores";
  if (!isa.empty()) machine_text += ", " + html_escape(isa);

  const json& data = object(report, "dataset");
  std::string data_text = or_dash(text(data, "source"));
  if (number(data, "train") || number(data, "val") || number(data, "test"))
    data_text += " — " + format_count(number(data, "train")) + " train / " + format_count(number(data, "val")) +
                 " val / " + format_count(number(data, "test")) + " test";
  if (auto rate = number(data, "positive_rate")) data_text += ", " + format_percent(rate, 2) + " positive";

  std::string command = text(report, "command");
  s += "<p class=\"summary\"><span><b>Machine</b> " + machine_text + "</span><span><b>Dataset</b> " + data_text +
       "</span><span><b>Command</b> " + (command.empty() ? std::string(kDash) : "<code>" + html_escape(command) + "</code>") +
       "</span><span><b>Created</b> " + or_dash(text(report, "created")) + "</span></p>\n</header>\n";
  return s;
}

std::string main_table_html(const json& models, const std::vector<Metric>& metrics, const std::string& primary,
                            int ref) {
  const json* ref_model = ref >= 0 ? &models[ref] : nullptr;
  auto ref_number = [&](const char* obj, const char* key) -> std::optional<double> {
    if (!ref_model) return std::nullopt;
    return obj ? number(object(*ref_model, obj), key) : number(*ref_model, key);
  };
  std::string s = "<div class=\"table-wrap\"><table class=\"main\">\n<thead><tr><th>Measure</th>";
  for (size_t i = 0; i < models.size(); ++i) {
    std::string scheme = text(models[i], "scheme"), file = text(models[i], "file");
    std::string sub = html_escape(scheme) + (!scheme.empty() && !file.empty() ? " · " : "") + html_escape(file);
    s += std::string("<th") + (int(i) == ref ? " class=\"ref\"" : "") + ">" + html_escape(model_name(models[i], i)) +
         (sub.empty() ? "" : "<span class=\"scheme\">" + sub + "</span>") + "</th>";
  }
  s += "</tr></thead>\n<tbody>\n";

  auto row_head = [](const std::string& label, const std::string& unit) {
    return "<tr><th>" + label + "<span class=\"unit\">" + unit + "</span></th>";
  };
  s += row_head("Model size", cat("MB", ref >= 0 ? "; × smaller than FP32" : ""));
  for (size_t i = 0; i < models.size(); ++i) {
    bool is_ref = int(i) == ref;
    auto mb = size_mb(models[i]);
    std::string sub = is_ref ? "reference" : times(ref_model ? size_mb(*ref_model) : std::nullopt, mb, true, "smaller", "larger");
    s += cell(format_3sig(mb) + (mb ? " MB" : ""), sub, is_ref);
  }
  s += "</tr>\n" + row_head("Latency p50 / p99", cat("ms, 1 thread, a stream of records", ref >= 0 ? "; × faster at p50" : ""));
  for (size_t i = 0; i < models.size(); ++i) {
    bool is_ref = int(i) == ref;
    const json& lat = object(models[i], "latency_ms");
    auto p50 = number(lat, "p50"), p99 = number(lat, "p99");
    std::string sub = is_ref ? "reference" : times(ref_number("latency_ms", "p50"), p50, true, "faster", "slower");
    s += cell(p50 || p99 ? format_3sig(p50) + " / " + format_3sig(p99) + " ms" : kDash, sub, is_ref);
  }
  bool any_alternating = false;
  for (const json& m : models) any_alternating = any_alternating || number(object(m, "latency_ms"), "p50_alternating");
  if (any_alternating) {
    s += "</tr>\n" + row_head("Latency p50, models taking turns",
                               cat("ms, on every record, caches shared with the others", ref >= 0 ? "; × faster" : ""));
    for (size_t i = 0; i < models.size(); ++i) {
      bool is_ref = int(i) == ref;
      auto p50 = number(object(models[i], "latency_ms"), "p50_alternating");
      std::string sub =
          is_ref ? "reference" : times(ref_number("latency_ms", "p50_alternating"), p50, true, "faster", "slower");
      s += cell(p50 ? format_3sig(p50) + " ms" : kDash, sub, is_ref);
    }
  }
  s += "</tr>\n" + row_head("Throughput", "scores per second");
  for (size_t i = 0; i < models.size(); ++i) {
    auto tput = number(models[i], "throughput_per_s");
    auto threads = number(models[i], "throughput_threads");
    std::string sub = threads ? cat("at ", format_count(threads), *threads == 1 ? " thread" : " threads") : "";
    s += cell(format_count(tput) + (tput ? " /s" : ""), sub, int(i) == ref);
  }
  s += "</tr>\n" + row_head("CPU time", "seconds per 1,000 scores");
  for (size_t i = 0; i < models.size(); ++i) {
    auto cpu = number(models[i], "cpu_s_per_1000");
    s += cell(format_3sig(cpu) + (cpu ? " s" : ""), "", int(i) == ref);
  }
  s += "</tr>\n" + row_head("Energy", "joules per 1,000 scores (RAPL)");
  for (size_t i = 0; i < models.size(); ++i) {
    // null means the demo could not read RAPL; an absent field, nothing known.
    const json* e = models[i].is_object() && models[i].contains("energy_j_per_1000")
                        ? &models[i]["energy_j_per_1000"] : nullptr;
    auto joules = number(models[i], "energy_j_per_1000");
    std::string v = joules ? format_3sig(joules) + " J"
                    : e ? "<span class=\"na\">not readable</span>" : std::string(kDash);
    s += cell(v, "", int(i) == ref);
  }
  s += "</tr>\n";

  for (const Metric& m : metrics) {
    bool is_primary = m.key == primary;
    s += std::string("<tr") + (is_primary ? " class=\"primary\"" : "") + "><th>" + html_escape(m.label) +
         (is_primary ? "<span class=\"tag\">primary</span>" : "") + "<span class=\"unit\">" +
         (ref >= 0 ? "value (% of FP32)" : "value") + "</span></th>";
    for (size_t i = 0; i < models.size(); ++i) {
      bool is_ref = int(i) == ref;
      auto v = number(object(models[i], "metrics"), m.key.c_str());
      // The demo's own ratio; computed from FP32's value when it left it out.
      auto rel = number(object(models[i], "relative"), m.key.c_str());
      auto ref_v = ref_number("metrics", m.key.c_str());
      if (!rel && v && ref_v && *ref_v != 0) rel = *v / *ref_v;
      std::string sub = is_ref ? "reference" : rel ? cat("(", format_percent(rel), " of FP32)") : "";
      s += cell(format_fixed(v, 3), sub, is_ref);
    }
    s += "</tr>\n";
  }
  return s + "</tbody></table></div>\n";
}

std::string baselines_html(const json& report, const json& models, const std::vector<Metric>& metrics, int ref) {
  const json& baselines = array(report, "baselines");
  if (baselines.empty()) return "";
  std::string s = "<section>\n<h2>Baselines</h2>\n<div class=\"table-wrap\"><table>\n<thead><tr><th>Model</th>";
  for (const Metric& m : metrics) s += "<th>" + html_escape(m.label) + "</th>";
  s += "</tr></thead>\n<tbody>\n";
  auto row = [&](const std::string& name_html, const json& entry, bool is_ref) {
    std::string r = std::string("<tr><th>") + name_html + "</th>";
    for (const Metric& m : metrics) r += cell(format_fixed(number(object(entry, "metrics"), m.key.c_str()), 3), "", is_ref);
    return r + "</tr>\n";
  };
  if (ref >= 0) s += row(html_escape(model_name(models[ref], ref)) + "<span class=\"unit\">this report's reference</span>", models[ref], true);
  for (size_t i = 0; i < baselines.size(); ++i) {
    std::string name = text(baselines[i], "name");
    s += row(name.empty() ? cat("baseline ", i + 1) : html_escape(name), baselines[i], false);
  }
  return s + "</tbody></table></div>\n</section>\n";
}

std::string goals_html(const json& report) {
  const json& goals = array(report, "goals");
  if (goals.empty()) return "";
  size_t met = 0, known = 0;
  std::string items;
  for (const json& g : goals) {
    const json* m = field(g, "met");
    bool has = m && m->is_boolean(), ok = has && m->get<bool>();
    known += has, met += ok;
    std::string badge = !has ? "<span class=\"badge unknown\">unknown</span>"
                        : ok ? "<span class=\"badge met\">met</span>"
                             : "<span class=\"badge not-met\">not met</span>";
    items += "<li>" + badge + "<span class=\"goal\">" + or_dash(text(g, "goal")) +
             "</span><span class=\"measured\">measured: " + or_dash(text(g, "measured")) + "</span></li>\n";
  }
  return "<section>\n<h2>Goals</h2>\n<p class=\"goal-count\">" + cat(met, " of ", goals.size(), " met") +
         (known < goals.size() ? cat(" (", goals.size() - known, " not judged)") : "") + "</p>\n<ul class=\"goals\">\n" +
         items + "</ul>\n</section>\n";
}

std::string charts_html(const json& report, const json& models, const std::vector<Metric>& metrics, int ref) {
  std::string primary = metrics.empty() ? "" : metrics[0].key;
  std::string primary_label = metrics.empty() ? "primary metric" : metrics[0].label;

  std::vector<ScatterPoint> points;
  std::vector<LatencyRow> rows;
  for (size_t i = 0; i < models.size(); ++i) {
    const json& m = models[i];
    auto mb = size_mb(m), v = number(object(m, "metrics"), primary.c_str());
    if (mb && v) points.push_back({model_name(m, i), series_color(i), *mb, *v, int(i) == ref});
    LatencyRow row{model_name(m, i), series_color(i), {}, std::nullopt, std::nullopt};
    const json& lat = object(m, "latency_ms");
    row.p50 = number(lat, "p50"), row.p99 = number(lat, "p99");
    for (const json& x : array(lat, "samples"))
      if (x.is_number()) row.samples_ms.push_back(x.get<double>());
    rows.push_back(row);
  }

  std::vector<Curve> curves;
  const json& runs = array(report, "training_curves");
  for (size_t k = 0; k < runs.size(); ++k) {
    Curve c;
    c.name = text(runs[k], "name");
    if (c.name.empty()) c.name = cat("run ", k + 1);
    // A run takes the colour of the model it trained, so charts agree.
    c.color = series_color(models.size() + k);
    for (size_t i = 0; i < models.size(); ++i)
      if (model_name(models[i], i) == c.name) c.color = series_color(i);
    const json& pts = array(runs[k], "points");
    for (size_t i = 0; i < pts.size(); ++i) {
      TrainingPoint p;
      // No step: the point's position. A step that is there but not a finite
      // number (NaN, text) drops the point rather than misplacing it.
      p.step = field(pts[i], "step") ? number(pts[i], "step").value_or(NAN) : double(i + 1);
      p.loss = number(pts[i], "loss"), p.val_loss = number(pts[i], "val_loss");
      c.points.push_back(p);
    }
    curves.push_back(c);
  }

  std::string s = "<section>\n<h2>Charts</h2>\n";
  s += "<figure>" + size_metric_chart(points, primary_label) + "<figcaption><b>Size against " +
       html_escape(primary_label) +
       ".</b> One point per model; FP32, the reference, is the outlined point with a dashed line at its score. "
       "Further left is smaller; higher is better.</figcaption></figure>\n";
  s += "<figure>" + latency_chart(rows) +
       "<figcaption><b>Latency distribution.</b> Time to score one item on one thread, from each model's "
       "latency samples: box p25–p75, whiskers p1–p99, dark bar p50, diamond p99.</figcaption></figure>\n";
  s += "<figure>" + training_chart(curves) +
       "<figcaption><b>Training curves.</b> Training loss by step, one line per run; hollow markers are "
       "validation loss where it was measured.</figcaption></figure>\n";
  return s + "</section>\n";
}

std::string notes_html(const json& report) {
  const json& notes = array(report, "notes");
  if (notes.empty()) return "";
  std::string s = "<section>\n<h2>Notes</h2>\n<ul class=\"notes\">\n";
  for (const json& n : notes) s += "<li>" + or_dash(n.is_string() ? n.get<std::string>() : n.is_primitive() && !n.is_null() ? n.dump() : "") + "</li>\n";
  return s + "</ul>\n</section>\n";
}

}  // namespace

std::string render_report_html(const json& report) {
  const json* models_field = field(report, "models");
  if (!models_field || !models_field->is_array())
    throw Error("report.json: \"models\" is missing or not an array; the report needs one entry per model",
                "write it with `qat demo`, which lists the FP32, PTQ and QAT models under \"models\"");
  const json& models = *models_field;
  std::vector<Metric> metrics = metrics_of(report, models);
  std::string primary = metrics.empty() ? "" : metrics[0].key;
  int ref = reference_of(models);

  std::string title = text(report, "title");
  std::string s = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                  "<title>" + html_escape(title.empty() ? "qat demo report" : title) + "</title>\n<style>" +
                  report_css() + "</style>\n</head>\n<body>\n<main>\n";
  s += header_html(report);
  s += "<section>\n<h2>Models compared</h2>\n";
  if (models.empty()) s += "<p class=\"na\">No models in this report.</p>\n";
  else s += main_table_html(models, metrics, primary, ref);
  s += "</section>\n";
  s += baselines_html(report, models, metrics, ref);
  s += goals_html(report);
  s += charts_html(report, models, metrics, ref);
  s += notes_html(report);
  s += "<footer>Generated by qat.cpp. This file is self-contained: it loads no scripts, fonts or images.</footer>\n";
  return s + "</main>\n</body>\n</html>\n";
}

}  // namespace qat
