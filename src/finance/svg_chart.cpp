#include "finance/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "finance/html_text.h"

namespace qat {
namespace {

// 1, 2 or 5 × 10^k, the smallest such step at least `rough`.
double nice_step(double rough) {
  double magnitude = std::pow(10.0, std::floor(std::log10(rough)));
  double norm = rough / magnitude;
  double step = norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10;
  return step * magnitude;
}

// Decimals a label needs so that ticks `step` apart read differently.
int decimals_for(double step) {
  if (!(step > 0) || !std::isfinite(step)) return 0;
  int d = static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
  return std::clamp(d, 0, 8);
}

}  // namespace

Axis linear_axis(double lo, double hi, int count) {
  if (!std::isfinite(lo) || !std::isfinite(hi) || !std::isfinite(hi - lo)) lo = 0, hi = 1;
  if (lo > hi) std::swap(lo, hi);
  if (lo == hi) {
    // One value (or all equal): a band around it, so it sits mid-axis.
    double pad = lo == 0 ? 1 : std::fabs(lo) * 0.1;
    lo -= pad, hi += pad;
  }
  double step = nice_step((hi - lo) / std::max(count, 1));
  Axis axis;
  axis.lo = std::floor(lo / step + 1e-9) * step;
  axis.hi = std::ceil(hi / step - 1e-9) * step;
  int n = static_cast<int>(std::llround((axis.hi - axis.lo) / step));
  for (int i = 0; i <= n && i <= 50; ++i) {
    double t = axis.lo + i * step;
    if (std::fabs(t) < step * 1e-9) t = 0;  // no "-0"
    axis.ticks.push_back(t);
  }
  return axis;
}

Axis log_axis(double lo, double hi) {
  if (!(lo > 0) || !(hi > 0) || !std::isfinite(lo) || !std::isfinite(hi)) lo = 1, hi = 10;
  if (lo > hi) std::swap(lo, hi);
  // A little room so that points (and their labels) clear the plot's edges.
  lo /= 1.1, hi *= 1.1;
  int k0 = static_cast<int>(std::floor(std::log10(lo)));
  int k1 = static_cast<int>(std::ceil(std::log10(hi)));
  bool decades_only = k1 - k0 > 3;
  std::vector<double> candidates;
  for (int k = k0; k <= k1; ++k) {
    double p = std::pow(10.0, k);
    candidates.push_back(p);
    if (!decades_only) candidates.push_back(2 * p), candidates.push_back(5 * p);
  }
  Axis axis;
  axis.log = true;
  axis.lo = candidates.front(), axis.hi = candidates.back();
  for (double c : candidates) if (c <= lo * (1 + 1e-12)) axis.lo = c;
  for (auto it = candidates.rbegin(); it != candidates.rend(); ++it) if (*it >= hi * (1 - 1e-12)) axis.hi = *it;
  for (double c : candidates) if (c >= axis.lo && c <= axis.hi) axis.ticks.push_back(c);
  return axis;
}

double axis_fraction(const Axis& axis, double v) {
  if (!std::isfinite(v)) return 0;
  double f;
  if (axis.log) {
    if (!(v > 0) || !(axis.lo > 0) || !(axis.hi > axis.lo)) return 0;
    f = std::log(v / axis.lo) / std::log(axis.hi / axis.lo);
  } else {
    if (!(axis.hi > axis.lo)) return 0.5;
    f = (v - axis.lo) / (axis.hi - axis.lo);
  }
  return std::isfinite(f) ? std::clamp(f, 0.0, 1.0) : 0;
}

std::string tick_label(const Axis& axis, double v) {
  if (axis.log) return format_fixed(v, v >= 1 ? 0 : decimals_for(v));
  double step = axis.ticks.size() > 1 ? axis.ticks[1] - axis.ticks[0] : std::fabs(v);
  return format_fixed(v, decimals_for(step));
}

double PlotArea::x(const Axis& axis, double v) const {
  return left + axis_fraction(axis, v) * (right - left);
}

double PlotArea::y(const Axis& axis, double v) const {
  return bottom - axis_fraction(axis, v) * (bottom - top);
}

std::string px(double v) {
  if (!std::isfinite(v)) return "0";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string svg_begin(double width, double height, const std::string& title) {
  std::string t = html_escape(title);
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 " + px(width) + " " +
         px(height) + "\" role=\"img\" aria-label=\"" + t + "\"><title>" + t + "</title>\n";
}

std::string svg_end() { return "</svg>\n"; }

std::string svg_text(double x, double y, const std::string& text, const std::string& extra) {
  return "<text x=\"" + px(x) + "\" y=\"" + px(y) + "\"" + (extra.empty() ? "" : " " + extra) + ">" +
         html_escape(text) + "</text>";
}

std::string x_axis_svg(const PlotArea& area, const Axis& axis, const std::string& title) {
  std::string s = "<g class=\"axis\">";
  for (double t : axis.ticks) {
    double x = area.x(axis, t);
    s += "<line class=\"grid\" x1=\"" + px(x) + "\" y1=\"" + px(area.top) + "\" x2=\"" + px(x) + "\" y2=\"" +
         px(area.bottom) + "\"/>";
    s += "<line class=\"tick\" x1=\"" + px(x) + "\" y1=\"" + px(area.bottom) + "\" x2=\"" + px(x) + "\" y2=\"" +
         px(area.bottom + 5) + "\"/>";
    s += svg_text(x, area.bottom + 19, tick_label(axis, t), "text-anchor=\"middle\"");
  }
  s += "<line class=\"frame\" x1=\"" + px(area.left) + "\" y1=\"" + px(area.bottom) + "\" x2=\"" +
       px(area.right) + "\" y2=\"" + px(area.bottom) + "\"/>";
  s += svg_text((area.left + area.right) / 2, area.bottom + 40, title, "class=\"axis-title\" text-anchor=\"middle\"");
  return s + "</g>\n";
}

std::string y_axis_svg(const PlotArea& area, const Axis& axis, const std::string& title) {
  std::string s = "<g class=\"axis\">";
  for (double t : axis.ticks) {
    double y = area.y(axis, t);
    s += "<line class=\"grid\" x1=\"" + px(area.left) + "\" y1=\"" + px(y) + "\" x2=\"" + px(area.right) +
         "\" y2=\"" + px(y) + "\"/>";
    s += "<line class=\"tick\" x1=\"" + px(area.left - 5) + "\" y1=\"" + px(y) + "\" x2=\"" + px(area.left) +
         "\" y2=\"" + px(y) + "\"/>";
    s += svg_text(area.left - 9, y + 4, tick_label(axis, t), "text-anchor=\"end\"");
  }
  s += "<line class=\"frame\" x1=\"" + px(area.left) + "\" y1=\"" + px(area.top) + "\" x2=\"" + px(area.left) +
       "\" y2=\"" + px(area.bottom) + "\"/>";
  double cy = (area.top + area.bottom) / 2, cx = area.left - 58;
  s += svg_text(cx, cy, title,
                "class=\"axis-title\" text-anchor=\"middle\" transform=\"rotate(-90 " + px(cx) + " " + px(cy) + ")\"");
  return s + "</g>\n";
}

std::string empty_chart_svg(double width, double height, const std::string& title, const std::string& message) {
  return svg_begin(width, height, title) + "<rect class=\"empty\" x=\"1\" y=\"1\" width=\"" + px(width - 2) +
         "\" height=\"" + px(height - 2) + "\" rx=\"6\"/>" +
         svg_text(width / 2, height / 2 + 5, message, "class=\"muted\" text-anchor=\"middle\"") + svg_end();
}

}  // namespace qat
