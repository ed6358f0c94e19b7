// Text for the HTML report: escaping and number formats that never print
// "nan" or "inf" (an absent or non-finite value prints as an em dash).
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace qat {

// Printed wherever a value is absent, null or not finite.
inline constexpr const char* kDash = "—";

// & < > " ' as entities: safe inside element text and quoted attributes.
std::string html_escape(std::string_view text);

// `decimals` digits after the point; kDash when v is absent or not finite.
std::string format_fixed(std::optional<double> v, int decimals);

// Rounded to an integer with thousands separators: 20000 -> "20,000".
std::string format_count(std::optional<double> v);

// A ratio as a percentage with one decimal: 0.998 -> "99.8 %".
std::string format_percent(std::optional<double> ratio, int decimals = 1);

// About three significant digits, for sizes and times of any magnitude:
// 17.0, 4.52, 0.853, 1234.
std::string format_3sig(std::optional<double> v);

}  // namespace qat
