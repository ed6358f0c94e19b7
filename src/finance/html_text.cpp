#include "finance/html_text.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace qat {

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string format_fixed(std::optional<double> v, int decimals) {
  if (!v || !std::isfinite(*v)) return kDash;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, *v);
  // "-0.0" reads as a sign error in a table.
  if (buf[0] == '-' && std::strtod(buf, nullptr) == 0.0) return buf + 1;
  return buf;
}

std::string format_count(std::optional<double> v) {
  if (!v || !std::isfinite(*v) || std::fabs(*v) >= 1e18) return format_fixed(v, 0);
  long long n = std::llround(*v);
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string format_percent(std::optional<double> ratio, int decimals) {
  if (!ratio || !std::isfinite(*ratio)) return kDash;
  return format_fixed(*ratio * 100.0, decimals) + " %";
}

std::string format_3sig(std::optional<double> v) {
  if (!v || !std::isfinite(*v)) return kDash;
  double a = std::fabs(*v);
  int decimals = a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : a >= 0.1 ? 3 : a >= 0.01 ? 4 : 5;
  if (a == 0) decimals = 0;
  return format_fixed(v, decimals);
}

}  // namespace qat
