// A small kit for inline SVG charts in the HTML report: an axis with "nice"
// tick values (linear or log), the plot rectangle that maps values to pixels,
// and the SVG for axes, grid lines and an empty-chart message. Every number
// written into an attribute goes through px(), which never emits NaN.
#pragma once
#include <string>
#include <vector>

namespace qat {

// The value range an axis spans and where its ticks sit.
struct Axis {
  double lo = 0, hi = 1;
  bool log = false;
  std::vector<double> ticks;
};

// Ticks 1, 2 or 5 × 10^k apart, about `count` of them; the axis is widened to
// the outer ticks. Handles lo == hi, lo > hi and non-finite bounds.
Axis linear_axis(double lo, double hi, int count = 5);

// Ticks at 1, 2, 5 × 10^k (decades only when the range spans more than three);
// lo and hi must be > 0 (else the axis falls back to [1, 10]).
Axis log_axis(double lo, double hi);

// Where v falls along the axis: 0 at lo, 1 at hi, clamped to [0, 1].
double axis_fraction(const Axis& axis, double v);

// A tick label with as many decimals as the tick spacing needs.
std::string tick_label(const Axis& axis, double v);

// The plot rectangle in SVG pixels (y grows downwards).
struct PlotArea {
  double left = 0, top = 0, right = 0, bottom = 0;
  double x(const Axis& axis, double v) const;
  double y(const Axis& axis, double v) const;  // hi at the top
};

// A number for an SVG attribute: one decimal, and "0" for NaN or inf.
std::string px(double v);

// <svg> with a viewBox of width × height that scales to the page width;
// `title` becomes the accessible name (escaped here).
std::string svg_begin(double width, double height, const std::string& title);
std::string svg_end();

// Vertical grid lines, ticks and labels under the plot, and the axis title.
std::string x_axis_svg(const PlotArea& area, const Axis& axis, const std::string& title);
// Horizontal grid lines, ticks and labels left of the plot, and the axis title.
std::string y_axis_svg(const PlotArea& area, const Axis& axis, const std::string& title);

// A whole chart that says there is nothing to draw (still one <svg> element).
std::string empty_chart_svg(double width, double height, const std::string& title,
                            const std::string& message);

// Text at (x, y); `extra` holds further attributes (already safe).
std::string svg_text(double x, double y, const std::string& text, const std::string& extra = "");

}  // namespace qat
