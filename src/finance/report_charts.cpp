#include "finance/report_charts.h"

#include <algorithm>
#include <cmath>

#include "finance/html_text.h"
#include "finance/svg_chart.h"

namespace qat {
namespace {

constexpr double kWidth = 960;

bool finite(double v) { return std::isfinite(v); }
bool finite(const std::optional<double>& v) { return v && std::isfinite(*v); }

// At most `max_chars` characters, cut on a UTF-8 boundary, with an ellipsis.
std::string shorten(const std::string& s, size_t max_chars) {
  size_t chars = 0, i = 0;
  for (; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;
    if (chars == max_chars) return s.substr(0, i) + "…";
    ++chars;
  }
  return s;
}

// A rough width of a label at the charts' 13 px font (SVG cannot measure).
double text_width(const std::string& s) {
  size_t chars = 0;
  for (char c : s) chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return 7.2 * chars;
}

// Linear interpolation between order statistics; `sorted` is non-empty.
double quantile(const std::vector<double>& sorted, double q) {
  double pos = q * (sorted.size() - 1);
  size_t i = static_cast<size_t>(pos);
  if (i + 1 >= sorted.size()) return sorted.back();
  return sorted[i] + (pos - i) * (sorted[i + 1] - sorted[i]);
}

std::string line(double x1, double y1, double x2, double y2, const std::string& attrs) {
  return "<line x1=\"" + px(x1) + "\" y1=\"" + px(y1) + "\" x2=\"" + px(x2) + "\" y2=\"" + px(y2) + "\" " +
         attrs + "/>";
}

std::string circle(double x, double y, double r, const std::string& attrs) {
  return "<circle cx=\"" + px(x) + "\" cy=\"" + px(y) + "\" r=\"" + px(r) + "\" " + attrs + "/>";
}

}  // namespace

std::string series_color(size_t i) {
  static const char* palette[] = {"#0b3d91", "#e69f00", "#009e73", "#cc79a7", "#d55e00", "#56b4e9", "#7f7f7f"};
  return palette[i % (sizeof palette / sizeof palette[0])];
}

std::string size_metric_chart(const std::vector<ScatterPoint>& all, const std::string& metric_label) {
  const std::string title = "Model size vs " + metric_label;
  std::vector<ScatterPoint> points;
  for (const ScatterPoint& p : all)
    if (finite(p.x) && p.x > 0 && finite(p.y)) points.push_back(p);
  if (points.empty()) return empty_chart_svg(kWidth, 200, title, "No model has both a size and a " + metric_label);

  double height = 420;
  PlotArea area{90, 24, kWidth - 30, height - 62};
  double x_lo = points[0].x, x_hi = x_lo, y_lo = points[0].y, y_hi = y_lo;
  for (const ScatterPoint& p : points) {
    x_lo = std::min(x_lo, p.x), x_hi = std::max(x_hi, p.x);
    y_lo = std::min(y_lo, p.y), y_hi = std::max(y_hi, p.y);
  }
  double y_pad = (y_hi - y_lo) * 0.08;
  Axis x_axis = log_axis(x_lo, x_hi);
  Axis y_axis = linear_axis(y_lo - y_pad, y_hi + y_pad, 6);

  std::string s = svg_begin(kWidth, height, title);
  s += x_axis_svg(area, x_axis, "model file size (MB, log scale)");
  s += y_axis_svg(area, y_axis, metric_label);
  for (const ScatterPoint& p : points) {
    if (!p.reference) continue;
    double y = area.y(y_axis, p.y);
    s += line(area.left, y, area.right, y, "class=\"refline\" stroke=\"" + p.color + "\"");
  }

  // Labels right of their point (left near the right edge), nudged up or down
  // until they clear the labels already placed: INT8 PTQ and INT8 QAT share a
  // size and often nearly a score.
  struct Box { double x0, x1, y; };
  std::vector<Box> placed;
  std::string marks, labels;
  for (const ScatterPoint& p : points) {
    double x = area.x(x_axis, p.x), y = area.y(y_axis, p.y);
    marks += circle(x, y, p.reference ? 7 : 5.5,
                    "fill=\"" + p.color + "\" class=\"" + std::string(p.reference ? "point ref" : "point") + "\"");
    std::string text = shorten(p.label, 24);
    double w = text_width(text) + (p.reference ? 8 : 0);
    bool left = x + 12 + w > area.right;
    double x0 = left ? x - 12 - w : x + 12, x1 = x0 + w;
    double ty = y + 4;
    for (int attempt = 0; attempt < 12; ++attempt) {
      double candidate = y + 4 + ((attempt + 1) / 2) * 15.0 * (attempt % 2 ? 1 : -1);
      candidate = std::clamp(candidate, area.top + 10, area.bottom - 4);
      bool clear = true;
      for (const Box& b : placed)
        if (std::fabs(b.y - candidate) < 14 && x0 < b.x1 && b.x0 < x1) clear = false;
      if (clear) { ty = candidate; break; }
    }
    placed.push_back({x0, x1, ty});
    labels += svg_text(left ? x - 12 : x + 12, ty, text,
                       std::string("class=\"point-label") + (p.reference ? " ref" : "") + "\" text-anchor=\"" +
                           (left ? "end" : "start") + "\"");
  }
  return s + marks + labels + svg_end();
}

std::string latency_chart(const std::vector<LatencyRow>& rows) {
  const std::string title = "Latency per scored item (1 thread)";
  if (rows.empty()) return empty_chart_svg(kWidth, 160, title, "No models");

  // Per row: whiskers p1..p99, box p25..p75, and the p50 and p99 marks.
  struct Stats { bool box = false; double p1 = 0, p25 = 0, p75 = 0; std::optional<double> p50, p99; };
  std::vector<Stats> stats(rows.size());
  double x_hi = 0, x_lo = 0;
  bool any = false;
  for (size_t i = 0; i < rows.size(); ++i) {
    std::vector<double> sorted;
    for (double v : rows[i].samples_ms) if (finite(v)) sorted.push_back(v);
    std::sort(sorted.begin(), sorted.end());
    Stats& st = stats[i];
    st.p50 = finite(rows[i].p50) ? rows[i].p50 : std::nullopt;
    st.p99 = finite(rows[i].p99) ? rows[i].p99 : std::nullopt;
    if (!sorted.empty()) {
      st.box = true;
      st.p1 = quantile(sorted, 0.01), st.p25 = quantile(sorted, 0.25), st.p75 = quantile(sorted, 0.75);
      if (!st.p50) st.p50 = quantile(sorted, 0.5);
      if (!st.p99) st.p99 = quantile(sorted, 0.99);
      x_lo = std::min(x_lo, st.p1);
    }
    for (const auto& v : {st.p50, st.p99})
      if (v) x_hi = std::max(x_hi, *v), x_lo = std::min(x_lo, *v), any = true;
    if (st.box) x_hi = std::max(x_hi, st.p75);
  }
  if (!any) return empty_chart_svg(kWidth, 160, title, "No latency measurements");

  const double row_h = 46, top = 16;
  double height = top + row_h * rows.size() + 56;
  PlotArea area{150, top, kWidth - 210, top + row_h * rows.size()};
  Axis x_axis = linear_axis(x_lo, x_hi * 1.05, 6);

  std::string s = svg_begin(kWidth, height, title);
  s += x_axis_svg(area, x_axis, "milliseconds per scored item");
  for (size_t i = 0; i < rows.size(); ++i) {
    const Stats& st = stats[i];
    const std::string& color = rows[i].color;
    double yc = top + row_h * i + row_h / 2;
    if (i % 2 == 1)
      s += "<rect class=\"band\" x=\"" + px(area.left) + "\" y=\"" + px(yc - row_h / 2) + "\" width=\"" +
           px(area.right - area.left) + "\" height=\"" + px(row_h) + "\"/>";
    s += svg_text(area.left - 12, yc + 4, shorten(rows[i].name, 18), "class=\"row-label\" text-anchor=\"end\"");
    if (st.box) {
      double x1 = area.x(x_axis, st.p1), x25 = area.x(x_axis, st.p25), x75 = area.x(x_axis, st.p75);
      double x99 = area.x(x_axis, st.p99.value_or(st.p75));
      s += line(x1, yc, x25, yc, "class=\"whisker\" stroke=\"" + color + "\"");
      s += line(x75, yc, x99, yc, "class=\"whisker\" stroke=\"" + color + "\"");
      s += line(x1, yc - 7, x1, yc + 7, "class=\"whisker\" stroke=\"" + color + "\"");
      s += "<rect class=\"box\" x=\"" + px(x25) + "\" y=\"" + px(yc - 11) + "\" width=\"" +
           px(std::max(x75 - x25, 1.0)) + "\" height=\"22\" fill=\"" + color + "\" stroke=\"" + color + "\"/>";
    } else if (st.p50 && st.p99) {
      // No samples: only the two reported figures, joined by a dashed line.
      s += line(area.x(x_axis, *st.p50), yc, area.x(x_axis, *st.p99), yc,
                "class=\"whisker dashed\" stroke=\"" + color + "\"");
    }
    if (st.p50) {
      double x = area.x(x_axis, *st.p50);
      s += line(x, yc - 13, x, yc + 13, "class=\"median\"");
    }
    if (st.p99) {
      double x = area.x(x_axis, *st.p99);
      s += "<path class=\"p99\" d=\"M" + px(x) + " " + px(yc - 9) + " L" + px(x + 6) + " " + px(yc) + " L" + px(x) +
           " " + px(yc + 9) + " L" + px(x - 6) + " " + px(yc) + " Z\" fill=\"" + color + "\"/>";
    }
    std::string note = st.p50 || st.p99 ? "p50 " + format_3sig(st.p50) + " · p99 " + format_3sig(st.p99) + " ms"
                                        : "no latency data";
    s += svg_text(area.right + 14, yc + 4, note, "class=\"row-note\"");
  }
  return s + svg_end();
}

std::string training_chart(const std::vector<Curve>& curves) {
  const std::string title = "Training loss by step";
  double x_lo = 0, x_hi = 0, y_lo = 0, y_hi = 0;
  bool any = false;
  auto include = [&](double x, double y) {
    if (!finite(x) || !finite(y)) return;
    if (!any) x_lo = x_hi = x, y_lo = y_hi = y, any = true;
    x_lo = std::min(x_lo, x), x_hi = std::max(x_hi, x);
    y_lo = std::min(y_lo, y), y_hi = std::max(y_hi, y);
  };
  for (const Curve& c : curves)
    for (const TrainingPoint& p : c.points) {
      if (p.loss) include(p.step, *p.loss);
      if (p.val_loss) include(p.step, *p.val_loss);
    }
  if (!any) return empty_chart_svg(kWidth, 160, title, "No training curves in this report");

  double height = 430;
  PlotArea area{90, 48, kWidth - 30, height - 62};
  // Steps are whole numbers: a short run still gets ticks one step apart.
  Axis x_axis = linear_axis(x_lo, std::max(x_hi, x_lo + 5), 8);
  Axis y_axis = linear_axis(std::min(y_lo, 0.0), y_hi, 6);

  std::string s = svg_begin(kWidth, height, title);
  s += x_axis_svg(area, x_axis, "training step");
  s += y_axis_svg(area, y_axis, "loss");

  // Legend above the plot: one row, a second when the names do not fit.
  double lx = area.left, ly = 16;
  for (const Curve& c : curves) {
    std::string name = shorten(c.name, 22);
    double w = 28 + text_width(name) + 22;
    if (lx + w > kWidth - 20 && lx > area.left) lx = area.left, ly += 18;
    s += line(lx, ly, lx + 22, ly, "class=\"curve\" stroke=\"" + c.color + "\"");
    s += svg_text(lx + 28, ly + 4, name, "class=\"legend\"");
    lx += w;
  }
  if (lx + 140 > kWidth - 20) lx = area.left, ly += 18;
  s += circle(lx + 6, ly, 4, "class=\"val\" stroke=\"#444\"");
  s += svg_text(lx + 16, ly + 4, "validation loss", "class=\"legend\"");

  for (const Curve& c : curves) {
    // A long run is thinned to about 1,500 vertices (the last always kept);
    // a null loss breaks the line instead of joining across the gap, and a
    // vertex left alone between gaps is drawn as a dot (a path would not show).
    size_t n = c.points.size(), stride = std::max<size_t>(1, (n + 1499) / 1500);
    std::string path, dots;
    int run = 0;  // vertices in the current segment
    double last_x = 0, last_y = 0;
    auto end_segment = [&] {
      if (run == 1) dots += circle(last_x, last_y, 3.5, "fill=\"" + c.color + "\"");
      run = 0;
    };
    for (size_t i = 0; i < n; ++i) {
      const TrainingPoint& p = c.points[i];
      if (!finite(p.step) || !finite(p.loss)) { end_segment(); continue; }
      if (i % stride != 0 && i + 1 != n && run > 0) continue;
      last_x = area.x(x_axis, p.step), last_y = area.y(y_axis, *p.loss);
      path += (run > 0 ? " L" : " M") + px(last_x) + " " + px(last_y);
      ++run;
    }
    end_segment();
    if (!path.empty()) s += "<path class=\"curve\" d=\"" + path.substr(1) + "\" stroke=\"" + c.color + "\"/>";
    s += dots;
  }
  for (const Curve& c : curves)
    for (const TrainingPoint& p : c.points)
      if (finite(p.step) && finite(p.val_loss))
        s += circle(area.x(x_axis, p.step), area.y(y_axis, *p.val_loss), 4, "class=\"val\" stroke=\"" + c.color + "\"");
  return s + svg_end();
}

}  // namespace qat
